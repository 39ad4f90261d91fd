"""Lecture 02's checkpoints: an over-complete AE, denoising AEs, a greedily pretrained stack and a
multimodal AE.

Data, architecture and hyperparameters only; the rationale lives in the lecture and in
benchmarks/README.md.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..autoencoders import train_autoencoder
from ..corruptions import masking_noise, random_level_corruption
from ..data import brain_slices, paired_brain_slices
from ..denoising import FullyConvolutionalAutoencoder
from ..multimodal import train_multimodal_autoencoder
from ..stacked import pretrain_stage
from ..training import History
from . import Recipe
from .autoencoders import ae01_train_data

__all__ = ["AE02_CHANNELS", "AE02_EPOCHS", "AE02_LR", "DAE02_MAX_LEVEL", "SAE02_CHANNELS", "SAE02_SIZE",
           "SAE02_EPOCHS_PER_STAGE", "SAE02_MASKING", "MMAE02_CHANNELS", "MMAE02_EPOCHS",
           "sae02_unlabelled_data", "sae02_labelled_data", "RECIPES"]

AE02_CHANNELS = (1, 16)  # one stage at full resolution: 16 × 64 × 64 code numbers for 4,096 pixels
AE02_EPOCHS, AE02_LR = 10, 1e-2
# The largest level each denoising AE is trained on (levels are drawn uniformly below it).
DAE02_MAX_LEVEL = {"masking": 0.5, "gaussian": 0.3, "salt_and_pepper": 0.3}
SAE02_CHANNELS = (1, 16, 32, 64)
SAE02_SIZE, SAE02_EPOCHS_PER_STAGE, SAE02_MASKING = 32, 5, 0.25
MMAE02_CHANNELS, MMAE02_EPOCHS = (2, 32, 64), 10


def sae02_unlabelled_data():
    """2,000 unlabelled 32 px training slices, half of them drawn with lesions (labels unused)."""
    return brain_slices(2000, size=SAE02_SIZE, seed=0, lesion_prob=0.5)


def sae02_labelled_data(split: str = "train"):
    """(images, lesion labels) for the few-label experiment: a pool of 2,000 training slices
    (seed 3) to draw the labelled sets from, or 1,000 held-out test slices (seed 4). Raises
    ValueError for any other ``split`` (there is no labelled validation set)."""
    _validate.choice(split, "split", ("train", "test"), why="the labelled pool or the held-out test slices")
    n, seed = (2000, 3) if split == "train" else (1000, 4)
    x, meta = brain_slices(n, size=SAE02_SIZE, split=split, seed=seed, lesion_prob=0.5, return_meta=True)
    return x, meta["lesion"]


def _ae02(name: str, kind: str | None) -> Recipe:
    def fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
        noise = None if kind is None else random_level_corruption(kind, DAE02_MAX_LEVEL[kind])
        return train_autoencoder(model, ae01_train_data(), epochs=AE02_EPOCHS, lr=AE02_LR, corrupt=noise,
                                 progress=progress, device=device)

    what = ("plain AE" if kind is None
            else f"denoising AE, {kind} noise, level ~ U(0, {DAE02_MAX_LEVEL[kind]}) per batch")
    return Recipe(name=name, build=lambda: FullyConvolutionalAutoencoder(AE02_CHANNELS, stride=1), fit=fit,
                  description=f"lecture 02: FullyConvolutionalAutoencoder({AE02_CHANNELS}, stride=1), {what}, "
                              f"{AE02_EPOCHS} epochs on ae01_train_data()")


def _sae02_fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    x = sae02_unlabelled_data()
    history: History = {}
    for level in range(model.depth):
        stage = pretrain_stage(model, level, x, corrupt=lambda h: masking_noise(h, SAE02_MASKING),
                               epochs=SAE02_EPOCHS_PER_STAGE, progress=progress, device=device)
        history[f"stage{level + 1}_loss"] = stage["loss"]
    return history


def _mmae02_fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    t1, t2 = paired_brain_slices(2000, size=64, seed=0)
    return train_multimodal_autoencoder(model, t1, t2, epochs=MMAE02_EPOCHS, progress=progress, device=device)


RECIPES = [
    _ae02("ae02_overcomplete", None),
    *(_ae02(f"dae02_{kind}", kind) for kind in DAE02_MAX_LEVEL),
    Recipe(name="sae02_stack", build=lambda: FullyConvolutionalAutoencoder(SAE02_CHANNELS), fit=_sae02_fit,
           description=f"lecture 02: FullyConvolutionalAutoencoder({SAE02_CHANNELS}), greedy layer-wise denoising "
                       f"pretraining (masking ν = {SAE02_MASKING}), {SAE02_EPOCHS_PER_STAGE} epochs per stage on "
                       "sae02_unlabelled_data()"),
    Recipe(name="mmae02", build=lambda: FullyConvolutionalAutoencoder(MMAE02_CHANNELS), fit=_mmae02_fit,
           description=f"lecture 02: multimodal FullyConvolutionalAutoencoder({MMAE02_CHANNELS}) with modality "
                       f"dropout, {MMAE02_EPOCHS} epochs on 2,000 paired T1/T2 training slices (seed 0)"),
]
