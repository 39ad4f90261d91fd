"""Lecture 02: denoising autoencoders on held-out 64 px T1 slices — PSNR and SSIM of the noisy
input and of the DAE's output against the clean slice, for every corruption at four levels; and
the noise gain ‖A(x̃) − A(x)‖ / ‖x̃ − x‖ of the over-complete AE (which copies) and the Gaussian DAE.

By default every model is trained anew with its checkpoint recipe (same code, data and seed as
``make checkpoints``); ``--from-checkpoints`` evaluates the shipped ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from course_lib.autoencoders import reconstruct_all
from course_lib.corruptions import CORRUPTIONS, corrupt
from course_lib.denoising import evaluate_denoising, noise_gain
from course_lib.data import brain_slices
from course_lib.metrics import psnr

from ._models import recipe_model

N_TEST, TEST_SEED, NOISE_SEED = 500, 1, 2  # lecture 02's held-out slices and corruptions
LEVELS = {"masking": (0.1, 0.25, 0.5, 0.75), "gaussian": (0.05, 0.1, 0.2, 0.3), "salt_and_pepper": (0.05, 0.1, 0.2, 0.3)}
TARGET_GAIN_DB = 6.0  # issue: Gaussian σ = 0.2, DAE output vs noisy input


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    x_test = brain_slices(N_TEST, size=64, split="test", seed=TEST_SEED)
    train_s, table = {}, {}
    models = {}
    for kind in CORRUPTIONS:
        models[kind], train_s[kind] = recipe_model(f"dae02_{kind}", from_checkpoints)
        table[kind] = [{k: round(v, 4) for k, v in row.items()}
                       for row in evaluate_denoising(models[kind], x_test, kind, LEVELS[kind], seed=NOISE_SEED)]
    copier, train_s["overcomplete"] = recipe_model("ae02_overcomplete", from_checkpoints)
    x_noisy = corrupt(x_test, "gaussian", 0.1, torch.Generator().manual_seed(0))
    gains = {"overcomplete_ae": noise_gain(copier, x_test, x_noisy).mean().item(),
             "gaussian_dae": noise_gain(models["gaussian"], x_test, x_noisy).mean().item()}
    clean_psnr = {"overcomplete_ae": psnr(reconstruct_all(copier, x_test), x_test).mean().item(),
                  "gaussian_dae": psnr(reconstruct_all(models["gaussian"], x_test), x_test).mean().item()}
    at_02 = next(row for row in table["gaussian"] if row["level"] == 0.2)
    gain_db = at_02["psnr_out"] - at_02["psnr_in"]
    if out:
        np.save(out / "clean.npy", x_test.numpy())
        for kind in CORRUPTIONS:
            generator = torch.Generator().manual_seed(NOISE_SEED)  # the same draws as evaluate_denoising
            for level in LEVELS[kind]:
                noisy = corrupt(x_test, kind, level, generator)
                np.save(out / f"{kind}_{level}_noisy.npy", noisy.numpy())
                np.save(out / f"{kind}_{level}_restored.npy", reconstruct_all(models[kind], noisy).numpy())
    return {
        "table": table,
        "gaussian_0.2_psnr_gain_db": round(gain_db, 2),
        "noise_gain_sigma_0.1": {k: round(v, 3) for k, v in gains.items()},
        "clean_psnr_db": {k: round(v, 2) for k, v in clean_psnr.items()},
        **({"train_s": {k: round(v, 1) for k, v in train_s.items()}} if not from_checkpoints else {}),
        "targets": {
            f"Gaussian σ = 0.2: DAE gains ≥ {TARGET_GAIN_DB} dB PSNR over the noisy input": gain_db >= TARGET_GAIN_DB,
            "every corruption and level: DAE output beats the input in PSNR and SSIM":
                all(r["psnr_out"] > r["psnr_in"] and r["ssim_out"] > r["ssim_in"] for rows in table.values() for r in rows),
            "the over-complete AE copies the noise (gain > 0.9), the DAE does not (< 0.4)":
                gains["overcomplete_ae"] > 0.9 and gains["gaussian_dae"] < 0.4,
        },
    }
