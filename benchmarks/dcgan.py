"""Lecture 04: the DCGAN on brain slices — Fréchet distance (features of the course's slice
feature network) of 1,000 DCGAN samples to 1,000 held-out real slices, beside the floor (a second
held-out real set) and the VAE's prior samples; and the memorisation check, the pixel MSE of
samples and of held-out real slices to their nearest training slice.

By default the DCGAN and the feature network are trained anew with their checkpoint recipes;
``--from-checkpoints`` evaluates the shipped ones (the VAE is always the shipped checkpoint).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from course_lib import zoo
from course_lib.data import brain_slices
from course_lib.evaluation import slice_features
from course_lib.metrics import mse
from course_lib.evaluation import frechet_distance, nearest_neighbours
from course_lib.vae import sample_prior

from ._models import recipe_model

N = 1000


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    dcgan, dcgan_s = recipe_model("dcgan04", from_checkpoints)
    features, features_s = recipe_model("features04", from_checkpoints)
    real_a = brain_slices(N, size=64, split="test", seed=1)
    real_b = brain_slices(N, size=64, split="test", seed=2)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        samples = dcgan.generator(torch.randn(N, zoo.DCGAN04_LATENT, generator=g))
        vae_samples = sample_prior(zoo.load(f"vae03_conv_k{zoo.VAE03_LATENT}"), N, generator=g)
    reference = slice_features(features, real_a)
    fd = {name: round(frechet_distance(reference, slice_features(features, images)), 3)
          for name, images in (("real_floor", real_b), ("dcgan", samples), ("vae", vae_samples))}
    x_train = zoo.dcgan04_train_data()
    nearest = {}
    for name, images in (("dcgan", samples[:300]), ("real_held_out", real_a[:300])):
        _, index = nearest_neighbours(images, x_train)
        nearest[name] = mse(images, x_train[index[:, 0]])
    if out:
        for name, images in (("dcgan_samples", samples), ("real_a", real_a), ("real_b", real_b), ("vae_samples", vae_samples)):
            np.save(out / f"{name}.npy", images.numpy())
    return {
        "frechet_distance_to_real_a": fd,
        "nearest_training_mse_median": {k: round(v.median().item(), 5) for k, v in nearest.items()},
        **({"train_s": {"dcgan": round(dcgan_s, 1), "features": round(features_s, 1)}} if not from_checkpoints else {}),
        "targets": {
            "DCGAN samples: FD above the real-vs-real floor and below the VAE's": fd["real_floor"] < fd["dcgan"] < fd["vae"],
            "no memorisation: samples are not nearer their training neighbours than held-out real slices are (median)":
                nearest["dcgan"].median().item() >= 0.5 * nearest["real_held_out"].median().item(),
        },
    }
