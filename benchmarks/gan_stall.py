"""Lecture 04 §2 over ten seeds: does the minimax generator stall when D has a head start?

The lecture's experiment, seed by seed: D trains alone for 300 steps against an untrained
generator, then the alternating algorithm runs 1,500 rounds from that state, once with each
generator loss (Adam, lr 1e-3, β = (0.5, 0.999), batch 256, on the 8-Gaussian ring). For each
seed and loss: the median generator-gradient norm over rounds 1–100 and 1001–1500, the mean
D(G(z)) of 2,500 samples after the last round and their median distance to the nearest mode.
A run counts as *stuck* when after 1,500 rounds D still rejects its samples (mean D(G(z)) <
1e-3) and they are not on the ring (median distance > 1). Seed s means ``seed_everything(s)``
for the networks and ``torch.Generator().manual_seed(s)`` / ``(s + 1)`` for the data and noise,
as in the lecture (seed 0). Runs on one thread, like the lecture's tiny networks.
"""

from __future__ import annotations

from pathlib import Path

import torch

from course_lib import seed_everything
from course_lib.gan import (MLPDiscriminator, MLPGenerator, discriminator_loss, gan_training_step, mixture_sampler,
                            sample_latent)
from course_lib.recipes import gan as recipes04
from course_lib.training import single_threaded

SEEDS = tuple(range(10))
HEAD_START_STEPS, ROUNDS = 300, 1500


def one_seed(seed: int) -> dict:
    ring_modes = recipes04.toy_modes("ring")
    ring_sampler = mixture_sampler(ring_modes, std=0.01)
    seed_everything(seed)
    start_g, start_d = MLPGenerator(), MLPDiscriminator()
    rng = torch.Generator().manual_seed(seed)
    d_opt = torch.optim.Adam(start_d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for _ in range(HEAD_START_STEPS):
        fake = start_g(sample_latent(256, 2, generator=rng)).detach()
        loss = discriminator_loss(start_d(ring_sampler(256, rng)), start_d(fake))
        d_opt.zero_grad()
        loss.backward()
        d_opt.step()
    result = {"seed": seed}
    for kind in ("minimax", "non_saturating"):
        g_net, d_net = MLPGenerator(), MLPDiscriminator()
        g_net.load_state_dict(start_g.state_dict())
        d_net.load_state_dict(start_d.state_dict())
        g_opt = torch.optim.Adam(g_net.parameters(), lr=1e-3, betas=(0.5, 0.999))
        d_opt = torch.optim.Adam(d_net.parameters(), lr=1e-3, betas=(0.5, 0.999))
        rng = torch.Generator().manual_seed(seed + 1)
        norms = torch.tensor([gan_training_step(g_net, d_net, g_opt, d_opt, [ring_sampler(256, rng)],
                                                lambda n: sample_latent(n, 2, generator=rng), kind)["g_grad_norm"]
                              for _ in range(ROUNDS)])
        with torch.no_grad():
            samples = g_net(sample_latent(2500, 2, generator=torch.Generator().manual_seed(2)))
            fooled = torch.sigmoid(d_net(samples)).mean().item()
        distance = torch.cdist(samples, ring_modes).min(1).values.median().item()
        result[kind] = {"early_grad_norm": norms[:100].median().item(), "late_grad_norm": norms[1000:].median().item(),
                        "fooled": fooled, "distance": distance, "stuck": fooled < 1e-3 and distance > 1.0}
    result["early_ratio"] = result["minimax"]["early_grad_norm"] / result["non_saturating"]["early_grad_norm"]
    return result


def run(out: Path | None = None) -> dict:
    with single_threaded():
        runs = [one_seed(seed) for seed in SEEDS]
    stuck = {kind: sum(r[kind]["stuck"] for r in runs) for kind in ("minimax", "non_saturating")}
    ratios = [r["early_ratio"] for r in runs]
    reached = sum(r["non_saturating"]["distance"] < 1.0 and r["non_saturating"]["fooled"] > 0.1 for r in runs)
    return {
        "seeds": len(SEEDS), "runs": runs, "stuck": stuck, "early_ratio_max": max(ratios), "early_ratio_min": min(ratios),
        "flipped_label_reached_ring": reached,
        "targets": {"minimax's early gradient < 0.2 x flipped label's on every seed (the lecture's assert)": max(ratios) < 0.2,
                    "flipped label reaches the ring and fools D on every seed": reached == len(SEEDS)},
    }
