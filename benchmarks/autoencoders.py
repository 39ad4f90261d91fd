"""Lecture 01: held-out PSNR/SSIM of the convolutional autoencoder and of PCA at each code size.

By default every autoencoder is trained anew with its checkpoint recipe (the same code, data
and seed as ``make checkpoints``), so the wall time includes training; ``--from-checkpoints``
evaluates the shipped checkpoints instead.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from course_lib import zoo
from course_lib.autoencoders import pca_fit, reconstruct_all
from course_lib.data import brain_slices
from course_lib.metrics import psnr, ssim
from course_lib.recipes import autoencoders as recipes01

N_TEST, TEST_SEED = 500, 1  # the lecture's held-out slices


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    x_train = recipes01.ae01_train_data()
    x_test = brain_slices(N_TEST, size=64, split="test", seed=TEST_SEED)
    pca = pca_fit(x_train, max(recipes01.AE01_LATENT_SIZES))
    per_k = {}
    for k in recipes01.AE01_LATENT_SIZES:
        name = f"ae01_conv_k{k}"
        start = time.perf_counter()
        if from_checkpoints:
            model = zoo.load(name)
        else:
            model, _ = zoo.fit_fresh(name, progress=False)
        train_s = time.perf_counter() - start
        recon = {"pca": pca.top(k).reconstruct(x_test).clamp(0, 1), "conv_ae": reconstruct_all(model, x_test)}
        per_k[str(k)] = {
            **{f"{m}_psnr_db": round(psnr(r, x_test).mean().item(), 3) for m, r in recon.items()},
            **{f"{m}_ssim": round(ssim(r, x_test).mean().item(), 4) for m, r in recon.items()},
            "train_s" if not from_checkpoints else "load_s": round(train_s, 1),
        }
        if out:
            for m, r in recon.items():
                np.save(out / f"{m}_k{k}_reconstructions.npy", r.numpy())
    if out:
        np.save(out / "test_inputs.npy", x_test.numpy())
    return {
        "n_train": len(x_train),
        "n_test": N_TEST,
        "image_size": 64,
        "latent_sizes": list(recipes01.AE01_LATENT_SIZES),
        "trained": not from_checkpoints,
        "per_latent_size": per_k,
        "targets": {
            "conv_ae_psnr_above_pca_at_every_k": all(r["conv_ae_psnr_db"] > r["pca_psnr_db"] for r in per_k.values()),
            "conv_ae_ssim_above_pca_at_every_k": all(r["conv_ae_ssim"] > r["pca_ssim"] for r in per_k.values()),
        },
    }
