"""Pretrained models the notebooks load: how each checkpoint is made, where it lives, how it loads.

A notebook that needs more training than its time budget allows trains briefly on screen and
then calls ``zoo.load(name)``. Every checkpoint is produced by the recipe registered here —
the same library code the notebook uses — with ``make checkpoints`` (``python -m course_lib.zoo
--train all``), and is checked against its recorded sha256 when loaded.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import seed_everything
from .autoencoders import ConvAutoencoder, train_autoencoder
from .corruptions import masking_noise, random_level_corruption
from .denoising import FullyConvolutionalAutoencoder
from .multimodal import train_multimodal_autoencoder
from .stacked import pretrain_stage
from .cyclegan import CycleGAN, Pix2Pix, train_cyclegan, train_pix2pix
from .data import LEVEL_BANDS, brain_slices, grid_gaussians, paired_brain_slices, ring_gaussians, unpaired_brain_slices
from .evaluation import SliceFeatureNet, train_feature_net
from .gan import DCGAN, ToyGAN, mixture_sampler, train_dcgan, train_toy_gan
from .training import History, load_checkpoint, save_checkpoint, single_threaded
from .vae import ConvVAE, train_vae

__all__ = ["Recipe", "RECIPES", "checkpoint_path", "load", "fit_fresh", "train"]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"


@dataclass(frozen=True)
class Recipe:
    """How to build a model (``build()``) and train it in place (``fit(model, progress)``)."""

    name: str
    description: str
    build: Callable[[], nn.Module]
    fit: Callable[[nn.Module, bool], History]
    seed: int = 0


# --- lecture 01: convolutional autoencoders at several latent sizes ---------------------------
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
        fit=lambda model, progress: train_autoencoder(model, ae01_train_data(), epochs=AE01_EPOCHS, progress=progress),
    )


# --- lecture 03: convolutional VAEs and a conditional VAE (condition: the axial-level band) ----
VAE03_LATENT = 16
VAE03_EPOCHS = 30
VAE03_SIGMA_X = 1.0  # the decoder's pixel noise σ_x: α = 1/(2σ_x²) = 0.5 weighs the squared error
VAE03_SHARP_SIGMA_X = 0.3  # the same VAE with α ≈ 5.6: sharper reconstructions, worse samples


def vae03_train_data():
    """Lecture 01's 2,000 training slices, with their band label (0…3) for the conditional VAE."""
    x, meta = brain_slices(2000, size=64, seed=0, return_meta=True)
    return x, meta["band"]


def _vae03(name: str, sigma_x: float, conditional: bool) -> Recipe:
    n_classes = len(LEVEL_BANDS) if conditional else 0

    def fit(model: nn.Module, progress: bool) -> History:
        x, bands = vae03_train_data()
        return train_vae(model, x, bands if conditional else None, epochs=VAE03_EPOCHS, sigma_x=sigma_x,
                         progress=progress)

    kind = "conditional VAE (condition: band of axial level)" if conditional else "VAE"
    return Recipe(
        name=name,
        description=f"lecture 03: ConvVAE(latent_dim={VAE03_LATENT}), {kind}, σ_x = {sigma_x}, "
                    f"{VAE03_EPOCHS} epochs on vae03_train_data()",
        build=lambda: ConvVAE(VAE03_LATENT, size=64, n_classes=n_classes),
        fit=fit,
    )


_VAE03 = [
    _vae03(f"vae03_conv_k{VAE03_LATENT}", VAE03_SIGMA_X, conditional=False),
    _vae03(f"vae03_conv_k{VAE03_LATENT}_sharp", VAE03_SHARP_SIGMA_X, conditional=False),
    _vae03(f"cvae03_conv_k{VAE03_LATENT}", VAE03_SIGMA_X, conditional=True),
]

# --- lecture 02: an over-complete AE, denoising AEs, a greedily pretrained stack, a multimodal AE
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
    (seed 3) to draw the labelled sets from, or 1,000 held-out test slices (seed 4)."""
    n, seed = (2000, 3) if split == "train" else (1000, 4)
    x, meta = brain_slices(n, size=SAE02_SIZE, split=split, seed=seed, lesion_prob=0.5, return_meta=True)
    return x, meta["lesion"]


def _ae02(name: str, kind: str | None) -> Recipe:
    def fit(model: nn.Module, progress: bool) -> History:
        noise = None if kind is None else random_level_corruption(kind, DAE02_MAX_LEVEL[kind])
        return train_autoencoder(model, ae01_train_data(), epochs=AE02_EPOCHS, lr=AE02_LR, corrupt=noise,
                                 progress=progress)

    what = "plain AE" if kind is None else f"denoising AE, {kind} noise, level ~ U(0, {DAE02_MAX_LEVEL[kind]}) per batch"
    return Recipe(name=name, build=lambda: FullyConvolutionalAutoencoder(AE02_CHANNELS, stride=1), fit=fit,
                  description=f"lecture 02: FullyConvolutionalAutoencoder({AE02_CHANNELS}, stride=1), {what}, "
                              f"{AE02_EPOCHS} epochs on ae01_train_data()")


def _sae02_fit(model: nn.Module, progress: bool) -> History:
    x = sae02_unlabelled_data()
    history: History = {}
    for level in range(model.depth):
        stage = pretrain_stage(model, level, x, corrupt=lambda h: masking_noise(h, SAE02_MASKING),
                               epochs=SAE02_EPOCHS_PER_STAGE, progress=progress)
        history[f"stage{level + 1}_loss"] = stage["loss"]
    return history


def _mmae02_fit(model: nn.Module, progress: bool) -> History:
    t1, t2 = paired_brain_slices(2000, size=64, seed=0)
    return train_multimodal_autoencoder(model, t1, t2, epochs=MMAE02_EPOCHS, progress=progress)


_AE02 = [
    _ae02("ae02_overcomplete", None),
    *(_ae02(f"dae02_{kind}", kind) for kind in DAE02_MAX_LEVEL),
    Recipe(name="sae02_stack", build=lambda: FullyConvolutionalAutoencoder(SAE02_CHANNELS), fit=_sae02_fit,
           description=f"lecture 02: FullyConvolutionalAutoencoder({SAE02_CHANNELS}), greedy layer-wise denoising pretraining "
                       f"(masking ν = {SAE02_MASKING}), {SAE02_EPOCHS_PER_STAGE} epochs per stage on sae02_unlabelled_data()"),
    Recipe(name="mmae02", build=lambda: FullyConvolutionalAutoencoder(MMAE02_CHANNELS), fit=_mmae02_fit,
           description=f"lecture 02: multimodal FullyConvolutionalAutoencoder({MMAE02_CHANNELS}) with modality dropout, "
                       f"{MMAE02_EPOCHS} epochs on 2,000 paired T1/T2 training slices (seed 0)"),
]

# --- lecture 04: toy GANs on the ring and the grid ---------------------------------------------
# The recipe (flipped-label loss + lazy R1 on D, G's weights averaged over the last 10 % of the
# steps): found by a search over schedules, batch sizes, penalties, averaging and architectures
# on seeds 0-4; see course_lib.gan.train_toy_gan for what each setting does.
GAN04_TOY_RECIPE = dict(steps=12_000, batch_size=128, late_batch_size=256, late_fraction=0.75, hold=0.9,
                        r1_gamma=0.03, r1_every=4, lr=1e-3, ema_decay=0.995, latent_dim=2, hidden=128)
GAN04_SNAPSHOT_STEPS = (1, 500, 1_000, 3_000, 6_000, 12_000)
TOY_STD = {"ring": 0.01, "grid": 0.05}


def toy_modes(name: str):
    """The mode centres of the VEEGAN/PacGAN toys: the 8-Gaussian ring or the 25-Gaussian grid."""
    if name not in TOY_STD:
        raise ValueError(f"unknown toy {name!r}; expected 'ring' or 'grid'")
    return (ring_gaussians(1) if name == "ring" else grid_gaussians(1)).modes


def train_gan04_toy(name: str, seed: int = 0, snapshot_steps=()) -> dict:
    """Train the lecture's toy GAN on ``name`` with ``GAN04_TOY_RECIPE`` (shared by the recipes and the benchmark)."""
    return train_toy_gan(mixture_sampler(toy_modes(name), TOY_STD[name]), seed=seed, snapshot_steps=snapshot_steps,
                         **GAN04_TOY_RECIPE)


def _gan04_toy(name: str) -> Recipe:
    def fit(model: nn.Module, progress: bool) -> History:
        result = train_gan04_toy(name, snapshot_steps=GAN04_SNAPSHOT_STEPS)
        model.generator.load_state_dict(result["generator"].state_dict())
        model.discriminator.load_state_dict(result["discriminator"].state_dict())
        for i, step in enumerate(GAN04_SNAPSHOT_STEPS):
            model.snapshots[i] = result["snapshots"][step]
        return result["history"]

    return Recipe(name=f"gan04_{name}", fit=fit,
                  build=lambda: ToyGAN(GAN04_TOY_RECIPE["latent_dim"], GAN04_TOY_RECIPE["hidden"], GAN04_SNAPSHOT_STEPS),
                  description=f"lecture 04: MLP GAN on the {name} toy, flipped-label loss + lazy R1 + averaged G, "
                              f"{GAN04_TOY_RECIPE}")


# --- lecture 04: the Fréchet feature network and a DCGAN --------------------------------------
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


def _features04_fit(model: nn.Module, progress: bool) -> History:
    x, level = features04_train_data()
    return train_feature_net(model, x, level, epochs=FEATURES04_EPOCHS, progress=progress)


def _dcgan04_fit(model: nn.Module, progress: bool) -> History:
    noise = torch.randn(model.snapshots.shape[1], DCGAN04_LATENT, generator=torch.Generator().manual_seed(1))
    result = train_dcgan(model.generator, model.discriminator, dcgan04_train_data(), epochs=DCGAN04_EPOCHS,
                         snapshot_noise=noise, progress=progress)
    for i, epoch in enumerate(DCGAN04_SNAPSHOT_EPOCHS):
        model.snapshots[i] = result["snapshots"][epoch]
        model.snapshot_epochs[i] = epoch
    return result["history"]


_GAN04 = [
    _gan04_toy("ring"),
    _gan04_toy("grid"),
    Recipe(name="features04", build=lambda: SliceFeatureNet(), fit=_features04_fit,
           description=f"lecture 04: SliceFeatureNet (8 axial-level bins), {FEATURES04_EPOCHS} epochs on "
                       "features04_train_data(); the Fréchet distance's feature network"),
    Recipe(name="dcgan04", build=lambda: DCGAN(DCGAN04_LATENT, DCGAN04_WIDTH, len(DCGAN04_SNAPSHOT_EPOCHS)),
           fit=_dcgan04_fit,
           description=f"lecture 04: DCGAN (z in R^{DCGAN04_LATENT}, width {DCGAN04_WIDTH}), flipped-label loss, "
                       f"{DCGAN04_EPOCHS} epochs on dcgan04_train_data(), samples saved at epochs {DCGAN04_SNAPSHOT_EPOCHS}"),
]


# --- lecture 05: CycleGAN, the naive one-sided GANs, and pix2pix ------------------------------
# One budget for every translator: the same generator network, training-set size, batch size
# and number of epochs; only the losses (and, for pix2pix, paired data) differ.
TRANSLATION05 = dict(width=16, n_blocks=4, d_width=32, downsamplings=1)
# The three settings below that are ours, not the papers' (data size × epochs, weight averaging,
# the discriminators' slower rate), their alternatives' validation scores and the history of how
# they were found: `python -m benchmarks cyclegan_recipes` and benchmarks/README.md.
# 4,000 slices per set for 4 epochs (2,000 steps): more slices, each seen fewer times.
TRANSLATION05_N_TRAIN, TRANSLATION05_EPOCHS, TRANSLATION05_BATCH = 4000, 4, 8
# Every translator's generators are the moving averages of their weights, β = 0.995 (about the
# last 200 of 2,000 steps): the last iterate of a GAN circles; its average sits nearer the middle.
TRANSLATION05_EMA = 0.995
# The discriminators learn at half the generators' rate, so that they do not win the game
# outright late in training. Two rates as in Heusel et al.'s two time-scale update rule (2017),
# but reversed: they give D the faster one.
CYCLEGAN05_LAMBDA_CYC, CYCLEGAN05_LAMBDA_ID, CYCLEGAN05_LR, CYCLEGAN05_D_LR = 10.0, 0.0, 5e-4, 2.5e-4


def cyclegan05_train_data():
    """(X, Y): ``TRANSLATION05_N_TRAIN`` T1 and as many T2-like training slices of different anatomy (unpaired, 64 px, seed 0)."""
    return unpaired_brain_slices(TRANSLATION05_N_TRAIN, size=64, seed=0)


def pix2pix05_train_data():
    """``TRANSLATION05_N_TRAIN`` registered (T1, T2-like) training pairs (64 px, seed 0): pix2pix's data."""
    return paired_brain_slices(TRANSLATION05_N_TRAIN, size=64, seed=0)


def translation05_test_data(n: int = 500, return_meta: bool = False):
    """(T1, T2): ``n`` held-out registered pairs (64 px, seed 5), the ground truth of the evaluation;
    with ``return_meta`` also the slices' levels (``paired_brain_slices``' meta: level, band, z_mm)."""
    return paired_brain_slices(n, size=64, split="test", seed=5, return_meta=return_meta)


def lesion05_test_data(n: int = 200):
    """The lesion test: held-out pairs (seed 6) in which every slice that can have a lesion has one —
    ((t1, t2, lesion_mask), (t1, t2) of the same slices rendered without lesions). Slices without
    room for a lesion (no white matter) are dropped."""
    t1, t2, meta = paired_brain_slices(n, size=64, split="test", seed=6, lesion_prob=1.0, return_meta=True)
    t1_clean, t2_clean = paired_brain_slices(n, size=64, split="test", seed=6)
    keep = meta["lesion"] == 1
    return (t1[keep], t2[keep], meta["lesion_mask"][keep]), (t1_clean[keep], t2_clean[keep])


# The translators train on one thread: a second thread changes the order of floating-point sums,
# so only then does `make checkpoints` give back the shipped files bit for bit on any machine.
def _cyclegan05_fit(lambda_cyc: float, lambda_id: float, desc: str) -> Callable[[nn.Module, bool], History]:
    def fit(model: nn.Module, progress: bool) -> History:
        x, y = cyclegan05_train_data()
        with single_threaded():
            return train_cyclegan(model, x, y, epochs=TRANSLATION05_EPOCHS, batch_size=TRANSLATION05_BATCH,
                                  lr=CYCLEGAN05_LR, d_lr=CYCLEGAN05_D_LR, lambda_cyc=lambda_cyc,
                                  lambda_id=lambda_id, ema_decay=TRANSLATION05_EMA, progress=progress, desc=desc)
    return fit


def _pix2pix05_fit(direction: str) -> Callable[[nn.Module, bool], History]:
    def fit(model: nn.Module, progress: bool) -> History:
        t1, t2 = pix2pix05_train_data()
        x, y = (t1, t2) if direction == "t1_t2" else (t2, t1)
        with single_threaded():
            return train_pix2pix(model, x, y, epochs=TRANSLATION05_EPOCHS, batch_size=TRANSLATION05_BATCH,
                                 ema_decay=TRANSLATION05_EMA, progress=progress, desc=f"pix2pix {direction}")
    return fit


_BUDGET05 = (f"{TRANSLATION05_EPOCHS} epochs, batch {TRANSLATION05_BATCH}, {TRANSLATION05}, "
             f"generator weights averaged with β = {TRANSLATION05_EMA}")
_TRANSLATION05 = [
    Recipe(name="cyclegan05", build=lambda: CycleGAN(**TRANSLATION05),
           fit=_cyclegan05_fit(CYCLEGAN05_LAMBDA_CYC, CYCLEGAN05_LAMBDA_ID, "CycleGAN"),
           description=f"lecture 05: CycleGAN (λ_cyc = {CYCLEGAN05_LAMBDA_CYC:g}, λ_id = {CYCLEGAN05_LAMBDA_ID:g}) on "
                       f"cyclegan05_train_data(), {_BUDGET05}"),
    Recipe(name="naive05", build=lambda: CycleGAN(**TRANSLATION05), fit=_cyclegan05_fit(0.0, 0.0, "naive GANs"),
           description=f"lecture 05: the naive one-sided GANs (CycleGAN with λ_cyc = λ_id = 0) on "
                       f"cyclegan05_train_data(), {_BUDGET05}"),
    *[Recipe(name=f"pix2pix05_{d}", build=lambda: Pix2Pix(**TRANSLATION05), fit=_pix2pix05_fit(d),
             description=f"lecture 05: pix2pix {d.replace('_', ' → ')} (L1 weight 100) on pix2pix05_train_data(), "
                         f"{_BUDGET05}")
      for d in ("t1_t2", "t2_t1")],
]

RECIPES: dict[str, Recipe] = {r.name: r for r in [_ae01(k) for k in AE01_LATENT_SIZES] + [_ae01(32, "sigmoid")]
                              + _AE02 + _VAE03 + _GAN04 + _TRANSLATION05}


def _recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown checkpoint {name!r}; known: {sorted(RECIPES)}")
    return RECIPES[name]


def checkpoint_path(name: str) -> Path:
    """Where the checkpoint ``name`` lives (``course_lib/checkpoints/<name>.pt``)."""
    return CHECKPOINT_DIR / f"{_recipe(name).name}.pt"


def load(name: str) -> nn.Module:
    """Build the model of recipe ``name``, load its verified checkpoint, return it in eval mode."""
    model = _recipe(name).build()
    load_checkpoint(checkpoint_path(name), model)
    return model.eval()


def fit_fresh(name: str, progress: bool = True, seed: int | None = None) -> tuple[nn.Module, History]:
    """Build and train recipe ``name`` from scratch (seeded), without saving: the model (eval mode) and its history.

    ``seed`` replaces the recipe's own seed for the global generators (initialisation, noise),
    for benchmarks that ask whether a finding survives another training seed."""
    recipe = _recipe(name)
    seed_everything(recipe.seed if seed is None else seed)
    model = recipe.build()
    history = recipe.fit(model, progress)
    return model.eval(), history


def train(name: str, progress: bool = True) -> tuple[Path, History]:
    """Train recipe ``name`` from scratch (seeded) and save its checkpoint with its sha256."""
    model, history = fit_fresh(name, progress)
    path = checkpoint_path(name)
    save_checkpoint(model, path, overwrite=True)  # make checkpoints: replacing is what was asked
    return path, history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the course's checkpoints (make checkpoints).")
    parser.add_argument("--train", nargs="+", metavar="NAME", help="recipe names, or 'all'")
    parser.add_argument("--list", action="store_true", help="list the recipes")
    args = parser.parse_args(argv)
    if args.list or not args.train:
        for recipe in RECIPES.values():
            print(f"{recipe.name:28s} {recipe.description}")
        return
    names = list(RECIPES) if args.train == ["all"] else args.train
    for name in names:
        start = time.perf_counter()
        path, history = train(name)
        last = {k: round(v[-1], 4) for k, v in history.items()}
        print(f"{name}: {time.perf_counter() - start:.0f} s, final {last} -> {path}", flush=True)


if __name__ == "__main__":
    main()
