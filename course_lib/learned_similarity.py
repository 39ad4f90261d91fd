"""Learned similarity (lecture 04): compare images in the feature space of a discriminator layer,
after Larsen et al. (2016), "Autoencoding beyond pixels using a learned similarity metric".

A VAE with a Gaussian decoder scores its reconstruction x̃ by the pixel error ‖x − x̃‖²: a slice
shifted by a pixel costs more than a blurred one, so the VAE learns to blur. Larsen et al. measure
the error instead in the features of layer l of a GAN's discriminator,

    L_llike^{Dis_l} = −log N(Dis_l(x) | Dis_l(x̃), I) = ½ ‖Dis_l(x) − Dis_l(x̃)‖² + const:

the features a discriminator needs to tell real from generated slices — edges, textures, the
outline of the brain — are the ones that make two slices *look* alike. The VAE-GAN of the paper
trains the discriminator jointly with the VAE; the course borrows lecture 04's trained DCGAN
discriminator and keeps it fixed (a "perceptual" loss, as in Johnson et al., 2016), which needs no
second game to balance. The VAE is trained with :func:`course_lib.vae.train_vae`'s ``similarity``.

Also here: the two numbers the source's image-similarity slide contrasts with pixel norms — the
sharpness of a set of images and the Inception score (and why the latter says nothing about MR).

The loss and the two scores refuse NaN/inf, empty batches, integer tensors and ``meta`` tensors
(no values) with a ValueError/TypeError before computing anything.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from . import _validate
from .gan import SLICES_64, DCGANDiscriminator

__all__ = ["discriminator_layer", "feature_reconstruction_loss", "sharpness", "inception_score"]


def discriminator_layer(discriminator: DCGANDiscriminator, blocks: int = 3) -> nn.Module:
    """Dis_l: the first ``blocks`` convolution blocks (convolution, batch norm, LeakyReLU) of a trained
    DCGAN discriminator, copied, frozen and in eval mode — x (B, 1, 64, 64) ↦ features
    (B, 2^(blocks−1)·w, 64/2^blocks, 64/2^blocks). Larsen et al. use the third of four blocks."""
    if not isinstance(discriminator, DCGANDiscriminator):
        raise TypeError(f"discriminator must be a DCGANDiscriminator, got {type(discriminator).__name__}")
    convs = [i for i, m in enumerate(discriminator.net) if isinstance(m, nn.Conv2d)]
    blocks = _validate.integer(blocks, "blocks", minimum=1, maximum=len(convs), why="the trunk's convolution blocks")
    end = convs[blocks] if blocks < len(convs) else next(
        i for i, m in enumerate(discriminator.net) if isinstance(m, nn.Flatten))
    layer = copy.deepcopy(discriminator.net[:end]).eval()
    for p in layer.parameters():
        p.requires_grad_(False)
    return _Frozen(layer)


class _Frozen(nn.Module):
    """A feature extractor that stays in eval mode (its batch norm uses the stored statistics) even when
    the model it is attached to is put in training mode."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer
        self.train(False)  # the wrapper too reports eval mode, not only the layer inside it

    def train(self, mode: bool = True) -> "_Frozen":
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", shape=SLICES_64, what="batch of slices")
        return self.layer(x)


def feature_reconstruction_loss(features_x: torch.Tensor, features_x_tilde: torch.Tensor) -> torch.Tensor:
    """L_llike^{Dis_l} = ½ Σ_k (Dis_l(x)_k − Dis_l(x̃)_k)², the per-image sum over the features of layer l,
    batch mean: −log N(Dis_l(x) | Dis_l(x̃), I) up to a constant, in nats per image. Both must be finite
    floating batches (B ≥ 1, …) of one shape on one device."""
    _validate.tensor(features_x, "features_x", ndim=(2, 3, 4), nonempty=True, what="batch of features")
    _validate.tensor(features_x_tilde, "features_x_tilde", ndim=(2, 3, 4), nonempty=True, what="batch of features")
    _validate.same_shape(features_x, features_x_tilde, ("features_x", "features_x_tilde"),
                         "the features of an image and of its reconstruction")
    for value, name in ((features_x, "features_x"), (features_x_tilde, "features_x_tilde")):
        _validate.values(value, name)
    _validate.same_device((features_x, features_x_tilde), ("features_x", "features_x_tilde"))
    for value, name in ((features_x, "features_x"), (features_x_tilde, "features_x_tilde")):
        _validate.tensor(value, name, finite=True, what="batch of features")
    return _feature_reconstruction_loss(features_x, features_x_tilde)


def _feature_reconstruction_loss(features_x: torch.Tensor, features_x_tilde: torch.Tensor) -> torch.Tensor:
    """:func:`feature_reconstruction_loss` without the checks (``train_vae``'s inner loop)."""
    return 0.5 * (features_x - features_x_tilde).pow(2).flatten(1).sum(1).mean()


def sharpness(images: torch.Tensor) -> float:
    """The mean squared difference between neighbouring pixels, over both directions and the set,

        S = ½ (mean (x[i+1, j] − x[i, j])² + mean (x[i, j+1] − x[i, j])²):

    blur lowers it, noise and invented texture raise it. Compare a generator's S with real slices'.
    Images of any size H, W ≥ 2 (a pixel needs a neighbour in each direction)."""
    _validate.tensor(images, "images", ndim=4, nonempty=True, what="batch of images (B, C, H, W)")
    if min(images.shape[1:]) < 1 or min(images.shape[2:]) < 2:
        raise ValueError(f"images must have C ≥ 1 channels and H, W ≥ 2 pixels (a pixel needs a neighbour), "
                         f"got {_validate.describe(images)}")
    _validate.values(images, "images")
    _validate.tensor(images, "images", finite=True, what="batch of images (B, C, H, W)")
    dy = images[..., 1:, :] - images[..., :-1, :]
    dx = images[..., :, 1:] - images[..., :, :-1]
    return 0.5 * (dy.pow(2).mean() + dx.pow(2).mean()).item()


def inception_score(probabilities: torch.Tensor) -> float:
    """IS = exp(E_x KL[p(y|x) ‖ p(y)]), p(y) = E_x p(y|x) (Salimans et al., 2016), from a classifier's
    class probabilities (N, K) for N images. It is high when each image gets a confident class and
    the classes are used evenly — at most K. It never looks at real data: a generator that repeats
    one perfect image per class reaches the maximum."""
    _validate.tensor(probabilities, "probabilities", ndim=2, nonempty=True,
                     what="tensor of class probabilities (N, K)")
    _validate.values(probabilities, "probabilities")
    _validate.tensor(probabilities, "probabilities", finite=True, what="tensor of class probabilities (N, K)")
    if (probabilities < 0).any() or not torch.allclose(probabilities.sum(1), torch.ones(len(probabilities)).to(probabilities),
                                                       atol=1e-4):
        raise ValueError("probabilities must be non-negative rows that sum to 1 (softmax the logits first)")
    p = probabilities.double().clamp_min(1e-12)
    marginal = p.mean(0, keepdim=True)
    return (p * (p.log() - marginal.log())).sum(1).mean().exp().item()
