"""The over-complete and the denoising autoencoder (lecture 02): a fully convolutional autoencoder
that can learn the identity, and how to measure whether one trained on corrupted inputs removes
noise instead (Vincent et al., 2008, 2010). The corruptions themselves: ``course_lib.corruptions``.

The measures refuse NaN/±inf images and images in a dtype other than the model's (ValueError /
TypeError) before computing anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from . import _validate
from .autoencoders import _reconstruct_all
from .corruptions import CORRUPTIONS, _level, corrupt
from .metrics import psnr, ssim

__all__ = ["FullyConvolutionalAutoencoder", "noise_gain", "evaluate_denoising"]


def _check_stack_images(x: torch.Tensor, name: str, in_channels: int, factor: int, *, finite: bool = False) -> None:
    """x: floating images (B, in_channels, H, W), B ≥ 1, H and W positive multiples of ``factor``."""
    _validate.tensor(x, name, what="batch of images", nonempty=True, finite=finite)
    if x.ndim != 4 or x.shape[1] != in_channels or not (x.shape[-1] and x.shape[-2]) \
            or x.shape[-1] % factor or x.shape[-2] % factor:
        raise ValueError(f"{name} must be images (B, {in_channels}, H, W) with H and W divisible by "
                         f"{factor} (the stages halve them), got {_validate.describe(x)}")


class FullyConvolutionalAutoencoder(nn.Module):
    """An autoencoder made only of convolutional layers ("stages"), h₀ = x, for ℓ = 1 … L:

        encoder stage ℓ:  h_ℓ = a(W_ℓ ⊛ h_{ℓ−1} + b_ℓ)       (a convolution)
        decoder stage ℓ:  ĥ_{ℓ−1} = W′_ℓ ⊛ᵀ h_ℓ + b′_ℓ        (a transposed convolution, back to h_{ℓ−1}'s shape)

    with a = LeakyReLU(0.2). Unlike lecture 01's ``ConvAutoencoder`` there is no linear bottleneck:
    the code h_L is an image of C_L channels. The decoders are linear — no sigmoid squashing the
    output — so that every stage, the first included, can represent the identity exactly.
    ``channels = (C₀, C₁, …, C_L)`` gives each code's channel count; ``stride=2`` (4×4 kernels)
    halves the size at every stage, ``stride=1`` (3×3 kernels) keeps full resolution.

    Lecture 02 uses it three ways: one stage at full resolution, (1, 16) with stride 1, is an
    *over-complete* autoencoder (16 × 64 × 64 code numbers for 4,096 pixels) and, trained on
    corrupted inputs, a denoising one; several stages trained one at a time on the codes of the
    stages below are a *stacked* autoencoder (``course_lib.stacked.pretrain_stage``); two input
    channels make the *multimodal* autoencoder (``course_lib.multimodal``).
    """

    def __init__(self, channels: Sequence[int] = (1, 32, 64), stride: int = 2) -> None:
        super().__init__()
        if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence):
            raise TypeError(f"channels must be a sequence of positive ints (C₀, C₁, …), "
                            f"got {_validate.describe(channels)}")
        if len(channels) < 2:
            raise ValueError(f"channels must be at least two positive ints (C₀, C₁, …), got {tuple(channels)!r}")
        _validate.layers(len(channels) - 1, "the number of stages len(channels) − 1")
        channels = tuple(_validate.width(c, f"channels[{i}]") for i, c in enumerate(channels))
        _validate.choice(_validate.integer(stride, "stride"), "stride", (1, 2),
                         why="1: 3×3 kernels at full resolution, 2: 4×4 kernels halving it")
        kernel = 4 if stride == 2 else 3
        _validate.memory(2 * kernel * kernel * 4 * sum(a * b for a, b in zip(channels[:-1], channels[1:])),
                         "channels", "the stages' weights")
        self.channels, self.stride = channels, stride
        self.encoders = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=1), nn.LeakyReLU(0.2))
            for c_in, c_out in zip(channels[:-1], channels[1:])
        )
        self.decoders = nn.ModuleList(
            nn.ConvTranspose2d(c_out, c_in, kernel, stride=stride, padding=1)
            for c_in, c_out in zip(channels[:-1], channels[1:])
        )

    @property
    def depth(self) -> int:
        """The number of stages L."""
        return len(self.encoders)

    def _check_depth(self, depth: int) -> None:
        _validate.integer(depth, "depth", minimum=0, maximum=self.depth, why="a number of the stack's stages")

    def _check_images(self, x: torch.Tensor, name: str = "x", *, on_device: bool = True,
                      finite: bool = False) -> None:
        """x: floating images (B, C₀, H, W), B ≥ 1, H and W positive multiples of stride^depth (each
        stride-2 stage halves them exactly), in the stack's dtype and (``on_device``) on its device;
        otherwise (data moved batch by batch) holding values. ``finite``: no NaN or ±inf either."""
        _check_stack_images(x, name, self.channels[0], self.stride**self.depth, finite=finite)
        if on_device:
            _validate.for_module(x, name, self, model_name="the stack")
        else:
            _validate.values(x, name)
            _validate.dtype_like(x, name, self, model_name="the stack")

    def encode(self, x: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """h_depth: x through the first ``depth`` encoder stages (all of them by default)."""
        self._check_images(x)
        depth = self.depth if depth is None else depth
        self._check_depth(depth)
        for stage in self.encoders[:depth]:
            x = stage(x)
        return x

    def decode(self, h: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """x′ from a code h_depth: back through decoder stages depth, …, 1."""
        _validate.tensor(h, "h", what="batch of codes", nonempty=True)
        depth = self.depth if depth is None else depth
        self._check_depth(depth)
        if h.ndim != 4 or depth and h.shape[1] != self.channels[depth]:
            raise ValueError(f"h must be codes (B, {self.channels[depth]}, h, w), got {_validate.describe(h)}")
        _validate.for_module(h, "h", self, model_name="the stack")
        for stage in reversed(self.decoders[:depth]):
            h = stage(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


@torch.no_grad()
def noise_gain(model: nn.Module, x: torch.Tensor, x_tilde: torch.Tensor) -> torch.Tensor:
    """How much of the added noise an autoencoder A passes through, per image (B,):

        gain_b = ‖A(x̃_b) − A(x_b)‖ / ‖x̃_b − x_b‖

    1 for the identity (the noise comes out as it went in), 0 for a perfect denoiser whose
    output does not depend on the noise at all.
    """
    _validate.module(model, "model", what="the autoencoder A")
    _validate.values(_validate.batch(x, "x", what="batch of images", finite=True), "x")
    _validate.values(_validate.batch(x_tilde, "x_tilde", what="batch of images", finite=True), "x_tilde")
    _validate.same_shape(x_tilde, x, ("x_tilde", "x"), "x_tilde[i] is a corrupted x[i]")
    _validate.same_device([x, x_tilde], ["x", "x_tilde"])
    _validate.dtype_like(x, "x", model)
    _validate.dtype_like(x_tilde, "x_tilde", model)
    change_in = (x_tilde - x).flatten(1).norm(dim=1)
    if (change_in == 0).any():
        raise ValueError(f"x_tilde must differ from x in every image (the gain divides by ‖x̃ − x‖), got "
                         f"{int((change_in == 0).sum())} of {len(x)} images equal to x")
    return (_reconstruct_all(model, x_tilde) - _reconstruct_all(model, x)).flatten(1).norm(dim=1) / change_in


@torch.no_grad()
def evaluate_denoising(model: nn.Module, x: torch.Tensor, kind: str, levels: Sequence[float],
                       seed: int = 0) -> list[dict[str, float]]:
    """PSNR and SSIM against the clean ``x`` of the corrupted input and of the model's output,
    mean over the images, for each corruption level: rows {level, psnr_in, psnr_out, ssim_in, ssim_out}.

    The corruptions are drawn from a generator seeded with ``seed``, so two models evaluated
    with the same seed see exactly the same noisy images. Raises ValueError for NaN/±inf in x, for
    images smaller than SSIM's 11×11 window, and for a level outside the corruption's range.
    """
    _validate.module(model, "model", what="the denoising autoencoder")
    _validate.values(_validate.tensor(x, "x", shape=("B", "C", "H", "W"), what="batch of images", finite=True,
                                      nonempty=True), "x")
    if min(x.shape[-2:]) < 11:
        raise ValueError(f"x must be images of at least 11×11 px (SSIM's window), got {_validate.describe(x)}")
    _validate.dtype_like(x, "x", model)
    _validate.choice(kind, "kind", tuple(CORRUPTIONS))
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence):
        raise TypeError(f"levels must be a sequence of corruption levels, got {_validate.describe(levels)}")
    if not levels:
        raise ValueError("levels must hold at least one corruption level, got an empty sequence")
    for i, level in enumerate(levels):
        _level(kind, level, f"levels[{i}]")
    _validate.seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for level in levels:
        x_tilde = corrupt(x, kind, level, generator)
        restored = _reconstruct_all(model, x_tilde)
        rows.append({"level": float(level),
                     "psnr_in": psnr(x_tilde, x).mean().item(), "psnr_out": psnr(restored, x).mean().item(),
                     "ssim_in": ssim(x_tilde, x).mean().item(), "ssim_out": ssim(restored, x).mean().item()})
    return rows
