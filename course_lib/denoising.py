"""The over-complete and the denoising autoencoder (lecture 02): a fully convolutional autoencoder
that can learn the identity, and how to measure whether one trained on corrupted inputs removes
noise instead (Vincent et al., 2008, 2010). The corruptions themselves: ``course_lib.corruptions``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from . import _validate
from .autoencoders import reconstruct_all
from .corruptions import corrupt
from .metrics import psnr, ssim

__all__ = ["FullyConvolutionalAutoencoder", "noise_gain", "evaluate_denoising"]


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
        channels = tuple(_validate.positive_int(c, f"channels[{i}]") for i, c in enumerate(channels))
        _validate.choice(stride, "stride", (1, 2), why="1: 3×3 kernels at full resolution, 2: 4×4 kernels halving it")
        self.channels, self.stride = channels, stride
        kernel = 4 if stride == 2 else 3
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
        if not (isinstance(depth, int) and 0 <= depth <= self.depth):
            raise ValueError(f"depth must be an int between 0 and {self.depth}, got {depth!r}")

    def encode(self, x: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """h_depth: x through the first ``depth`` encoder stages (all of them by default)."""
        depth = self.depth if depth is None else depth
        self._check_depth(depth)
        factor = self.stride**self.depth
        if x.ndim != 4 or x.shape[1] != self.channels[0] or x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"expected images (B, {self.channels[0]}, H, W) with H and W divisible by "
                             f"{factor}, got {tuple(x.shape)}")
        for stage in self.encoders[:depth]:
            x = stage(x)
        return x

    def decode(self, h: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """x′ from a code h_depth: back through decoder stages depth, …, 1."""
        depth = self.depth if depth is None else depth
        self._check_depth(depth)
        if h.ndim != 4 or depth and h.shape[1] != self.channels[depth]:
            raise ValueError(f"expected codes (B, {self.channels[depth]}, h, w), got {tuple(h.shape)}")
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
    _validate.batch(x, "x", what="batch of images")
    _validate.batch(x_tilde, "x_tilde", what="batch of images")
    _validate.same_shape(x_tilde, x, ("x_tilde", "x"), "x_tilde[i] is a corrupted x[i]")
    change_in = (x_tilde - x).flatten(1).norm(dim=1)
    if (change_in == 0).any():
        raise ValueError("noise_gain needs x_tilde to differ from x in every image")
    return (reconstruct_all(model, x_tilde) - reconstruct_all(model, x)).flatten(1).norm(dim=1) / change_in


@torch.no_grad()
def evaluate_denoising(model: nn.Module, x: torch.Tensor, kind: str, levels: Sequence[float],
                       seed: int = 0) -> list[dict[str, float]]:
    """PSNR and SSIM against the clean ``x`` of the corrupted input and of the model's output,
    mean over the images, for each corruption level: rows {level, psnr_in, psnr_out, ssim_in, ssim_out}.

    The corruptions are drawn from a generator seeded with ``seed``, so two models evaluated
    with the same seed see exactly the same noisy images.
    """
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for level in levels:
        x_tilde = corrupt(x, kind, level, generator)
        restored = reconstruct_all(model, x_tilde)
        rows.append({"level": float(level),
                     "psnr_in": psnr(x_tilde, x).mean().item(), "psnr_out": psnr(restored, x).mean().item(),
                     "ssim_in": ssim(x_tilde, x).mean().item(), "ssim_out": ssim(restored, x).mean().item()})
    return rows
