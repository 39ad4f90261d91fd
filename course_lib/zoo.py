"""Pretrained models the notebooks load: how each checkpoint is made, where it lives, how it loads.

A notebook that needs more training than its time budget allows trains briefly on screen and
then calls ``zoo.load(name)``. Every checkpoint is produced by its recipe (``course_lib.recipes``,
registered here in ``RECIPES``) — the same library code the notebook uses — with ``make
checkpoints`` (``python -m course_lib.zoo --train all``), and is checked against its recorded
sha256 when loaded.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn

from . import _validate, recipes, seed_everything
from .recipes import Recipe
from .checkpoint_io import load_checkpoint, save_checkpoint
from .training import History

__all__ = ["RECIPES", "CHECKPOINT_DIR", "checkpoint_path", "load", "fit_fresh", "train", "main"]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"

# Every shipped checkpoint's recipe by name (course_lib.recipes states them, one module per lecture).
RECIPES: dict[str, Recipe] = {r.name: r for r in recipes.ALL}


def _recipe(name: str) -> Recipe:
    if not isinstance(name, str):
        raise TypeError(f"name must be the name of a checkpoint (a str, a key of zoo.RECIPES), "
                        f"got {_validate.describe(name)}")
    if name not in RECIPES:
        raise ValueError(f"unknown checkpoint {name!r}; known: {sorted(RECIPES)}")
    return RECIPES[name]


def checkpoint_path(name: str) -> Path:
    """Where the checkpoint ``name`` lives (``course_lib/checkpoints/<name>.pt``)."""
    return CHECKPOINT_DIR / f"{_recipe(name).name}.pt"


def load(name: str, device: str | torch.device = "cpu") -> nn.Module:
    """Build the model of recipe ``name``, load its verified checkpoint, return it in eval mode on ``device``."""
    device = _validate.device(device)
    model = _recipe(name).build()
    load_checkpoint(checkpoint_path(name), model)
    return model.to(device).eval()


def fit_fresh(name: str, progress: bool = True, seed: int | None = None,
              device: str | torch.device = "cpu") -> tuple[nn.Module, History]:
    """Build and train recipe ``name`` from scratch (seeded), without saving: the model (eval mode,
    on ``device``) and its history.

    ``seed`` replaces the recipe's own seed for the global generators (initialisation, noise),
    for benchmarks that ask whether a finding survives another training seed. On another device
    than the CPU the weights differ from the shipped ones (other kernels, other sums)."""
    recipe = _recipe(name)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {_validate.describe(progress)}")
    if seed is not None:
        _validate.seed(seed)
    device = _validate.device(device)
    seed_everything(recipe.seed if seed is None else seed)
    model = recipe.build()
    history = recipe.fit(model, progress, device)
    return model.to(device).eval(), history


def train(name: str, progress: bool = True, device: str | torch.device = "cpu") -> tuple[Path, History]:
    """Train recipe ``name`` from scratch (seeded) on ``device`` and save its checkpoint with its sha256."""
    _recipe(name)
    device = _validate.device(device)
    model, history = fit_fresh(name, progress, device=device)
    path = checkpoint_path(name)
    save_checkpoint(model, path, overwrite=True)  # make checkpoints: replacing is what was asked
    return path, history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the course's checkpoints (make checkpoints).")
    parser.add_argument("--train", nargs="+", metavar="NAME", help="recipe names, or 'all'")
    parser.add_argument("--list", action="store_true", help="list the recipes")
    parser.add_argument("--device", default="cpu",
                        help="where to train: cpu (default, reproduces the shipped files bit for bit), cuda, mps")
    args = parser.parse_args(argv)
    if args.list or not args.train:
        for recipe in RECIPES.values():
            print(f"{recipe.name:28s} {recipe.description}")
        return
    try:
        device = _validate.device(args.device, "--device")
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    names = list(RECIPES) if args.train == ["all"] else args.train
    for name in names:
        start = time.perf_counter()
        path, history = train(name, device=device)
        last = {k: round(v[-1], 4) for k, v in history.items()}
        print(f"{name}: {time.perf_counter() - start:.0f} s, final {last} -> {path}", flush=True)


if __name__ == "__main__":
    main()
