"""Lecture 04's conditional GANs: does G(z | y) give what y asks for?

Toys: the lecture's toy cGAN (``CGAN04_TOY_RECIPE``, condition = the mode) trained from scratch on
the 8-Gaussian ring and the 25-Gaussian grid, five seeds each; of 2,500 samples asked for the modes
in turn, the share within 3σ of the mode asked for (conditional accuracy), and the modes captured
and high-quality share counted as in lecture 04 (VEEGAN/PacGAN); CPU seconds per run.

Slices: the conditional DCGAN (condition = band of axial level) — conditional accuracy read by the
course's level network on 5 sets of 400 samples (100 per band), beside the same judge on 400 fresh
real training-level slices (the ceiling); Fréchet distance, precision and recall of 1,000 samples
with bands drawn from the training frequencies against 1,000 fresh training-level slices (seed 21),
beside the unconditional DCGAN's and the real floor (seed 22); the memorisation check. By default
the conditional DCGAN is trained anew with its recipe (about 20 CPU-minutes); ``--from-checkpoints``
evaluates the shipped one. One training seed: the lecture's figures are its.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch

from course_lib import zoo
from course_lib.conditional_gan import conditional_mode_accuracy
from course_lib.data import LEVEL_BANDS, brain_slices
from course_lib.evaluation import band_accuracy, frechet_distance, mode_coverage, nearest_neighbour_mse, precision_recall, slice_features
from course_lib.recipes import gan as recipes04

from ._models import FRESH_TRAINING_SEEDS, recipe_model

SEEDS = (0, 1, 2, 3, 4)
N_SAMPLES = 2500
TARGETS = {"ring": 0.97, "grid": 0.95}  # conditional accuracy (mean over seeds)
PER_BAND, NOISE_SETS = 100, 5


def _mean_sd(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.mean(values), 4), "sd": round(statistics.stdev(values), 4)}


def _toys(out: Path | None) -> dict:
    result = {}
    for name in ("ring", "grid"):
        modes, std = recipes04.toy_modes(name), recipes04.TOY_STD[name]
        asked = torch.arange(N_SAMPLES) % len(modes)
        runs = []
        for seed in SEEDS:
            cpu = time.process_time()
            generator = recipes04.train_cgan04_toy(name, seed=seed)["generator"]
            cpu = time.process_time() - cpu
            with torch.no_grad():
                samples = generator(torch.randn(N_SAMPLES, 2, generator=torch.Generator().manual_seed(1000 + seed)), asked)
            coverage = mode_coverage(samples, modes, std)
            runs.append({"seed": seed, "conditional_accuracy": round(conditional_mode_accuracy(samples, asked, modes, std), 4),
                         "modes": coverage.modes, "high_quality": round(coverage.high_quality, 4), "cpu_s": round(cpu, 1)})
            if out:
                np.save(out / f"{name}_seed{seed}_samples.npy", samples.numpy())
                np.save(out / f"{name}_asked.npy", asked.numpy())
        result[name] = {"runs": runs, "conditional_accuracy": _mean_sd([r["conditional_accuracy"] for r in runs]),
                        "modes": _mean_sd([r["modes"] for r in runs]), "cpu_s_max": max(r["cpu_s"] for r in runs)}
    return result


def _slices(out: Path | None, from_checkpoints: bool) -> dict:
    cdcgan, train_s = recipe_model("cdcgan04", from_checkpoints)
    features, dcgan = zoo.load("features04"), zoo.load("dcgan04")
    real_a = brain_slices(1000, size=64, seed=FRESH_TRAINING_SEEDS[0])
    real_b = brain_slices(1000, size=64, seed=FRESH_TRAINING_SEEDS[1])
    real_c, meta_c = brain_slices(400, size=64, seed=24, return_meta=True)
    asked = torch.arange(len(LEVEL_BANDS)).repeat_interleave(PER_BAND)
    accuracies = []
    for s in range(NOISE_SETS):
        with torch.no_grad():
            images = cdcgan.generator(torch.randn(len(asked), 64, generator=torch.Generator().manual_seed(s)), asked)
        accuracies.append(band_accuracy(features, images, asked))
        if out and s == 0:
            np.save(out / "slices_by_band.npy", images.numpy())
    x_train = recipes04.dcgan04_train_data()  # the same slices the conditional DCGAN trained on
    y = meta_c["band"][torch.randint(len(meta_c["band"]), (1000,), generator=torch.Generator().manual_seed(7))]
    with torch.no_grad():
        cgan_samples = cdcgan.generator(torch.randn(1000, 64, generator=torch.Generator().manual_seed(8)), y)
        gan_samples = dcgan.generator(torch.randn(1000, 64, generator=torch.Generator().manual_seed(3)))
    f_ref = slice_features(features, real_a)
    table = {}
    for name, images in (("real B (floor)", real_b), ("DCGAN", gan_samples), ("conditional DCGAN", cgan_samples)):
        f = slice_features(features, images)
        pr = precision_recall(f_ref, f)
        table[name] = {"fd": round(frechet_distance(f_ref, f), 3), "precision": round(pr.precision, 3),
                       "recall": round(pr.recall, 3),
                       "median_mse_to_nearest_training_slice": round(nearest_neighbour_mse(images[:300], x_train).median().item(), 5)}
    if out:
        np.save(out / "cdcgan_samples.npy", cgan_samples.numpy())
        np.save(out / "reference.npy", real_a.numpy())
    return {"conditional_accuracy": _mean_sd(accuracies), "per_noise_set": [round(a, 4) for a in accuracies],
            "real_ceiling": round(band_accuracy(features, real_c, meta_c["band"]), 4),
            "vs_reference": table, **({"train_s": round(train_s, 1)} if not from_checkpoints else {})}


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    toys, slices = _toys(out), _slices(out, from_checkpoints)
    targets = {f"{name}: conditional accuracy ≥ {goal:.0%} (mean)": toys[name]["conditional_accuracy"]["mean"] >= goal
               for name, goal in TARGETS.items()}
    targets["slices: conditional accuracy above chance (25 %) on every noise set"] = min(slices["per_noise_set"]) > 0.25
    return {"recipe": recipes04.CGAN04_TOY_RECIPE, "toys": toys, "slices": slices, "targets": targets}
