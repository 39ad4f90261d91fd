"""Lecture 03: the variational autoencoder — reparametrization, the closed-form KL, the ELBO,
a convolutional (conditional) VAE, and the two gradient estimators the trick is about (pathwise and
score function, the latter also with a leave-one-out baseline).

Notation of the lecture: the encoder gives q_φ(z|x) = N(μ_x, diag σ²_x) through two heads,
μ_x = g(x) and log σ²_x = h(x); the prior is p(z) = N(0, I); the decoder f(z) is the mean of
p_θ(x|z) = N(f(z), σ_x² I), a Gaussian with a fixed pixel noise σ_x. Training maximises the
evidence lower bound (ELBO)

    L(x; θ, φ) = E_{q_φ(z|x)}[log p_θ(x|z)] − KL[q_φ(z|x) ‖ p(z)],

which, for this decoder, is up to a constant −(α‖x − f(z)‖² + KL) with α = 1 / (2σ_x²).
Reductions: every per-image term is a *sum* over pixels or latent dimensions; batches are
*averaged*. A loss of 1 means 1 nat per image.

Every public function checks its arguments first and raises TypeError/ValueError for what it cannot
use: integer or bool tensors where numbers are needed, empty batches, NaN/inf data (the losses, the
estimators and the trainer; a forward pass lets NaN through like any torch layer), ``meta`` tensors
where values are computed, and counts that are 0, negative, a bool or too large to fit in memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from . import _validate
from .autoencoders import conv_decoder_head, conv_encoder_trunk
from .learned_similarity import _feature_reconstruction_loss
from .training import History, adam_with_schedule, backward_and_step, fit, modes_restored_on_error, unchanged_on_nonfinite

__all__ = [
    "reparametrize",
    "kl_to_standard_normal",
    "gaussian_nll",
    "ELBOTerms",
    "negative_elbo",
    "one_hot",
    "attribute_regularization",
    "ConvVAE",
    "train_vae",
    "evaluate_elbo",
    "sample_prior",
    "interpolate",
    "pathwise_gradients",
    "score_function_gradients",
    "exact_estimator_variances",
    "encoder_gradient_variances",
    "ENCODER_GRADIENT_ROWS",
]

DEFAULT_SIGMA_X = 1.0  # the decoder's pixel noise σ_x, as in the lectures' main model: α = 1/(2σ_x²) = 0.5


def _check_gaussian(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    """The encoder's q_φ(z|x) = N(μ, diag σ²): μ and log σ² of one shape (B, latent_dim), finite, on one
    device. Both may be ``meta`` tensors (shapes without values, as in a meta model's forward pass)."""
    for name, t in (("mu", mu), ("logvar", logvar)):
        _validate.tensor(t, name, shape=("B", "latent_dim"))
    _validate.same_shape(mu, logvar, ("mu", "logvar"), "one mean and one log-variance per latent dimension")
    _validate.same_device((mu, logvar), ("mu", "logvar"))
    if mu.device.type == "meta":
        return
    if not (torch.isfinite(mu).all() and torch.isfinite(logvar).all()):
        raise ValueError("mu and logvar must be finite, got NaN or ±inf: the encoder diverged (lower the learning rate)")


def _sigma_x(sigma_x: float) -> float:
    return _validate.number(sigma_x, "sigma_x", minimum=0, open_minimum=True, why="the decoder's pixel noise σ_x")


def _check_pair(x_hat: torch.Tensor, x: torch.Tensor) -> None:
    """A reconstruction and its target: finite floating batches (B ≥ 1, …) of one shape on one device."""
    _validate.batch(x_hat, "x_hat", what="batch of reconstructions", finite=False)
    _validate.batch(x, "x", what="batch of images", finite=False)
    _validate.same_shape(x_hat, x, ("x_hat", "x"), "a reconstruction per image")
    _validate.same_device((x_hat, x), ("x_hat", "x"))
    for name, t in (("x_hat", x_hat), ("x", x)):
        _validate.tensor(t, name, finite=True, what="batch")


def _integer_labels(labels, name: str, *, length: int | None = None, n_classes: int | None = None) -> torch.Tensor:
    """Class labels: a 1-D tensor of any integer dtype (not bool: a flag is no class), with values, of
    ``length`` entries and in 0…n_classes − 1 where given."""
    expected = "an integer tensor of class labels of shape (B,)"
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"{name} must be {expected} (a torch.Tensor), got {_validate.describe(labels)}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"{name} must be {expected}, got {_validate.describe(labels)}")
    if labels.ndim != 1:
        raise ValueError(f"{name} must be {expected}, got {_validate.describe(labels)}")
    if length is not None and len(labels) != length:
        raise ValueError(f"{name} must hold one label per sample ({length}), got {len(labels)}")
    if labels.device.type == "meta":  # shapes without values (a meta model's forward): no range to check
        return labels
    if n_classes is not None and len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{name} must be in 0…{n_classes - 1}, got values from {labels.min().item()} "
                         f"to {labels.max().item()}")
    return labels


def _check_images(model: "ConvVAE", x, name: str, *, on_model: bool) -> torch.Tensor:
    """A non-empty, finite batch of the model's images (B, 1, size, size) in its parameters' dtype;
    ``on_model``: also on its device (else the caller moves each batch there)."""
    x = _validate.tensor(x, name, shape=("B", 1, model.size, model.size), nonempty=True, what="batch of images")
    _validate.values(x, name)
    if on_model:
        _validate.for_module(x, name, model)
    else:
        _validate.dtype_like(x, name, model)
    return _validate.tensor(x, name, finite=True, what="batch of images")


def reparametrize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = μ + σ ⊙ ε with σ = exp(½ log σ²) and ε ~ N(0, I): a sample of q_φ(z|x) that gradients pass through.

    The randomness sits in ε, which does not depend on φ; z is a differentiable function of
    μ and log σ², so ∂z/∂μ = 1 and ∂z/∂log σ² = ½ σ ε. (``meta`` μ and log σ² give a ``meta`` z: the
    forward pass of a model built on the meta device.)
    """
    _check_gaussian(mu, logvar)
    _validate.generator(generator)
    # Drawn where the generator lives (the CPU for torch.Generator()), then moved to μ's device.
    noise_device = mu.device if generator is None else generator.device
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=noise_device).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL[N(μ, diag σ²) ‖ N(0, I)] = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), one value per row (B,), in nats."""
    _check_gaussian(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)


def gaussian_nll(x_hat: torch.Tensor, x: torch.Tensor, sigma_x: float = DEFAULT_SIGMA_X) -> torch.Tensor:
    """−log p_θ(x|z) for p_θ(x|z) = N(x̂, σ_x² I), per image (B,): ‖x − x̂‖² / (2σ_x²) + (D/2) log(2πσ_x²).

    x̂ and x: finite floating batches (B ≥ 1, …) of one shape and device; σ_x > 0 and finite."""
    _check_pair(x_hat, x)
    sigma_x = _sigma_x(sigma_x)
    return _gaussian_nll(x_hat, x, sigma_x)


def _gaussian_nll(x_hat: torch.Tensor, x: torch.Tensor, sigma_x: float) -> torch.Tensor:
    """:func:`gaussian_nll` without the checks (the trainers' inner loops; their inputs are checked)."""
    d = x[0].numel()
    return (x - x_hat).pow(2).flatten(1).sum(dim=1) / (2 * sigma_x**2) + 0.5 * d * math.log(2 * math.pi * sigma_x**2)


class ELBOTerms(NamedTuple):
    """The negative ELBO and its two terms, each a batch mean of per-image values (nats per image)."""

    loss: torch.Tensor  # reconstruction + β·KL, what the optimiser minimises
    reconstruction: torch.Tensor  # E_q[−log p_θ(x|z)], one sample of z per image
    kl: torch.Tensor  # KL[q_φ(z|x) ‖ p(z)]


def negative_elbo(x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, *,
                  sigma_x: float = DEFAULT_SIGMA_X, beta: float = 1.0) -> ELBOTerms:
    """−L = (1/B) Σ_b [−log p_θ(x_b|z_b) + β KL[q_φ(z|x_b) ‖ p(z)]], z_b ~ q_φ(z|x_b) (one sample).

    With β = 1 this is the negative ELBO, an upper bound on −log p_θ(x) in nats per image;
    β > 1 weighs the KL more (smoother latent space, blurrier reconstructions), β < 1 less.
    Raises ValueError for NaN/inf or empty inputs, a μ with another number of rows than x, σ_x ≤ 0 or β < 0.
    """
    _check_pair(x_hat, x)
    _check_gaussian(mu, logvar)
    if len(mu) != len(x):
        raise ValueError(f"mu must hold one row per image ({len(x)}), got {len(mu)}")
    _validate.same_device((x, mu), ("x", "mu"))
    sigma_x = _sigma_x(sigma_x)
    beta = _validate.number(beta, "beta", minimum=0, why="the weight of the KL term")
    return _negative_elbo(x_hat, x, mu, logvar, sigma_x, beta)


def _negative_elbo(x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, sigma_x: float,
                   beta: float) -> ELBOTerms:
    """:func:`negative_elbo` without the checks (the trainers' inner loops; their inputs are checked)."""
    reconstruction = _gaussian_nll(x_hat, x, sigma_x).mean()
    kl = kl_to_standard_normal(mu, logvar).mean()
    return ELBOTerms(reconstruction + beta * kl, reconstruction, kl)


def attribute_regularization(z_r: torch.Tensor, attribute: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """The AR-VAE's attribute loss (Pati & Lerch, 2021), which makes one latent dimension z_r grow
    with an attribute a across the batch:

        D_r[i, j] = z_r,i − z_r,j,   D_a[i, j] = a_i − a_j,
        L_r = (1/B²) Σ_{i,j} | tanh(δ · D_r[i, j]) − sign(D_a[i, j]) |.

    It asks only for the *order* of the codes to follow the order of the attribute (any monotone
    map of a is as good), so it does not fix the scale of z_r and leaves the KL term to do that;
    δ sets how sharply tanh turns a distance into an order. 0 ≤ L_r ≤ 2; a 0-d tensor.
    """
    _validate.tensor(z_r, "z_r", ndim=1, nonempty=True, finite=True, what="tensor of one latent coordinate per sample")
    _validate.tensor(attribute, "attribute", ndim=1, finite=True, what="tensor of one attribute value per sample")
    if len(attribute) != len(z_r):
        raise ValueError(f"attribute must hold one value per sample ({len(z_r)}), got {len(attribute)}")
    _validate.values(z_r, "z_r")
    _validate.values(attribute, "attribute")
    _validate.same_device((z_r, attribute), ("z_r", "attribute"))
    delta = _validate.number(delta, "delta", minimum=0, open_minimum=True)
    code_order = torch.tanh(delta * (z_r[:, None] - z_r[None, :]))
    attribute_order = torch.sign(attribute[:, None] - attribute[None, :]).to(z_r)
    return (code_order - attribute_order).abs().mean()


def one_hot(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Integer labels (B,) → one-hot float rows (B, n_classes), with a clear error for labels out of range.

    Labels of any integer dtype are taken; bool labels (TypeError), float labels, an empty batch and
    labels outside 0…n_classes − 1 (ValueError) are refused. (Float labels raise ValueError, not
    TypeError, because course_lib.conditional_gan and course_lib.evaluation pass their labels here for
    this check and their tests match that ValueError.)"""
    if isinstance(labels, torch.Tensor) and labels.is_floating_point():
        raise ValueError(f"labels must be an integer tensor of class labels of shape (B,), "
                         f"got {_validate.describe(labels)}")
    _integer_labels(labels, "labels")
    if len(labels) == 0:
        raise ValueError(f"labels must hold at least one label, got {_validate.describe(labels)}")
    n_classes = _validate.classes(n_classes, "n_classes", minimum=1)
    _integer_labels(labels, "labels", n_classes=n_classes)
    return nn.functional.one_hot(labels.long(), n_classes).float()


class ConvVAE(nn.Module):
    """A convolutional VAE (``n_classes = 0``) or conditional VAE (Sohn et al., 2015) on 1-channel images.

    Encoder: the conv AE's trunk, then two linear heads μ = g(x) and log σ² = h(x). Decoder:
    f(z) with a sigmoid output in [0, 1]. A conditional VAE appends the one-hot label c to the
    trunk's features (q_φ(z|x, c)) and to z (p_θ(x|z, c)); the prior stays N(0, I).
    """

    def __init__(self, latent_dim: int, size: int = 64, width: int = 32, n_classes: int = 0) -> None:
        super().__init__()
        latent_dim = _validate.width(latent_dim, "latent_dim")
        size = _validate.choice(_validate.integer(size, "size"), "size", (32, 64),
                                why="the three stride-2 convolutions are built for 32 or 64 px images")
        width = _validate.integer(width, "width", minimum=2, maximum=_validate.MAX_WIDTH,
                                  why="the first convolution has width // 2 ≥ 1 channels")
        n_classes = _validate.classes(n_classes, "n_classes", minimum=0)  # 0: not conditional
        # The largest allocations are the weights: ≈ 80 w² in the convolutions, three linear maps
        # between the trunk's flat features (2w · (size/8)²) and the code (with the one-hot label).
        flat = 2 * width * (size // 8) ** 2
        n_weights = 80 * width**2 + 2 * (flat + n_classes) * latent_dim + (latent_dim + n_classes) * flat
        _validate.memory(4 * n_weights, "latent_dim, width or n_classes", f"{n_weights:,} float32 weights")
        self.latent_dim, self.size, self.n_classes = latent_dim, size, n_classes
        trunk, flat = conv_encoder_trunk(size, width)
        self.encoder = nn.Sequential(*trunk)
        self.mu_head = nn.Linear(flat + n_classes, latent_dim)  # g(x)
        self.logvar_head = nn.Linear(flat + n_classes, latent_dim)  # h(x)
        self.decoder = nn.Sequential(nn.Linear(latent_dim + n_classes, flat), nn.LeakyReLU(0.2),
                                     *conv_decoder_head(size, width))

    def _check_labels(self, labels: torch.Tensor | None, n: int) -> None:
        """None for a plain VAE; for a conditional one, n integer labels in 0…n_classes − 1."""
        if self.n_classes == 0:
            if labels is not None:
                raise ValueError("labels must be None: this VAE is not conditional (n_classes = 0), "
                                 f"got {_validate.describe(labels)}")
            return
        if labels is None:
            raise ValueError(f"labels must be given: this conditional VAE needs labels in 0…{self.n_classes - 1}, "
                             "got None")
        _integer_labels(labels, "labels", length=n, n_classes=self.n_classes)
        device = _validate.device_of(self)
        if labels.device != device:
            raise ValueError(f"labels must be on {device}, where the model's parameters are, "
                             f"got a tensor on {labels.device}")

    def _condition(self, features: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """[features, one_hot(labels)] for a conditional VAE (labels checked by the caller)."""
        if self.n_classes == 0:
            return features
        return torch.cat([features, nn.functional.one_hot(labels.long(), self.n_classes).float().to(features)], dim=1)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q_φ(z|x) (or q_φ(z|x, c)), each (B, latent_dim).

        x: a non-empty floating batch (B, 1, size, size) in the model's dtype, on its device."""
        _validate.tensor(x, "x", shape=("B", 1, self.size, self.size), nonempty=True, what="batch of images")
        _validate.for_module(x, "x", self)
        self._check_labels(labels, len(x))
        h = self._condition(self.encoder(x), labels)
        return self.mu_head(h), self.logvar_head(h)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """f(z) (or f(z, c)), the mean image of p_θ(x|z), (B, 1, size, size).

        z: a non-empty floating batch of codes (B, latent_dim) in the model's dtype, on its device."""
        _validate.tensor(z, "z", shape=("B", self.latent_dim), nonempty=True, what="batch of codes")
        _validate.for_module(z, "z", self)
        self._check_labels(labels, len(z))
        return self.decoder(self._condition(z, labels))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x̂, μ, log σ²): encode, draw one z = μ + σ ⊙ ε, decode."""
        _validate.generator(generator)
        mu, logvar = self.encode(x, labels)
        return self.decode(reparametrize(mu, logvar, generator), labels), mu, logvar


def train_vae(model: ConvVAE, x_train: torch.Tensor, labels: torch.Tensor | None = None, *, epochs: int,
              beta: float = 1.0, sigma_x: float = DEFAULT_SIGMA_X, lr: float = 2e-3, batch_size: int = 64,
              attribute: torch.Tensor | None = None, gamma: float = 10.0, delta: float = 1.0, attribute_dim: int = 0,
              similarity: Callable[[torch.Tensor], torch.Tensor] | None = None, similarity_weight: float = 0.02,
              seed: int = 0, progress: bool = True, device: str | torch.device = "cpu") -> History:
    """Minimise the negative ELBO with Adam (one-cycle schedule); history has "loss", "reconstruction", "kl".

    With ``attribute`` (one value per training image) the model is an AR-VAE: the loss gains
    γ · :func:`attribute_regularization` (z_r = the sampled codes' dimension ``attribute_dim``,
    δ = ``delta``) and the history an "attribute" term (L_r, unweighted).
    With ``similarity`` (a fixed feature map Dis_l, e.g.
    :func:`course_lib.learned_similarity.discriminator_layer`) the loss gains a learned-similarity
    term, ``similarity_weight`` · ½‖Dis_l(x) − Dis_l(x̂)‖² per image (Larsen et al., 2016), and the
    history a "similarity" term (unweighted).
    The model trains on ``device`` (moved there; each batch, with its labels, follows it).

    Everything is checked before training starts: NaN/inf or empty data, images of another size or
    dtype than the model's, labels that do not fit the model, and a number of epochs beyond
    ``_validate.MAX_EPOCHS`` raise ValueError/TypeError."""
    _validate.module(model, "model", ConvVAE, what="the VAE to train")
    x_train = _check_images(model, x_train, "x_train", on_model=False)
    model._check_labels(labels, len(x_train))
    epochs = _validate.epochs(epochs)
    beta = _validate.number(beta, "beta", minimum=0, why="the weight of the KL term")
    sigma_x = _sigma_x(sigma_x)
    lr = _validate.number(lr, "lr", minimum=0, open_minimum=True, why="a learning rate")
    batch_size = _validate.positive_int(batch_size, "batch_size")
    if attribute is not None:
        _validate.tensor(attribute, "attribute", ndim=1, finite=True, what="tensor of one attribute value per image")
        _validate.values(attribute, "attribute")
        if len(attribute) != len(x_train):
            raise ValueError(f"attribute must hold one value per training image ({len(x_train)}), got {len(attribute)}")
        _validate.number(gamma, "gamma", minimum=0)
        delta = _validate.number(delta, "delta", minimum=0, open_minimum=True)
        _validate.integer(attribute_dim, "attribute_dim", minimum=0, maximum=model.latent_dim - 1)
    if similarity is not None:
        _validate.function(similarity, "similarity", what="a feature map (a callable module) of a batch of images")
        _validate.number(similarity_weight, "similarity_weight", minimum=0)
    _validate.seed(seed)
    target = _validate.device(device)
    data_tensors = [(t, name) for t, name in ((x_train, "x_train"), (labels, "labels"), (attribute, "attribute"))
                    if t is not None]
    _validate.same_device([t for t, _ in data_tensors], [name for _, name in data_tensors])
    model.to(target)
    if isinstance(similarity, nn.Module):
        similarity.to(target)  # the feature map runs where the model and its batches are
    optimizer, schedule = adam_with_schedule(model.parameters(), lr, schedule="one_cycle",
                                             total_steps=epochs * math.ceil(len(x_train) / batch_size))

    def step(batch) -> dict[str, torch.Tensor]:
        parts = list(batch) if isinstance(batch, (tuple, list)) else [batch]
        x = parts.pop(0)
        y = parts.pop(0) if labels is not None else None
        with unchanged_on_nonfinite(model):
            mu, logvar = model.encode(x, y)  # what model(x, y) does, keeping z for the attribute term
            z = reparametrize(mu, logvar)
            x_hat = model.decode(z, y)
            terms = _negative_elbo(x_hat, x, mu, logvar, sigma_x, beta)
            losses = terms._asdict()
            if attribute is not None:
                losses["attribute"] = attribute_regularization(z[:, attribute_dim], parts.pop(0), delta)
                losses["loss"] = losses["loss"] + gamma * losses["attribute"]
            if similarity is not None:
                losses["similarity"] = _feature_reconstruction_loss(similarity(x), similarity(x_hat))
                losses["loss"] = losses["loss"] + similarity_weight * losses["similarity"]
            optimizer.zero_grad()
            backward_and_step(optimizer, losses["loss"])
        schedule.step()
        return {name: value.detach() for name, value in losses.items()}

    data = tuple(t for t in (x_train, labels, attribute) if t is not None)
    data = data[0] if len(data) == 1 else data
    with modes_restored_on_error(model):
        model.train()
        history = fit(step, data, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress, device=device,
                      desc=type(model).__name__ if model.n_classes == 0 else "conditional VAE")
    model.eval()
    return history


@torch.no_grad()
def evaluate_elbo(model: ConvVAE, x: torch.Tensor, labels: torch.Tensor | None = None, *,
                  sigma_x: float = DEFAULT_SIGMA_X, seed: int = 0, batch_size: int = 250) -> dict[str, float]:
    """The negative ELBO (β = 1) and its two terms on a data set, in nats per image (one z per image, seeded),
    computed on the model's device. NaN/inf or empty ``x`` raise ValueError."""
    _validate.module(model, "model", ConvVAE, what="the VAE to evaluate")
    x = _check_images(model, x, "x", on_model=False)
    model._check_labels(labels, len(x))
    sigma_x = _sigma_x(sigma_x)
    seed = _validate.seed(seed)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    generator = torch.Generator().manual_seed(seed)
    device = _validate.device_of(model)
    totals = {"negative_elbo": 0.0, "reconstruction": 0.0, "kl": 0.0}
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size].to(device)
        yb = None if labels is None else labels[start:start + batch_size].to(device)
        x_hat, mu, logvar = model(xb, yb, generator)
        terms = _negative_elbo(x_hat, xb, mu, logvar, sigma_x, 1.0)
        for name, value in zip(totals, terms):
            totals[name] += value.item() * len(xb)
    return {name: value / len(x) for name, value in totals.items()}


@torch.no_grad()
def sample_prior(model: ConvVAE, n: int, labels: torch.Tensor | None = None,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """n new images f(z), z ~ p(z) = N(0, I) (with labels: f(z, c) for the given conditions), on
    the model's device; z is drawn with ``generator`` (on the CPU for ``torch.Generator()``)."""
    _validate.module(model, "model", ConvVAE, what="the VAE to sample from")
    n = _validate.samples(n)
    _validate.memory(4 * n * model.size**2, "n", f"{n:,} images of {model.size}×{model.size} pixels")
    model._check_labels(labels, n)
    _validate.generator(generator)
    device = _validate.device_of(model)
    z = torch.randn(n, model.latent_dim, generator=generator).to(device)
    return model.decode(z, None if labels is None else labels.to(device))


@torch.no_grad()
def interpolate(decode: Callable[[torch.Tensor], torch.Tensor], z0: torch.Tensor, z1: torch.Tensor,
                steps: int = 8) -> torch.Tensor:
    """Decodes of t·z₀ + (1 − t)·z₁ for t from 1 to 0 in ``steps`` even steps, (steps, 1, H, W).

    z₀ and z₁: finite single codes (latent_dim,) of one shape and device; steps ≥ 2 (both ends)."""
    _validate.function(decode, "decode", what="a decoder of a batch of codes (B, latent_dim)")
    for name, z in (("z0", z0), ("z1", z1)):
        _validate.tensor(z, name, shape=("latent_dim",), what="single code")
        if len(z) == 0:
            raise ValueError(f"{name} must hold at least one latent coordinate, got {_validate.describe(z)}")
    _validate.same_shape(z0, z1, ("z0", "z1"), "two codes of one latent space")
    _validate.same_device((z0, z1), ("z0", "z1"))
    for name, z in (("z0", z0), ("z1", z1)):
        _validate.tensor(z, name, finite=True, what="single code")
    steps = _validate.integer(steps, "steps", minimum=2, maximum=_validate.MAX_SAMPLES,
                              why="t = 1 and t = 0 at least; " + _validate.WHY_SAMPLES)
    _validate.memory(steps * z0.numel() * z0.element_size(), "steps", f"{steps:,} codes")
    t = torch.linspace(1, 0, steps, dtype=z0.dtype, device=z0.device)[:, None]
    return decode(t * z0 + (1 - t) * z1)


# ---------------------------------------------------------------------------------------------
# Two gradient estimators for ∂/∂μ E_{z~N(μ, σ²)}[f(z)]
# ---------------------------------------------------------------------------------------------

def pathwise_gradients(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor, sigma: torch.Tensor,
                       eps: torch.Tensor) -> torch.Tensor:
    """Single-sample reparametrization estimates f′(z) with z = μ + σ ε, one per ε (ε broadcasts against μ).

    ∂/∂μ E[f(z)] = E_ε[∂f(μ + σε)/∂μ] = E_ε[f′(μ + σε)]: the gradient goes *through* the sample.
    μ and σ: finite tensors of one shape, σ ≥ 0; ε: finite draws whose last dimensions are μ's shape.
    """
    _check_estimator(f, mu, sigma, eps, positive=False)
    z = (mu + sigma * eps).detach().requires_grad_()
    (grad,) = torch.autograd.grad(f(z).sum(), z)
    return grad


SCORE_FUNCTION_BASELINES = (None, "leave_one_out")


def _check_estimator(f, mu, sigma, eps, *, positive: bool) -> None:
    """The arguments of the two estimators: a function, and finite μ, σ (one shape; σ ≥ 0, or > 0 where
    the estimator divides by σ²) and ε (non-empty, its last dimensions μ's shape) with values on one device."""
    _validate.function(f, "f", what="a function of a batch of samples z → values f(z)")
    names = ("mu", "sigma", "eps")
    whats = ("tensor of means μ", "tensor of standard deviations σ", "tensor of standard normal draws ε")
    for value, name, what in zip((mu, sigma, eps), names, whats):
        _validate.tensor(value, name, what=what)
        _validate.values(value, name)
    _validate.same_device((mu, sigma, eps), names)
    _validate.same_shape(mu, sigma, ("mu", "sigma"), "one standard deviation per mean")
    if eps.ndim < mu.ndim or eps.shape[eps.ndim - mu.ndim:] != mu.shape:
        raise ValueError(f"eps must be a floating-point tensor of draws (n, {', '.join(map(str, mu.shape))}) whose "
                         f"last dimensions are mu's shape {tuple(mu.shape)}, got {_validate.describe(eps)}")
    if eps.numel() == 0:
        raise ValueError(f"eps must hold at least one draw, got {_validate.describe(eps)}")
    for value, name, what in zip((mu, sigma, eps), names, whats):
        _validate.tensor(value, name, finite=True, what=what)
    if (sigma <= 0).any() if positive else (sigma < 0).any():
        bound = "> 0 (the score divides by σ²)" if positive else "≥ 0"
        raise ValueError(f"sigma must be {bound}, got values down to {sigma.min().item():g}")


@torch.no_grad()
def score_function_gradients(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor, sigma: torch.Tensor,
                             eps: torch.Tensor, *, baseline: str | None = None) -> torch.Tensor:
    """Single-sample score-function (REINFORCE) estimates f(z) · ∂ log N(z; μ, σ²)/∂μ = f(z) (z − μ)/σ².

    ∂/∂μ E[f(z)] = E[f(z) ∂ log q(z)/∂μ]: needs only values of f, never its gradient — and pays
    for that with a much larger variance. The samples z_i = μ + σ ε_i run along the first
    dimension of ``eps``; one estimate per sample, shaped like z.

    ``baseline="leave_one_out"`` (Kool, van Hoof & Welling, 2019, "Buy 4 REINFORCE samples, get a
    baseline for free!"; Mohamed et al., JMLR 2020, on control variates) subtracts from each
    f(z_i) the mean of the other n − 1 samples' values,

        ĝ_i = (f(z_i) − b_i) (z_i − μ)/σ²,   b_i = (1/(n − 1)) Σ_{j≠i} f(z_j)
            = n/(n − 1) · (f(z_i) − f̄) (z_i − μ)/σ²,   f̄ = (1/n) Σ_j f(z_j).

    Each ĝ_i stays unbiased: b_i does not depend on z_i and E[(z_i − μ)/σ²] = 0, so
    E[b_i (z_i − μ)/σ²] = 0. Any constant added to f cancels in f(z_i) − b_i. (Subtracting the
    mean f̄ itself, z_i included, would shrink the estimate by (n − 1)/n.) The n estimates are then
    no longer independent; their mean is the usual leave-one-out estimator. Needs n ≥ 2.
    μ and σ: finite tensors of one shape, σ > 0; ε: finite draws whose last dimensions are μ's shape.
    """
    _check_estimator(f, mu, sigma, eps, positive=True)
    if baseline not in SCORE_FUNCTION_BASELINES:
        raise ValueError(f"baseline must be one of {SCORE_FUNCTION_BASELINES} (None: no baseline), got {baseline!r}")
    if baseline == "leave_one_out" and (eps.ndim == 0 or eps.shape[0] < 2):
        raise ValueError(f"the leave-one-out baseline needs at least 2 samples along eps's first dimension, "
                         f"got eps of shape {tuple(eps.shape)}")
    z = mu + sigma * eps
    values = f(z)
    if values.ndim < z.ndim:  # one f per sample of a vector z: broadcast it over z's coordinates
        values = values.reshape(*values.shape, *[1] * (z.ndim - values.ndim))
    if baseline == "leave_one_out":
        n = values.shape[0]
        # f(z_i) − b_i, written as n/(n − 1)(f(z_i) − f̄): no large sums of large values, same number
        values = n / (n - 1) * (values - values.mean(dim=0, keepdim=True))
    return values * (z - mu) / sigma**2


def exact_estimator_variances(a: torch.Tensor | float, sigma: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact variances of the two single-sample estimators of ∂/∂μ E[(z − k)²], z ~ N(μ, σ²), a = μ − k.

    Pathwise: f′(z) = 2(z − k) = 2(a + σε), variance 4σ² (4 at σ = 1, whatever a).
    Score function at σ = 1: (a + ε)² ε, variance E[(a + ε)⁴ ε²] − (2a)² = a⁴ + 14a² + 15.
    (For general σ: σ⁻²·(a⁴ + 14a²σ² + 15σ⁴).)

    ``a``: a finite number, or numbers (a floating tensor, a list, an array) of any shape; σ > 0.
    """
    if isinstance(a, torch.Tensor):
        _validate.tensor(a, "a", what="tensor of offsets a = μ − k")
        _validate.values(a, "a")
    elif isinstance(a, bool) or a is None or isinstance(a, str):
        raise TypeError("a must be a number or a floating-point tensor of offsets a = μ − k, "
                        f"got {_validate.describe(a)}")
    try:
        a = torch.as_tensor(a, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"a must be a number or a floating-point tensor of offsets a = μ − k, "
                        f"got {_validate.describe(a)} ({error})") from None
    _validate.tensor(a, "a", finite=True, what="tensor of offsets a = μ − k")
    sigma = _validate.number(sigma, "sigma", minimum=0, open_minimum=True, why="a standard deviation")
    pathwise = torch.full_like(a, 4 * sigma**2)
    score = (a**4 + 14 * a**2 * sigma**2 + 15 * sigma**4) / sigma**2
    return pathwise, score


ENCODER_GRADIENT_ROWS = (
    "pathwise",
    "score function, log-likelihood with its constant",
    "score function, constant dropped",
    "score function, leave-one-out baseline",
)


def encoder_gradient_variances(model: ConvVAE, x: torch.Tensor, *, n_samples: int = 256,
                               sigma_x: float = DEFAULT_SIGMA_X, seed: int = 0) -> dict[str, torch.Tensor]:
    """Variances of single-sample estimates of ∂/∂μ E_q[log p_θ(x|z)], pathwise and three score-function ones.

    For each image, q_φ(z|x) = N(μ, σ²) comes from the trained encoder, and ``n_samples`` draws
    of ε give that many estimates of the gradient of the reconstruction term with respect to μ
    (the encoder's output, through which every encoder weight gets its gradient). The same ε
    serve every row (common random numbers). Returns a dict of variances per image and latent
    dimension, each (B, latent_dim), under the keys of ``ENCODER_GRADIENT_ROWS``:

    - ``"pathwise"``: ∇_z log p_θ(x|z) at z = μ + σ ε;
    - ``"score function, log-likelihood with its constant"``: f(z) (z − μ)/σ² with
      f(z) = log p_θ(x|z) = −α‖x − f_θ(z)‖² − c, α = 1/(2σ_x²), c = (D/2) log(2πσ_x²);
    - ``"score function, constant dropped"``: the same with f(z) = −α‖x − f_θ(z)‖²;
    - ``"score function, leave-one-out baseline"``: the full log-likelihood with the
      leave-one-out baseline of :func:`score_function_gradients` (which removes c by itself).

    Why the constant c matters to one estimator and not the other: the pathwise estimate
    ∇_z(f(z) − c) = ∇_z f(z) loses c sample by sample. The score-function estimate is
    (f(z) − c) ε/σ for z = μ + σε; c ε/σ has mean 0, so every row estimates the same gradient,
    but it adds to the variance of coordinate j

        Var[(f − c) ε_j/σ_j] = Var[f ε_j/σ_j] − 2c E[f ε_j²]/σ_j² + c²/σ_j²,

    and c is thousands of nats (≈ 3,764 for D = 64² pixels at σ_x = 1) against a squared-error
    term that varies by a few. A baseline b_i removes any constant, because f(z_i) − b_i does not
    change when c is added to every value of f.
    """
    _validate.module(model, "model", ConvVAE, what="a trained VAE")
    if model.n_classes:
        raise ValueError(f"model must be an unconditional VAE (n_classes = 0), got n_classes = {model.n_classes}")
    x = _check_images(model, x, "x", on_model=True)
    n_samples = _validate.integer(n_samples, "n_samples", minimum=2, maximum=_validate.MAX_SAMPLES,
                                  why="a variance needs two samples; " + _validate.WHY_SAMPLES)
    _validate.memory(n_samples * model.size**2 * x.element_size(), "n_samples",
                     f"{n_samples:,} decoded images of {model.size}×{model.size} pixels")
    sigma_x = _sigma_x(sigma_x)
    seed = _validate.seed(seed)
    alpha = 1 / (2 * sigma_x**2)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        mu, logvar = model.encode(x)
    sigma = torch.exp(0.5 * logvar)
    variances: dict[str, list[torch.Tensor]] = {row: [] for row in ENCODER_GRADIENT_ROWS}
    for b in range(len(x)):
        target = x[b:b + 1].expand(n_samples, *x.shape[1:])

        def log_likelihood(z: torch.Tensor, target: torch.Tensor = target) -> torch.Tensor:
            return -_gaussian_nll(model.decode(z), target, sigma_x)

        def without_constant(z: torch.Tensor, target: torch.Tensor = target) -> torch.Tensor:
            return -alpha * (target - model.decode(z)).pow(2).flatten(1).sum(dim=1)

        eps = torch.randn(n_samples, model.latent_dim, generator=generator).to(mu.device)
        estimates = {
            "pathwise": pathwise_gradients(log_likelihood, mu[b], sigma[b], eps),
            "score function, log-likelihood with its constant":
                score_function_gradients(log_likelihood, mu[b], sigma[b], eps),
            "score function, constant dropped": score_function_gradients(without_constant, mu[b], sigma[b], eps),
            "score function, leave-one-out baseline":
                score_function_gradients(log_likelihood, mu[b], sigma[b], eps, baseline="leave_one_out"),
        }
        for row, estimate in estimates.items():
            variances[row].append(estimate.var(dim=0))
    return {row: torch.stack(values) for row, values in variances.items()}
