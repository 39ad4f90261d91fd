"""Lecture 03: the gradient estimators against their exact variances, the VAE's held-out negative
ELBO and its two terms, and completeness — how much random decodes of the VAE and of the AE look
like real held-out slices.

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
from course_lib.metrics import nearest_neighbour_ssim, nearest_neighbours
from course_lib.vae import (
    encoder_gradient_variances, evaluate_elbo, exact_estimator_variances, pathwise_gradients, sample_prior,
    score_function_gradients,
)

from ._models import recipe_model

N_TEST, TEST_SEED, N_RANDOM = 500, 1, 200  # lecture 03's held-out slices and random decodes
TOLERANCE = 0.05


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


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    table = _estimator_table()
    worst = max(max(abs(r["pathwise_measured"] / r["pathwise_exact"] - 1), abs(r["score_measured"] / r["score_exact"] - 1))
                for r in table)
    x_train, _ = zoo.vae03_train_data()
    x_test, meta_test = brain_slices(N_TEST, size=64, split="test", seed=TEST_SEED, return_meta=True)
    vae, vae_train_s = recipe_model(f"vae03_conv_k{zoo.VAE03_LATENT}", from_checkpoints)
    cvae, cvae_train_s = recipe_model(f"cvae03_conv_k{zoo.VAE03_LATENT}", from_checkpoints)
    held_out = {name: round(v, 2) for name, v in evaluate_elbo(vae, x_test, sigma_x=zoo.VAE03_SIGMA_X).items()}
    var_path, var_score = encoder_gradient_variances(vae, x_test[:20], n_samples=128, sigma_x=zoo.VAE03_SIGMA_X)

    ae = zoo.load(f"ae01_conv_k{zoo.VAE03_LATENT}")
    g = torch.Generator().manual_seed(0)
    codes = encode_all(ae, zoo.ae01_train_data())
    low, high = codes.min(0).values, codes.max(0).values
    with torch.no_grad():
        mu, _ = vae.encode(x_test)
        decodes = {
            "vae_reconstructions": vae.decode(mu[:N_RANDOM]),
            "vae_prior_samples": sample_prior(vae, N_RANDOM, generator=g),
            "ae_normal_decodes": ae.decode(torch.randn(N_RANDOM, zoo.VAE03_LATENT, generator=g)),
            "ae_box_decodes": ae.decode(low + (high - low) * torch.rand(N_RANDOM, zoo.VAE03_LATENT, generator=g)),
        }
        requested = torch.arange(len(LEVEL_BANDS)).repeat_interleave(50)
        conditional = sample_prior(cvae, len(requested), requested, generator=torch.Generator().manual_seed(1))
    completeness = {name: round(nearest_neighbour_ssim(images, x_test).mean().item(), 4) for name, images in decodes.items()}
    _, nearest = nearest_neighbours(conditional, x_test)
    agreement = (meta_test["band"][nearest[:, 0]] == requested).float().mean().item()
    if out:
        np.save(out / "test_inputs.npy", x_test.numpy())
        for name, images in decodes.items():
            np.save(out / f"{name}.npy", images.numpy())
        np.save(out / "cvae_samples.npy", conditional.numpy())
        np.save(out / "cvae_requested_bands.npy", requested.numpy())
        np.save(out / "estimator_table.npy", np.array([[r[c] for c in r] for r in table]))
    return {
        "estimator_variances": table,
        "estimator_worst_relative_error": round(worst, 4),
        "vae_encoder_variance_ratio_median": float(f"{(var_score / var_path).median().item():.3g}"),
        "held_out_nats_per_image": held_out,
        "completeness_nearest_ssim": completeness,
        "cvae_band_agreement": round(agreement, 3),
        **({"train_s": {"vae": round(vae_train_s, 1), "cvae": round(cvae_train_s, 1)}} if not from_checkpoints else {}),
        "targets": {
            f"estimator variances within {TOLERANCE:.0%} of exact": worst <= TOLERANCE,
            "VAE prior samples closer to real slices than AE random decodes":
                completeness["vae_prior_samples"] > max(completeness["ae_normal_decodes"], completeness["ae_box_decodes"]),
            "CVAE samples match the requested band above chance (25 %)": agreement > 0.25,
        },
    }
