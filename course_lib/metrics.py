"""Image-quality metrics (lectures 02–05) and nearest neighbours (the memorisation check).

Images are float tensors of shape (B, C, H, W) with values in [0, L], L = ``data_range``.
Every metric compares x[b] with y[b] and returns one number per image: a tensor of shape (B,).
Average it yourself if you want one figure for the batch. The Fréchet distance is the
exception: it compares two *sets* (of feature vectors) and returns one number.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["mse", "psnr", "ssim", "ssim_map", "nearest_neighbours", "nearest_neighbour_ssim", "frechet_distance"]


def _check_images(x: torch.Tensor, y: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} expects two tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.shape != y.shape:
        raise ValueError(f"{name} expects images of the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.ndim != 4:
        raise ValueError(f"{name} expects images of shape (B, C, H, W), got shape {tuple(x.shape)}")
    if not (x.dtype.is_floating_point and y.dtype.is_floating_point):
        raise ValueError(f"{name} expects floating-point images, got {x.dtype} and {y.dtype}")


def _check_range(data_range: float) -> None:
    if isinstance(data_range, bool) or not isinstance(data_range, (int, float)) or not data_range > 0:
        raise ValueError(f"data_range must be a positive number (1.0 for images in [0, 1]), got {data_range!r}")


def mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image, shape (B,):  MSE_b = (1/CHW) Σ_{c,i,j} (x_{b,c,i,j} − y_{b,c,i,j})²."""
    _check_images(x, y, "mse")
    return (x - y).pow(2).flatten(1).mean(dim=1)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, shape (B,):  PSNR_b = 10 log₁₀(L² / MSE_b).

    Higher is better; every halving of the error adds about 3 dB. Identical images have
    MSE = 0 and therefore PSNR = +inf (not an error), so filter those before averaging.
    """
    _check_images(x, y, "psnr")
    _check_range(data_range)
    return 10 * torch.log10(data_range**2 / mse(x, y))


def _gaussian_window(window_size: int, sigma: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The normalised 2-D Gaussian w_{ij} ∝ exp(−(i² + j²) / 2σ²), i, j centred; shape (k, k)."""
    r = torch.arange(window_size, dtype=dtype, device=device) - (window_size - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g)


def ssim(
    x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window_size: int = 11, sigma: float = 1.5
) -> torch.Tensor:
    """Structural similarity (Wang et al., 2004) per image, shape (B,); 1 means identical.

    With local Gaussian-weighted means μ, variances σ² and covariance σ_xy (window of
    ``window_size`` px, standard deviation ``sigma``), at every window position

        SSIM(x, y) = (2 μ_x μ_y + C₁)(2 σ_xy + C₂) / ((μ_x² + μ_y² + C₁)(σ_x² + σ_y² + C₂)),

    with C₁ = (K₁L)², C₂ = (K₂L)², K₁ = 0.01, K₂ = 0.03, L = ``data_range``. The map is
    computed per channel on the 'valid' positions only (the window never leaves the image)
    and averaged over channels and positions (:func:`ssim_map` returns it unaveraged). Unlike
    PSNR it compares local luminance, contrast and structure, so a blurry reconstruction scores
    low even when its MSE is small — and in dark regions, where μ is near 0 and C₁ small, the
    luminance factor punishes a small error in level hard.
    """
    return ssim_map(x, y, data_range, window_size, sigma).flatten(1).mean(dim=1)


def ssim_map(
    x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window_size: int = 11, sigma: float = 1.5
) -> torch.Tensor:
    """The SSIM of every window position, shape (B, C, H − w + 1, W − w + 1), w = ``window_size``;
    its mean over channels and positions is :func:`ssim`. Position (i, j) is the window whose
    top-left pixel is (i, j), so ``F.avg_pool2d(y, w, stride=1)`` gives each window's plain mean."""
    _check_images(x, y, "ssim")
    _check_range(data_range)
    if isinstance(window_size, bool) or not isinstance(window_size, int) or window_size < 1 or window_size % 2 == 0:
        raise ValueError(f"window_size must be a positive odd int, got {window_size!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    if min(x.shape[-2:]) < window_size:
        raise ValueError(f"ssim needs images of at least {window_size}×{window_size} px "
                         f"(the window size), got {tuple(x.shape[-2:])}")
    dtype = torch.promote_types(x.dtype, y.dtype)
    x, y = x.to(dtype), y.to(dtype)
    channels = x.shape[1]
    window = _gaussian_window(window_size, sigma, dtype, x.device).expand(channels, 1, -1, -1)

    def local_mean(t: torch.Tensor) -> torch.Tensor:  # groups=C: each channel on its own
        return F.conv2d(t, window, groups=channels)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x**2
    var_y = local_mean(y * y) - mu_y**2
    cov_xy = local_mean(x * y) - mu_x * mu_y
    return ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))


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
    random codes decode to plausible slices (lectures 01 and 03).
    """
    _, nearest = nearest_neighbours(images, reference)
    return ssim(images, reference[nearest[:, 0]])


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors (N, d):

        FD = ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2})

    (Heusel et al., 2017: with Inception features this is the FID). The matrix square root is
    scipy's ``sqrtm``; a tiny imaginary part from round-off is dropped. 0 for identical
    statistics; it compares whole *sets* of images, not pairs, and needs N well above d for
    stable covariances.
    """
    from scipy import linalg  # imported here: scipy.linalg is slow to import and only this needs it

    for name, f in (("features_a", features_a), ("features_b", features_b)):
        if not isinstance(f, torch.Tensor) or f.ndim != 2 or len(f) < 2:
            raise ValueError(f"{name} must be a tensor of feature vectors (N ≥ 2, d), got {tuple(getattr(f, 'shape', ()))}")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"the two feature sets differ in width: {features_a.shape[1]} vs {features_b.shape[1]}")
    a, b = features_a.detach().double().cpu().numpy(), features_b.detach().double().cpu().numpy()
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b)
    root = root.real if np.iscomplexobj(root) else root
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))
