"""course_lib — the small, tested library behind *Generative Models for Medical Imaging*.

Each lecture has one module (``autoencoders``, ``vae``, ``gan``, ``cyclegan``, ``flows``);
``data``, ``training``, ``metrics`` (pixel metrics), ``evaluation`` (how to judge a generator:
features, Fréchet distance, precision/recall, memorisation, coverage), ``plotting``, ``widgets``,
``checks`` and ``authoring`` are shared by all of them; ``notebook_client`` runs notebooks
headless for the course's tools (it needs the ``[dev]`` extra and is not imported here).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from . import _validate

__version__ = "0.2.0"

__all__ = ["__version__", "seed_everything", "default_device"]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's global random generators with ``seed``.

    Also asks PyTorch for deterministic kernels where it has them, so that a notebook run
    twice on the same machine prints the same numbers. Returns nothing: code that prefers an
    explicit generator makes its own, ``torch.Generator().manual_seed(seed)``.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2**63 - 1:
        raise ValueError(f"seed must be a non-negative int (at most 2**63 − 1, which torch and numpy accept), "
                         f"got {_validate.describe(seed)}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def default_device() -> torch.device:
    """The device to train on here: CUDA if present, else the CPU; ``COURSE_DEVICE`` overrides it.

    Every training function, model loader and sampler of the library takes a ``device`` argument
    (default: the CPU, so every figure is as on a laptop). The notebooks pass ``default_device()``
    where a GPU only makes a cell faster and changes nothing that nbval compares; ``make
    checkpoints DEVICE=cuda`` retrains the checkpoints on a GPU. Set the environment variable
    ``COURSE_DEVICE`` (e.g. ``cpu``) to choose what it returns.
    """
    requested = os.environ.get("COURSE_DEVICE")
    if requested:
        return _validate.device(requested, "the environment variable COURSE_DEVICE")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
