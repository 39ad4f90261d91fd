"""Pixel metrics (lectures 01–05): MSE, PSNR and SSIM of an image against its partner.

Images are float tensors of shape (B, C, H, W) with values in [0, L], L = ``data_range``.
Every metric compares x[b] with y[b] and returns one number per image: a tensor of shape (B,).
Average it yourself if you want one figure for the batch. Judging a generator, which has no
partner images, is :mod:`course_lib.evaluation`'s job. Every metric raises ValueError for images
holding NaN or ±inf (a score of them would be meaningless), for an empty batch and for x and y on
different devices (two ``meta`` tensors, shapes without values, give a ``meta`` result).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validate

__all__ = ["mse", "psnr", "ssim", "ssim_map"]


def _check_images(x: torch.Tensor, y: torch.Tensor) -> None:
    for name, t in (("x", x), ("y", y)):
        _validate.tensor(t, name, shape=("B", "C", "H", "W"), nonempty=True, finite=True, what="batch of images",
                         why="a score of NaN or ±inf pixels is meaningless")
    _validate.same_shape(x, y, ("x", "y"), "image x[i] is compared with y[i]")
    _validate.same_device((x, y), ("x", "y"))


def _check_range(data_range: float) -> None:
    _validate.number(data_range, "data_range", minimum=0, open_minimum=True, why="1.0 for images in [0, 1]")


def mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image, shape (B,):  MSE_b = (1/CHW) Σ_{c,i,j} (x_{b,c,i,j} − y_{b,c,i,j})²."""
    _check_images(x, y)
    return (x - y).pow(2).flatten(1).mean(dim=1)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, shape (B,):  PSNR_b = 10 log₁₀(L² / MSE_b).

    Higher is better; every halving of the error adds about 3 dB. Identical images have
    MSE = 0 and therefore PSNR = +inf (not an error), so filter those before averaging.
    """
    _check_images(x, y)
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
    _check_images(x, y)
    _check_range(data_range)
    window_size = _validate.positive_int(window_size, "window_size", why="an odd number of pixels")
    if window_size % 2 == 0:
        raise ValueError(f"window_size must be a positive odd int, got {window_size!r}")
    sigma = _validate.number(sigma, "sigma", minimum=0, open_minimum=True, why="the Gaussian window's width in px")
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
