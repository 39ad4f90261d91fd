"""Lecture 03: the gradient estimators against their exact variances, the score-function estimators'
variance on the VAE's encoder gradient relative to the pathwise one (with the log-likelihood's
constant, without it, with a leave-one-out baseline), the VAE's held-out negative ELBO and its two
terms, and completeness — how much random decodes of the VAE and of the AE look like real
slices of the population they model: SSIM to the nearest of 1,000 fresh training-level slices
(seed 21), with 200 other fresh training-level slices (seed 22) as the ceiling; the conditional
VAE's band agreement judged by the band of that nearest slice, beside the same judge's agreement
on the real slices.

By default the VAE and the conditional VAE are trained anew with their checkpoint recipes (same
code, data and seed as ``make checkpoints``); ``--from-checkpoints`` evaluates the shipped ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from course_lib import zoo
from course_lib.autoencoders import encode_all
from course_lib.data import LEVEL_BANDS, brain_slices
from course_lib.evaluation import nearest_neighbour_ssim, nearest_neighbours
from course_lib.recipes import autoencoders as recipes01, vae as recipes03
from course_lib.vae import (
    ENCODER_GRADIENT_ROWS, ConvVAE, encoder_gradient_variances, evaluate_elbo, exact_estimator_variances,
    pathwise_gradients, sample_prior, score_function_gradients,
)

from ._models import FRESH_TRAINING_SEEDS, recipe_model

N_TEST, TEST_SEED, N_RANDOM = 500, 1, 200  # lecture 03's held-out slices and random decodes
REFERENCE_SEED, REAL_SEED = FRESH_TRAINING_SEEDS
N_REFERENCE = 1000
TOLERANCE = 0.05
N_GRADIENT_SLICES, N_GRADIENT_SAMPLES = 20, 128  # lecture 03 §3(b): the first 20 held-out slices, 128 ε each
WITH_CONSTANT, CONSTANT_DROPPED, LEAVE_ONE_OUT = ENCODER_GRADIENT_ROWS[1:]


def _estimator_table(n: int = 1_000_000) -> list[dict]:
    eps = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    mu, sigma = torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    rows = []
    for k in torch.linspace(-3, 3, 13, dtype=torch.float64):
        def f(z, k=k):
            return (z - k) ** 2
        exact_path, exact_score = exact_estimator_variances(mu - k)
        rows.append({
            "k": round(k.item(), 2),
            "pathwise_measured": round(pathwise_gradients(f, mu, sigma, eps).var().item(), 4),
            "pathwise_exact": exact_path.item(),
            "score_measured": round(score_function_gradients(f, mu, sigma, eps).var().item(), 3),
            "score_exact": exact_score.item(),
        })
    return rows


def encoder_gradient_variance_ratios(vae: ConvVAE, x_test: torch.Tensor) -> dict[str, float]:
    """For each score-function row of ``encoder_gradient_variances``, the median over the first 20
    held-out slices and the latent dimensions of var(row) / var(pathwise), 128 samples per slice,
    σ_x = recipes03.VAE03_SIGMA_X (as lecture 03)."""
    variances = encoder_gradient_variances(vae, x_test[:N_GRADIENT_SLICES], n_samples=N_GRADIENT_SAMPLES,
                                           sigma_x=recipes03.VAE03_SIGMA_X)
    return {row: float(f"{(variances[row] / variances['pathwise']).median().item():.3g}")
            for row in (WITH_CONSTANT, CONSTANT_DROPPED, LEAVE_ONE_OUT)}


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    table = _estimator_table()
    worst = max(max(abs(r["pathwise_measured"] / r["pathwise_exact"] - 1), abs(r["score_measured"] / r["score_exact"] - 1))
                for r in table)
    x_train, _ = recipes03.vae03_train_data()
    x_test, meta_test = brain_slices(N_TEST, size=64, split="test", seed=TEST_SEED, return_meta=True)
    vae, vae_train_s = recipe_model(f"vae03_conv_k{recipes03.VAE03_LATENT}", from_checkpoints)
    cvae, cvae_train_s = recipe_model(f"cvae03_conv_k{recipes03.VAE03_LATENT}", from_checkpoints)
    held_out = {name: round(v, 2) for name, v in evaluate_elbo(vae, x_test, sigma_x=recipes03.VAE03_SIGMA_X).items()}
    ratios = encoder_gradient_variance_ratios(vae, x_test)

    ae = zoo.load(f"ae01_conv_k{recipes03.VAE03_LATENT}")
    g = torch.Generator().manual_seed(0)
    codes = encode_all(ae, recipes01.ae01_train_data())
    low, high = codes.min(0).values, codes.max(0).values
    x_reference, meta_reference = brain_slices(N_REFERENCE, size=64, seed=REFERENCE_SEED, return_meta=True)
    x_real, meta_real = brain_slices(N_RANDOM, size=64, seed=REAL_SEED, return_meta=True)
    with torch.no_grad():
        decodes = {
            "real_slices_ceiling": x_real,
            "vae_prior_samples": sample_prior(vae, N_RANDOM, generator=g),
            "ae_normal_decodes": ae.decode(torch.randn(N_RANDOM, recipes03.VAE03_LATENT, generator=g)),
            "ae_box_decodes": ae.decode(low + (high - low) * torch.rand(N_RANDOM, recipes03.VAE03_LATENT, generator=g)),
        }
        requested = torch.arange(len(LEVEL_BANDS)).repeat_interleave(50)
        conditional = sample_prior(cvae, len(requested), requested, generator=torch.Generator().manual_seed(1))
    completeness = {name: round(nearest_neighbour_ssim(images, x_reference).mean().item(), 4)
                    for name, images in decodes.items()}

    def band_of_nearest(images: torch.Tensor) -> torch.Tensor:
        _, nearest = nearest_neighbours(images, x_reference)
        return meta_reference["band"][nearest[:, 0]]

    agreement = (band_of_nearest(conditional) == requested).float().mean().item()
    real_agreement = (band_of_nearest(x_real) == meta_real["band"]).float().mean().item()
    if out:
        np.save(out / "test_inputs.npy", x_test.numpy())
        np.save(out / "reference_slices.npy", x_reference.numpy())
        np.save(out / "reference_bands.npy", meta_reference["band"].numpy())
        np.save(out / "real_bands.npy", meta_real["band"].numpy())
        for name, images in decodes.items():
            np.save(out / f"{name}.npy", images.numpy())
        np.save(out / "cvae_samples.npy", conditional.numpy())
        np.save(out / "cvae_requested_bands.npy", requested.numpy())
        np.save(out / "estimator_table.npy", np.array([[r[c] for c in r] for r in table]))
    return {
        "estimator_variances": table,
        "estimator_worst_relative_error": round(worst, 4),
        "encoder_gradient_variance_ratio": ratios,  # median var(score-function row) / var(pathwise)
        "held_out_nats_per_image": held_out,
        "completeness_nearest_ssim": completeness,
        "cvae_band_agreement": round(agreement, 3),
        "real_slices_band_agreement_ceiling": round(real_agreement, 3),
        **({"train_s": {"vae": round(vae_train_s, 1), "cvae": round(cvae_train_s, 1)}} if not from_checkpoints else {}),
        "targets": {
            f"estimator variances within {TOLERANCE:.0%} of exact": worst <= TOLERANCE,
            "encoder gradient, var(score) / var(pathwise): leave-one-out baseline < constant dropped < with constant":
                ratios[LEAVE_ONE_OUT] < ratios[CONSTANT_DROPPED] < ratios[WITH_CONSTANT],
            "encoder gradient: every score-function row noisier than the pathwise estimator (ratio > 1)":
                min(ratios.values()) > 1,
            "VAE prior samples closer to real slices than AE random decodes":
                completeness["vae_prior_samples"] > max(completeness["ae_normal_decodes"], completeness["ae_box_decodes"]),
            "VAE prior samples below the real-slice ceiling": completeness["vae_prior_samples"] < completeness["real_slices_ceiling"],
            "CVAE samples match the requested band above chance (25 %)": agreement > 0.25,
        },
    }
