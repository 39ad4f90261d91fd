"""Autoencoders (lectures 01–02): the reconstruction loss, PCA, linear and convolutional AEs.

Notation follows the lectures: an encoder maps an image x to a code z of smaller dimension,
a decoder maps z back to a reconstruction x′, and training minimises ‖x − x′‖².
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "reconstruction_loss",
    "PCA",
    "pca_fit",
    "LinearAutoencoder",
    "ConvAutoencoder",
]


def _check_pair(x_hat: torch.Tensor, x: torch.Tensor, name: str) -> None:
    if not isinstance(x_hat, torch.Tensor) or not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} expects two tensors, got {type(x_hat).__name__} and {type(x).__name__}")
    if x_hat.shape != x.shape:
        raise ValueError(f"{name} expects tensors of the same shape, got {tuple(x_hat.shape)} and {tuple(x.shape)}")
    if x.ndim < 2:
        raise ValueError(f"{name} expects a batch (B, ...) with B first, got shape {tuple(x.shape)}")


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared reconstruction error ‖x − x′‖², summed over each image's pixels, averaged over the batch.

        L = (1/B) Σ_b Σ_i (x_{b,i} − x′_{b,i})²

    Summing over pixels keeps the loss on the scale of one image (the same scale the VAE's
    log-likelihood term will have in lecture 03); averaging over the batch makes it independent
    of the batch size, so the learning rate does not have to change with it.
    """
    _check_pair(x_hat, x, "reconstruction_loss")
    return (x - x_hat).pow(2).flatten(1).sum(dim=1).mean()


@dataclass
class PCA:
    """Principal component analysis of flattened images: x ≈ mean + zᵀ·components.

    ``components`` has shape (k, D) with orthonormal rows (the top-k principal directions),
    ``explained_variance`` the variance along each of them.
    """

    mean: torch.Tensor
    components: torch.Tensor
    explained_variance: torch.Tensor

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = W (x − mean): the coordinates of x in the principal subspace, shape (B, k)."""
        return (x.flatten(1) - self.mean) @ self.components.T

    def decode(self, z: torch.Tensor, shape: tuple[int, ...] | None = None) -> torch.Tensor:
        """x′ = mean + Wᵀ z, reshaped to ``shape`` (per-sample) when given."""
        x = z @ self.components + self.mean
        return x if shape is None else x.reshape(-1, *shape)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Project x onto the principal subspace and back, same shape as x."""
        return self.decode(self.encode(x)).reshape(x.shape)


def pca_fit(x: torch.Tensor, k: int) -> PCA:
    """Fit PCA with ``k`` components to a batch ``x`` of shape (N, ...) (flattened per sample).

    Uses the thin SVD of the centred data X − mean = U S Vᵀ; the principal directions are the
    first k rows of Vᵀ and the variances S²/(N − 1). Among all rank-k affine reconstructions
    this one has the least squared error (Eckart–Young), which is why a *linear* autoencoder
    can at best match it.
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ValueError(f"pca_fit expects a tensor of shape (N, ...), got {getattr(x, 'shape', type(x))}")
    flat = x.detach().flatten(1).double()
    n, d = flat.shape
    if not (isinstance(k, int) and 1 <= k <= min(n, d)):
        raise ValueError(f"pca_fit needs 1 <= k <= min(N, D) = {min(n, d)}, got k={k!r}")
    mean = flat.mean(dim=0)
    _, s, vh = torch.linalg.svd(flat - mean, full_matrices=False)
    dtype = x.dtype if x.dtype.is_floating_point else torch.float32
    return PCA(
        mean=mean.to(dtype),
        components=vh[:k].to(dtype),
        explained_variance=(s[:k] ** 2 / max(n - 1, 1)).to(dtype),
    )


class LinearAutoencoder(nn.Module):
    """The simplest autoencoder: z = W_e x + b_e, x′ = W_d z + b_d (no non-linearity).

    Trained with the squared error it learns the same k-dimensional subspace as PCA
    (Baldi & Hornik, 1989), though not necessarily the same orthonormal basis of it.
    Images of any shape (B, ...) are flattened and the reconstruction is reshaped back.
    """

    def __init__(self, n_inputs: int, latent_dim: int) -> None:
        super().__init__()
        if not (isinstance(n_inputs, int) and isinstance(latent_dim, int) and 0 < latent_dim <= n_inputs):
            raise ValueError(f"LinearAutoencoder needs 0 < latent_dim <= n_inputs, got {latent_dim}, {n_inputs}")
        self.encoder = nn.Linear(n_inputs, latent_dim)
        self.decoder = nn.Linear(latent_dim, n_inputs)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)).view_as(x)


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for 1-channel images of ``size`` 32 or 64 px.

    Encoder: three stride-2 convolutions (size → size/8) and a linear map to z ∈ R^latent_dim.
    Decoder: the mirror image with transposed convolutions and a sigmoid, because the
    course's images live in [0, 1].
    """

    def __init__(self, latent_dim: int, size: int = 64, width: int = 32) -> None:
        super().__init__()
        if size not in (32, 64):
            raise ValueError(f"ConvAutoencoder supports size 32 or 64, got {size!r}")
        if not (isinstance(latent_dim, int) and latent_dim > 0):
            raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
        self.latent_dim, self.size = latent_dim, size
        c1, c2, c3 = width // 2, width, width * 2
        self._grid = (c3, size // 8, size // 8)
        flat = c3 * (size // 8) ** 2
        act = nn.LeakyReLU(0.2)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), act,
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), act,
            nn.Conv2d(c2, c3, 4, stride=2, padding=1), act,
            nn.Flatten(), nn.Linear(flat, latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, flat), act,
            nn.Unflatten(1, self._grid),
            nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1), act,
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), act,
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1), nn.Sigmoid(),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1:] != (1, self.size, self.size):
            raise ValueError(f"expected images of shape (B, 1, {self.size}, {self.size}), got {tuple(x.shape)}")
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected codes of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
