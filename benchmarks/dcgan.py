"""Lecture 04: the DCGAN on brain slices, judged against the population it models.

The reference set is 1,000 *fresh* real slices of the training levels (``split="train"``,
seed 21: new warps, bias fields and noise, slices no model trained on); the floor is a second
such set (seed 22) against the first. Against that reference, for 1,000 DCGAN samples and
1,000 prior samples of lecture 03's VAE: the Fréchet distance (features of the course's slice
feature network), precision and recall (Kynkäänniemi et al., 2019, k = 3) and the total
variation between the feature network's level histograms (level coverage). The same Fréchet
distances to 1,000 held-out-level slices (``split="test"``) are reported beside them, as the
wrong reference the lecture warns about, with their own floor (a second held-out set, seed 2). Memorisation: the median pixel MSE to the nearest
training slice of 300 samples, of 300 fresh training-level real slices (the yardstick) and of
300 held-out-level slices.

By default the DCGAN and the feature network are trained anew with their checkpoint recipes;
``--from-checkpoints`` evaluates the shipped ones (the VAE is always the shipped checkpoint).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from course_lib import zoo
from course_lib.data import brain_slices
from course_lib.evaluation import frechet_distance, level_coverage, nearest_neighbour_mse, precision_recall, slice_features
from course_lib.recipes import gan as recipes04, vae as recipes03
from course_lib.vae import sample_prior

from ._models import FRESH_TRAINING_SEEDS as REFERENCE_SEEDS
from ._models import recipe_model

N, N_MEMORISATION = 1000, 300


def reference_sets() -> dict[str, torch.Tensor]:
    """The real sets of the benchmark (and of lecture 04): two fresh training-level sets and one held-out-level set."""
    return {"real_a": brain_slices(N, size=64, seed=REFERENCE_SEEDS[0]),
            "real_b": brain_slices(N, size=64, seed=REFERENCE_SEEDS[1]),
            "held_out": brain_slices(N, size=64, split="test", seed=1),
            "held_out_b": brain_slices(N, size=64, split="test", seed=2)}


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    dcgan, dcgan_s = recipe_model("dcgan04", from_checkpoints)
    features, features_s = recipe_model("features04", from_checkpoints)
    real = reference_sets()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        samples = dcgan.generator(torch.randn(N, recipes04.DCGAN04_LATENT, generator=g))
        vae_samples = sample_prior(zoo.load(f"vae03_conv_k{recipes03.VAE03_LATENT}"), N, generator=g)
    candidates = {"real_floor": real["real_b"], "dcgan": samples, "vae": vae_samples}
    feats = {name: slice_features(features, images) for name, images in {**real, **candidates}.items()}
    fd = {name: round(frechet_distance(feats["real_a"], feats[name]), 3) for name in candidates}
    fd_wrong = {name: round(frechet_distance(feats["held_out"], feats[name]), 3)
                for name in ("held_out_b", "real_a", "dcgan", "vae")}  # held_out_b: this column's own floor
    pr = {name: precision_recall(feats["real_a"], feats[name])._asdict() for name in candidates}
    tv = {name: round(level_coverage(features, images, real["real_a"]).total_variation, 4)
          for name, images in candidates.items()}
    x_train = recipes04.dcgan04_train_data()
    nearest = {name: nearest_neighbour_mse(images[:N_MEMORISATION], x_train) for name, images in
               (("dcgan", samples), ("real_training_levels", real["real_a"]), ("real_held_out_levels", real["held_out"]))}
    if out:
        for name, images in {**real, "dcgan_samples": samples, "vae_samples": vae_samples}.items():
            np.save(out / f"{name}.npy", images.numpy())
    return {
        "reference": f"{N} fresh training-level slices (seed {REFERENCE_SEEDS[0]}); floor: another {N} (seed {REFERENCE_SEEDS[1]})",
        "frechet_distance_to_training_level_real": fd,
        "frechet_distance_to_held_out_levels (wrong reference)": fd_wrong,
        "precision_recall": {k: {m: round(v, 4) for m, v in r.items()} for k, r in pr.items()},
        "level_histogram_total_variation": tv,
        "nearest_training_mse_median": {k: round(v.median().item(), 5) for k, v in nearest.items()},
        **({"train_s": {"dcgan": round(dcgan_s, 1), "features": round(features_s, 1)}} if not from_checkpoints else {}),
        "targets": {
            "DCGAN samples: FD above the real-vs-real floor and below the VAE's": fd["real_floor"] < fd["dcgan"] < fd["vae"],
            "DCGAN: higher precision and recall than the VAE": (pr["dcgan"]["precision"] > pr["vae"]["precision"]
                                                                and pr["dcgan"]["recall"] > pr["vae"]["recall"]),
            "no memorisation: samples not nearer their training neighbours than fresh training-level slices (median)":
                nearest["dcgan"].median().item() >= nearest["real_training_levels"].median().item(),
        },
    }
