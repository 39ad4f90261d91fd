"""Tests for course_lib.metrics: known values, closed forms and an independent SSIM."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from course_lib.metrics import mse, psnr, ssim, ssim_map


def random_images(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_mse_and_psnr_known_values():
    x = random_images(3, 1, 8, 8) * 0.8
    y = x + 0.1
    assert mse(x, y).shape == (3,)
    assert torch.allclose(mse(x, y), torch.full((3,), 0.01, dtype=torch.float64))
    assert torch.allclose(psnr(x, y), torch.full((3,), 20.0, dtype=torch.float64))
    # with L = 255 the same relative error is the same PSNR
    assert torch.allclose(psnr(255 * x, 255 * y, data_range=255.0), torch.full((3,), 20.0, dtype=torch.float64))


def test_metrics_are_per_image():
    x = torch.zeros(2, 1, 4, 4)
    y = torch.stack([torch.zeros(1, 4, 4), torch.full((1, 4, 4), 0.5)])
    assert mse(x, y).tolist() == [0.0, 0.25]
    p = psnr(x, y)
    assert p[0] == math.inf and p[1].item() == pytest.approx(10 * math.log10(4))


def test_ssim_of_identical_images_is_one():
    x = random_images(4, 3, 32, 32)
    assert torch.allclose(ssim(x, x), torch.ones(4, dtype=torch.float64))
    assert ssim(x, x).shape == (4,)


def test_ssim_decreases_with_noise():
    x = random_images(1, 1, 48, 48, seed=1)
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(x.shape, generator=g, dtype=x.dtype)
    scores = [ssim(x, (x + s * noise).clamp(0, 1)).item() for s in (0.01, 0.05, 0.1, 0.2)]
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    assert scores[0] < 1


@pytest.mark.parametrize("a, b", [(0.2, 0.7), (0.5, 0.5), (0.0, 1.0), (0.9, 0.1)])
def test_ssim_of_constant_images_matches_closed_form(a, b):
    x = torch.full((1, 1, 16, 16), a, dtype=torch.float64)
    y = torch.full((1, 1, 16, 16), b, dtype=torch.float64)
    c1 = 0.01**2
    expected = (2 * a * b + c1) / (a**2 + b**2 + c1)  # no variance: the contrast term is C2/C2 = 1
    assert ssim(x, y).item() == pytest.approx(expected, abs=1e-9)


def test_ssim_map_has_one_value_per_valid_window_and_averages_to_ssim():
    x, y = torch.rand(3, 2, 20, 24, dtype=torch.float64), torch.rand(3, 2, 20, 24, dtype=torch.float64)
    m = ssim_map(x, y, window_size=7)
    assert m.shape == (3, 2, 14, 18)
    assert torch.allclose(m.flatten(1).mean(1), ssim(x, y, window_size=7))
    # a defect confined to the top-left corner lowers only the windows that cover it
    z = x.clone()
    z[:, :, :3, :3] = 0
    changed = (ssim_map(x, z, window_size=7) < 1 - 1e-12)
    assert changed[:, :, :3, :3].all() and not changed[:, :, 3:, :].any() and not changed[:, :, :, 3:].any()


def test_ssim_is_symmetric():
    x, y = random_images(2, 2, 20, 20, seed=2), random_images(2, 2, 20, 20, seed=3)
    assert torch.allclose(ssim(x, y), ssim(y, x))


def reference_ssim(x: np.ndarray, y: np.ndarray, data_range: float = 1.0) -> float:
    """Straightforward SSIM of one 2-D image pair with scipy's Gaussian filter, valid region only."""
    sigma, radius = 1.5, 5  # an 11×11 window
    blur = lambda im: gaussian_filter(im, sigma, truncate=radius / sigma)[radius:-radius, radius:-radius]  # noqa: E731
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    s = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s.mean())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_ssim_matches_independent_scipy_implementation(dtype):
    x = random_images(3, 2, 24, 30, seed=4, dtype=dtype)
    y = (x + 0.2 * random_images(3, 2, 24, 30, seed=5, dtype=dtype)).clamp(0, 1)
    ours = ssim(x, y)
    for b in range(3):
        expected = np.mean([reference_ssim(x[b, c].double().numpy(), y[b, c].double().numpy()) for c in range(2)])
        assert ours[b].item() == pytest.approx(expected, abs=1e-4)


def test_ssim_with_other_data_range():
    x, y = random_images(2, 1, 16, 16, seed=6), random_images(2, 1, 16, 16, seed=7)
    assert torch.allclose(ssim(255 * x, 255 * y, data_range=255.0), ssim(x, y))


@pytest.mark.parametrize(
    "x, y",
    [
        (torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 9)),  # shapes differ
        (torch.rand(1, 8, 8), torch.rand(1, 8, 8)),  # 3-D
        (torch.zeros(2, 1, 8, 8, dtype=torch.long), torch.zeros(2, 1, 8, 8, dtype=torch.long)),  # integer
    ],
)
@pytest.mark.parametrize("metric", [mse, psnr, ssim])
def test_metrics_reject_bad_images(metric, x, y):
    with pytest.raises((ValueError, TypeError), match="must (be|have)"):
        metric(x, y)


def test_bad_arguments_raise_value_error():
    x = torch.rand(2, 1, 16, 16)
    with pytest.raises(ValueError, match="at least 11"):
        ssim(torch.rand(1, 1, 10, 20), torch.rand(1, 1, 10, 20))
    with pytest.raises(ValueError, match="data_range"):
        psnr(x, x, data_range=0)
    with pytest.raises(ValueError, match="window_size"):
        ssim(x, x, window_size=4)
    with pytest.raises(TypeError):
        mse(x.numpy(), x)


# Issue 27: the metrics refuse what would give a meaningless score, before any work starts.

@pytest.mark.parametrize("metric", [mse, psnr, ssim, ssim_map])
def test_metrics_refuse_nonfinite_empty_and_meta_images(metric):
    x = torch.rand(2, 1, 16, 16)
    bad = x.clone()
    bad[0, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match="x must be finite"):
        metric(bad, x)
    with pytest.raises(ValueError, match="y must be finite"):
        metric(x, bad.clone().fill_(float("inf")))
    with pytest.raises(ValueError, match="at least one sample"):
        metric(x[:0], x[:0])
    with pytest.raises(ValueError, match="y must be on meta like x"):
        metric(x.to("meta"), x)
    assert metric(x.to("meta"), x.to("meta")).device.type == "meta"  # shapes only: the device path (test_device)


def test_ssim_window_arguments_are_checked():
    x = torch.rand(2, 1, 16, 16)
    with pytest.raises(TypeError, match="window_size must be an int"):
        ssim(x, x, window_size=2.5)
    with pytest.raises(TypeError, match="window_size must be an int"):
        ssim(x, x, window_size=True)
    with pytest.raises(TypeError, match="sigma must be a finite number"):
        ssim(x, x, sigma="1.5")
    for sigma in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
            ssim_map(x, x, sigma=sigma)
