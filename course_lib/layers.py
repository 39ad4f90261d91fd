"""The convolutional building blocks several lectures' networks share: a stack of stride-2
convolutions that halves an image's size at every layer, and its mirror image that doubles it.

The conv AE (lecture 01) and the conv VAE (lecture 03) encode with ``downsampling_convs`` and
decode with ``upsampling_convs``; the DCGAN's discriminator and the Fréchet feature network
(lecture 04) use the same trunk with batch norm, the DCGAN's generator the same head with batch
norm and ReLU (Radford et al., 2016). 4×4 kernels with stride 2 and padding 1 map a side of s
pixels to exactly s/2 (and back), so an image of 64 px is 8 px after three layers.

Both raise TypeError/ValueError, before building anything, for channels that are not at least two
positive ints (each at most ``_validate.MAX_WIDTH``) or whose layers' weights would not fit in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from . import _validate

__all__ = ["downsampling_convs", "upsampling_convs"]


def _leaky_relu() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _check_channels(channels: Sequence[int]) -> tuple[int, ...]:
    """At least two positive ints (C_in, C_1, …): one layer per pair, each 4×4 kernel's weights in memory."""
    expected = "a sequence of at least two positive ints (C_in, C_1, …)"
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence):
        raise TypeError(f"channels must be {expected}, got {_validate.describe(channels)}")
    channels = tuple(channels)
    if len(channels) < 2:
        raise ValueError(f"channels must be {expected}, got {channels!r}")
    _validate.layers(len(channels) - 1, "the number of layers, len(channels) − 1")
    channels = tuple(_validate.width(c, f"channels[{i}]") for i, c in enumerate(channels))
    n_weights = sum(16 * c_in * c_out + c_out for c_in, c_out in zip(channels[:-1], channels[1:]))
    _validate.memory(4 * n_weights, "channels", "the layers' weights")
    return channels


def _check_activation(activation: Callable[[], nn.Module]) -> None:
    _validate.function(activation, "activation", what="a function of no argument that returns a layer, e.g. nn.ReLU")


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
    _check_activation(activation)
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
    _validate.module(output, "output", what="the last layer's activation, e.g. nn.Sigmoid()")
    _check_activation(activation)
    layers: list[nn.Module] = []
    last = len(channels) - 2
    for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
        if i == last:
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), output]
        else:
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=not batch_norm),
                       *([nn.BatchNorm2d(c_out)] if batch_norm else []), activation()]
    return layers
