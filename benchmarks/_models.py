"""The models a benchmark evaluates: trained anew with their checkpoint recipe (the default, so
that a benchmark checks what ``make checkpoints`` would produce) or loaded from the shipped file."""

from __future__ import annotations

import time

from torch import nn

from course_lib import zoo

# Seeds of the fresh training-level slices that judge a generator (lectures 01, 03 and 04 use the
# same): the reference set, and a second set for the real-vs-real floor or ceiling. No recipe
# draws its training data with them.
FRESH_TRAINING_SEEDS = (21, 22)


def recipe_model(name: str, from_checkpoints: bool, seed: int | None = None) -> tuple[nn.Module, float]:
    """(model in eval mode, training seconds): recipe ``name`` trained from scratch (with training
    seed ``seed`` instead of the recipe's own, if given), or its shipped checkpoint (0 s) when
    ``from_checkpoints``."""
    if from_checkpoints:
        return zoo.load(name), 0.0
    start = time.perf_counter()
    model, _ = zoo.fit_fresh(name, progress=False, seed=seed)
    return model, time.perf_counter() - start
