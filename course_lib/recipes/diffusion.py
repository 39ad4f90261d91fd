"""Lecture 07's checkpoints: diffusion models of the 2-D toys and of 32 px brain slices.

Data, architecture and hyperparameters only; the rationale lives in the lecture and in
benchmarks/README.md (how the toy recipe was chosen: the ``diffusion`` benchmark).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .. import _validate
from ..data import LEVEL_BANDS, brain_slices
from ..diffusion import (DiffusionModel, NoiseSchedule, SliceDiffusion, cosine_schedule, linear_schedule, sample,
                         toy_diffusion, train_diffusion, train_toy_diffusion)
from ..flows import toy_map
from ..gan import mixture_sampler
from .gan import TOY_STD, toy_modes  # lecture 04's toys: the same ring and grid
from ..training import History, single_threaded
from . import Recipe

__all__ = ["TOY07_RECIPE", "TOY07_SAMPLER", "TOY07_CHANGES", "TOYS", "toy_schedule", "toy_shift", "toy_scale", "toy_data", "train_diffusion07_toy",
           "SLICES07_SIZE", "SLICES07_RECIPE", "SLICES07_SAMPLES", "SLICES07_GUIDANCE", "SLICES07_PER_BAND",
           "SLICES07_SAMPLING_STEPS", "SLICES07_GUIDED_STEPS", "LESION07_T_START", "LESION07_STEPS", "LESION07_DRAWS",
           "LESION07_BOX",
           "to_32px", "to_64px", "slices07_train_data", "RECIPES"]


# The toy models' training settings (what each does: course_lib.diffusion.train_diffusion), their
# schedule (cosine, σ from 0.001 to 0.9999, T = 1,000) and the lecture's sampler: 100 ancestral
# steps, the last one jumping from t = 20 to x̂_0. The ``diffusion`` benchmark measures each choice.
TOY07_RECIPE = dict(steps=7_000, batch_size=512, lr=2e-3, ema_decay=0.998, hidden=256, depth=3, fourier=4)
TOY07_SAMPLER = dict(sampler="ddpm", n_steps=100, t_last=20)
# The banana's density is smooth: Fourier features, which sharpen the mixtures' thin modes, only
# add wiggles to the probability-flow ODE's divergence there (KL 0.097 instead of 0.016 nats, seed 0,
# both measured before the banana was standardised per coordinate).
TOY07_CHANGES = {"banana": dict(fourier=0)}
TOYS = ("ring", "grid", "banana")


def toy_schedule(kind: str = "cosine") -> NoiseSchedule:
    """The toys' noise schedule: ``"cosine"`` (the lecture's) or ``"linear"`` (Ho et al.'s, for comparison)."""
    if kind not in ("cosine", "linear"):
        raise ValueError(f"kind must be 'cosine' or 'linear', got {kind!r}")
    return cosine_schedule(1000, sigma_min=1e-3) if kind == "cosine" else linear_schedule(1000)


def toy_data(name: str):
    """``draw(n, generator)`` → n points of the toy ``name``: the 8-ring, the 25-grid or the banana (lecture 06's map)."""
    if name in TOY_STD:
        return mixture_sampler(toy_modes(name), TOY_STD[name])
    if name == "banana":
        return lambda n, generator: toy_map(torch.randn(n, 2, generator=generator))
    raise ValueError(f"unknown toy {name!r}; expected one of {TOYS}")


# The banana x = (u₁, u₂ − u₁² − 1): mean (0, −2), variance (1, 1 + Var u₁² = 3), exactly.
BANANA_SHIFT, BANANA_SCALE = (0.0, -2.0), (1.0, 3**0.5)


def toy_shift(name: str) -> float | tuple[float, float]:
    """The toy's mean: 0 for the centred mixtures, ``BANANA_SHIFT`` for the banana."""
    if name not in TOYS:
        raise ValueError(f"unknown toy {name!r}; expected one of {TOYS}")
    return BANANA_SHIFT if name == "banana" else 0.0


def toy_scale(name: str) -> float | tuple[float, float]:
    """The toy's standard deviation: √(mean ‖x‖²/2) for the mixtures (the same in both coordinates),
    ``BANANA_SCALE`` for the banana. The forward process assumes centred unit-variance data, so the
    model standardises with these."""
    if name not in TOYS:
        raise ValueError(f"unknown toy {name!r}; expected one of {TOYS}")
    if name == "banana":
        return BANANA_SCALE
    return float(toy_modes(name).pow(2).sum(1).mean().div(2).sqrt())


def train_diffusion07_toy(name: str, seed: int = 0, schedule: str = "cosine", device: str | torch.device = "cpu",
                          **changes) -> dict:
    """Train the lecture's toy diffusion model on ``name`` with ``TOY07_RECIPE`` (shared by the recipes and the
    benchmark, which also trains variants: ``changes`` replace recipe entries, e.g. ``fourier=0``)."""
    return train_toy_diffusion(toy_data(name), toy_schedule(schedule), scale=toy_scale(name), shift=toy_shift(name),
                               seed=seed, device=device,
                               **{**TOY07_RECIPE, **TOY07_CHANGES.get(name, {}), **changes})


def _toy_build(name: str, schedule: str, changes: dict) -> DiffusionModel:
    r = {**TOY07_RECIPE, **TOY07_CHANGES.get(name, {}), **changes}
    return toy_diffusion(toy_schedule(schedule), toy_scale(name), hidden=r["hidden"], depth=r["depth"],
                         fourier=r["fourier"], shift=toy_shift(name))


def _toy_recipe(name: str, schedule: str = "cosine", suffix: str = "", **changes) -> Recipe:
    def fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
        result = train_diffusion07_toy(name, schedule=schedule, device=device, **changes)
        model.load_state_dict(result["model"].state_dict())
        return result["history"]

    suffix = suffix + ("" if schedule == "cosine" else f"_{schedule}")
    settings = {**TOY07_RECIPE, **TOY07_CHANGES.get(name, {}), **changes}
    return Recipe(name=f"diffusion07_{name}{suffix}", build=lambda: _toy_build(name, schedule, changes), fit=fit,
                  description=f"lecture 07: MLP ε-prediction diffusion model of the {name} toy, {schedule} "
                              f"schedule, {settings}")


SLICES07_SIZE = 32
SLICES07_CHANNELS = (32, 64, 64)
SLICES07_RECIPE = dict(steps=6_000, batch_size=32, lr=5e-4, ema_decay=0.999, p_uncond=0.2)
SLICES07_SAMPLES, SLICES07_SAMPLING_STEPS = 1000, 50
SLICES07_GUIDANCE, SLICES07_PER_BAND, SLICES07_GUIDED_STEPS = (0.0, 0.5, 1.0, 2.0, 4.0), 50, 25


# Lesion detection (lecture 07 §8): noise to t_start, denoise back in LESION07_STEPS DDIM steps, average the
# residual over LESION07_DRAWS noise draws, then over LESION07_BOX × LESION07_BOX pixels (the VAE's residual gets the
# same box). t_start and the box were chosen on validation levels by `python -m benchmarks diffusion`.
LESION07_T_START, LESION07_STEPS, LESION07_DRAWS, LESION07_BOX = 300, 10, 4, 3


def _images(x: object, name: str) -> torch.Tensor:
    """A finite, non-empty floating batch of images (B, C, H, W) that holds values."""
    x = _validate.tensor(x, name, shape=("B", "C", "H", "W"), finite=True, nonempty=True, what="batch of images")
    return _validate.values(x, name)


def to_32px(x: torch.Tensor) -> torch.Tensor:
    """64 px slices → 32 px by averaging 2 × 2 blocks (the resolution the slice diffusion model works at).

    Raises ValueError for an odd height or width (the last row or column would be dropped)."""
    x = _images(x, "x")
    if x.shape[-2] % 2 or x.shape[-1] % 2:
        raise ValueError(f"x must have an even height and width (2 × 2 blocks are averaged), "
                         f"got {_validate.describe(x)}")
    return F.avg_pool2d(x, 2)


def to_64px(x: torch.Tensor) -> torch.Tensor:
    """32 px slices → 64 px by bilinear interpolation, for the 64 px feature network (any H × W doubles)."""
    x = _images(x, "x")
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def slices07_train_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The DCGAN's 4,000 training slices (64 px, seed 0) at 32 px, with their level band (0…3)."""
    x, meta = brain_slices(4000, size=64, seed=0, return_meta=True)
    return to_32px(x), meta["band"]


def _slices07_fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    # One thread on the CPU: the checkpoint is then the same bits whatever the machine's core count.
    with single_threaded():
        return _slices07_train_and_sample(model, progress, device)


def _slices07_train_and_sample(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    x, bands = slices07_train_data()

    def draw(n: int, generator: torch.Generator):
        index = torch.randint(0, len(x), (n,), generator=generator)
        return x[index], bands[index]

    history = train_diffusion(model.model, draw, progress=progress, device=device, **SLICES07_RECIPE)
    g = torch.Generator().manual_seed(7)
    null = torch.full((SLICES07_SAMPLES,), len(LEVEL_BANDS))
    model.samples.copy_(model.to_bytes(sample(model.model, SLICES07_SAMPLES, n_steps=SLICES07_SAMPLING_STEPS,
                                              labels=null, generator=g, batch_size=250, clip=(0, 1))))
    labels = torch.arange(len(LEVEL_BANDS)).repeat_interleave(SLICES07_PER_BAND)
    for i, w in enumerate(SLICES07_GUIDANCE):
        images = sample(model.model, len(labels), n_steps=SLICES07_GUIDED_STEPS, labels=labels, guidance=w,
                        generator=torch.Generator().manual_seed(8), batch_size=250, clip=(0, 1))
        model.guided[i].copy_(model.to_bytes(images).view(len(LEVEL_BANDS), SLICES07_PER_BAND, 1, 32, 32))
    return history


RECIPES = [
    _toy_recipe("ring"),
    _toy_recipe("ring", "linear"),
    # The same network without Fourier features, for the lecture's precision ladder.
    _toy_recipe("ring", suffix="_plain", fourier=0),
    _toy_recipe("ring", "linear", suffix="_plain", fourier=0),
    _toy_recipe("grid"),
    _toy_recipe("banana"),
    Recipe(name="diffusion07_slices",
           build=lambda: SliceDiffusion(SLICES07_CHANNELS, len(LEVEL_BANDS), SLICES07_SAMPLES, SLICES07_GUIDANCE,
                                        SLICES07_PER_BAND, SLICES07_SIZE),
           fit=_slices07_fit,
           description=f"lecture 07: class-conditional U-Net{SLICES07_CHANNELS} diffusion model (v-prediction, "
                       f"cosine schedule, condition: level band, ∅ with p = {SLICES07_RECIPE['p_uncond']}), "
                       f"{SLICES07_RECIPE} on slices07_train_data(); {SLICES07_SAMPLES} unconditional samples "
                       f"({SLICES07_SAMPLING_STEPS} DDIM steps) and {SLICES07_PER_BAND} per band at guidance "
                       f"w = {SLICES07_GUIDANCE} ({SLICES07_GUIDED_STEPS} steps) saved with it"),
]
