"""Corruptions q(x̃ | x) for denoising autoencoders (lecture 02): masking noise, additive Gaussian
noise and salt-and-pepper noise (Vincent et al., 2010), at a fixed level or at a level drawn
afresh for every training batch.

A denoising autoencoder sees x̃ ~ q(x̃ | x) and is still asked for the clean x; what it learns
depends on q, which is why the course trains one per corruption (``course_lib.denoising``).

Every corruption checks its input first: a floating-point batch (B, …) with B ≥ 1 and no NaN or
±inf (raises ValueError otherwise: a NaN pixel would come out of every corruption unchanged).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from . import _validate

__all__ = ["CORRUPTIONS", "masking_noise", "gaussian_noise", "salt_and_pepper", "corrupt", "random_level_corruption"]


def _random_subset(x: torch.Tensor, nu: float, generator: torch.Generator | None) -> torch.Tensor:
    """A boolean mask of x's shape choosing exactly round(ν·D) of each sample's D entries, uniformly."""
    b, d = len(x), x[0].numel()
    k = round(nu * d)
    ranks = torch.rand(b, d, generator=generator).argsort(dim=1).argsort(dim=1)  # a random permutation per sample
    return (ranks < k).reshape(x.shape).to(x.device)


def masking_noise(x: torch.Tensor, nu: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Masking noise: set exactly round(ν·D) of each sample's D inputs to 0, the rest unchanged.

        x̃_i = 0 for i in S,   x̃_i = x_i otherwise,   S a uniformly random subset with |S| = round(ν·D)

    (Vincent et al., 2010: "as many as half" of the inputs, ν up to 0.5). The subset is drawn
    afresh for every sample, so an image never has more or fewer zeros forced than asked.
    """
    x = _validate.batch(x, "x", what="batch of inputs", finite=True)
    nu = _validate.fraction(nu, "nu", why="the fraction ν of inputs to mask")
    _validate.generator(generator)
    return x.masked_fill(_random_subset(x, nu, generator), 0.0)


def gaussian_noise(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Additive isotropic Gaussian noise: x̃ = x + σ ε, ε ~ N(0, I).

    Not clipped to [0, 1]: clipping would remove part of the noise on the dark background and
    make the corruption depend on the image.
    """
    x = _validate.batch(x, "x", what="batch of inputs", finite=True)
    sigma = _validate.number(sigma, "sigma", minimum=0, why="the noise's standard deviation σ")
    _validate.generator(generator)
    return x + sigma * torch.randn(x.shape, generator=generator).to(x.device, x.dtype)


def salt_and_pepper(x: torch.Tensor, nu: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Salt-and-pepper noise: exactly round(ν·D) of each sample's inputs are set to the minimum 0
    or the maximum 1, each by a fair coin; the rest are unchanged.

        x̃_i = b_i for i in S (b_i ∈ {0, 1}, P = ½ each),   x̃_i = x_i otherwise,   |S| = round(ν·D)
    """
    x = _validate.batch(x, "x", what="batch of inputs", finite=True)
    nu = _validate.fraction(nu, "nu", why="the fraction ν of inputs to set to 0 or 1")
    _validate.generator(generator)
    chosen = _random_subset(x, nu, generator)
    salt = (torch.rand(x.shape, generator=generator) < 0.5).to(x.device, x.dtype)
    return torch.where(chosen, salt, x)


CORRUPTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "masking": masking_noise,
    "gaussian": gaussian_noise,
    "salt_and_pepper": salt_and_pepper,
}


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x̃ ~ q(x̃ | x) for one of ``CORRUPTIONS`` at ``level`` (ν for masking and salt-and-pepper,
    σ for Gaussian)."""
    _validate.choice(kind, "kind", tuple(CORRUPTIONS))
    return CORRUPTIONS[kind](x, level, generator)


def _level(kind: str, level: object, name: str) -> float:
    """A corruption level of ``kind``: ν in [0, 1] for masking and salt-and-pepper, σ ≥ 0 for Gaussian."""
    if kind == "gaussian":
        return _validate.number(level, name, minimum=0, why="the noise's standard deviation σ")
    return _validate.fraction(level, name, why=f"the fraction ν of inputs {kind} noise changes")


def random_level_corruption(kind: str, max_level: float, generator: torch.Generator | None = None
                            ) -> Callable[[torch.Tensor], torch.Tensor]:
    """A corruption for training a DAE that works at every level up to ``max_level``: each call
    draws a level uniformly from [0, max_level] and corrupts the whole batch at that level."""
    _validate.choice(kind, "kind", tuple(CORRUPTIONS))
    _level(kind, max_level, "max_level")
    _validate.generator(generator)
    # Kept from before the checks above existed: it draws from torch's global random state, and the
    # lecture's notebook outputs depend on that draw.
    corrupt(torch.zeros(1, 1), kind, max_level)

    def corrupt_batch(x: torch.Tensor) -> torch.Tensor:
        level = max_level * torch.rand(1, generator=generator).item()
        return corrupt(x, kind, level, generator)

    return corrupt_batch
