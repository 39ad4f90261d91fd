"""Lecture 03's checkpoints: convolutional VAEs and a conditional VAE (condition: the axial-level band).

Data, architecture and hyperparameters only; the rationale lives in the lecture and in
benchmarks/README.md.
"""

from __future__ import annotations

import torch
from torch import nn

from ..data import LEVEL_BANDS, brain_slices
from ..training import History
from ..vae import ConvVAE, train_vae
from . import Recipe

__all__ = ["VAE03_LATENT", "VAE03_EPOCHS", "VAE03_SIGMA_X", "VAE03_SHARP_SIGMA_X", "AR03", "vae03_train_data",
           "arvae03_train_data", "RECIPES"]

VAE03_LATENT = 16
VAE03_EPOCHS = 30
VAE03_SIGMA_X = 1.0  # the decoder's pixel noise σ_x: α = 1/(2σ_x²) = 0.5 weighs the squared error
VAE03_SHARP_SIGMA_X = 0.3  # the same VAE with α ≈ 5.6


def vae03_train_data():
    """Lecture 01's 2,000 training slices, with their band label (0…3) for the conditional VAE."""
    x, meta = brain_slices(2000, size=64, seed=0, return_meta=True)
    return x, meta["band"]


# The attribute-regularised VAE (Pati & Lerch, 2021): latent dimension 0 follows the slice's axial level.
AR03 = dict(attribute_dim=0, gamma=10.0, delta=1.0)


def arvae03_train_data():
    """The same 2,000 training slices as ``vae03_train_data``, with each slice's relative axial level in [0, 1]."""
    x, meta = brain_slices(2000, size=64, seed=0, return_meta=True)
    return x, meta["level"]


def _arvae03_fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    x, level = arvae03_train_data()
    return train_vae(model, x, epochs=VAE03_EPOCHS, sigma_x=VAE03_SIGMA_X, attribute=level, progress=progress,
                     device=device, **AR03)


def _vae03(name: str, sigma_x: float, conditional: bool) -> Recipe:
    n_classes = len(LEVEL_BANDS) if conditional else 0

    def fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
        x, bands = vae03_train_data()
        return train_vae(model, x, bands if conditional else None, epochs=VAE03_EPOCHS, sigma_x=sigma_x,
                         progress=progress, device=device)

    kind = "conditional VAE (condition: band of axial level)" if conditional else "VAE"
    return Recipe(
        name=name,
        description=f"lecture 03: ConvVAE(latent_dim={VAE03_LATENT}), {kind}, σ_x = {sigma_x}, "
                    f"{VAE03_EPOCHS} epochs on vae03_train_data()",
        build=lambda: ConvVAE(VAE03_LATENT, size=64, n_classes=n_classes),
        fit=fit,
    )


RECIPES = [
    _vae03(f"vae03_conv_k{VAE03_LATENT}", VAE03_SIGMA_X, conditional=False),
    _vae03(f"vae03_conv_k{VAE03_LATENT}_sharp", VAE03_SHARP_SIGMA_X, conditional=False),
    _vae03(f"cvae03_conv_k{VAE03_LATENT}", VAE03_SIGMA_X, conditional=True),
    Recipe(name=f"arvae03_conv_k{VAE03_LATENT}", build=lambda: ConvVAE(VAE03_LATENT, size=64), fit=_arvae03_fit,
           description=f"lecture 03: AR-VAE, the VAE recipe plus the attribute loss on z_0 by axial level ({AR03}), "
                       f"{VAE03_EPOCHS} epochs on arvae03_train_data()"),
]
