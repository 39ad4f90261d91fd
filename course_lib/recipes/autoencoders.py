"""Lecture 01's checkpoints: convolutional autoencoders at several latent sizes.

Data, architecture and hyperparameters only; the rationale lives in the lecture and in
benchmarks/README.md.
"""

from __future__ import annotations

from ..autoencoders import ConvAutoencoder, train_autoencoder
from ..data import brain_slices
from . import Recipe

__all__ = ["AE01_LATENT_SIZES", "AE01_EPOCHS", "ae01_train_data", "RECIPES"]

AE01_LATENT_SIZES = (2, 4, 8, 16, 32)
AE01_EPOCHS = 40


def ae01_train_data():
    """The 2,000 training slices (64 px, seed 0) that lecture 01 shows and its checkpoints saw."""
    return brain_slices(2000, size=64, seed=0)


def _ae01(k: int, output: str = "stretched_sigmoid") -> Recipe:
    return Recipe(
        name=f"ae01_conv_k{k}" + ("" if output == "stretched_sigmoid" else f"_{output}"),
        description=f"lecture 01: ConvAutoencoder(latent_dim={k}, output={output!r}), {AE01_EPOCHS} epochs "
                    f"on ae01_train_data()",
        build=lambda: ConvAutoencoder(k, size=64, output=output),
        fit=lambda model, progress, device: train_autoencoder(model, ae01_train_data(), epochs=AE01_EPOCHS,
                                                             progress=progress, device=device),
    )


RECIPES = [_ae01(k) for k in AE01_LATENT_SIZES] + [_ae01(32, "sigmoid")]
