"""Autoencoders (lecture 01): the reconstruction loss, PCA, the linear and the convolutional AE.

Notation follows the lectures: an encoder g_φ maps an image x to a code z of smaller dimension,
a decoder f_θ maps z back to a reconstruction x′ = f_θ(g_φ(x)), and training minimises ‖x − x′‖².
Lecture 02's variations live in their own modules: ``corruptions`` and ``denoising`` (the
denoising AE), ``stacked`` (greedy layer-wise pretraining), ``multimodal`` (modality dropout).

Every public function checks its arguments before any work: data must be floating-point tensors
(raises TypeError for int/bool tensors, or for a dtype other than the model's), non-empty and, for
the loss, PCA, the trainers and the batch evaluators, free of NaN and ±inf (raises ValueError).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from . import _validate
from .layers import downsampling_convs, upsampling_convs
from .training import History, adam_with_schedule, fit, map_batches, modes_restored_on_error, train_step

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
]


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared reconstruction error ‖x − x′‖², summed over each image's pixels, averaged over the batch.

        L = (1/B) Σ_b Σ_i (x_{b,i} − x′_{b,i})²

    Summing over pixels keeps the loss on the scale of one image (the same scale the VAE's
    log-likelihood term will have in lecture 03); averaging over the batch makes it independent
    of the batch size, so the learning rate does not have to change with it.
    Raises ValueError for NaN/±inf in either argument (the trainers call an unchecked copy, so a
    diverging model still stops with their ``NonFiniteLossError``).
    """
    _validate.batch(x_hat, "x_hat", what="batch of reconstructions", finite=True)
    _validate.batch(x, "x", what="batch of images", finite=True)
    _validate.same_shape(x_hat, x, ("x_hat", "x"), "x_hat[i] reconstructs x[i]")
    _validate.same_device([x_hat, x], ["x_hat", "x"])
    return _squared_error(x_hat, x)


def _squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """reconstruction_loss without the checks: for the training loops, whose data were checked once
    up front and whose guards (``check_loss``) catch a loss that turns NaN mid-training."""
    return (x - x_hat).pow(2).flatten(1).sum(dim=1).mean()


def _batch_size(value: object) -> int:
    return _validate.positive_int(value, "batch_size", maximum=_validate.MAX_SAMPLES, why=_validate.WHY_SAMPLES)


def _per_sample(x: torch.Tensor, name: str, size: int, what: str) -> None:
    """Each sample of x (B, …) holds ``size`` numbers (flattened: any per-sample shape)."""
    if x[0].numel() != size:
        raise ValueError(f"{name} must hold {size} numbers per sample ({what}), "
                         f"got {_validate.describe(x)} with {x[0].numel()} per sample")


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
        _validate.batch(x, "x", what="batch of images")
        _per_sample(x, "x", self.components.shape[1], "the PCA's pixels per image")
        if x.dtype != self.components.dtype:
            raise TypeError(f"x must be {str(self.components.dtype).removeprefix('torch.')} like the PCA, "
                            f"got {_validate.describe(x)}")
        return (x.flatten(1) - self.mean) @ self.components.T

    def decode(self, z: torch.Tensor, shape: tuple[int, ...] | None = None) -> torch.Tensor:
        """x′ = mean + Wᵀ z, reshaped to ``shape`` (per-sample) when given."""
        k = len(self.components)
        _validate.tensor(z, "z", shape=("B", k), what="batch of codes")
        if z.dtype != self.components.dtype:
            raise TypeError(f"z must be {str(self.components.dtype).removeprefix('torch.')} like the PCA, "
                            f"got {_validate.describe(z)}")
        x = z @ self.components + self.mean
        return x if shape is None else x.reshape(-1, *shape)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Project x onto the principal subspace and back, same shape as x."""
        return self.decode(self.encode(x)).reshape(x.shape)

    def top(self, k: int) -> "PCA":
        """The same PCA keeping only its first k components (no refit needed: they are nested)."""
        _validate.integer(k, "k", minimum=1, maximum=len(self.components), why="the PCA's components")
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
    x = _validate.values(_validate.batch(x, "x", what="batch of images (N, …)", finite=True), "x")
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 images (a variance needs two), got {_validate.describe(x)}")
    n, d = len(x), x[0].numel()
    _validate.integer(k, "k", minimum=1, maximum=min(n - 1, d), why="at most min(N − 1, D) components")
    flat = x.detach().flatten(1).double()
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
        n_inputs = _validate.width(n_inputs, "n_inputs")
        latent_dim = _validate.width(latent_dim, "latent_dim")
        if latent_dim > n_inputs:
            raise ValueError(f"latent_dim must be ≤ n_inputs = {n_inputs} (a code no larger than the input), "
                             f"got {latent_dim}")
        _validate.memory(2 * n_inputs * latent_dim * 4, "n_inputs × latent_dim", "the two weight matrices")
        self.encoder = nn.Linear(n_inputs, latent_dim)
        self.decoder = nn.Linear(latent_dim, n_inputs)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", what="batch of inputs", nonempty=True)
        if x.ndim < 2:
            raise ValueError(f"x must be a floating-point batch of inputs (B, …) with B ≥ 1 first, got "
                             f"{_validate.describe(x)}")
        # A subclass may rename or replace the layers (the exercise's check inspects that): size
        # checks only where they are the library's own nn.Linear layers.
        if isinstance(getattr(self, "encoder", None), nn.Linear):
            _per_sample(x, "x", self.encoder.in_features, "n_inputs")
        _validate.for_module(x, "x", self)
        return self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        decoder = getattr(self, "decoder", None)
        latent = decoder.in_features if isinstance(decoder, nn.Linear) else None
        _validate.tensor(z, "z", shape=("B", latent), what="batch of codes")
        _validate.for_module(z, "z", self)
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
    Raises ValueError for NaN/±inf in x.
    """
    _validate.module(model, "model", LinearAutoencoder)
    x = _validate.values(_validate.batch(x, "x", what="batch of inputs", finite=True), "x")
    _per_sample(x, "x", model.encoder.in_features, "the model's n_inputs")
    _validate.for_module(x, "x", model)
    iterations = _validate.steps(iterations, "iterations")
    flat = x.flatten(1)
    k = model.decoder.in_features
    losses = []
    for _ in range(iterations):
        codes = model.encode(flat)
        design = torch.cat([codes, torch.ones(len(codes), 1, dtype=codes.dtype, device=codes.device)], dim=1)
        solution = torch.linalg.lstsq(design, flat).solution  # (k + 1, D)
        model.decoder.weight.copy_(solution[:k].T)
        model.decoder.bias.copy_(solution[k])
        pinv = torch.linalg.pinv(model.decoder.weight)
        model.encoder.weight.copy_(pinv)
        model.encoder.bias.copy_(-pinv @ model.decoder.bias)
        losses.append(_squared_error(model(flat), flat).item())
    return losses



def _size_and_width(size: object, width: object) -> tuple[int, int]:
    """The image size (32 or 64) and base width (2 or more: the first layer has width // 2 channels)
    of the convolutional trunk and head, refused up front when their weights would not fit in memory."""
    size = _validate.choice(_validate.integer(size, "size"), "size", (32, 64),
                            why="the convolutional models support size 32 or 64")
    width = _validate.integer(width, "width", minimum=2, maximum=_validate.MAX_WIDTH,
                              why="the first layer has width // 2 channels; " + _validate.WHY_WIDTH)
    _validate.memory(2 * width * width * 16 * 4, "width", "the widest convolution's weights")
    return size, width


def conv_encoder_trunk(size: int, width: int = 32) -> tuple[list[nn.Module], int]:
    """Three stride-2 convolutions (channels 1 → w/2 → w → 2w, size → size/8), then flatten:
    the layers and the flat width.

    Shared by the conv AE (lecture 01) and the conv VAE (lecture 03), which differ only in what
    follows: one linear map to z, or two heads for μ and log σ².
    """
    size, width = _size_and_width(size, width)
    channels = (1, width // 2, width, width * 2)
    return [*downsampling_convs(channels), nn.Flatten()], channels[-1] * (size // 8) ** 2


def conv_decoder_head(size: int, width: int = 32, output: nn.Module | None = None) -> list[nn.Module]:
    """From a flat vector of the trunk's width back to a (1, size, size) image, ending in
    ``output`` (default: a sigmoid, so the image lies in [0, 1])."""
    size, width = _size_and_width(size, width)
    if output is not None:
        _validate.module(output, "output", what="the last layer's activation, e.g. nn.Sigmoid()")
    channels = (width * 2, width, width // 2, 1)
    return [nn.Unflatten(1, (channels[0], size // 8, size // 8)),
            *upsampling_convs(channels, output=output if output is not None else nn.Sigmoid())]


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
        _validate.number(margin, "margin", minimum=0, maximum=1, open_minimum=True, open_maximum=True,
                         why="the stretch m beyond [0, 1]")
        self.margin = margin

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        _validate.tensor(a, "a", what="tensor of pre-activations")
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
        latent_dim = _validate.width(latent_dim, "latent_dim")
        size, width = _size_and_width(size, width)
        _validate.choice(output, "output", self.OUTPUTS)
        _validate.memory(2 * 2 * width * (size // 8) ** 2 * latent_dim * 4, "latent_dim",
                         "the linear layers to and from the code")
        self.latent_dim, self.size = latent_dim, size
        trunk, flat = conv_encoder_trunk(size, width)
        head = conv_decoder_head(size, width, StretchedSigmoid() if output == "stretched_sigmoid" else nn.Sigmoid())
        self.encoder = nn.Sequential(*trunk, nn.Linear(flat, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, flat), nn.LeakyReLU(0.2), *head)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", shape=("B", 1, self.size, self.size), what="batch of images", nonempty=True)
        _validate.for_module(x, "x", self)
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        _validate.tensor(z, "z", shape=("B", self.latent_dim), what="batch of codes", nonempty=True)
        _validate.for_module(z, "z", self)
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
    device: str | torch.device = "cpu",
) -> History:
    """Minimise the reconstruction loss ‖x − x′‖² over ``x_train`` with Adam.

    With ``corrupt`` this trains a *denoising* autoencoder: each batch is corrupted afresh,
    x̃ = corrupt(x), and the loss compares the reconstruction of x̃ with the clean x,
    ‖x − f_θ(g_φ(x̃))‖². The learning rate follows a one-cycle schedule (warm up to ``lr``, then anneal towards 0),
    which reaches a lower loss in a fixed, small number of epochs than a constant rate.
    The model trains on ``device`` (moved there; each batch follows it).
    Returns the per-epoch loss history of :func:`course_lib.training.fit`.
    Raises ValueError for NaN/±inf in ``x_train`` before training starts.
    """
    _validate.module(model, "model", what="the autoencoder to train")
    x_train = _validate.values(_validate.batch(x_train, "x_train", what="batch of training images", finite=True),
                               "x_train")
    _validate.dtype_like(x_train, "x_train", model)
    epochs = _validate.epochs(epochs)
    _validate.number(lr, "lr", minimum=0, open_minimum=True, why="the peak learning rate")
    batch_size = _batch_size(batch_size)
    _validate.seed(seed)
    if corrupt is not None:
        _validate.function(corrupt, "corrupt", what="None or a function of a batch → a corrupted batch")
    model.to(_validate.device(device))
    optimizer, schedule = adam_with_schedule(model.parameters(), lr, schedule="one_cycle",
                                             total_steps=epochs * math.ceil(len(x_train) / batch_size))

    def loss_fn(m: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        noisy = batch if corrupt is None else corrupt(batch)
        return _squared_error(m(noisy), batch)

    def step(batch: torch.Tensor) -> float:
        loss = train_step(model, optimizer, batch, loss_fn)
        schedule.step()
        return loss

    with modes_restored_on_error(model):
        model.train()  # e.g. StretchedSigmoid clamps in eval mode, which would cut gradients
        return fit(step, x_train, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress, device=device,
                   desc=type(model).__name__ if corrupt is None else f"denoising {type(model).__name__}")


def _batch_of_images(x: object, model: nn.Module) -> torch.Tensor:
    x = _validate.batch(x, "x", what="batch of images", finite=True)
    if _validate.device_of(model).type != "meta":  # a meta model takes meta images: a shape-only pass
        _validate.values(x, "x")
    _validate.dtype_like(x, "x", model)
    return x


@torch.no_grad()
def encode_all(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Codes z = g_φ(x) for a whole tensor of images, in eval mode and in batches (on the model's
    device; the codes are returned on x's). Raises ValueError for NaN/±inf in x."""
    _validate.module(model, "model", what="an autoencoder with an encode method")
    if not callable(getattr(model, "encode", None)):
        raise TypeError(f"model must have an encode method (an autoencoder), got {_validate.describe(model)}")
    _batch_of_images(x, model)
    batch_size = _batch_size(batch_size)
    model.eval()
    return map_batches(model.encode, x, batch_size, _validate.device_of(model))


@torch.no_grad()
def reconstruct_all(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Reconstructions x′ = f_θ(g_φ(x)) for a whole tensor of images, in eval mode and in batches
    (on the model's device; the reconstructions are returned on x's). Raises ValueError for NaN/±inf in x."""
    _validate.module(model, "model", what="an autoencoder")
    _batch_of_images(x, model)
    batch_size = _batch_size(batch_size)
    return _reconstruct_all(model, x, batch_size)


@torch.no_grad()
def _reconstruct_all(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """reconstruct_all without the checks, for callers that checked x already (course_lib.denoising)."""
    model.eval()
    return map_batches(model, x, batch_size, _validate.device_of(model))


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
    raw pixels) is when only a few labels are available. Raises ValueError for NaN/±inf features,
    fewer than 2 training samples, or labels outside [0, 100,000).
    """
    _validate.tensor(features_train, "features_train", shape=("N", "F"), what="feature matrix", finite=True)
    if len(features_train) < 2:
        raise ValueError(f"features_train must hold at least 2 samples (they are standardised by their standard "
                         f"deviation), got {_validate.describe(features_train)}")
    _validate.values(features_train, "features_train")
    _validate.labels(labels_train, "labels_train", n_classes=_validate.MAX_CLASSES, length=len(features_train))
    _validate.tensor(features_test, "features_test", shape=("N", features_train.shape[1]), what="feature matrix",
                     finite=True, nonempty=True, why="as wide as features_train")
    _validate.values(features_test, "features_test")
    _validate.labels(labels_test, "labels_test", n_classes=_validate.MAX_CLASSES, length=len(features_test))
    if features_test.dtype != features_train.dtype:
        raise TypeError(f"features_test must be {str(features_train.dtype).removeprefix('torch.')} like "
                        f"features_train, got {_validate.describe(features_test)}")
    _validate.same_device([features_train, labels_train, features_test, labels_test],
                          ["features_train", "labels_train", "features_test", "labels_test"])
    _validate.number(weight_decay, "weight_decay", minimum=0, why="the weight of the L2 penalty")
    mean, std = features_train.mean(0), features_train.std(0).clamp(min=1e-6)
    h_train, h_test = (features_train - mean) / std, (features_test - mean) / std
    n_classes = int(max(labels_train.max(), labels_test.max())) + 1
    probe = nn.Linear(h_train.shape[1], n_classes).to(h_train.device, h_train.dtype)
    optimizer = torch.optim.LBFGS(probe.parameters(), max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(probe(h_train), labels_train) + weight_decay * probe.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return (probe(h_test).argmax(1) == labels_test).float().mean().item()

