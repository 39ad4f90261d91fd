"""The convolutional building blocks several lectures' networks share: a stack of stride-2
convolutions that halves an image's size at every layer, and its mirror image that doubles it.

The conv AE (lecture 01) and the conv VAE (lecture 03) encode with ``downsampling_convs`` and
decode with ``upsampling_convs``; the DCGAN's discriminator and the Fréchet feature network
(lecture 04) use the same trunk with batch norm, the DCGAN's generator the same head with batch
norm and ReLU (Radford et al., 2016). 4×4 kernels with stride 2 and padding 1 map a side of s
pixels to exactly s/2 (and back), so an image of 64 px is 8 px after three layers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

__all__ = ["downsampling_convs", "upsampling_convs"]


def _leaky_relu() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _check_channels(channels: Sequence[int]) -> tuple[int, ...]:
    channels = tuple(channels)
    if len(channels) < 2 or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in channels):
        raise ValueError(f"channels must be at least two positive ints (C_in, C_1, …), got {channels!r}")
    return channels


def downsampling_convs(channels: Sequence[int], *, batch_norm: bool = False,
                       activation: Callable[[], nn.Module] = _leaky_relu) -> list[nn.Module]:
    """Stride-2 convolutions ``channels[0] → channels[1] → …``, each halving the size, each followed
    by ``activation`` (LeakyReLU(0.2) by default):

        h_ℓ = a(BN(W_ℓ ⊛₂ h_{ℓ−1} + b_ℓ)),   size_ℓ = size_{ℓ−1} / 2

    With ``batch_norm`` every layer but the first is batch-normalised before its activation, as
    in the DCGAN discriminator; those convolutions have no bias, since the norm's shift replaces it.
    Returns the layers as a list, for the caller to put in an ``nn.Sequential`` with its own head.
    """
    channels = _check_channels(channels)
    layers: list[nn.Module] = []
    for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
        normed = batch_norm and i > 0
        layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=not normed),
                   *([nn.BatchNorm2d(c_out)] if normed else []), activation()]
    return layers


def upsampling_convs(channels: Sequence[int], *, output: nn.Module, batch_norm: bool = False,
                     activation: Callable[[], nn.Module] = _leaky_relu) -> list[nn.Module]:
    """Stride-2 transposed convolutions ``channels[0] → … → channels[-1]``, each doubling the size:
    the mirror image of :func:`downsampling_convs`. Every layer but the last is followed by
    ``activation`` (batch-normalised first, without a bias, when ``batch_norm``, as in the DCGAN
    generator); the last by ``output`` (a sigmoid, say, for images in [0, 1])."""
    channels = _check_channels(channels)
    layers: list[nn.Module] = []
    last = len(channels) - 2
    for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
        if i == last:
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), output]
        else:
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=not batch_norm),
                       *([nn.BatchNorm2d(c_out)] if batch_norm else []), activation()]
    return layers
