"""Lecture 04: mode coverage of the toy GAN on the 8-Gaussian ring and the 25-Gaussian grid,
exactly as VEEGAN and PacGAN count it — 2,500 samples per run; a sample is high quality within
3σ of its nearest mode; a mode is captured by at least one high-quality sample — over five
seeds per toy, with the wall and CPU time of every training run (training runs on one thread, so
CPU time is the run's cost even when another program slows the wall clock). Each run uses
``GAN04_TOY_RECIPE`` of ``course_lib.recipes.gan`` (flipped-label loss, R1 penalty, averaged
generator) from scratch.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch

from course_lib.evaluation import mode_coverage
from course_lib.gan import sample_latent
from course_lib.recipes import gan as recipes04

SEEDS = (0, 1, 2, 3, 4)
N_SAMPLES = 2500
TARGETS = {"ring": {"modes": 8.0, "high_quality": 0.97}, "grid": {"modes": 24.8, "high_quality": 0.94}}
MAX_WALL_S = 60.0


def _mean_sd(values: list[float]) -> dict[str, float]:
    return {"mean": round(statistics.mean(values), 4), "sd": round(statistics.stdev(values), 4)}


def run(out: Path | None = None) -> dict:
    per_toy, targets = {}, {}
    for name in ("ring", "grid"):
        runs = []
        for seed in SEEDS:
            start, cpu_start = time.perf_counter(), time.process_time()
            result = recipes04.train_gan04_toy(name, seed=seed)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            with torch.no_grad():
                samples = result["generator"](sample_latent(N_SAMPLES, recipes04.GAN04_TOY_RECIPE["latent_dim"],
                                                            generator=torch.Generator().manual_seed(1000 + seed)))
            coverage = mode_coverage(samples, recipes04.toy_modes(name), recipes04.TOY_STD[name])
            runs.append({"seed": seed, "modes": coverage.modes, "high_quality": round(coverage.high_quality, 4),
                         "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)})
            if out:
                np.save(out / f"{name}_seed{seed}_samples.npy", samples.numpy())
        if out:
            np.save(out / f"{name}_modes.npy", recipes04.toy_modes(name).numpy())
        modes = _mean_sd([r["modes"] for r in runs])
        hq = _mean_sd([r["high_quality"] for r in runs])
        per_toy[name] = {"runs": runs, "modes": modes, "high_quality": hq,
                         "wall_s_max": max(r["wall_s"] for r in runs), "cpu_s_max": max(r["cpu_s"] for r in runs)}
        goal = TARGETS[name]
        targets[f"{name}: modes ≥ {goal['modes']} (mean)"] = modes["mean"] >= goal["modes"]
        targets[f"{name}: high quality ≥ {goal['high_quality']:.0%} (mean)"] = hq["mean"] >= goal["high_quality"]
        targets[f"{name}: ≤ {MAX_WALL_S:.0f} s per run"] = per_toy[name]["wall_s_max"] <= MAX_WALL_S
    return {"recipe": recipes04.GAN04_TOY_RECIPE, "seeds": len(SEEDS), **per_toy, "targets": targets}
