"""How to judge a generative model (lectures 01–05, 07): features, distances between sets, fidelity
and diversity, memorisation, coverage, and translations against their true partners.

A generator has no partner image to compare with; it is judged by comparing *sets*. Which set
is the reference is part of the measurement, and each function below says which one it needs:

- **A generator of the training population** (the AEs' random decodes, the VAE, the DCGAN)
  learnt the training levels. Judge it against *fresh* real slices of those levels — new warps,
  bias fields and noise, e.g. ``brain_slices(n, split="train", seed=<a seed no model trained
  on>)`` — and compute the real-vs-real floor the same way, from two such fresh sets. Held-out
  (val/test) levels are another population: against them even perfect samples score badly.
- **A memorisation check** compares the distance from each sample to its nearest *training*
  slice with the same distance for fresh real slices of the training levels.
- **A translator** (lecture 05) is judged on held-out registered pairs, each output against its
  own true partner: recipes on ``split="val"``, the final figure once on ``split="test"``.

Feature-space measures use the course's own feature network (:class:`SliceFeatureNet`, trained
to tell a slice's axial level): Inception features, which FID uses, know nothing of brain MR.

Every measure raises ValueError for samples, images or features holding NaN or ±inf (a NaN sample
would otherwise count silently as a miss, or poison a mean), for empty sets and for ``meta``
tensors (shapes without values); a model's input must be in its dtype.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.stats import spearmanr
import torch
from torch import nn

# The feature network reuses the DCGAN discriminator's trunk and its check for 64 px slices.
from . import _validate
from .gan import SLICES_64, dcgan_trunk
from .metrics import psnr, ssim
from .training import backward_and_step, fit, map_batches, modes_restored_on_error, unchanged_on_nonfinite
from .vae import one_hot

__all__ = [
    "SliceFeatureNet", "slice_features", "level_bins", "train_feature_net",
    "frechet_distance", "precision_recall", "PrecisionRecall",
    "nearest_neighbours", "nearest_neighbour_ssim", "nearest_neighbour_mse",
    "Coverage", "mode_coverage", "level_histogram", "band_accuracy", "level_coverage", "LevelCoverage",
    "translation_scores", "lesion_signal", "box_smooth", "pixel_auroc", "rank_correlation",
    "excess_area",
]


IMAGES = ("B", "C", "H", "W")


def _check_feature_set(f: torch.Tensor, name: str, minimum: int = 2) -> None:
    _validate.tensor(f, name, shape=("N", "d"), finite=True, what="tensor of feature vectors")
    _validate.values(f, name)
    if len(f) < minimum:
        raise ValueError(f"{name} must hold at least {minimum} feature vectors, got {_validate.describe(f)}")


def _check_data(t: object, name: str, shape: tuple | None = IMAGES, what: str = "batch of images",
                meta_ok: bool = False) -> torch.Tensor:
    """Data a measure computes numbers from: a non-empty float tensor of this shape (or, for
    ``shape=None``, (N, …) with at least two dimensions) with finite values on a real device
    (``meta_ok``: or on ``meta``, for a model on ``meta`` that only propagates shapes)."""
    if shape is None:
        t = _validate.tensor(t, name, finite=True, nonempty=True, what=what, why="one sample per row, (N, …)")
        if t.ndim < 2:
            raise ValueError(f"{name} must be a floating-point {what} (N, …) with one sample per row, "
                             f"got {_validate.describe(t)}")
    else:
        t = _validate.tensor(t, name, shape=shape, finite=True, nonempty=True, what=what)
    return t if meta_ok else _validate.values(t, name)


def _check_net(model: object, name: str = "model") -> nn.Module:
    """A level classifier like :class:`SliceFeatureNet`: an nn.Module with an int ``n_levels``."""
    _validate.module(model, name, what="the level classifier, e.g. a SliceFeatureNet")
    if isinstance(getattr(model, "n_levels", None), bool) or not isinstance(getattr(model, "n_levels", None), int):
        raise TypeError(f"{name} must be a level classifier with an int n_levels (a SliceFeatureNet), "
                        f"got {_validate.describe(model)}")
    return model


# =============================================================================================
# The feature network: what "semantically similar" means for brain slices
# =============================================================================================

class SliceFeatureNet(nn.Module):
    """The feature network of the course's Fréchet distance: a small CNN trained to tell which of
    ``n_levels`` axial-level bins a 64 px slice comes from. Its ``features`` (8w numbers: the
    global average of the last convolution's channels) describe anatomy; Inception features,
    which FID uses, know nothing about brain MR."""

    def __init__(self, width: int = 16, n_levels: int = 8) -> None:
        width = _validate.width(width, "width")
        n_levels = _validate.classes(n_levels, "n_levels")
        # Weights, gradients and Adam's two moments of the four convolutions (1→w→2w→4w→8w, 4×4) and the head.
        _validate.memory(16 * (16 * (width + 42 * width * width) + (8 * width + 1) * n_levels), "width",
                         "the feature network's weights (with gradients and Adam's moments)")
        super().__init__()
        self.trunk = nn.Sequential(*dcgan_trunk(width), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(8 * width, n_levels)
        self.n_levels = n_levels

    def features(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", shape=SLICES_64, nonempty=True, what="batch of slices")
        _validate.for_module(x, "x", self, model_name="the feature network")
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@torch.no_grad()
def slice_features(model: SliceFeatureNet, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The feature vectors (N, 8w) of a batch of slices, in eval mode and in batches, computed on the
    model's device and returned on x's."""
    _check_net(model)
    x = _check_data(x, "x", SLICES_64, "batch of slices", meta_ok=_validate.device_of(model).type == "meta")
    _validate.dtype_like(x, "x", model)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    model.eval()
    return map_batches(model.features, x, batch_size, _validate.device_of(model))


def level_bins(level: torch.Tensor, n_levels: int) -> torch.Tensor:
    """The bin index 0 … n_levels − 1 of each slice's relative axial level in [0, 1]."""
    _validate.tensor(level, "level", ndim=1, finite=True, nonempty=True, what="tensor of relative levels (N,)")
    _validate.values(level, "level")
    n_levels = _validate.classes(n_levels, "n_levels", minimum=1)
    return (level * n_levels).long().clamp(0, n_levels - 1)


def train_feature_net(model: SliceFeatureNet, x: torch.Tensor, level: torch.Tensor, *, epochs: int = 5,
                      lr: float = 2e-3, batch_size: int = 64, seed: int = 0, progress: bool = True,
                      device: str | torch.device = "cpu") -> dict:
    """Fit the feature network to predict each slice's axial-level bin (cross-entropy, Adam).

    ``level`` is the data module's relative level in [0, 1] (``meta["level"]``). The network
    trains on ``device`` (moved there; each batch follows it). Returns the per-epoch loss history.
    """
    _check_net(model)
    x = _check_data(x, "x", SLICES_64, "batch of slices")
    _validate.dtype_like(x, "x", model)
    _validate.tensor(level, "level", ndim=1, finite=True, what="tensor of relative levels (N,)")
    _validate.values(level, "level")
    if len(level) != len(x):
        raise ValueError(f"level must hold one relative level per slice ({len(x)}), got {_validate.describe(level)}")
    epochs = _validate.epochs(epochs)
    lr = _validate.number(lr, "lr", minimum=0, open_minimum=True, why="the learning rate")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    seed = _validate.seed(seed)
    device = _validate.device(device)
    model.to(device)
    targets = level_bins(level, model.n_levels)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> float:
        images, bins = batch
        with unchanged_on_nonfinite(model):
            loss = nn.functional.cross_entropy(model(images), bins)
            optimizer.zero_grad()
            value = backward_and_step(optimizer, loss)
        return value

    with modes_restored_on_error(model):
        model.train()
        history = fit(step, (x, targets), epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
                      desc="feature network", device=device)
    model.eval()
    return history


# =============================================================================================
# Comparing two sets in feature space: Fréchet distance, precision and recall
# =============================================================================================

def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors (N, d):

        FD = ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2})

    (Heusel et al., 2017: with Inception features this is the FID). The matrix square root is
    scipy's ``sqrtm``; a tiny imaginary part from round-off is dropped. 0 for identical
    statistics; it compares whole *sets* of images, not pairs, and needs N well above d for
    stable covariances. Reference set: fresh real slices of the population the generator models
    (see the module doc), with the floor FD(real, real′) of two such sets beside it.
    """
    from scipy import linalg  # imported here: scipy.linalg is slow to import and only this needs it

    _check_feature_set(features_a, "features_a")
    _check_feature_set(features_b, "features_b")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"the two feature sets differ in width: {features_a.shape[1]} vs {features_b.shape[1]}")
    a, b = features_a.detach().double().cpu().numpy(), features_b.detach().double().cpu().numpy()
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b)
    root = root.real if np.iscomplexobj(root) else root
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


class PrecisionRecall(NamedTuple):
    """Fidelity and diversity of a sample set against a real one (Kynkäänniemi et al., 2019)."""

    precision: float
    recall: float


def _knn_radii(features: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest *other* point of the same set."""
    distances = torch.cdist(features, features)
    return distances.topk(k + 1, dim=1, largest=False).values[:, k]  # column 0 is the point itself


def _inside_manifold(points: torch.Tensor, support: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Whether each point lies in at least one ball B(support_j, radii_j)."""
    return (torch.cdist(points, support) <= radii[None, :]).any(dim=1)


def precision_recall(real_features: torch.Tensor, fake_features: torch.Tensor, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall of a sample set (Kynkäänniemi et al., 2019, NeurIPS).

    Each set's *manifold* is the union of balls around its points, each with the radius of that
    point's k-th nearest neighbour in its own set. Then

        precision = (1/M) Σ_j 1[φ(g_j) ∈ manifold(real)]     — how many samples look real (fidelity)
        recall    = (1/N) Σ_i 1[φ(x_i) ∈ manifold(fake)]     — how much of the real data the
                                                               samples cover (diversity)

    Unlike one Fréchet distance, the pair separates blurry-but-diverse from sharp-but-collapsed
    generators. Reference set: fresh real slices of the population the generator models, with
    the real-vs-real values of two such sets as the ceiling (not 1: finite sets do not cover
    each other). Use equal set sizes when comparing generators; k = 3 as in the paper.
    """
    _check_feature_set(real_features, "real_features")
    _check_feature_set(fake_features, "fake_features")
    if real_features.shape[1] != fake_features.shape[1]:
        raise ValueError(f"the two feature sets differ in width: {real_features.shape[1]} vs {fake_features.shape[1]}")
    _validate.same_device((real_features, fake_features), ("real_features", "fake_features"))
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be a positive int, got {_validate.describe(k)}")
    if k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    _check_feature_set(real_features, "real_features", minimum=k + 1)
    _check_feature_set(fake_features, "fake_features", minimum=k + 1)
    real, fake = real_features.detach().double(), fake_features.detach().double()
    precision = _inside_manifold(fake, real, _knn_radii(real, k)).double().mean().item()
    recall = _inside_manifold(real, fake, _knn_radii(fake, k)).double().mean().item()
    return PrecisionRecall(precision, recall)


# =============================================================================================
# Nearest neighbours: does a sample look like *some* real image, or copy a training image?
# =============================================================================================

def nearest_neighbours(
    queries: torch.Tensor, reference: torch.Tensor, k: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest reference samples of every query, by Euclidean distance of flattened samples.

        d(q, r) = ‖vec(q) − vec(r)‖₂

    Returns ``(distances, indices)``, both of shape (Q, k) and sorted nearest first; indices
    are long and index ``reference``. A generated sample at distance ≈ 0 from a training image
    is a copy: the model memorised it.
    """
    for name, t in (("queries", queries), ("reference", reference)):
        if not isinstance(t, torch.Tensor) or t.ndim < 2 or not t.dtype.is_floating_point:
            raise ValueError(f"{name} must be a floating-point tensor of shape (N, ...), got "
                             f"{getattr(t, 'dtype', type(t).__name__)} {tuple(getattr(t, 'shape', ()))}")
        _check_data(t, name, None, "tensor of samples")
    _validate.same_device((queries, reference), ("queries", "reference"))
    q, r = queries.flatten(1), reference.flatten(1)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries and reference must have the same per-sample size, got "
                         f"{tuple(queries.shape[1:])} and {tuple(reference.shape[1:])}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(r):
        raise ValueError(f"k must be an int in [1, len(reference)] = [1, {len(r)}], got {k!r}")
    dtype = torch.promote_types(q.dtype, r.dtype)
    q, r = q.to(dtype), r.to(dtype)
    _, indices = torch.cdist(q, r).topk(k, dim=1, largest=False, sorted=True)
    # cdist's fast path expands ‖q‖² − 2q·r + ‖r‖², which loses precision (an exact copy can
    # come out at 1e-2); recompute the k winners' distances directly and re-sort them.
    distances = (q[:, None, :] - r[indices]).norm(dim=-1)
    distances, order = distances.sort(dim=1)
    return distances, indices.gather(1, order)


def nearest_neighbour_ssim(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """SSIM of each image to its nearest reference image (by pixel distance), shape (B,).

    How much each generated image looks like *some* real one: the course's measure of whether
    random codes decode to plausible slices (lectures 01 and 03). Reference set: fresh real
    slices of the training levels (the population the decoder learnt), never the held-out
    levels; the same score of other fresh real slices is the ceiling.
    """
    _check_data(images, "images")
    _check_data(reference, "reference")
    _, nearest = nearest_neighbours(images, reference)
    return ssim(images, reference[nearest[:, 0]])


def nearest_neighbour_mse(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Pixel MSE of each image to its nearest reference image, shape (B,): the memorisation check.

        m(x) = min_j ‖x − r_j‖² / D

    With the generator's *training* slices as reference, a sample with m ≈ 0 is a copy. The
    comparison that tells memorising from generalising: m of the samples against m of fresh
    real slices of the same training levels (new warps and noise) — never against held-out
    levels, which are farther from the training set for reasons that have nothing to do with
    the generator.
    """
    _check_data(images, "images", None, "tensor of samples")
    _check_data(reference, "reference", None, "tensor of samples")
    distances, _ = nearest_neighbours(images, reference)
    return distances[:, 0].pow(2) / images[0].numel()



# =============================================================================================
# Coverage: modes of the 2-D toys, axial levels of brain slices
# =============================================================================================

class Coverage(NamedTuple):
    """Mode coverage as in VEEGAN/PacGAN: modes captured (of ``n_modes``) and the high-quality fraction."""

    modes: int
    high_quality: float
    n_modes: int


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float) -> Coverage:
    """A sample is high-quality when within 3σ of its nearest mode; a mode is captured when it is
    the nearest mode of at least one high-quality sample (Srivastava et al. 2017; Lin et al. 2018).
    Raises ValueError for samples holding NaN or ±inf (they would silently count as misses)."""
    _check_data(samples, "samples", ("N", "d"), "tensor of samples")
    _check_data(modes, "modes", ("K", "d"), "tensor of mode centres")
    if samples.shape[1] != modes.shape[1]:
        raise ValueError(f"samples (N, d) and modes (K, d) must share d, got {tuple(samples.shape)} and {tuple(modes.shape)}")
    _validate.same_device((samples, modes), ("samples", "modes"))
    std = _validate.number(std, "std", minimum=0, open_minimum=True, why="the modes' standard deviation")
    distances = torch.cdist(samples.double(), modes.double())
    nearest_distance, nearest_mode = distances.min(dim=1)
    good = nearest_distance <= 3 * std
    return Coverage(int(nearest_mode[good].unique().numel()), good.double().mean().item(), len(modes))


def level_histogram(model: SliceFeatureNet, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The share of slices the feature network places in each of its axial-level bins, (n_levels,)."""
    _check_net(model)
    x = _check_data(x, "x", SLICES_64, "batch of slices")
    _validate.dtype_like(x, "x", model)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    model.eval()
    predicted = map_batches(lambda chunk: model(chunk).argmax(dim=1), x, batch_size, _validate.device_of(model))
    return torch.bincount(predicted, minlength=model.n_levels).double() / len(x)


@torch.no_grad()
def band_accuracy(level_net: nn.Module, images: torch.Tensor, bands: torch.Tensor, n_bands: int = 4) -> float:
    """The share of slices whose band of axial level, as the level classifier reads it, is the band
    they should show: the predicted level bin (of ``level_net.n_levels``) mapped to ``n_bands``
    equal bands. On real slices this is the judge's own ceiling; on a conditional generator's G(z | y)
    it is the generator's conditional accuracy."""
    _validate.module(level_net, "level_net", what="the level classifier, e.g. a SliceFeatureNet")
    n_bands = _validate.positive_int(n_bands, "n_bands")
    n_levels = getattr(level_net, "n_levels", None)
    if not isinstance(n_levels, int) or n_levels % n_bands:
        raise ValueError(f"level_net must classify a multiple of {n_bands} level bins, got n_levels={n_levels!r}")
    _check_data(images, "images", SLICES_64, "batch of slices")
    _validate.dtype_like(images, "images", level_net)
    _validate.tensor(bands, "bands", ndim=1, what="integer tensor of class labels (B,)", floating=False)
    _validate.values(bands, "bands")
    if len(bands) != len(images):
        raise ValueError(f"bands must hold one label per sample ({len(images)}), got {len(bands)}")
    one_hot(bands, n_bands)  # range check with a clear message
    level_net.eval()
    predicted = torch.cat([level_net(chunk).argmax(1) for chunk in images.split(256)]) // (n_levels // n_bands)
    return (predicted.cpu() == bands.cpu()).double().mean().item()


class LevelCoverage(NamedTuple):
    """How a sample set spreads over the brain's axial levels, against a real set."""

    total_variation: float
    missing_bins: list[int]
    samples: torch.Tensor
    reference: torch.Tensor


def level_coverage(model: SliceFeatureNet, samples: torch.Tensor, reference: torch.Tensor,
                   min_share: float = 0.25) -> LevelCoverage:
    """Level coverage of a sample set: the feature network's level histogram of the samples (p)
    against that of real slices (r), compared by the total variation distance

        TV(p, r) = ½ Σ_b |p_b − r_b|      (0: the same spread over levels; 1: disjoint),

    and the *missing* bins: those where the samples have less than ``min_share`` of the real
    share. The brain-slice analogue of counting modes on the toys. Reference set: fresh real
    slices of the levels the generator was trained on; the TV of two such real sets is the floor.
    """
    _check_net(model)
    for name, t in (("samples", samples), ("reference", reference)):
        _check_data(t, name)
        _validate.dtype_like(t, name, model)
    _validate.number(min_share, "min_share", minimum=0, maximum=1, open_minimum=True)
    p, r = level_histogram(model, samples), level_histogram(model, reference)
    missing = [b for b in range(len(r)) if r[b] > 0 and p[b] < min_share * r[b]]
    return LevelCoverage(0.5 * (p - r).abs().sum().item(), missing, p, r)


# =============================================================================================
# Translation (lecture 05): outputs against their true partners
# =============================================================================================



def translation_scores(outputs: torch.Tensor, partners: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-slice MAE, PSNR (dB) and SSIM of translated slices against their true partners,
    each a tensor (B,). Needs registered pairs: ``outputs[i]`` is compared with ``partners[i]``.
    Reference set: held-out registered pairs — ``split="val"`` while a recipe is chosen, the
    ``"test"`` split once, for the final figure."""
    _check_data(outputs, "outputs")
    _check_data(partners, "partners")
    _validate.same_shape(outputs, partners, ("outputs", "partners"), "registered pairs: outputs[i] goes with partners[i]")
    _validate.same_device((outputs, partners), ("outputs", "partners"))
    return {"mae": (outputs - partners).abs().flatten(1).mean(1), "psnr": psnr(outputs, partners),
            "ssim": ssim(outputs, partners)}


def lesion_signal(with_lesion: torch.Tensor, without_lesion: torch.Tensor, lesion_mask: torch.Tensor) -> torch.Tensor:
    """What a lesion does to an image, per slice (B,): the mean of (image with the lesion − the
    same image without it) over the lesion's core (mask ≥ 0.5).

    The data module renders a slice with and without its lesions from the same anatomy, warp
    and noise, so the difference is the lesion alone. Negative: the lesion is darker than the
    tissue it replaced (T1); positive: brighter (T2). For a translator, pass its outputs for both
    versions of the input: a lesion that survives translation keeps the true partner's signal.
    Slices without a lesion core give NaN.
    """
    for name, t in (("with_lesion", with_lesion), ("without_lesion", without_lesion), ("lesion_mask", lesion_mask)):
        _check_data(t, name)
    _validate.same_shape(with_lesion, without_lesion, ("with_lesion", "without_lesion"), "two renderings of each slice")
    _validate.same_shape(with_lesion, lesion_mask, ("with_lesion", "lesion_mask"), "a mask per slice")
    _validate.same_device((with_lesion, without_lesion, lesion_mask), ("with_lesion", "without_lesion", "lesion_mask"))
    core = (lesion_mask >= 0.5).float()
    area = core.flatten(1).sum(1)
    total = ((with_lesion - without_lesion) * core).flatten(1).sum(1)
    return torch.where(area > 0, total / area.clamp(min=1), torch.nan)


def excess_area(images: torch.Tensor, reference: torch.Tensor, threshold: float, size: int = 3,
                region: torch.Tensor | None = None) -> torch.Tensor:
    """Per image (B,): the number of pixels where the image is brighter than its reference by more than
    ``threshold`` on average over the ``size`` × ``size`` box around the pixel (:func:`box_smooth` of
    images − reference), counting only pixels inside ``region`` (a boolean mask of the images' shape)
    if given. With a translator's output and the true partner, a positive area is a bright blob the
    truth does not have — an *invented* lesion in T2 when the threshold is a fraction of a real
    lesion's signal and the region the white matter; the box ignores single noisy pixels. Pass
    −images and −reference for dark blobs."""
    for name, t in (("images", images), ("reference", reference)):
        _check_data(t, name)
    _validate.same_shape(images, reference, ("images", "reference"), "registered pairs: images[i] goes with reference[i]")
    _validate.same_device((images, reference), ("images", "reference"))
    threshold = _validate.number(threshold, "threshold", minimum=0, open_minimum=True)
    excess = box_smooth(images - reference, size) > threshold
    if region is not None:
        _validate.tensor(region, "region", shape=IMAGES, floating=False, what="boolean mask")
        if region.dtype != torch.bool:
            raise TypeError(f"region must be a boolean mask, got {_validate.describe(region)}")
        _validate.values(region, "region")
        _validate.same_shape(images, region, ("images", "region"), "one mask per image")
        _validate.same_device((images, region), ("images", "region"))
        excess = excess & region
    return excess.flatten(1).sum(1)


def box_smooth(maps: torch.Tensor, size: int = 3) -> torch.Tensor:
    """Each pixel of an anomaly map replaced by the mean of the ``size`` × ``size`` box around it
    (the part of the box inside the image). Lesions are blobs a few pixels wide; a reconstruction's
    pixel-to-pixel noise is not, so averaging keeps the first and damps the second."""
    _check_data(maps, "maps", IMAGES, "batch of anomaly maps")
    size = _validate.positive_int(size, "size", maximum=min(maps.shape[-2:]), why="a box inside the image")
    if size % 2 == 0:
        raise ValueError(f"size must be odd, so that the box is centred on its pixel, got {size}")
    return nn.functional.avg_pool2d(maps, size, stride=1, padding=size // 2, count_include_pad=False)


def pixel_auroc(scores: torch.Tensor, lesion_mask: torch.Tensor, region: torch.Tensor | None = None) -> float:
    """The area under the ROC curve of a pixel-wise anomaly map against the true lesion pixels.

    AUROC = P(score of a random lesion pixel > score of a random healthy pixel), ties counting ½:
    0.5 is chance, 1 a threshold that separates them perfectly. It is the Mann–Whitney statistic,

        AUROC = (R₊ − n₊(n₊ + 1)/2) / (n₊ n₋),

    with R₊ the sum of the lesion pixels' ranks among all pixels (average ranks for ties). A pixel
    is a lesion pixel where ``lesion_mask`` ≥ 0.5 (the data module's soft masks). ``region``
    (a boolean tensor like ``scores``) restricts the comparison, e.g. to the brain: a detector
    should not get credit for telling lesions from the empty background.
    """
    from scipy.stats import rankdata

    _check_data(scores, "scores", IMAGES, "batch of anomaly maps")
    _check_data(lesion_mask, "lesion_mask", IMAGES, "batch of lesion masks")
    _validate.same_shape(scores, lesion_mask, ("scores", "lesion_mask"), "a mask per anomaly map")
    keep = torch.ones_like(scores, dtype=torch.bool) if region is None else region
    if not isinstance(keep, torch.Tensor) or keep.dtype != torch.bool:
        raise TypeError(f"region must be a boolean tensor of shape {tuple(scores.shape)}, got {_validate.describe(region)}")
    _validate.same_shape(scores, keep, ("scores", "region"), "a region per anomaly map")
    _validate.values(keep, "region")
    scores, lesion_mask, keep = scores.cpu(), lesion_mask.cpu(), keep.cpu()
    positive = (lesion_mask >= 0.5)[keep].numpy()
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"pixel_auroc needs both lesion and healthy pixels in the region, got {n_pos} and {n_neg}")
    ranks = rankdata(scores[keep].double().numpy())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman's rank correlation ρ of two sets of N paired numbers — the Pearson correlation of their
    ranks (ties share their mean rank), computed by scipy: 1 when b grows whenever a grows, −1 when it
    always falls, about 0 without a monotone relation."""
    for name, t in (("a", a), ("b", b)):
        _validate.tensor(t, name, ndim=1, finite=True, what="tensor of numbers (N,)")
        _validate.values(t, name)
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(f"a and b must pair up at least two numbers, got {len(a)} and {len(b)}")
    if a.unique().numel() == 1 or b.unique().numel() == 1:
        raise ValueError("a and b must each vary: the rank correlation of a constant is undefined")
    return float(spearmanr(a.detach().cpu().double().numpy(), b.detach().cpu().double().numpy()).statistic)
