"""What every shipped checkpoint is: its data, its architecture and its hyperparameters.

One module per lecture — ``autoencoders`` (01), ``denoising_stacked`` (02), ``vae`` (03), ``gan``
(04), ``translation`` (05), ``diffusion`` (07) — states each recipe and nothing else; ``course_lib.zoo`` registers
them (``zoo.RECIPES``), trains them (``make checkpoints``) and loads their checkpoints. Why the
settings are what they are is told in the lectures and in benchmarks/README.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..training import History

__all__ = ["Recipe", "ALL"]


@dataclass(frozen=True)
class Recipe:
    """How to build a model (``build()``) and train it in place (``fit(model, progress, device)``)."""

    name: str
    description: str
    build: Callable[[], nn.Module]
    fit: Callable[[nn.Module, bool, str | torch.device], History]
    seed: int = 0


# The lecture modules import Recipe from here, so they are imported after it is defined.
from . import autoencoders, denoising_stacked, diffusion, gan, translation, vae  # noqa: E402

# Every recipe, in the order `make checkpoints` trains them and `python -m course_lib.zoo --list` lists them.
ALL: tuple[Recipe, ...] = (*autoencoders.RECIPES, *denoising_stacked.RECIPES, *vae.RECIPES, *gan.RECIPES,
                           *translation.RECIPES, *diffusion.RECIPES)
