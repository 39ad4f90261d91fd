"""Lecture 06: RealNVP and MAF trained on the toy map, measured against its exact density.

For each design: the training time, KL(p ‖ q) in nats by Monte Carlo on 100,000 fresh points of
the toy map (target ≤ 0.005 after ≤ 30 s of training; the limit is 0), and the throughput of
density evaluation and of sampling. The asymmetry of the two designs is also measured on
untrained flows in D = 2, 8, 32 dimensions: MAF samples in D sequential passes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from course_lib import seed_everything
from course_lib.data.toys import banana
from course_lib.flows import kl_to_truth, maf, realnvp, toy_log_prob, train_flow

# The lecture's recipe (lectures/06_normalizing_flows.py trains with the same numbers).
N_TRAIN, EPOCHS, BATCH, LR = 20_000, 10, 256, 3e-3
N_EVAL, N_SAMPLES, N_TIMING = 100_000, 50_000, 100_000
KL_TARGET, TRAIN_S_TARGET = 0.005, 30.0
DESIGNS = {"realnvp": realnvp, "maf": maf}


@torch.no_grad()
def _best_of(call, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def _asymmetry(dims=(2, 8, 32), n: int = 10_000) -> dict:
    """Seconds to evaluate log q and to sample n points, untrained flows of 4 layers, per D."""
    table = {}
    for dim in dims:
        x = torch.randn(n, dim)
        row = {}
        for name, make in DESIGNS.items():
            flow = make(dim=dim).eval()
            row[f"{name}_log_prob_s"] = round(_best_of(lambda: flow.log_prob(x)), 4)
            row[f"{name}_sample_s"] = round(_best_of(lambda: flow.sample(n)), 4)
        row["maf_over_realnvp_sampling"] = round(row["maf_sample_s"] / row["realnvp_sample_s"], 1)
        table[f"D={dim}"] = row
    return table


def run(out: Path | None = None) -> dict:
    data = banana(N_TRAIN, seed=1)
    eval_points = banana(N_EVAL, seed=2)
    log_p = toy_log_prob(eval_points)
    result: dict = {"recipe": {"n_train": N_TRAIN, "epochs": EPOCHS, "batch_size": BATCH, "lr": LR}}
    targets = {}
    for name, make in DESIGNS.items():
        seed_everything(0)
        flow = make()
        start = time.perf_counter()
        train_flow(flow, data, epochs=EPOCHS, batch_size=BATCH, lr=LR, progress=False)
        train_s = time.perf_counter() - start
        with torch.no_grad():
            log_q = flow.log_prob(eval_points)
        kl = kl_to_truth(flow.log_prob, eval_points)
        timing_points = eval_points[:N_TIMING]
        density_s = _best_of(lambda: flow.log_prob(timing_points))
        sample_s = _best_of(lambda: flow.sample(N_TIMING))
        result[name] = {
            "train_s": round(train_s, 1),
            "kl_nats": round(kl.kl, 5),
            "kl_stderr": round(kl.stderr, 5),
            "density_points_per_s": round(N_TIMING / density_s),
            "samples_per_s": round(N_TIMING / sample_s),
        }
        targets[f"{name}: KL <= {KL_TARGET} nats"] = kl.kl <= KL_TARGET
        targets[f"{name}: training <= {TRAIN_S_TARGET:.0f} s"] = train_s <= TRAIN_S_TARGET
        if out:
            with torch.no_grad():
                samples = flow.sample(N_SAMPLES, generator=torch.Generator().manual_seed(3))
            np.save(out / f"{name}_samples.npy", samples.numpy())
            np.save(out / f"{name}_log_q.npy", log_q.numpy())
    result["asymmetry"] = _asymmetry()
    if out:
        np.save(out / "eval_points.npy", eval_points.numpy())
        np.save(out / "eval_log_p.npy", log_p.numpy())
    result["targets"] = targets
    return result
