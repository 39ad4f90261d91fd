"""Brain-MR slices drawn from the vendored MNI ICBM152 template, with realistic variation.

Every call renders new slices from the 133 vendored axial levels (see ``NOTICE``): a random
level (with sub-millimetre jitter), a random affine transform and a smooth elastic warp (the
"patient" anatomy), then a multiplicative bias field and Rician noise (the "scanner").
Everything is drawn from one NumPy generator seeded by ``seed``, so the same call returns
the same tensor.

Contrasts: ``"t1"`` is the template's own T1-weighted image. ``"t2"`` is *synthetic*: a T2-like
image painted from the tissue maps (CSF bright, grey matter mid, white matter dark; CSF is the
brain mask minus GM and WM). It has T2's tissue ordering, not a real T2 acquisition's texture.

Lesions (``lesion_prob > 0``): a slice gets, with that probability, one to three small smooth
blobs inside its white matter — hypointense in T1, hyperintense in the T2-like contrast, as
white-matter lesions are. They are drawn from their own generator, so a call with lesions
has the same anatomy, warp and noise as the same call without; the meta dict then also holds
``lesion`` (0/1 per slice) and ``lesion_mask`` (n, 1, size, size) in [0, 1].

Splits: the levels (1 mm apart) are cut into blocks of 8; every fourth block (one in each quarter
of the brain) is held out. Its first three levels are ``"val"``, for choosing recipes, its last
three ``"test"``, for the final evaluation only; the two levels between
them, and the two either side of the block, belong to no split. With the sub-millimetre level
jitter, slices of different splits are at least 2.1 mm apart. All splits are the same averaged
brain: held-out *levels*, not anatomy the models never saw.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from .. import _validate

__all__ = ["brain_slices", "paired_brain_slices", "unpaired_brain_slices", "level_ids", "t2_white_matter",
           "LEVEL_BANDS"]

CONTRASTS = ("t1", "t2")
SPLITS = ("train", "val", "test")
SIZES = (32, 64)
LEVEL_BANDS = ("inferior", "mid-inferior", "mid-superior", "superior")
# Tissue intensities of the synthetic T2-like contrast (CSF > GM > WM, as in T2-weighted MR).
T2_INTENSITY = {"csf": 0.95, "gm": 0.55, "wm": 0.30}
# Blocks of _BLOCK levels, every fourth held out; _GUARD unused levels separate the splits.
_BLOCK, _GUARD = 8, 2
_VAL_LEVELS = _TEST_LEVELS = (_BLOCK - _GUARD) // 2  # 3 + 2 guard + 3 = one held-out block
# Lesion appearance: T1 loses up to this fraction of its intensity at a lesion's centre; the
# T2-like image moves this far towards the CSF brightness.
LESION_T1_DROP, LESION_T2_RISE = 0.6, 0.8


@lru_cache(maxsize=1)
def _template() -> dict[str, np.ndarray]:
    """The vendored volumes as float32 in [0, 1], shape (levels, 96, 96), plus the T2-like one."""
    path = resources.files("course_lib.data") / "mni_icbm152_axial.npz"
    with resources.as_file(path) as p, np.load(p) as f:
        vol = {k: f[k].astype(np.float32) / 255.0 for k in ("t1", "gm", "wm")}
        vol["z_mm"] = f["z_mm"].astype(np.float32)
    brain = (vol["t1"] > 0).astype(np.float32)
    csf = np.clip(brain - vol["gm"] - vol["wm"], 0.0, 1.0)
    vol["t2"] = T2_INTENSITY["csf"] * csf + T2_INTENSITY["gm"] * vol["gm"] + T2_INTENSITY["wm"] * vol["wm"]
    return vol


@lru_cache(maxsize=4)
def _smoothed(contrast: str, size: int) -> np.ndarray:
    """The volume low-pass filtered in-plane so that resampling to ``size`` px does not alias."""
    vol = _template()[contrast]
    sigma = 0.5 * vol.shape[-1] / size
    return ndimage.gaussian_filter(vol, sigma=(0, sigma, sigma))


def level_ids(split: str) -> np.ndarray:
    """Indices of the vendored axial levels that belong to ``split``: ``"train"``, ``"val"`` or
    ``"test"``, pairwise disjoint, with at least ``_GUARD`` unused levels between any two."""
    _validate.choice(split, "split", SPLITS)
    n_levels = _template()["t1"].shape[0]
    idx = np.arange(n_levels)
    held_out = (idx // _BLOCK) % 4 == 1
    offset = idx % _BLOCK
    if split == "val":
        return idx[held_out & (offset < _VAL_LEVELS)]
    if split == "test":
        return idx[held_out & (offset >= _BLOCK - _TEST_LEVELS)]
    near_held_out = np.zeros(n_levels, bool)
    for shift in range(-_GUARD, _GUARD + 1):
        near_held_out |= np.roll(held_out, shift)
    return idx[~near_held_out]


def _check_args(n, size, split, seed) -> None:
    _validate.samples(n, "n")
    _validate.choice(size, "size", SIZES)
    # The largest allocation: the float64 sampling coordinates (2, n, size, size) of the warp.
    _validate.memory(2 * 8 * n * size * size, "n", f"{n:,} slices of {size} × {size} px")
    _validate.choice(split, "split", SPLITS)
    _validate.seed(seed)


def _smooth_field(rng: np.random.Generator, n: int, channels: int, coarse: int, size: int, std: float) -> np.ndarray:
    """Random smooth fields (n, channels, size, size): Gaussian values on a coarse grid, bicubic-upsampled."""
    grid = torch.from_numpy(rng.normal(0.0, std, size=(n, channels, coarse, coarse)).astype(np.float32))
    return F.interpolate(grid, size=(size, size), mode="bicubic", align_corners=False).numpy()


def _geometry(rng: np.random.Generator, levels: np.ndarray, n: int, size: int, augment: bool) -> tuple[np.ndarray, np.ndarray]:
    """Sample levels and sampling coordinates (3, n, size, size) into the (level, row, col) volume."""
    base = _template()["t1"].shape[-1]
    level = rng.choice(levels, size=n).astype(np.float32)
    if augment:
        level += rng.uniform(-0.45, 0.45, size=n).astype(np.float32)  # stays off the neighbouring split
        level = np.clip(level, 0, len(_template()["z_mm"]) - 1)
    # Output pixel centres in base-image pixel units, relative to the image centre.
    grid = (np.arange(size, dtype=np.float32) + 0.5) * (base / size) - base / 2
    rows, cols = np.meshgrid(grid, grid, indexing="ij")
    coords = np.stack([rows, cols])[:, None].repeat(n, axis=1)  # (2, n, S, S)
    if augment:
        angle = np.deg2rad(rng.uniform(-10, 10, n))[:, None, None]
        scale = rng.uniform(0.92, 1.08, (n, 1, 1)) * rng.uniform(0.97, 1.03, (2, n, 1, 1))
        shift = rng.uniform(-3, 3, (2, n, 1, 1))
        cos, sin = np.cos(angle), np.sin(angle)
        coords = np.stack([cos * coords[0] - sin * coords[1], sin * coords[0] + cos * coords[1]]) / scale + shift
        coords = coords + _smooth_field(rng, n, 2, 5, size, std=1.5).transpose(1, 0, 2, 3)  # elastic
    coords = coords + base / 2 - 0.5
    z = np.broadcast_to(level[:, None, None], (n, size, size))
    return level, np.concatenate([z[None], coords.astype(np.float32)])


def _lesion_masks(rng: np.random.Generator, coords: np.ndarray, size: int, prob: float) -> np.ndarray:
    """Soft lesion masks (n, size, size): for a fraction ``prob`` of the slices, 1–3 Gaussian blobs
    centred on white-matter pixels (radius 2–4 px at 64 px), confined to the white matter."""
    n = coords.shape[1]
    wm = ndimage.map_coordinates(_smoothed("wm", size), coords, order=1, mode="constant", cval=0.0)
    masks = np.zeros((n, size, size), np.float32)
    has_lesion = rng.random(n) < prob
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    for i in np.flatnonzero(has_lesion):
        candidates = np.flatnonzero(wm[i] > 0.6)
        if len(candidates) == 0:  # a slice without white matter (the very top or bottom) stays clean
            continue
        for centre in rng.choice(candidates, size=rng.integers(1, 4)):
            radius = rng.uniform(2.0, 4.0) * size / 64
            r, c = divmod(int(centre), size)
            blob = np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * radius**2))
            masks[i] = np.maximum(masks[i], blob)
        masks[i] *= np.clip(wm[i] / 0.6, 0.0, 1.0)  # inside the white matter only
        if masks[i].max() < 0.5:  # squeezed to a trace by thin white matter: no visible lesion
            masks[i] = 0.0
    return masks


def _render(rng: np.random.Generator, contrast: str, coords: np.ndarray, size: int, augment: bool,
            lesions: np.ndarray | None = None) -> torch.Tensor:
    n = coords.shape[1]
    img = ndimage.map_coordinates(_smoothed(contrast, size), coords, order=1, mode="constant", cval=0.0)
    if lesions is not None:
        if contrast == "t1":
            img = img * (1 - LESION_T1_DROP * lesions)
        else:
            img = img + LESION_T2_RISE * (T2_INTENSITY["csf"] - img) * lesions
    if augment:
        bias = np.exp(_smooth_field(rng, n, 1, 3, size, std=0.08)[:, 0])
        sigma = rng.uniform(0.005, 0.02, (n, 1, 1)).astype(np.float32)
        real = img * bias + sigma * rng.standard_normal(img.shape, dtype=np.float32)
        imag = sigma * rng.standard_normal(img.shape, dtype=np.float32)
        img = np.sqrt(real**2 + imag**2)  # Rician: the magnitude of complex Gaussian noise
    return torch.from_numpy(np.clip(img, 0.0, 1.0).astype(np.float32)[:, None])


def _meta(level: np.ndarray) -> dict[str, torch.Tensor]:
    z_mm = _template()["z_mm"]
    n_levels = len(z_mm)
    pos = np.clip(level, 0, n_levels - 1) / (n_levels - 1)
    return {
        "level": torch.from_numpy(pos.astype(np.float32)),
        "band": torch.from_numpy(np.minimum((pos * len(LEVEL_BANDS)).astype(np.int64), len(LEVEL_BANDS) - 1)),
        "z_mm": torch.from_numpy(np.interp(level, np.arange(n_levels), z_mm).astype(np.float32)),
    }


def _with_lesions(meta: dict[str, torch.Tensor], lesions: np.ndarray | None) -> dict[str, torch.Tensor]:
    if lesions is not None:
        meta["lesion_mask"] = torch.from_numpy(lesions[:, None])
        meta["lesion"] = (meta["lesion_mask"].flatten(1).amax(dim=1) > 0).long()
    return meta


def brain_slices(
    n: int,
    *,
    size: int = 64,
    contrast: str = "t1",
    split: str = "train",
    seed: int = 0,
    augment: bool = True,
    lesion_prob: float = 0.0,
    return_meta: bool = False,
):
    """``n`` axial brain-MR slices, a float32 tensor (n, 1, size, size) in [0, 1].

    Args:
        size: 32 or 64 px.
        contrast: ``"t1"`` (the template's T1) or ``"t2"`` (synthetic T2-like, see the module doc).
        split: ``"train"``, ``"val"`` (for choosing recipes) or ``"test"`` (for the final
            evaluation): disjoint sets of axial levels (see the module doc).
        seed: the same seed gives the same slices; for a given seed ``"t1"`` and ``"t2"`` share
            the anatomy and warp (only bias field and noise differ), as in ``paired_brain_slices``.
        augment: random level jitter, affine + elastic warp, bias field and Rician noise.
            ``False`` gives the clean template slices (useful for checking things by eye).
        lesion_prob: the probability that a slice gets white-matter lesions (see the module doc);
            the same seed gives the same lesions in both contrasts.
        return_meta: also return a dict of per-slice tensors: ``level`` (0 = most inferior,
            1 = most superior level), ``band`` (its quarter, an index into ``LEVEL_BANDS``),
            ``z_mm`` (MNI z coordinate); with ``lesion_prob > 0`` also ``lesion`` (1 if the
            slice has a lesion) and ``lesion_mask`` (n, 1, size, size).
    """
    _check_args(n, size, split, seed)
    _validate.choice(contrast, "contrast", CONTRASTS)
    _validate.fraction(lesion_prob, "lesion_prob", why="a probability")
    rng = np.random.default_rng(seed)
    level, coords = _geometry(rng, level_ids(split), n, size, augment)
    lesions = _lesion_masks(np.random.default_rng([seed, 100]), coords, size, lesion_prob) if lesion_prob > 0 else None
    images = _render(np.random.default_rng([seed, CONTRASTS.index(contrast)]), contrast, coords, size, augment, lesions)
    return (images, _with_lesions(_meta(level), lesions)) if return_meta else images


def paired_brain_slices(n: int, *, size: int = 64, split: str = "train", seed: int = 0,
                        augment: bool = True, lesion_prob: float = 0.0, return_meta: bool = False):
    """(t1, t2): ``n`` slices in both contrasts of the *same* anatomy and warp (a registered pair).

    Bias field and noise are drawn independently for the two contrasts, as for two acquisitions;
    lesions (``lesion_prob``) are the same in both.
    """
    common = dict(size=size, split=split, seed=seed, augment=augment, lesion_prob=lesion_prob)
    t1, meta = brain_slices(n, contrast="t1", return_meta=True, **common)
    t2 = brain_slices(n, contrast="t2", **common)
    return (t1, t2, meta) if return_meta else (t1, t2)


def unpaired_brain_slices(n: int, *, size: int = 64, split: str = "train", seed: int = 0, augment: bool = True,
                          lesion_prob: float | tuple[float, float] = 0.0, return_meta: bool = False):
    """(t1, t2): ``n`` T1 and ``n`` T2-like slices of *different* anatomy — no slice has a partner.

    The split's levels are dealt in runs of four, alternately to the T1 and the T2 set, so the
    two sets cover the whole brain but share no level; the warps are drawn independently.
    With ``return_meta`` the result is (t1, t2, meta_t1, meta_t2). ``lesion_prob`` applies to
    both sets (independent lesions; each meta then holds its set's labels and masks); a pair
    ``(p_t1, p_t2)`` gives each set its own, e.g. ``(0.0, 0.5)`` for lesions in the T2 set only
    (lecture 05's hallucination experiment). A set with probability 0 has no lesion meta.
    """
    _check_args(n, size, split, seed)
    if isinstance(lesion_prob, (tuple, list)):
        if len(lesion_prob) != 2:
            raise ValueError(f"lesion_prob must be one probability or a pair (p_t1, p_t2), got {len(lesion_prob)} values")
        probs = tuple(_validate.fraction(p, f"lesion_prob[{i}]", why="a probability") for i, p in enumerate(lesion_prob))
    else:
        probs = (_validate.fraction(lesion_prob, "lesion_prob", why="a probability"),) * 2
    levels = level_ids(split)
    side = (np.arange(len(levels)) // 4) % 2
    out = []
    for which, contrast in enumerate(CONTRASTS):
        rng = np.random.default_rng([seed, 10 + which])
        level, coords = _geometry(rng, levels[side == which], n, size, augment)
        lesions = (_lesion_masks(np.random.default_rng([seed, 110 + which]), coords, size, probs[which])
                   if probs[which] > 0 else None)
        out.append((_render(rng, contrast, coords, size, augment, lesions), _with_lesions(_meta(level), lesions)))
    (t1, m1), (t2, m2) = out
    return (t1, t2, m1, m2) if return_meta else (t1, t2)


def t2_white_matter(t2: torch.Tensor, size: int = 3) -> torch.Tensor:
    """Where T2-like slices (B, 1, H, W) show white matter, as a boolean mask: the mean over the
    ``size`` × ``size`` box around a pixel lies between half the white-matter intensity (above the
    background) and the midpoint of the white- and grey-matter intensities (``T2_INTENSITY``). Lesions
    are drawn inside white matter, so this is where an invented lesion would be looked for."""
    _validate.tensor(t2, "t2", shape=("B", 1, "H", "W"), nonempty=True, finite=True, what="batch of T2-like slices")
    size = _validate.positive_int(size, "size", maximum=min(t2.shape[-2:]))
    if size % 2 == 0:
        raise ValueError(f"size must be odd, so that the box is centred on its pixel, got {size}")
    local = F.avg_pool2d(t2, size, stride=1, padding=size // 2, count_include_pad=False)
    return (local > T2_INTENSITY["wm"] / 2) & (local < (T2_INTENSITY["wm"] + T2_INTENSITY["gm"]) / 2)
