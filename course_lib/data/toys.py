"""Two-dimensional toy distributions with known ground truth (lectures 04 and 06).

``ring_gaussians`` and ``grid_gaussians`` are the mixtures used to measure mode collapse in
VEEGAN and PacGAN (equal weights, isotropic components); they return the samples together with
the mode centres. ``banana`` is the lectures' toy flow: u ~ N(0, I), x = f(u) = (u₁, u₂ − u₁² − 1).

Raises TypeError for a non-int ``n``, ``k``, ``side`` or ``seed`` (a float such as 2.5 or a bool) and
ValueError for counts < 1, above their bounds, a negative seed, or a non-positive radius, spacing or std.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from .. import _validate

__all__ = ["Toy2D", "ring_gaussians", "grid_gaussians", "banana"]


class Toy2D(NamedTuple):
    """Samples (n, 2) of a Gaussian mixture and its mode centres (k, 2), both float32."""

    samples: torch.Tensor
    modes: torch.Tensor


# At most this many mixture components: far above the course's 8-mode ring and 5 × 5 grid.
MAX_MODES = 100_000
WHY_MODES = "a bound against typos: every mode is a row of the mode table"


def _check(n, seed, **positive) -> None:
    _validate.samples(n, "n")
    # The largest allocation: n float64 points (n, 2), the mode index per point, and the float32 copy.
    _validate.memory(n * (2 * 8 + 8 + 2 * 4), "n", f"{n:,} samples")
    _validate.seed(seed)
    for name, value in positive.items():
        _validate.number(value, name, minimum=0, open_minimum=True)


def _mixture(n: int, modes: np.ndarray, std: float, seed: int) -> Toy2D:
    rng = np.random.default_rng(seed)
    which = rng.integers(len(modes), size=n)
    x = modes[which] + std * rng.standard_normal((n, 2))
    return Toy2D(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(modes.astype(np.float32)))


def ring_gaussians(n: int, k: int = 8, radius: float = 1.0, std: float = 0.01, seed: int = 0) -> Toy2D:
    """``n`` samples of k equally weighted Gaussians N(m_j, std² I) with m_j = radius·(cos 2πj/k, sin 2πj/k)."""
    _validate.positive_int(k, "k", maximum=MAX_MODES, why=WHY_MODES)
    _check(n, seed, radius=radius, std=std)
    angles = 2 * np.pi * np.arange(k) / k
    return _mixture(n, radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), std, seed)


def grid_gaussians(n: int, side: int = 5, spacing: float = 2.0, std: float = 0.05, seed: int = 0) -> Toy2D:
    """``n`` samples of side² equally weighted Gaussians on a square grid centred on 0.

    With the defaults the modes are at {−4, −2, 0, 2, 4}², as in PacGAN's 2D-grid experiment.
    """
    _validate.positive_int(side, "side", maximum=math.isqrt(MAX_MODES), why=WHY_MODES + " (side² of them)")
    _check(n, seed, spacing=spacing, std=std)
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    modes = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    return _mixture(n, modes, std, seed)


def banana(n: int, seed: int = 0) -> torch.Tensor:
    """``n`` samples (n, 2) of x = f(u) = (u₁, u₂ − u₁² − 1) with u ~ π_u = N(0, I)."""
    _check(n, seed)
    u = np.random.default_rng(seed).standard_normal((n, 2))
    return torch.from_numpy(np.stack([u[:, 0], u[:, 1] - u[:, 0] ** 2 - 1], axis=1).astype(np.float32))
