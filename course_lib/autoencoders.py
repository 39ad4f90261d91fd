"""Autoencoders (lectures 01–02): the reconstruction loss, PCA, linear and convolutional AEs;
corruptions and denoising, stacked autoencoders with greedy layer-wise pretraining, and the
multimodal autoencoder's modality dropout.

Notation follows the lectures: an encoder maps an image x to a code z of smaller dimension,
a decoder maps z back to a reconstruction x′, and training minimises ‖x − x′‖². A denoising
autoencoder sees a corrupted x̃ ~ q(x̃ | x) and is still asked for the clean x.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .metrics import psnr, ssim
from .training import (History, LossWatch, fit, located, modes_restored_on_error, single_threaded,
                       train_step)

__all__ = [
    "reconstruction_loss",
    "PCA",
    "pca_fit",
    "LinearAutoencoder",
    "fit_linear_autoencoder_als",
    "conv_encoder_trunk",
    "conv_decoder_head",
    "StretchedSigmoid",
    "ConvAutoencoder",
    "train_autoencoder",
    "encode_all",
    "reconstruct_all",
    "linear_probe_accuracy",
    "CORRUPTIONS",
    "masking_noise",
    "gaussian_noise",
    "salt_and_pepper",
    "corrupt",
    "random_level_corruption",
    "noise_gain",
    "evaluate_denoising",
    "StackedAutoencoder",
    "stage_loss",
    "pretrain_stage",
    "StackClassifier",
    "train_classifier",
    "classifier_accuracy",
    "label_efficiency",
    "modality_dropout",
    "MODALITY_GROUPS",
    "train_multimodal_autoencoder",
    "predict_missing",
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

    def top(self, k: int) -> "PCA":
        """The same PCA keeping only its first k components (no refit needed: they are nested)."""
        if not 1 <= k <= len(self.components):
            raise ValueError(f"k must be between 1 and {len(self.components)}, got {k!r}")
        return PCA(self.mean, self.components[:k], self.explained_variance[:k])


def pca_fit(x: torch.Tensor, k: int) -> PCA:
    """Fit PCA with ``k`` components to a batch ``x`` of shape (N, ...) (flattened per sample).

    With centred data X_c = X − mean, the principal directions are the top-k eigenvectors of
    X_cᵀ X_c (variances λ/(N − 1)). When there are fewer images than pixels we diagonalise the
    smaller N × N Gram matrix X_c X_cᵀ = U Λ Uᵀ instead and map back, v = X_cᵀ u / √λ — the same
    directions for a fraction of the cost. Among all rank-k affine reconstructions, projecting on
    these directions has the least squared error (Eckart–Young), which is why a *linear*
    autoencoder can at best match it.
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ValueError(f"pca_fit expects a tensor of shape (N, ...), got {getattr(x, 'shape', type(x))}")
    flat = x.detach().flatten(1).double()
    n, d = flat.shape
    if not (isinstance(k, int) and 1 <= k <= min(n - 1, d)):
        raise ValueError(f"pca_fit needs 1 <= k <= min(N - 1, D) = {min(n - 1, d)}, got k={k!r}")
    mean = flat.mean(dim=0)
    centred = flat - mean
    if n < d:
        eigenvalues, u = torch.linalg.eigh(centred @ centred.T)
        eigenvalues, u = eigenvalues.flip(0)[:k], u.flip(1)[:, :k]
        components = (centred.T @ u / eigenvalues.sqrt()).T
    else:
        eigenvalues, v = torch.linalg.eigh(centred.T @ centred)
        eigenvalues, components = eigenvalues.flip(0)[:k], v.flip(1)[:, :k].T
    return PCA(mean=mean.float(), components=components.float(), explained_variance=(eigenvalues / (n - 1)).float())


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


@torch.no_grad()
def fit_linear_autoencoder_als(model: LinearAutoencoder, x: torch.Tensor, iterations: int = 15) -> list[float]:
    """Minimise the linear AE's loss ‖x − (W_d (W_e x + b_e) + b_d)‖² by alternating least squares.

    Each half-step solves one block exactly while the other is fixed:
      decoder: (W_d, b_d) = argmin Σ_n ‖x_n − W_d z_n − b_d‖²  for the current codes z_n (least squares);
      encoder: W_e = W_d⁺, b_e = −W_d⁺ b_d — the code that the decoder maps closest to x.
    The loss never increases, and the decoder's column space converges to the top-k principal
    subspace (this is subspace iteration in disguise), in a few iterations where gradient
    descent needs thousands. Returns the loss (per-image sum, batch mean) after each iteration.
    """
    flat = x.flatten(1)
    k = model.decoder.in_features
    losses = []
    for _ in range(iterations):
        codes = model.encode(flat)
        design = torch.cat([codes, torch.ones(len(codes), 1, dtype=codes.dtype)], dim=1)
        solution = torch.linalg.lstsq(design, flat).solution  # (k + 1, D)
        model.decoder.weight.copy_(solution[:k].T)
        model.decoder.bias.copy_(solution[k])
        pinv = torch.linalg.pinv(model.decoder.weight)
        model.encoder.weight.copy_(pinv)
        model.encoder.bias.copy_(-pinv @ model.decoder.bias)
        losses.append(reconstruction_loss(model(flat), flat).item())
    return losses


def conv_encoder_trunk(size: int, width: int = 32) -> tuple[list[nn.Module], int]:
    """Three stride-2 convolutions, size → size/8, then flatten: the layers and the flat width.

    Shared by the conv AE (lecture 01) and the conv VAE (lecture 03), which differ only in what
    follows: one linear map to z, or two heads for μ and log σ².
    """
    if size not in (32, 64):
        raise ValueError(f"the convolutional models support size 32 or 64, got {size!r}")
    c1, c2, c3 = width // 2, width, width * 2
    act = nn.LeakyReLU(0.2)
    layers = [
        nn.Conv2d(1, c1, 4, stride=2, padding=1), act,
        nn.Conv2d(c1, c2, 4, stride=2, padding=1), act,
        nn.Conv2d(c2, c3, 4, stride=2, padding=1), act,
        nn.Flatten(),
    ]
    return layers, c3 * (size // 8) ** 2


def conv_decoder_head(size: int, width: int = 32, output: nn.Module | None = None) -> list[nn.Module]:
    """From a flat vector of the trunk's width back to a (1, size, size) image, ending in
    ``output`` (default: a sigmoid, so the image lies in [0, 1])."""
    c1, c2, c3 = width // 2, width, width * 2
    act = nn.LeakyReLU(0.2)
    return [
        nn.Unflatten(1, (c3, size // 8, size // 8)),
        nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1), act,
        nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), act,
        nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1), output if output is not None else nn.Sigmoid(),
    ]


class StretchedSigmoid(nn.Module):
    """x′ = (1 + 2m)·σ(a) − m: a sigmoid stretched to the range [−m, 1 + m].

    Why not the plain sigmoid: under the squared error the pre-activation a receives
    2(x′ − x)·∂x′/∂a, and for x′ = σ(a) the slope ∂x′/∂a = x′(1 − x′) is about x′ near black.
    The dark background of an MR slice (a Rician noise floor of about 0.015) then sits in the
    sigmoid's flat tail, with a slope of 0.01 against 0.25 at mid-grey: it is learned slowly and
    stays too dark. Stretched by m = 0.1, black lies at σ ≈ 0.08 and the slope at 0.01 is 0.1.

    In training mode the output can overshoot [0, 1] by up to m (a clamp there would cut the
    gradient of every pixel beyond the range); in eval mode it is clamped to [0, 1], so that
    reconstructions and decodes are images like the data.
    """

    def __init__(self, margin: float = 0.1) -> None:
        super().__init__()
        if not 0 < margin < 1:
            raise ValueError(f"margin must lie in (0, 1), got {margin!r}")
        self.margin = margin

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        out = (1 + 2 * self.margin) * torch.sigmoid(a) - self.margin
        return out if self.training else out.clamp(0, 1)


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for 1-channel images of ``size`` 32 or 64 px.

    Encoder: three stride-2 convolutions (size → size/8) and a linear map to z ∈ R^latent_dim.
    Decoder: the mirror image with transposed convolutions, ending in ``output``:
    ``"stretched_sigmoid"`` (default, see :class:`StretchedSigmoid`: outputs in [−0.1, 1.1] while
    training, clamped to [0, 1] in eval mode) or the plain ``"sigmoid"`` (outputs in [0, 1], but a
    dark background is learned slowly).
    """

    OUTPUTS = ("stretched_sigmoid", "sigmoid")

    def __init__(self, latent_dim: int, size: int = 64, width: int = 32, output: str = "stretched_sigmoid") -> None:
        super().__init__()
        if size not in (32, 64):
            raise ValueError(f"ConvAutoencoder supports size 32 or 64, got {size!r}")
        if not (isinstance(latent_dim, int) and latent_dim > 0):
            raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
        if output not in self.OUTPUTS:
            raise ValueError(f"output must be one of {self.OUTPUTS}, got {output!r}")
        self.latent_dim, self.size = latent_dim, size
        trunk, flat = conv_encoder_trunk(size, width)
        head = conv_decoder_head(size, width, StretchedSigmoid() if output == "stretched_sigmoid" else nn.Sigmoid())
        self.encoder = nn.Sequential(*trunk, nn.Linear(flat, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, flat), nn.LeakyReLU(0.2), *head)

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


def train_autoencoder(
    model: nn.Module,
    x_train: torch.Tensor,
    *,
    epochs: int,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool = True,
    corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> History:
    """Minimise the reconstruction loss ‖x − x′‖² over ``x_train`` with Adam.

    With ``corrupt`` this trains a *denoising* autoencoder: each batch is corrupted afresh,
    x̃ = corrupt(x), and the loss compares the reconstruction of x̃ with the clean x,
    ‖x − f_θ(g_φ(x̃))‖². The learning rate follows a one-cycle schedule (warm up to ``lr``, then anneal towards 0),
    which reaches a lower loss in a fixed, small number of epochs than a constant rate.
    Returns the per-epoch loss history of :func:`course_lib.training.fit`.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(x_train) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)

    def loss_fn(m: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        noisy = batch if corrupt is None else corrupt(batch)
        return reconstruction_loss(m(noisy), batch)

    def step(batch: torch.Tensor) -> float:
        loss = train_step(model, optimizer, batch, loss_fn)
        schedule.step()
        return loss

    with modes_restored_on_error(model):
        model.train()  # e.g. StretchedSigmoid clamps in eval mode, which would cut gradients
        return fit(step, x_train, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
                   desc=type(model).__name__ if corrupt is None else f"denoising {type(model).__name__}")


@torch.no_grad()
def encode_all(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Codes z = g_φ(x) for a whole tensor of images, in eval mode and in batches."""
    model.eval()
    return torch.cat([model.encode(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


@torch.no_grad()
def reconstruct_all(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Reconstructions x′ = f_θ(g_φ(x)) for a whole tensor of images, in eval mode and in batches."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def linear_probe_accuracy(
    features_train: torch.Tensor,
    labels_train: torch.Tensor,
    features_test: torch.Tensor,
    labels_test: torch.Tensor,
    *,
    weight_decay: float = 1e-3,
) -> float:
    """Test accuracy of a multinomial logistic regression fitted on frozen features.

    The features are standardised with the training set's mean and standard deviation, then
    p(y | h) = softmax(W h + b) is fitted by L-BFGS on the cross-entropy plus
    ``weight_decay``·‖W‖². Used to ask how useful a representation (AE codes, PCA coordinates,
    raw pixels) is when only a few labels are available.
    """
    for name, f, y in (("train", features_train, labels_train), ("test", features_test, labels_test)):
        if f.ndim != 2 or y.ndim != 1 or len(f) != len(y):
            raise ValueError(f"{name}: expected features (N, F) and labels (N,), got {tuple(f.shape)} and {tuple(y.shape)}")
    if features_train.shape[1] != features_test.shape[1]:
        raise ValueError(f"train and test features differ in width: {features_train.shape[1]} vs {features_test.shape[1]}")
    mean, std = features_train.mean(0), features_train.std(0).clamp(min=1e-6)
    h_train, h_test = (features_train - mean) / std, (features_test - mean) / std
    n_classes = int(max(labels_train.max(), labels_test.max())) + 1
    probe = nn.Linear(h_train.shape[1], n_classes)
    optimizer = torch.optim.LBFGS(probe.parameters(), max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(probe(h_train), labels_train) + weight_decay * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return (probe(h_test).argmax(1) == labels_test).float().mean().item()


# =============================================================================================
# Lecture 02 — corruptions q(x̃ | x) for denoising autoencoders
# =============================================================================================


def _check_batch(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"{name} expects a floating-point tensor, got {getattr(x, 'dtype', type(x).__name__)}")
    if x.ndim < 2:
        raise ValueError(f"{name} expects a batch (B, ...) with B first, e.g. images (B, C, H, W), "
                         f"got shape {tuple(x.shape)}")


def _check_fraction(nu: float, name: str) -> None:
    if isinstance(nu, bool) or not isinstance(nu, (int, float)) or not 0 <= nu <= 1:
        raise ValueError(f"{name}: the fraction ν of corrupted inputs must lie in [0, 1], got {nu!r}")


def _random_subset(x: torch.Tensor, nu: float, generator: torch.Generator | None) -> torch.Tensor:
    """A boolean mask of x's shape choosing exactly round(ν·D) of each sample's D entries, uniformly."""
    b, d = len(x), x[0].numel()
    k = round(nu * d)
    ranks = torch.rand(b, d, generator=generator).argsort(dim=1).argsort(dim=1)  # a random permutation per sample
    return (ranks < k).reshape(x.shape).to(x.device)


def masking_noise(x: torch.Tensor, nu: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Masking noise: set exactly round(ν·D) of each sample's D inputs to 0, the rest unchanged.

        x̃_i = 0 for i in S,   x̃_i = x_i otherwise,   S a uniformly random subset with |S| = round(ν·D)

    (Vincent et al., 2010: "as many as half" of the inputs, ν up to 0.5). The subset is drawn
    afresh for every sample, so an image never has more or fewer zeros forced than asked.
    """
    _check_batch(x, "masking_noise")
    _check_fraction(nu, "masking_noise")
    return x.masked_fill(_random_subset(x, nu, generator), 0.0)


def gaussian_noise(x: torch.Tensor, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Additive isotropic Gaussian noise: x̃ = x + σ ε, ε ~ N(0, I).

    Not clipped to [0, 1]: clipping would remove part of the noise on the dark background and
    make the corruption depend on the image.
    """
    _check_batch(x, "gaussian_noise")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 <= sigma < math.inf:
        raise ValueError(f"gaussian_noise: σ must be a finite number ≥ 0, got {sigma!r}")
    return x + sigma * torch.randn(x.shape, generator=generator).to(x.device, x.dtype)


def salt_and_pepper(x: torch.Tensor, nu: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Salt-and-pepper noise: exactly round(ν·D) of each sample's inputs are set to the minimum 0
    or the maximum 1, each by a fair coin; the rest are unchanged.

        x̃_i = b_i for i in S (b_i ∈ {0, 1}, P = ½ each),   x̃_i = x_i otherwise,   |S| = round(ν·D)
    """
    _check_batch(x, "salt_and_pepper")
    _check_fraction(nu, "salt_and_pepper")
    chosen = _random_subset(x, nu, generator)
    salt = (torch.rand(x.shape, generator=generator) < 0.5).to(x.device, x.dtype)
    return torch.where(chosen, salt, x)


CORRUPTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "masking": masking_noise,
    "gaussian": gaussian_noise,
    "salt_and_pepper": salt_and_pepper,
}


def corrupt(x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x̃ ~ q(x̃ | x) for one of ``CORRUPTIONS`` at ``level`` (ν for masking and salt-and-pepper, σ for Gaussian)."""
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {kind!r}; expected one of {tuple(CORRUPTIONS)}")
    return CORRUPTIONS[kind](x, level, generator)


def random_level_corruption(kind: str, max_level: float, generator: torch.Generator | None = None
                            ) -> Callable[[torch.Tensor], torch.Tensor]:
    """A corruption for training a DAE that works at every level up to ``max_level``: each call
    draws a level uniformly from [0, max_level] and corrupts the whole batch at that level."""
    corrupt(torch.zeros(1, 1), kind, max_level)  # validates kind and the level's range now, not mid-training

    def corrupt_batch(x: torch.Tensor) -> torch.Tensor:
        level = max_level * torch.rand(1, generator=generator).item()
        return corrupt(x, kind, level, generator)

    return corrupt_batch


@torch.no_grad()
def noise_gain(model: nn.Module, x: torch.Tensor, x_tilde: torch.Tensor) -> torch.Tensor:
    """How much of the added noise an autoencoder A passes through, per image (B,):

        gain_b = ‖A(x̃_b) − A(x_b)‖ / ‖x̃_b − x_b‖

    1 for the identity (the noise comes out as it went in), 0 for a perfect denoiser whose
    output does not depend on the noise at all.
    """
    _check_pair(x_tilde, x, "noise_gain")
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


# =============================================================================================
# Lecture 02 — stacked autoencoders and greedy layer-wise pretraining
# =============================================================================================


class StackedAutoencoder(nn.Module):
    """A stack of convolutional autoencoder layers ("stages"), h₀ = x, for ℓ = 1 … L:

        encoder stage ℓ:  h_ℓ = a(W_ℓ ⊛ h_{ℓ−1} + b_ℓ)       (a convolution)
        decoder stage ℓ:  ĥ_{ℓ−1} = W′_ℓ ⊛ᵀ h_ℓ + b′_ℓ        (a transposed convolution: back to h_{ℓ−1}'s shape)

    with a = LeakyReLU(0.2). The decoders are linear — no sigmoid squashing the output — so that
    every stage, the first included, can represent the identity exactly. ``channels = (C₀, C₁, …, C_L)`` gives each code's channel count. Each stage is a
    small autoencoder of its own, so the stack can be trained end to end (``forward``) or one
    stage at a time on the codes of the stages below (``pretrain_stage``). ``stride=2`` (4×4
    kernels) halves the size at every stage; ``stride=1`` (3×3 kernels) keeps full resolution.

    With the defaults (1, 32, 64) the code of a 64 px image is 64 × 16 × 16 = 16,384 numbers
    for 4,096 pixels: an *over-complete* autoencoder.
    """

    def __init__(self, channels: Sequence[int] = (1, 32, 64), stride: int = 2) -> None:
        super().__init__()
        channels = tuple(channels)
        if len(channels) < 2 or not all(isinstance(c, int) and c > 0 for c in channels):
            raise ValueError(f"channels must be at least two positive ints (C₀, C₁, …), got {channels!r}")
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 (3×3 kernels, full resolution) or 2 (4×4 kernels, half), got {stride!r}")
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


def stage_loss(stack: StackedAutoencoder, level: int, h: torch.Tensor,
               corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """The loss of stage ``level`` (0-based) as a (denoising) autoencoder of its input codes h:

        L_ℓ = (1/B) Σ_b ‖h_b − dec_ℓ(enc_ℓ(h̃_b))‖²,   h̃ = corrupt(h)  (h̃ = h without corruption)

    ``h`` are the codes the frozen stages below produce (the images themselves for level 0).
    """
    noisy = h if corrupt is None else corrupt(h)
    return reconstruction_loss(stack.decoders[level](stack.encoders[level](noisy)), h)


def pretrain_stage(stack: StackedAutoencoder, level: int, x: torch.Tensor, *,
                   corrupt: Callable[[torch.Tensor], torch.Tensor] | None = None, epochs: int = 5,
                   lr: float = 3e-3, batch_size: int = 64, seed: int = 0, progress: bool = True) -> History:
    """One stage of greedy layer-wise pretraining (Bengio et al., 2007; Vincent et al., 2010).

    The stages below ``level`` are frozen: their codes h_level = enc_level ∘ … ∘ enc_1(x) are
    computed once, without gradients. Then only stage ``level``'s encoder and decoder are
    trained, with Adam, to minimise :func:`stage_loss` on those codes — every other parameter
    of the stack keeps its value. Returns the per-epoch loss history.
    """
    if not (isinstance(level, int) and 0 <= level < stack.depth):
        raise ValueError(f"level must be an int between 0 and {stack.depth - 1}, got {level!r}")
    with torch.no_grad():
        codes = torch.cat([stack.encode(x[i : i + 256], depth=level) for i in range(0, len(x), 256)])
    stage = nn.ModuleList([stack.encoders[level], stack.decoders[level]])
    optimizer = torch.optim.Adam(stage.parameters(), lr=lr)

    def step(batch: torch.Tensor) -> float:
        return train_step(stage, optimizer, batch, lambda _, h: stage_loss(stack, level, h, corrupt))

    return fit(step, codes, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
               desc=f"pretraining stage {level + 1}")


class StackClassifier(nn.Module):
    """A classifier on top of a stack's encoder: p(y | x) = softmax(V · pool(h_L) + c).

    ``pool`` is the global maximum of each channel of h_L over the image: a lesion is a small,
    local feature that may sit anywhere, and the maximum keeps a strong response from one place
    that an average over the whole slice would dilute. The encoder stages are the stack's own
    modules (shared, not copied), so fine-tuning updates the pretrained weights.
    """

    def __init__(self, stack: StackedAutoencoder, n_classes: int = 2) -> None:
        super().__init__()
        self.encoders = stack.encoders
        self.head = nn.Linear(stack.channels[-1], n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.encoders:
            x = stage(x)
        return self.head(x.amax(dim=(-2, -1)))


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int = 200, lr: float = 1e-3,
                     batch_size: int = 32, seed: int = 0) -> list[float]:
    """Fine-tune ``model`` (all its parameters) on labelled images with the cross-entropy, Adam.

    A fixed number of steps, not epochs: with 20 labels or 500 the network gets the same number
    of updates, so a difference in accuracy comes from the data, not from training longer.
    Minibatches are drawn with replacement when there are fewer labels than ``batch_size``.
    Returns the loss of every step.
    """
    if x.ndim != 4 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"expected images (N, C, H, W) and labels (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    rng = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    watch = LossWatch()
    losses = []
    with modes_restored_on_error(model):
        model.train()
        for step in range(1, steps + 1):
            idx = torch.randint(len(x), (min(batch_size, len(x)),), generator=rng) if len(x) < batch_size \
                else torch.randperm(len(x), generator=rng)[:batch_size]
            with located(f"step {step}"):
                loss = train_step(model, optimizer, idx, lambda m, i: nn.functional.cross_entropy(m(x[i]), y[i]))
            losses.append(watch.check(loss, epoch=1, step=step)["loss"])
    return losses


@torch.no_grad()
def classifier_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> float:
    """The fraction of ``x`` whose most probable class is ``y``."""
    model.eval()
    predictions = torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
    return (predictions == y).float().mean().item()


def label_efficiency(pretrained: StackedAutoencoder, x_pool: torch.Tensor, y_pool: torch.Tensor,
                     x_test: torch.Tensor, y_test: torch.Tensor, *, n_labels: Sequence[int], seeds: Sequence[int],
                     steps: int = 200, lr: float = 3e-3) -> dict[str, torch.Tensor]:
    """Held-out accuracy of the stack fine-tuned from its pretrained weights vs the same network
    from random initialisation, for each number of labels n and seed: {"pretrained", "scratch"}
    → tensors (len(n_labels), len(seeds)).

    For seed s, the n labelled images are the first n of a permutation of the pool drawn with
    seed s (so n = 20 ⊂ n = 50 ⊂ …), and the random initialisation is torch.manual_seed(s).
    Both networks get the same images and the same :func:`train_classifier` budget.
    """
    if len(x_pool) != len(y_pool) or max(n_labels) > len(x_pool):
        raise ValueError(f"the pool has {len(x_pool)} images and {len(y_pool)} labels; need them equal and at least "
                         f"max(n_labels) = {max(n_labels)}")
    results = {"pretrained": torch.zeros(len(n_labels), len(seeds)), "scratch": torch.zeros(len(n_labels), len(seeds))}
    with single_threaded():  # small networks: see single_threaded
        _fine_tune_all(pretrained, x_pool, y_pool, x_test, y_test, n_labels, seeds, steps, lr, results)
    return results


def _fine_tune_all(pretrained, x_pool, y_pool, x_test, y_test, n_labels, seeds, steps, lr, results) -> None:
    for j, seed in enumerate(seeds):
        order = torch.randperm(len(x_pool), generator=torch.Generator().manual_seed(seed))
        for i, n in enumerate(n_labels):
            chosen = order[:n]
            for start, results_of in (("pretrained", results["pretrained"]), ("scratch", results["scratch"])):
                torch.manual_seed(seed)
                stack = (copy.deepcopy(pretrained) if start == "pretrained"
                         else StackedAutoencoder(pretrained.channels, stride=pretrained.stride))
                model = StackClassifier(stack)
                train_classifier(model, x_pool[chosen], y_pool[chosen], steps=steps, lr=lr, seed=seed)
                results_of[i, j] = classifier_accuracy(model, x_test, y_test)


# =============================================================================================
# Lecture 02 — the multimodal autoencoder: modality dropout
# =============================================================================================

MODALITY_GROUPS = ("only T1", "only T2", "both")


def modality_dropout(t1: torch.Tensor, t2: torch.Tensor, generator: torch.Generator | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A multimodal training batch (Ngiam et al., 2011): one third of the samples show only T1,
    one third only T2, one third both; the target is always the full pair.

        input_b  = (t1_b · m1_b, t2_b · m2_b),   (m1_b, m2_b) = (1, 0), (0, 1) or (1, 1)
        target_b = (t1_b, t2_b)

    The thirds are exact (⌊B/3⌋ samples each show only T1 and only T2, the rest both) and
    dealt to the samples by a random permutation; a missing modality is a channel of zeros.
    Returns (inputs (B, 2, H, W), targets (B, 2, H, W), group (B,) indexing ``MODALITY_GROUPS``).
    """
    for name, t in (("t1", t1), ("t2", t2)):
        if not isinstance(t, torch.Tensor) or t.ndim != 4 or t.shape[1] != 1:
            raise ValueError(f"{name} must be single-channel images (B, 1, H, W), got {tuple(getattr(t, 'shape', ()))}")
    if t1.shape != t2.shape:
        raise ValueError(f"t1 and t2 must be pairs of the same shape, got {tuple(t1.shape)} and {tuple(t2.shape)}")
    b, third = len(t1), len(t1) // 3
    group = torch.full((b,), 2, dtype=torch.long)
    order = torch.randperm(b, generator=generator)
    group[order[:third]], group[order[third : 2 * third]] = 0, 1
    group = group.to(t1.device)
    keep_t1 = (group != 1).to(t1.dtype).view(-1, 1, 1, 1)
    keep_t2 = (group != 0).to(t2.dtype).view(-1, 1, 1, 1)
    targets = torch.cat([t1, t2], dim=1)
    return torch.cat([t1 * keep_t1, t2 * keep_t2], dim=1), targets, group


def train_multimodal_autoencoder(model: nn.Module, t1: torch.Tensor, t2: torch.Tensor, *, epochs: int,
                                 lr: float = 3e-3, batch_size: int = 64, seed: int = 0,
                                 progress: bool = True) -> History:
    """Train a two-channel autoencoder on (T1, T2) pairs with :func:`modality_dropout` batches:

        L = (1/B) Σ_b ‖(t1_b, t2_b) − f_θ(g_φ(input_b))‖²,

    so that it learns to fill in a missing modality from the present one. Adam with the same
    one-cycle schedule as :func:`train_autoencoder`; the dropout pattern is seeded by ``seed``.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(t1) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
    rng = torch.Generator().manual_seed(seed)

    def loss_fn(m: nn.Module, pair: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        inputs, targets, _ = modality_dropout(*pair, generator=rng)
        return reconstruction_loss(m(inputs), targets)

    def step(pair: tuple[torch.Tensor, torch.Tensor]) -> float:
        loss = train_step(model, optimizer, pair, loss_fn)
        schedule.step()
        return loss

    with modes_restored_on_error(model):
        return fit(step, (t1, t2), epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
                   desc="multimodal autoencoder")


@torch.no_grad()
def predict_missing(model: nn.Module, present: torch.Tensor, which: str, batch_size: int = 256) -> torch.Tensor:
    """The multimodal AE's guess of the missing modality: feed ``present`` (T1 if ``which`` is
    "t1", else T2) with the other channel zeroed, return the other output channel (B, 1, H, W)."""
    if which not in ("t1", "t2"):
        raise ValueError(f"which must name the present modality, 't1' or 't2', got {which!r}")
    if present.ndim != 4 or present.shape[1] != 1:
        raise ValueError(f"present must be single-channel images (B, 1, H, W), got {tuple(present.shape)}")
    model.eval()
    zeros = torch.zeros_like(present)
    inputs = torch.cat([present, zeros] if which == "t1" else [zeros, present], dim=1)
    out = torch.cat([model(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])
    return out[:, 1:] if which == "t1" else out[:, :1]
