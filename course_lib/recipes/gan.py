"""Lecture 04's checkpoints: toy GANs on the ring and the grid, the Fréchet feature network and a DCGAN.

Data, architecture and hyperparameters only; the rationale lives in the lecture and in
benchmarks/README.md (how the toy GANs' recipe was found: the ``gan_toy`` benchmark).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _validate
from ..conditional_gan import ConditionalDCGAN, labelled_mixture_sampler, train_conditional_dcgan, train_toy_cgan
from ..data import LEVEL_BANDS, brain_slices, grid_gaussians, ring_gaussians
from ..evaluation import SliceFeatureNet, train_feature_net
from ..gan import DCGAN, ToyGAN, mixture_sampler, train_dcgan, train_toy_gan
from ..learned_similarity import discriminator_layer
from ..training import History
from ..vae import ConvVAE, train_vae
from . import Recipe
from .vae import VAE03_EPOCHS, VAE03_LATENT, VAE03_SIGMA_X, vae03_train_data

__all__ = ["GAN04_TOY_RECIPE", "GAN04_SNAPSHOT_STEPS", "TOY_STD", "toy_modes", "train_gan04_toy",
           "FEATURES04_EPOCHS", "DCGAN04_LATENT", "DCGAN04_WIDTH", "DCGAN04_EPOCHS", "DCGAN04_SNAPSHOT_EPOCHS",
           "features04_train_data", "dcgan04_train_data", "CGAN04_TOY_RECIPE", "train_cgan04_toy",
           "cdcgan04_train_data", "SIMILARITY04_WEIGHT", "SIMILARITY04_BLOCKS", "RECIPES"]

# The toy GANs' training settings (what each does: course_lib.gan.train_toy_gan).
GAN04_TOY_RECIPE = dict(steps=12_000, batch_size=128, late_batch_size=256, late_fraction=0.75, hold=0.9,
                        r1_gamma=0.03, r1_every=4, lr=1e-3, ema_decay=0.995, latent_dim=2, hidden=128)
GAN04_SNAPSHOT_STEPS = (1, 500, 1_000, 3_000, 6_000, 12_000)
TOY_STD = {"ring": 0.01, "grid": 0.05}


def toy_modes(name: str):
    """The mode centres of the VEEGAN/PacGAN toys: the 8-Gaussian ring or the 25-Gaussian grid."""
    _validate.choice(name, "name", tuple(TOY_STD), why="the toy's name")
    return (ring_gaussians(1) if name == "ring" else grid_gaussians(1)).modes


def train_gan04_toy(name: str, seed: int = 0, snapshot_steps=(), device: str | torch.device = "cpu") -> dict:
    """Train the lecture's toy GAN on ``name`` with ``GAN04_TOY_RECIPE`` (shared by the recipes and the benchmark)."""
    return train_toy_gan(mixture_sampler(toy_modes(name), TOY_STD[name]), seed=seed, snapshot_steps=snapshot_steps,
                         device=device, **GAN04_TOY_RECIPE)


def _gan04_toy(name: str) -> Recipe:
    def fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
        result = train_gan04_toy(name, snapshot_steps=GAN04_SNAPSHOT_STEPS, device=device)
        model.generator.load_state_dict(result["generator"].state_dict())
        model.discriminator.load_state_dict(result["discriminator"].state_dict())
        for i, step in enumerate(GAN04_SNAPSHOT_STEPS):
            model.snapshots[i] = result["snapshots"][step]
        return result["history"]

    return Recipe(name=f"gan04_{name}", fit=fit,
                  build=lambda: ToyGAN(GAN04_TOY_RECIPE["latent_dim"], GAN04_TOY_RECIPE["hidden"],
                                       GAN04_SNAPSHOT_STEPS),
                  description=f"lecture 04: MLP GAN on the {name} toy, flipped-label loss + lazy R1 + averaged G, "
                              f"{GAN04_TOY_RECIPE}")


FEATURES04_EPOCHS = 5
DCGAN04_LATENT, DCGAN04_WIDTH, DCGAN04_EPOCHS = 64, 16, 60
DCGAN04_SNAPSHOT_EPOCHS = (0, 1, 5, 15, 30, 60)


def features04_train_data():
    """4,000 training slices (64 px, seed 7) with their relative axial level, for the feature network."""
    x, meta = brain_slices(4000, size=64, seed=7, return_meta=True)
    return x, meta["level"]


def dcgan04_train_data():
    """The DCGAN's 4,000 training slices (64 px, seed 0)."""
    return brain_slices(4000, size=64, seed=0)


def _features04_fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    x, level = features04_train_data()
    return train_feature_net(model, x, level, epochs=FEATURES04_EPOCHS, progress=progress, device=device)


def _dcgan04_fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    noise = torch.randn(model.snapshots.shape[1], DCGAN04_LATENT, generator=torch.Generator().manual_seed(1))
    result = train_dcgan(model.generator, model.discriminator, dcgan04_train_data(), epochs=DCGAN04_EPOCHS,
                         snapshot_noise=noise, progress=progress, device=device)
    for i, epoch in enumerate(DCGAN04_SNAPSHOT_EPOCHS):
        model.snapshots[i] = result["snapshots"][epoch]
        model.snapshot_epochs[i] = epoch
    return result["history"]


# The conditional GANs: the toy cGAN's condition is the mode a point was drawn from; the slice
# cGAN's is the band of axial level. Same budgets and optimiser as their unconditional twins.
CGAN04_TOY_RECIPE = dict(steps=2_000, batch_size=256, lr=1e-3, hold=0.5, r1_gamma=0.03, ema_decay=0.995,
                         latent_dim=2, hidden=128)


def train_cgan04_toy(name: str, seed: int = 0, device: str | torch.device = "cpu") -> dict:
    """Train the lecture's toy cGAN on ``name`` (condition: the mode) with ``CGAN04_TOY_RECIPE``."""
    modes = toy_modes(name)
    return train_toy_cgan(labelled_mixture_sampler(modes, TOY_STD[name]), len(modes), seed=seed, device=device,
                          **CGAN04_TOY_RECIPE)


def cdcgan04_train_data():
    """The DCGAN's 4,000 training slices (64 px, seed 0) with their band of axial level (0…3)."""
    x, meta = brain_slices(4000, size=64, seed=0, return_meta=True)
    return x, meta["band"]


def _cdcgan04_fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    x, bands = cdcgan04_train_data()
    return train_conditional_dcgan(model.generator, model.discriminator, x, bands, epochs=DCGAN04_EPOCHS,
                                   progress=progress, device=device)["history"]


# Learned similarity: lecture 03's VAE recipe plus ½‖Dis_l(x) − Dis_l(x̂)‖², Dis_l = the first three blocks of
# the DCGAN's discriminator (fixed). The weight was chosen among 0, 0.01, 0.02, 0.04 by the Fréchet distance of
# prior samples to a selection set of fresh training-level slices (seed 31; the lecture's reference is seed 21).
SIMILARITY04_WEIGHT, SIMILARITY04_BLOCKS = 0.02, 3


def _similarity04_fit(model: nn.Module, progress: bool, device: str | torch.device) -> History:
    from ..zoo import load  # the trained DCGAN04 (zoo imports the recipes, so not at module level)

    x, _ = vae03_train_data()
    similarity = discriminator_layer(load("dcgan04", device=device).discriminator, SIMILARITY04_BLOCKS)
    return train_vae(model, x, epochs=VAE03_EPOCHS, sigma_x=VAE03_SIGMA_X, similarity=similarity,
                     similarity_weight=SIMILARITY04_WEIGHT, progress=progress, device=device)


RECIPES = [
    _gan04_toy("ring"),
    _gan04_toy("grid"),
    Recipe(name="features04", build=lambda: SliceFeatureNet(), fit=_features04_fit,
           description=f"lecture 04: SliceFeatureNet (8 axial-level bins), {FEATURES04_EPOCHS} epochs on "
                       "features04_train_data(); the Fréchet distance's feature network"),
    Recipe(name="dcgan04", build=lambda: DCGAN(DCGAN04_LATENT, DCGAN04_WIDTH, len(DCGAN04_SNAPSHOT_EPOCHS)),
           fit=_dcgan04_fit,
           description=f"lecture 04: DCGAN (z in R^{DCGAN04_LATENT}, width {DCGAN04_WIDTH}), flipped-label loss, "
                       f"{DCGAN04_EPOCHS} epochs on dcgan04_train_data(), samples saved at epochs "
                       f"{DCGAN04_SNAPSHOT_EPOCHS}"),
    Recipe(name="cdcgan04", build=lambda: ConditionalDCGAN(DCGAN04_LATENT, len(LEVEL_BANDS), DCGAN04_WIDTH),
           fit=_cdcgan04_fit,
           description=f"lecture 04: conditional DCGAN (condition: band of axial level; projection discriminator), "
                       f"{DCGAN04_EPOCHS} epochs on cdcgan04_train_data()"),
    Recipe(name="vae04_learned_similarity", build=lambda: ConvVAE(VAE03_LATENT, size=64), fit=_similarity04_fit,
           description=f"lecture 04: lecture 03's VAE recipe plus the learned-similarity term (weight "
                       f"{SIMILARITY04_WEIGHT}) on the first {SIMILARITY04_BLOCKS} blocks of dcgan04's discriminator"),
]
