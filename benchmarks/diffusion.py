"""Lecture 07: diffusion models measured against ground truth.

- **Score error per σ**: the ring model's score against the exact score of the noised mixture,
  relative RMS error at noise levels σ (data units) from 0.02 to 0.5.
- **Mode coverage** on the 8-ring and the 25-grid, five seeds each, counted with lecture 04's code
  (2,500 samples; a sample is high quality within 3σ of its nearest mode), with the lecture's
  sampler; on the ring also the ladder of what closes the precision gap (schedule, number of
  steps, the last jump to x̂_0, DDIM), every rung on every seed. Training runs on one thread: its
  CPU time is its cost.
- **The probability-flow ODE as a normalizing flow**: KL(p ‖ q) to the toy map's exact density.
- **Brain slices** (the shipped ``diffusion07_slices`` checkpoint, its stored samples): Fréchet
  distance, precision and recall against fresh real slices of the training levels, beside the
  DCGAN (lecture 04) and the VAE (lecture 03), all at 32 px; the memorisation check; classifier-
  free guidance: band agreement and precision/recall per guidance weight.
- **Lesion detection**: pixel AUROC of the diffusion model's partial round trip and of the VAE's
  reconstruction residual; the noise level and the box average of the maps are chosen on
  validation levels, the figure is measured once on test levels.
- **Sampling cost**: seconds for 2,500 toy samples — diffusion (100 network passes), the GAN (one
  pass), a flow (one inverse).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import torch

from course_lib import zoo
from course_lib.data import brain_slices
from course_lib.data.toys import banana
from course_lib.diffusion import anomaly_map, probability_flow_log_prob, sample, score_error, step_at_noise
from course_lib.evaluation import (band_accuracy, box_smooth, frechet_distance, mode_coverage, nearest_neighbour_mse,
                                   pixel_auroc, precision_recall, slice_features)
from course_lib.flows import kl_to_truth, realnvp, toy_log_prob
from course_lib.gan import sample_latent
from course_lib.recipes import diffusion as recipes07
from course_lib.recipes import gan as recipes04
from course_lib.recipes import vae as recipes03
from course_lib.training import single_threaded
from course_lib.vae import sample_prior

from .gan_toy import _mean_sd  # mean ± sd over seeds, rounded as the GAN table is

SEEDS = (0, 1, 2, 3, 4)
N_SAMPLES = 2500
SIGMAS = (0.02, 0.05, 0.1, 0.2, 0.5)  # data units, on the ring (0.5 is already σ_t ≈ 0.7 in the model)
# What closes the precision gap, rung by rung (model variant, sampler settings).
# The models: the lecture's (Fourier features, cosine schedule), and the three other combinations
# of network and schedule: the checkpoints diffusion07_ring{,_linear,_plain,_plain_linear}.
VARIANTS = {"fourier, cosine": dict(schedule="cosine"), "fourier, linear": dict(schedule="linear"),
            "plain, cosine": dict(schedule="cosine", fourier=0), "plain, linear": dict(schedule="linear", fourier=0)}
ANCESTRAL_1000 = dict(sampler="ddpm", n_steps=1000)
# What makes the ring's samples precise, rung by rung (model variant, sampler settings): lecture 07's table.
LADDER = {
    "plain MLP, linear schedule, 1,000 ancestral steps": ("plain, linear", ANCESTRAL_1000),
    "plain MLP, cosine schedule, 1,000 ancestral steps": ("plain, cosine", ANCESTRAL_1000),
    "plain MLP, cosine, 100 ancestral steps": ("plain, cosine", dict(sampler="ddpm", n_steps=100)),
    "plain MLP, cosine, 100 ancestral, last jump from t = 20": ("plain, cosine", recipes07.TOY07_SAMPLER),
    "Fourier features, linear schedule, 1,000 ancestral steps": ("fourier, linear", ANCESTRAL_1000),
    "Fourier features, cosine, 100 ancestral, last jump from t = 20": ("fourier, cosine", recipes07.TOY07_SAMPLER),
    "Fourier features, cosine, 50 DDIM steps": ("fourier, cosine", dict(sampler="ddim", n_steps=50)),
}
STEP_COUNTS = (10, 25, 50, 100)  # quality against the number of sampling steps (ring; ancestral with t_last = 20, DDIM)
TARGETS = {"ring": {"modes": 8.0, "high_quality": 0.97}, "grid": {"modes": 25.0, "high_quality": 0.95}}
MAX_TRAIN_S, SCORE_ERROR_TARGET, KL_TARGET, AUROC_TARGET = 60.0, 0.10, 0.01, 0.90
N_BANANA_EVAL = 4000
LESION_T_STARTS = (100, 200, 300, 450, 600)
N_LESION = 200


def _timed(call):
    start, cpu = time.perf_counter(), time.process_time()
    value = call()
    return value, round(time.perf_counter() - start, 4), round(time.process_time() - cpu, 4)


def _toys(out: Path | None) -> tuple[dict, dict]:
    result, targets = {}, {}
    for name in ("ring", "grid"):
        modes, std = recipes04.toy_modes(name), recipes04.TOY_STD[name]
        runs, ladder = [], {rung: [] for rung in LADDER} if name == "ring" else {}
        by_steps = {f"{sampler} {n}": [] for n in STEP_COUNTS for sampler in ("ddpm", "ddim")}
        for seed in SEEDS:
            models = {}
            for variant in (VARIANTS if name == "ring" else ("fourier, cosine",)):
                trained, wall, cpu = _timed(lambda: recipes07.train_diffusion07_toy(name, seed, **VARIANTS[variant]))
                models[variant] = trained["model"]
                if variant == "fourier, cosine":
                    run = {"seed": seed, "train_wall_s": wall, "train_cpu_s": cpu}
            with single_threaded():
                samples, _, sample_cpu = _timed(lambda: sample(models["fourier, cosine"], N_SAMPLES, **recipes07.TOY07_SAMPLER,
                                                               generator=torch.Generator().manual_seed(1000 + seed)))
                coverage = mode_coverage(samples, modes, std)
                run.update(modes=coverage.modes, high_quality=round(coverage.high_quality, 4), sample_cpu_s=sample_cpu)
                if name == "ring":
                    model = models["fourier, cosine"]
                    run["score_error"] = {
                        str(sigma): round(score_error(model, modes, std, step_at_noise(model.schedule, sigma / model.scale.item()),
                                                      generator=torch.Generator().manual_seed(seed)), 4)
                        for sigma in SIGMAS}
                    for rung, (variant, settings) in LADDER.items():
                        rung_samples = sample(models[variant], N_SAMPLES, **settings,
                                              generator=torch.Generator().manual_seed(1000 + seed))
                        c = mode_coverage(rung_samples, modes, std)
                        ladder[rung].append({"modes": c.modes, "high_quality": round(c.high_quality, 4)})
                    for n in STEP_COUNTS:
                        for sampler, extra in (("ddpm", {"t_last": 20}), ("ddim", {})):
                            c = mode_coverage(sample(model, N_SAMPLES, n_steps=n, sampler=sampler, **extra,
                                                     generator=torch.Generator().manual_seed(1000 + seed)), modes, std)
                            by_steps[f"{sampler} {n}"].append(c.high_quality)
            runs.append(run)
            if out:
                np.save(out / f"{name}_seed{seed}_samples.npy", samples.numpy())
        if out:
            np.save(out / f"{name}_modes.npy", modes.numpy())
        entry = {"runs": runs, "modes": _mean_sd([r["modes"] for r in runs]),
                 "high_quality": _mean_sd([r["high_quality"] for r in runs]),
                 "train_cpu_s_max": max(r["train_cpu_s"] for r in runs),
                 "sample_cpu_s_max": max(r["sample_cpu_s"] for r in runs)}
        if name == "ring":
            entry["score_error"] = {str(s): _mean_sd([r["score_error"][str(s)] for r in runs]) for s in SIGMAS}
            entry["ladder"] = {rung: {"modes": _mean_sd([r["modes"] for r in rows]),
                                      "high_quality": _mean_sd([r["high_quality"] for r in rows])}
                               for rung, rows in ladder.items()}
            entry["high_quality_by_steps"] = {key: _mean_sd(values) for key, values in by_steps.items()}
            worst = max(max(r["score_error"][str(s)] for r in runs) for s in SIGMAS if s >= 0.05)
            targets[f"ring: score error ≤ {SCORE_ERROR_TARGET:.0%} at every σ ≥ 0.05 (every seed)"] = worst <= SCORE_ERROR_TARGET
        result[name] = entry
        goal = TARGETS[name]
        targets[f"{name}: {goal['modes']} modes on every seed"] = min(r["modes"] for r in runs) >= goal["modes"]
        targets[f"{name}: high quality ≥ {goal['high_quality']:.0%} (mean)"] = entry["high_quality"]["mean"] >= goal["high_quality"]
        targets[f"{name}: training ≤ {MAX_TRAIN_S:.0f} s CPU per run"] = entry["train_cpu_s_max"] <= MAX_TRAIN_S
    return result, targets


def _banana(out: Path | None) -> tuple[dict, dict]:
    trained, wall, cpu = _timed(lambda: recipes07.train_diffusion07_toy("banana", 0))
    points = banana(N_BANANA_EVAL, seed=2)
    with single_threaded():
        log_q, _, ode_cpu = _timed(lambda: probability_flow_log_prob(trained["model"], points))
    estimate = kl_to_truth(lambda x: log_q.float(), points)
    if out:
        np.save(out / "banana_eval_points.npy", points.numpy())
        np.save(out / "banana_log_q.npy", log_q.numpy())
        np.save(out / "banana_log_p.npy", toy_log_prob(points).numpy())
    result = {"train_cpu_s": cpu, "ode_cpu_s": ode_cpu, "kl_nats": round(estimate.kl, 5),
              "kl_stderr": round(estimate.stderr, 5), "eval_points": N_BANANA_EVAL}
    return result, {f"banana: KL ≤ {KL_TARGET} nats through the probability-flow ODE": estimate.kl <= KL_TARGET}


def _sampling_cost() -> dict:
    with single_threaded(), torch.no_grad():
        model = zoo.load("diffusion07_ring")
        gan = zoo.load("gan04_ring").generator
        flow = realnvp().eval()
        _, diffusion_s, _ = _timed(lambda: sample(model, N_SAMPLES, **recipes07.TOY07_SAMPLER,
                                                   generator=torch.Generator().manual_seed(0)))
        _, gan_s, _ = _timed(lambda: gan(sample_latent(N_SAMPLES, recipes04.GAN04_TOY_RECIPE["latent_dim"])))
        _, flow_s, _ = _timed(lambda: flow.sample(N_SAMPLES))
    return {"diffusion_100_steps_s": diffusion_s, "gan_one_pass_s": gan_s, "flow_one_inverse_s": flow_s}


@functools.cache
def _slice_model():
    """The shipped slice model, loaded (and its sha256 checked) once for every figure below."""
    return zoo.load("diffusion07_slices")


@functools.cache
def _vae():
    return zoo.load(f"vae03_conv_k{recipes03.VAE03_LATENT}")


def slice_sets() -> dict[str, torch.Tensor]:
    """Every set the slice figures compare, at 32 px: the reference, the floor's second real set,
    the diffusion model's stored samples, and the DCGAN's and the VAE's (drawn as lecture 04 draws them)."""
    to_32 = recipes07.to_32px
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        dcgan = zoo.load("dcgan04").generator(torch.randn(1000, recipes04.DCGAN04_LATENT, generator=g))
        vae = sample_prior(_vae(), 1000, generator=g)
    return {"real A (reference)": to_32(brain_slices(1000, size=64, seed=21)),
            "real B (floor)": to_32(brain_slices(1000, size=64, seed=22)),
            "diffusion samples": _slice_model().stored(_slice_model().samples),
            "DCGAN samples": to_32(dcgan), "VAE prior samples": to_32(vae)}


def _slices(out: Path | None) -> tuple[dict, dict]:
    features = zoo.load("features04")
    sets = slice_sets()
    feats = {name: slice_features(features, recipes07.to_64px(x)) for name, x in sets.items()}
    reference = feats["real A (reference)"]
    table = {}
    for name in list(sets)[1:]:
        pr = precision_recall(reference, feats[name])
        table[name] = {"fd": round(frechet_distance(reference, feats[name]), 3), "precision": round(pr.precision, 3),
                       "recall": round(pr.recall, 3)}
    x_train, _ = recipes07.slices07_train_data()
    memorisation = {name: round(nearest_neighbour_mse(sets[name][:300], x_train).median().item(), 5)
                    for name in ("diffusion samples", "real A (reference)")}
    # Guidance: the band the feature network reads off each guided sample against the band asked for.
    model = _slice_model()
    real, meta = brain_slices(400, size=64, seed=23, return_meta=True)
    guidance = {"real slices (ceiling)": {"band_agreement": round(band_accuracy(features, real, meta["band"]), 3)}}
    for w, images in zip(model.guidance_weights.tolist(), model.guided):
        images = model.stored(images).flatten(0, 1)
        asked = torch.arange(images.shape[0]) // model.guided.shape[2]
        pr = precision_recall(reference, slice_features(features, recipes07.to_64px(images)))
        guidance[f"w = {w:g}"] = {"band_agreement": round(band_accuracy(features, recipes07.to_64px(images), asked), 3),
                                  "precision": round(pr.precision, 3), "recall": round(pr.recall, 3)}
    if out:
        np.save(out / "slice_samples.npy", sets["diffusion samples"].numpy())
        np.save(out / "slice_reference.npy", sets["real A (reference)"].numpy())
        np.save(out / "slice_floor.npy", sets["real B (floor)"].numpy())
        np.save(out / "dcgan_samples_32px.npy", sets["DCGAN samples"].numpy())
        np.save(out / "vae_samples_32px.npy", sets["VAE prior samples"].numpy())
        np.save(out / "guided_samples.npy", model.stored(model.guided).numpy())
        np.save(out / "guidance_weights.npy", model.guidance_weights.numpy())
    d, g, v = table["diffusion samples"], table["DCGAN samples"], table["VAE prior samples"]
    targets = {"slices: FD below the DCGAN's and the VAE's (32 px)": d["fd"] < g["fd"] and d["fd"] < v["fd"]}
    return {"at_32px": table, "memorisation_median_mse": memorisation, "guidance": guidance}, targets


def lesion_sets(split: str, seed: int, n: int = N_LESION) -> tuple[torch.Tensor, torch.Tensor]:
    """n slices with lesions (64 px) of ``split``'s levels, and their lesion masks."""
    x, meta = brain_slices(n, size=64, split=split, seed=seed, lesion_prob=1.0, return_meta=True)
    keep = meta["lesion"] == 1
    return x[keep], meta["lesion_mask"][keep]


def lesion_scores(x64: torch.Tensor, t_start: int, seed: int = 0, box: int = recipes07.LESION07_BOX) -> dict[str, torch.Tensor]:
    """Anomaly maps at 32 px: the diffusion model's round trip from ``t_start``, and the VAE's residual
    (its reconstruction of the mean code at 64 px, the residual averaged to 32 px), each averaged over
    ``box`` × ``box`` pixels (1: not at all)."""
    diffusion, vae = _slice_model().model, _vae()
    x32 = recipes07.to_32px(x64)
    with single_threaded():
        d = anomaly_map(diffusion, x32, t_start, n_steps=recipes07.LESION07_STEPS, n_draws=recipes07.LESION07_DRAWS,
                        generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        mu, _ = vae.encode(x64)
        v = recipes07.to_32px((x64 - vae.decode(mu)).abs())
    if box == 1:
        return {"diffusion": d, "vae": v}
    return {"diffusion": box_smooth(d, box), "vae": box_smooth(v, box)}


def _lesions(out: Path | None) -> tuple[dict, dict]:
    x_val, m_val = lesion_sets("val", 31)
    region, masks = recipes07.to_32px(x_val) > 0.1, recipes07.to_32px(m_val)
    val = {}
    for t in LESION_T_STARTS:
        raw = lesion_scores(x_val, t, box=1)
        for box in (1, recipes07.LESION07_BOX):
            scores = raw if box == 1 else {name: box_smooth(m, box) for name, m in raw.items()}
            val[f"t_start {t}, box {box}"] = {name: round(pixel_auroc(m, masks, region), 4) for name, m in scores.items()}
    best_key = max(val, key=lambda k: val[k]["diffusion"])
    best = int(best_key.split(",")[0].removeprefix("t_start "))
    best_box = int(best_key.split("box ")[1])
    x_test, m_test = lesion_sets("test", 32)  # touched once, with the noise level chosen on val
    scores = lesion_scores(x_test, best, box=best_box)
    region, masks = recipes07.to_32px(x_test) > 0.1, recipes07.to_32px(m_test)
    test = {name: round(pixel_auroc(s, masks, region), 4) for name, s in scores.items()}
    if out:
        np.save(out / "lesion_slices_32px.npy", recipes07.to_32px(x_test).numpy())
        np.save(out / "lesion_masks_32px.npy", masks.numpy())
        for name, s in scores.items():
            np.save(out / f"lesion_scores_{name}.npy", s.numpy())
    result = {"val_auroc": val, "chosen": {"t_start": best, "box": best_box}, "test_auroc": test,
              "val_slices": len(x_val), "test_slices": len(x_test)}
    targets = {"lesions: the lecture's t_start and box (LESION07_T_START, LESION07_BOX) are the ones chosen on "
               "validation levels": (best, best_box) == (recipes07.LESION07_T_START, recipes07.LESION07_BOX),
               f"lesions: diffusion AUROC ≥ {AUROC_TARGET}": test["diffusion"] >= AUROC_TARGET,
               "lesions: diffusion AUROC above the VAE residual's": test["diffusion"] > test["vae"]}
    return result, targets


def run(out: Path | None = None) -> dict:
    toys, targets = _toys(out)
    banana_result, banana_targets = _banana(out)
    slices, slice_targets = _slices(out)
    lesions, lesion_targets = _lesions(out)
    return {"toy_recipe": recipes07.TOY07_RECIPE, "toy_sampler": recipes07.TOY07_SAMPLER, "seeds": len(SEEDS), **toys,
            "banana": banana_result, "sampling_cost": _sampling_cost(), "slices": slices, "lesions": lesions,
            "targets": {**targets, **banana_targets, **slice_targets, **lesion_targets}}
