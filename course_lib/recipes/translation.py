"""Lecture 05's checkpoints: CycleGAN, the naive one-sided GANs and pix2pix in both directions.

Data, architecture and hyperparameters only; the rationale lives in the lecture and in
benchmarks/README.md ("Development history of lecture 05's recipe"; the alternatives' validation
scores: ``python -m benchmarks cyclegan_recipes``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .. import _validate
from ..cyclegan import CycleGAN, Pix2Pix, train_cyclegan, train_pix2pix
from ..data import paired_brain_slices, unpaired_brain_slices
from ..training import History, single_threaded
from . import Recipe

__all__ = ["TRANSLATION05", "TRANSLATION05_N_TRAIN", "TRANSLATION05_EPOCHS", "TRANSLATION05_BATCH",
           "TRANSLATION05_EMA", "CYCLEGAN05_LAMBDA_CYC", "CYCLEGAN05_LAMBDA_ID", "CYCLEGAN05_LR", "CYCLEGAN05_D_LR",
           "cyclegan05_train_data", "HALLUCINATION05_LESION_PROBS", "cyclegan05_lesion_train_data",
           "pix2pix05_train_data", "translation05_test_data", "lesion05_test_data", "RECIPES"]

# Every translator's networks and budget below are the same; only the losses (and pix2pix's paired data) differ.
TRANSLATION05 = dict(width=16, n_blocks=4, d_width=32, downsamplings=1)
TRANSLATION05_N_TRAIN, TRANSLATION05_EPOCHS, TRANSLATION05_BATCH = 4000, 4, 8  # slices per set; 2,000 steps
TRANSLATION05_EMA = 0.995  # β of the moving average of the generators' weights (the networks kept)
CYCLEGAN05_LAMBDA_CYC, CYCLEGAN05_LAMBDA_ID, CYCLEGAN05_LR, CYCLEGAN05_D_LR = 10.0, 0.0, 5e-4, 2.5e-4


def cyclegan05_train_data():
    """(X, Y): ``TRANSLATION05_N_TRAIN`` T1 and as many T2-like training slices of different anatomy
    (unpaired, 64 px, seed 0)."""
    return unpaired_brain_slices(TRANSLATION05_N_TRAIN, size=64, seed=0)


# Lecture 05's hallucination experiment (Cohen et al., 2018): the same CycleGAN recipe, trained on
# the same slices, except that the T2-like training slices carry lesions with each of these
# probabilities (name suffix → probability; 1.0: every slice with room for a lesion has one).
HALLUCINATION05_LESION_PROBS = {"half": 0.5, "all": 1.0}


def cyclegan05_lesion_train_data(lesion_prob: float):
    """(X, Y) as ``cyclegan05_train_data`` — the same anatomy, warps and noise — but with white-matter
    lesions in the T2-like slices with probability ``lesion_prob``, and none in the T1 ones."""
    return unpaired_brain_slices(TRANSLATION05_N_TRAIN, size=64, seed=0, lesion_prob=(0.0, lesion_prob))


def pix2pix05_train_data():
    """``TRANSLATION05_N_TRAIN`` registered (T1, T2-like) training pairs (64 px, seed 0): pix2pix's data."""
    return paired_brain_slices(TRANSLATION05_N_TRAIN, size=64, seed=0)


def _check_n(n: int, name: str, renders: int) -> int:
    """A number of 64 px test slices: a count within ``_validate.MAX_SAMPLES`` whose ``renders`` float
    images per slice fit in memory."""
    n = _validate.samples(n, name)
    _validate.memory(renders * n * 64 * 64 * 4, name, f"{renders} float32 images of 64 × 64 px per slice")
    return n


def translation05_test_data(n: int = 500, return_meta: bool = False):
    """(T1, T2): ``n`` held-out registered pairs (64 px, seed 5), the ground truth of the evaluation;
    with ``return_meta`` also the slices' levels (``paired_brain_slices``' meta: level, band, z_mm).
    Raises ValueError for an ``n`` whose slices would not fit in memory."""
    _check_n(n, "n", renders=2)
    if not isinstance(return_meta, bool):
        raise TypeError(f"return_meta must be a bool, got {_validate.describe(return_meta)}")
    return paired_brain_slices(n, size=64, split="test", seed=5, return_meta=return_meta)


def lesion05_test_data(n: int = 200):
    """The lesion test: held-out pairs (seed 6) in which every slice that can have a lesion has one —
    ((t1, t2, lesion_mask), (t1, t2) of the same slices rendered without lesions). Slices without
    room for a lesion (no white matter) are dropped."""
    _check_n(n, "n", renders=5)  # t1, t2 and the lesion mask with lesions, t1 and t2 without
    t1, t2, meta = paired_brain_slices(n, size=64, split="test", seed=6, lesion_prob=1.0, return_meta=True)
    t1_clean, t2_clean = paired_brain_slices(n, size=64, split="test", seed=6)
    keep = meta["lesion"] == 1
    return (t1[keep], t2[keep], meta["lesion_mask"][keep]), (t1_clean[keep], t2_clean[keep])


# One thread: a second reorders floating-point sums, and `make checkpoints` must give back the files bit for bit.
Fit = Callable[[nn.Module, bool, str | torch.device], History]


def _cyclegan05_fit(lambda_cyc: float, lambda_id: float, desc: str, data=cyclegan05_train_data) -> Fit:
    def fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
        x, y = data()
        with single_threaded():
            return train_cyclegan(model, x, y, epochs=TRANSLATION05_EPOCHS, batch_size=TRANSLATION05_BATCH,
                                  lr=CYCLEGAN05_LR, d_lr=CYCLEGAN05_D_LR, lambda_cyc=lambda_cyc,
                                  lambda_id=lambda_id, ema_decay=TRANSLATION05_EMA, progress=progress, desc=desc,
                                  device=device)
    return fit


def _pix2pix05_fit(direction: str) -> Fit:
    def fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
        t1, t2 = pix2pix05_train_data()
        x, y = (t1, t2) if direction == "t1_t2" else (t2, t1)
        with single_threaded():
            return train_pix2pix(model, x, y, epochs=TRANSLATION05_EPOCHS, batch_size=TRANSLATION05_BATCH,
                                 ema_decay=TRANSLATION05_EMA, progress=progress, desc=f"pix2pix {direction}",
                                 device=device)
    return fit


_BUDGET05 = (f"{TRANSLATION05_EPOCHS} epochs, batch {TRANSLATION05_BATCH}, {TRANSLATION05}, "
             f"generator weights averaged with β = {TRANSLATION05_EMA}")
RECIPES = [
    Recipe(name="cyclegan05", build=lambda: CycleGAN(**TRANSLATION05),
           fit=_cyclegan05_fit(CYCLEGAN05_LAMBDA_CYC, CYCLEGAN05_LAMBDA_ID, "CycleGAN"),
           description=f"lecture 05: CycleGAN (λ_cyc = {CYCLEGAN05_LAMBDA_CYC:g}, λ_id = {CYCLEGAN05_LAMBDA_ID:g}) "
                       f"on cyclegan05_train_data(), {_BUDGET05}"),
    *[Recipe(name=f"cyclegan05_lesions_{suffix}_t2", build=lambda: CycleGAN(**TRANSLATION05),
             fit=_cyclegan05_fit(CYCLEGAN05_LAMBDA_CYC, CYCLEGAN05_LAMBDA_ID, f"CycleGAN, lesions in {suffix} of T2",
                                 data=lambda p=p: cyclegan05_lesion_train_data(p)),
             description=f"lecture 05's hallucination experiment: the CycleGAN recipe on "
                         f"cyclegan05_lesion_train_data({p}) (lesions in the T2-like slices with probability {p}, "
                         f"none in T1), {_BUDGET05}")
      for suffix, p in HALLUCINATION05_LESION_PROBS.items()],
    Recipe(name="naive05", build=lambda: CycleGAN(**TRANSLATION05), fit=_cyclegan05_fit(0.0, 0.0, "naive GANs"),
           description=f"lecture 05: the naive one-sided GANs (CycleGAN with λ_cyc = λ_id = 0) on "
                       f"cyclegan05_train_data(), {_BUDGET05}"),
    *[Recipe(name=f"pix2pix05_{d}", build=lambda: Pix2Pix(**TRANSLATION05), fit=_pix2pix05_fit(d),
             description=f"lecture 05: pix2pix {d.replace('_', ' → ')} (L1 weight 100) on pix2pix05_train_data(), "
                         f"{_BUDGET05}")
      for d in ("t1_t2", "t2_t1")],
]
