"""Lecture 03's attribute-regularised VAE and lecture 04's VAE with a learned similarity, each against
lecture 03's plain VAE, over training seeds 0–2 (0 = the shipped checkpoints' seed); every model is
trained anew with its checkpoint recipe (``--from-checkpoints``: the shipped ones, one seed).

AR-VAE, on lecture 03's 500 held-out slices (test split, seed 1): Spearman's ρ between μ_0 and the
slice level (for the plain VAE: its best coordinate, generously), the traversal order — ρ between the
step and the level the level network reads off each of 11 frames from −2.5 to 2.5 along that
coordinate, from the codes of 20 held-out slices (mean and worst) — and the held-out negative ELBO
(the regulariser's cost).

Learned similarity, against 1,000 fresh training-level slices (seed 21, the population the VAEs
model), with a second such set (seed 22) as the floor: sharpness (mean squared difference of
neighbouring pixels), Fréchet distance, precision and recall of 1,000 prior samples, and the median
pixel MSE of 300 samples to their nearest training slice (memorisation). Also, with no training: the
share of 300 fresh slices on which pixel MSE, the level network's features and the DCGAN
discriminator's third block call a 1-px shifted copy closer than a 3 × 3 box-blurred one (and the
median ratio of the two distances), and the
level-network "inception score" of real slices, DCGAN and VAE samples and a replay of 8 training slices.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import torch

from course_lib import zoo
from course_lib.data import brain_slices
from course_lib.evaluation import (box_smooth, frechet_distance, nearest_neighbour_mse, precision_recall,
                                   rank_correlation, slice_features)
from course_lib.learned_similarity import discriminator_layer, inception_score, sharpness
from course_lib.recipes import gan as recipes04, vae as recipes03
from course_lib.vae import evaluate_elbo, sample_prior

from ._models import FRESH_TRAINING_SEEDS, recipe_model

SEEDS = (0, 1, 2)
PLAIN, AR, SIMILARITY = f"vae03_conv_k{recipes03.VAE03_LATENT}", f"arvae03_conv_k{recipes03.VAE03_LATENT}", \
    "vae04_learned_similarity"


def _mean_sd(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.mean(values), 4), "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0}


def attribute_scores(model, x_test, level, level_net, regularised: bool) -> dict[str, float]:
    with torch.no_grad():
        mu, _ = model.encode(x_test)
    rho = torch.tensor([rank_correlation(mu[:, j], level) for j in range(model.latent_dim)])
    dim = 0 if regularised else int(rho.abs().argmax())
    sign = 1.0 if rho[dim] > 0 else -1.0
    steps = torch.linspace(-2.5, 2.5, 11)
    centres = (torch.arange(level_net.n_levels) + 0.5) / level_net.n_levels
    order = []
    for i in range(20):
        z = mu[i].repeat(len(steps), 1)
        z[:, dim] = sign * steps
        with torch.no_grad():
            order.append(rank_correlation(steps, (level_net(model.decode(z)).softmax(1) * centres).sum(1)))
    return {"dimension": dim, "rank_correlation": round(abs(rho[dim].item()), 4),
            "traversal_order_mean": round(statistics.mean(order), 4), "traversal_order_worst": round(min(order), 4),
            "negative_elbo": round(evaluate_elbo(model, x_test, sigma_x=recipes03.VAE03_SIGMA_X)["negative_elbo"], 2)}


def generator_scores(images, f_ref, features, x_train) -> dict[str, float]:
    f = slice_features(features, images)
    pr = precision_recall(f_ref, f)
    return {"sharpness": round(sharpness(images), 6), "fd": round(frechet_distance(f_ref, f), 3),
            "precision": round(pr.precision, 3), "recall": round(pr.recall, 3),
            "median_mse_to_nearest_training_slice": round(nearest_neighbour_mse(images[:300], x_train).median().item(), 5)}


def similarity_measures(real, features, dcgan) -> dict:
    originals = real[:300]
    shifted, blurred = torch.roll(originals, shifts=1, dims=-1), box_smooth(originals, 3)
    dis_l = discriminator_layer(dcgan.discriminator, blocks=3)
    embed = {"pixel_mse": lambda x: x.flatten(1), "level_network_features": lambda x: slice_features(features, x),
             "discriminator_layer_3": lambda x: dis_l(x).flatten(1).detach()}
    shift_closer, blur_weight = {}, {}
    for name, e in embed.items():
        base = e(originals)
        d_shift, d_blur = (e(shifted) - base).pow(2).sum(1), (e(blurred) - base).pow(2).sum(1)
        shift_closer[name] = round((d_shift < d_blur).double().mean().item(), 4)
        blur_weight[name] = round((d_blur / d_shift).median().item(), 3)
    x_dcgan = recipes04.dcgan04_train_data()
    with torch.no_grad():
        bins = features(x_dcgan).argmax(1)
        gan = dcgan.generator(torch.randn(1000, 64, generator=torch.Generator().manual_seed(3)))
    replay = x_dcgan[torch.stack([torch.nonzero(bins == b)[0, 0] for b in range(features.n_levels)])].repeat(125, 1, 1, 1)
    vae = sample_prior(zoo.load(PLAIN), 1000, generator=torch.Generator().manual_seed(3))
    scores = {}
    for name, images in (("real", real), ("dcgan", gan), ("vae", vae), ("replay_8_training_slices", replay)):
        with torch.no_grad():
            p = torch.cat([features(c).softmax(1) for c in images.split(250)])
        scores[name] = round(inception_score(p), 3)
    return {"shift_judged_closer_than_blur": shift_closer, "median_blur_over_shift_distance": blur_weight,
            "level_network_inception_score": scores}


def run(out: Path | None = None, from_checkpoints: bool = False) -> dict:
    features, dcgan = zoo.load("features04"), zoo.load("dcgan04")
    x_test, meta = brain_slices(500, size=64, split="test", seed=1, return_meta=True)
    real_a = brain_slices(1000, size=64, seed=FRESH_TRAINING_SEEDS[0])
    real_b = brain_slices(1000, size=64, seed=FRESH_TRAINING_SEEDS[1])
    f_ref = slice_features(features, real_a)
    x_train, _ = recipes03.vae03_train_data()
    per_seed = []
    for seed in (0,) if from_checkpoints else SEEDS:
        models = {name: recipe_model(name, from_checkpoints, seed=seed) for name in (PLAIN, AR, SIMILARITY)}
        row = {"seed": seed, "train_s": {name: round(s, 1) for name, (_, s) in models.items()},
               "plain_vae_attribute": attribute_scores(models[PLAIN][0], x_test, meta["level"], features, False),
               "ar_vae_attribute": attribute_scores(models[AR][0], x_test, meta["level"], features, True)}
        for name in (PLAIN, SIMILARITY):
            samples = sample_prior(models[name][0], 1000, generator=torch.Generator().manual_seed(3))
            row[f"{name}_samples"] = generator_scores(samples, f_ref, features, x_train)
        per_seed.append(row)
    summary = {
        "ar_vae_rank_correlation": _mean_sd([r["ar_vae_attribute"]["rank_correlation"] for r in per_seed]),
        "plain_vae_best_rank_correlation": _mean_sd([r["plain_vae_attribute"]["rank_correlation"] for r in per_seed]),
        "ar_vae_worst_traversal": _mean_sd([r["ar_vae_attribute"]["traversal_order_worst"] for r in per_seed]),
        "plain_vae_worst_traversal": _mean_sd([r["plain_vae_attribute"]["traversal_order_worst"] for r in per_seed]),
        "negative_elbo_difference_ar_minus_plain": _mean_sd([r["ar_vae_attribute"]["negative_elbo"] -
                                                             r["plain_vae_attribute"]["negative_elbo"] for r in per_seed]),
        "fd_plain": _mean_sd([r[f"{PLAIN}_samples"]["fd"] for r in per_seed]),
        "fd_learned_similarity": _mean_sd([r[f"{SIMILARITY}_samples"]["fd"] for r in per_seed]),
        "sharpness_plain": _mean_sd([r[f"{PLAIN}_samples"]["sharpness"] for r in per_seed]),
        "sharpness_learned_similarity": _mean_sd([r[f"{SIMILARITY}_samples"]["sharpness"] for r in per_seed]),
    }
    floor = generator_scores(real_b, f_ref, features, x_train)
    targets = {
        "AR-VAE ρ above the plain VAE's best coordinate on every seed": all(
            r["ar_vae_attribute"]["rank_correlation"] > r["plain_vae_attribute"]["rank_correlation"] for r in per_seed),
        "learned similarity: FD below the plain VAE's on every seed": all(
            r[f"{SIMILARITY}_samples"]["fd"] < r[f"{PLAIN}_samples"]["fd"] for r in per_seed),
        "learned similarity: not nearer its training slices than fresh real slices (median)": all(
            r[f"{SIMILARITY}_samples"]["median_mse_to_nearest_training_slice"] >
            floor["median_mse_to_nearest_training_slice"] for r in per_seed),
    }
    return {"seeds": [r["seed"] for r in per_seed], "per_seed": per_seed, "summary": summary, "real_floor": floor,
            **similarity_measures(real_a, features, dcgan), "targets": targets}
