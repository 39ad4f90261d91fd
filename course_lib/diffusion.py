"""Lecture 07: diffusion models — the forward process, denoising score matching, DDPM and DDIM.

Notation of the lecture (Ho et al., 2020; Song et al., 2021). A noise schedule ᾱ_1 > … > ᾱ_T
fixes, at every step t, a signal scale α_t = √ᾱ_t and a noise scale σ_t = √(1 − ᾱ_t). The forward
process noises data x_0 in closed form,

    q(x_t | x_0) = N(α_t x_0, σ_t² I),   x_t = α_t x_0 + σ_t ε,   ε ~ N(0, I),

and a network ε_θ(x_t, t) learns to predict the noise. By Tweedie's formula that is a score
estimate, ∇ log p_t(x_t) ≈ −ε_θ(x_t, t)/σ_t, and the estimate of the clean point is
x̂_0 = (x_t − σ_t ε_θ)/α_t. Sampling runs the process backwards from x_T ~ N(0, I): stochastic
ancestral steps (DDPM) or deterministic ones (DDIM), on any decreasing sub-sequence of steps.

Index convention: t = 0 is the data itself (ᾱ_0 = 1, σ_0 = 0), t = 1 … T are the noise steps, so
a sampler's last step goes to t = 0 and returns x̂_0. Networks see the noise level as its
log signal-to-noise ratio, λ_t = log(α_t²/σ_t²), so one network serves every schedule and sampler.

Every public function checks its arguments before any work (``course_lib._validate``) and raises a
TypeError or ValueError naming the argument: NaN/inf data, empty batches, steps outside the schedule,
class labels outside 0 … n_classes (n_classes itself is ∅). Forward passes check shapes, not values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import integrate
from torch import nn
from tqdm.auto import tqdm

from course_lib import _validate
from course_lib.gan import mixture_sampler
from course_lib.training import (History, LossWatch, WeightAverages, adam_with_schedule, backward_and_step, located,
                                 single_threaded)

__all__ = [
    "NoiseSchedule",
    "linear_schedule",
    "cosine_schedule",
    "q_sample",
    "epsilon_loss",
    "epsilon_to_score",
    "ddpm_step",
    "ddim_step",
    "guided_epsilon",
    "mixture_score",
    "noise_embedding",
    "ToyDenoiser",
    "UNet",
    "DiffusionModel",
    "SliceDiffusion",
    "toy_diffusion",
    "train_diffusion",
    "train_toy_diffusion",
    "sample",
    "sampling_steps",
    "model_score",
    "step_at_noise",
    "score_error",
    "reconstruct",
    "anomaly_map",
    "probability_flow_log_prob",
]


# =============================================================================================
# The forward process
# =============================================================================================

@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """ᾱ_t for t = 0 … T (float64, ᾱ_0 = 1, decreasing): the whole forward process.

    α_t = √ᾱ_t scales the signal and σ_t = √(1 − ᾱ_t) the noise; β_t = 1 − ᾱ_t/ᾱ_{t−1} is the
    variance added at step t (Ho et al. 2020, eq. 2).
    """

    alpha_bar: torch.Tensor

    def __post_init__(self) -> None:
        a = _validate.values(_validate.tensor(self.alpha_bar, "alpha_bar", ndim=1, finite=True, what="tensor of ᾱ_t"),
                             "alpha_bar")
        if a.dtype != torch.float64:
            raise TypeError(f"alpha_bar must be float64 (1 − ᾱ_1 is about 1e-6: float32 loses it), got {_validate.describe(a)}")
        if len(a) < 2 or a[0] != 1 or not bool((a[1:] < a[:-1]).all()) or not bool((a[1:] > 0).all()):
            raise ValueError("alpha_bar must start at ᾱ_0 = 1 and decrease strictly, staying above 0, "
                             f"got {_validate.describe(a)}")

    @property
    def T(self) -> int:
        return len(self.alpha_bar) - 1

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return self.alpha_bar[t].sqrt().float()

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        return (1 - self.alpha_bar[t]).sqrt().float()

    def log_snr(self, t: torch.Tensor) -> torch.Tensor:
        """λ_t = log(α_t²/σ_t²) = log(ᾱ_t/(1 − ᾱ_t)): +∞ at t = 0, falling with t."""
        a = self.alpha_bar[t]
        return (a.log() - (-a).log1p()).float()

    def check_step(self, t: torch.Tensor | int, name: str = "t", minimum: int = 1) -> torch.Tensor:
        """``t`` as a LongTensor of steps in ``minimum`` … T, or a clear error."""
        if isinstance(t, bool) or not isinstance(t, (int, torch.Tensor)):
            raise TypeError(f"{name} must be an int or an integer tensor of steps, got {_validate.describe(t)}")
        t = torch.as_tensor(t)
        if t.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"{name} must hold integer steps (int64), got {_validate.describe(t)}")
        _validate.values(t, name)
        if bool((t < minimum).any()) or bool((t > self.T).any()):
            raise ValueError(f"{name} must hold steps in {minimum} … {self.T}, got values from "
                             f"{t.min().item()} to {t.max().item()}")
        return t.long()


def _schedule_from_betas(betas: torch.Tensor) -> NoiseSchedule:
    return NoiseSchedule(torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, 0)]))


def linear_schedule(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
    """β_t rising linearly from ``beta_start`` to ``beta_end`` over T steps (Ho et al. 2020).

    Its smallest noise is σ_1 = √β_1 (0.01 with the defaults): the finest detail the model is
    trained to denoise.
    """
    T = _validate.integer(T, "T", minimum=2, maximum=100_000, why="the number of noise steps")
    beta_start = _validate.number(beta_start, "beta_start", minimum=0, maximum=1)
    beta_end = _validate.number(beta_end, "beta_end", minimum=0, maximum=1)
    if not 0 < beta_start <= beta_end < 1:
        raise ValueError(f"need 0 < beta_start ≤ beta_end < 1, got {beta_start!r} and {beta_end!r}")
    return _schedule_from_betas(torch.linspace(beta_start, beta_end, T, dtype=torch.float64))


def cosine_schedule(T: int = 1000, sigma_min: float = 1e-3, sigma_max: float = 0.9999) -> NoiseSchedule:
    """ᾱ_t = cos² φ_t, with the angle φ_t rising evenly in t from arcsin ``sigma_min`` to arcsin ``sigma_max``.

    The cosine schedule of Nichol & Dhariwal (2021), written with its end points explicit:
    σ_t = sin φ_t runs from σ_1 = ``sigma_min`` (the finest noise level trained) to σ_T =
    ``sigma_max``; its log-SNR, −2 log tan φ_t, falls almost linearly in t over most of the range,
    so every noise scale gets its share of steps — unlike the linear schedule, which spends most
    steps near pure noise.
    """
    T = _validate.integer(T, "T", minimum=2, maximum=100_000, why="the number of noise steps")
    sigma_min = _validate.number(sigma_min, "sigma_min", minimum=0, maximum=1)
    sigma_max = _validate.number(sigma_max, "sigma_max", minimum=0, maximum=1)
    if not 0 < sigma_min < sigma_max < 1:
        raise ValueError(f"need 0 < sigma_min < sigma_max < 1, got {sigma_min!r} and {sigma_max!r}")
    angles = torch.linspace(math.asin(sigma_min), math.asin(sigma_max), T, dtype=torch.float64)
    return NoiseSchedule(torch.cat([torch.ones(1, dtype=torch.float64), angles.cos() ** 2]))


def _per_sample(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(B,) → (B, 1, …, 1), to scale each sample of ``like``."""
    return values.to(like.device).view(-1, *([1] * (like.ndim - 1)))


def _check_schedule(schedule: object, name: str = "schedule") -> NoiseSchedule:
    """A :class:`NoiseSchedule`, or a TypeError."""
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"{name} must be a NoiseSchedule (e.g. cosine_schedule()), got {_validate.describe(schedule)}")
    return schedule


def _check_batch(value: object, name: str) -> torch.Tensor:
    """A finite floating batch (B, …) with B ≥ 1. A meta tensor passes (shapes only, no values to check): the
    forward process and the steps are elementwise arithmetic, which works on meta tensors."""
    return _validate.batch(value, name, finite=True)


def _check_partner(value: object, name: str, like: torch.Tensor, like_name: str) -> torch.Tensor:
    """A finite floating tensor of ``like``'s shape, on its device (ε_θ, noise, … paired with a batch)."""
    value = _validate.tensor(value, name, finite=True)
    _validate.same_shape(like, value, (like_name, name))
    _validate.same_device([like, value], [like_name, name])
    return value


def _check_model(model: object, name: str = "model") -> DiffusionModel:
    """A :class:`DiffusionModel` (e.g. :func:`toy_diffusion` or ``SliceDiffusion(...).model``)."""
    return _validate.module(model, name, DiffusionModel, what="a diffusion model, e.g. toy_diffusion(...) or "
                                                              "SliceDiffusion(...).model")


def _check_data(x: object, name: str, model: DiffusionModel, *, what: str = "batch") -> torch.Tensor:
    """Data for ``model``: a finite, non-empty floating tensor (B, *data_shape) that holds values, in the
    dtype of the model's parameters (the model moves it to its device itself)."""
    x = _validate.tensor(x, name, shape=("B", *model.data_shape), finite=True, nonempty=True, what=what)
    _validate.values(x, name)
    _validate.dtype_like(x, name, model)
    return x


def _check_labels(labels: object, name: str, model: DiffusionModel, length: int) -> torch.Tensor | None:
    """None, or class labels (length,) for the model's network: 0 … n_classes, where n_classes is ∅."""
    if labels is None:
        return None
    n_classes = getattr(model.network, "n_classes", None)
    if isinstance(n_classes, int) and not n_classes:
        raise ValueError(f"{name} must be None for an unconditional network (n_classes = 0), "
                         f"got {_validate.describe(labels)}")
    bound = n_classes + 1 if isinstance(n_classes, int) else None  # class n_classes is the null condition ∅
    return _validate.labels(labels, name, n_classes=bound, length=length)


def q_sample(x0: torch.Tensor, t: torch.Tensor, schedule: NoiseSchedule, noise: torch.Tensor) -> torch.Tensor:
    """x_t = α_t x_0 + σ_t ε: a draw of q(x_t | x_0) = N(α_t x_0, σ_t² I) in closed form (Ho et al. 2020, eq. 4).

    Raises ValueError for NaN/inf in ``x0`` or ``noise``, an empty batch or steps outside 0 … T."""
    x0 = _check_batch(x0, "x0")
    schedule = _check_schedule(schedule)
    t = schedule.check_step(t, minimum=0)
    if t.shape != (len(x0),):
        raise ValueError(f"t must hold one step per sample, shape ({len(x0)},), got {_validate.describe(t)}")
    noise = _check_partner(noise, "noise", x0, "x0")
    return _q_sample(x0, t, schedule, noise)


def _q_sample(x0: torch.Tensor, t: torch.Tensor, schedule: NoiseSchedule, noise: torch.Tensor) -> torch.Tensor:
    """:func:`q_sample` without its checks (for the training loop, whose inputs are checked once)."""
    return _per_sample(schedule.alpha(t), x0) * x0 + _per_sample(schedule.sigma(t), x0) * noise


def epsilon_loss(eps_pred: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """L_simple = E‖ε − ε_θ(x_t, t)‖²: the mean over every element of the batch (Ho et al. 2020, eq. 14).

    Over t it is denoising score matching at every noise level at once: ε_θ/σ_t is trained towards
    −∇ log q(x_t | x_0), whose minimiser is −∇ log p_t(x_t) (Vincent 2011).
    """
    eps_pred = _validate.values(_check_batch(eps_pred, "eps_pred"), "eps_pred")
    eps = _check_partner(eps, "eps", eps_pred, "eps_pred")
    return ((eps - eps_pred) ** 2).mean()


def epsilon_to_score(eps_pred: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """∇ log p_t(x_t) ≈ −ε_θ(x_t, t)/σ_t (Tweedie: E[α_t x_0 | x_t] = x_t + σ_t² ∇ log p_t(x_t)).

    ``eps_pred`` (B, …), ``sigma`` (B,): one noise scale per sample, each > 0 (σ_0 = 0 has no score)."""
    eps_pred = _validate.values(_check_batch(eps_pred, "eps_pred"), "eps_pred")
    sigma = _validate.values(_validate.tensor(sigma, "sigma", shape=(len(eps_pred),), finite=True,
                                              what="tensor of noise scales", why="one σ_t per sample"), "sigma")
    _validate.same_device([eps_pred, sigma], ["eps_pred", "sigma"])
    if not bool((sigma > 0).all()):
        raise ValueError(f"sigma must be > 0 (the score is −ε/σ), got a minimum of {sigma.min().item()!r}")
    return _epsilon_to_score(eps_pred, sigma)


def _epsilon_to_score(eps_pred: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    return -eps_pred / _per_sample(sigma, eps_pred)


# =============================================================================================
# One step of the reverse process
# =============================================================================================

def _steps(schedule: NoiseSchedule, t: int, s: int) -> tuple[float, float, float, float]:
    schedule = _check_schedule(schedule)
    t = _validate.integer(t, "t", minimum=1, maximum=schedule.T)
    s = _validate.integer(s, "s", minimum=0, maximum=t - 1, why="a step before t")
    a_t, a_s = schedule.alpha_bar[t].item(), schedule.alpha_bar[s].item()
    return math.sqrt(a_t), math.sqrt(1 - a_t), math.sqrt(a_s), math.sqrt(1 - a_s)


def ddpm_step(x_t: torch.Tensor, eps_pred: torch.Tensor, t: int, s: int, schedule: NoiseSchedule,
              noise: torch.Tensor) -> torch.Tensor:
    """An ancestral step x_t → x_s (s < t): a draw of q(x_s | x_t, x̂_0), with x̂_0 from ε_θ.

    The forward process's posterior is Gaussian (Ho et al. 2020, eqs. 6–7, for any s < t):

        μ̃ = (α_s β_{t|s}/σ_t²) x̂_0 + (α_{t|s} σ_s²/σ_t²) x_t,   β̃ = σ_s² β_{t|s}/σ_t²,

    with α_{t|s} = α_t/α_s and β_{t|s} = 1 − α_{t|s}²; x_s = μ̃ + √β̃ z with z = ``noise``.
    At s = 0, β̃ = 0 and the step returns x̂_0. Raises ValueError for NaN/inf inputs or s ≥ t.
    """
    x_t = _check_batch(x_t, "x_t")
    eps_pred = _check_partner(eps_pred, "eps_pred", x_t, "x_t")
    steps = _steps(schedule, t, s)
    noise = _check_partner(noise, "noise", x_t, "x_t")
    return _ddpm_step(x_t, eps_pred, steps, noise)


def _ddpm_step(x_t: torch.Tensor, eps_pred: torch.Tensor, steps: tuple[float, float, float, float],
               noise: torch.Tensor) -> torch.Tensor:
    """:func:`ddpm_step` without its checks, from ``_steps``'s scales (for the samplers' inner loops)."""
    a_t, s_t, a_s, s_s = steps
    x0 = (x_t - s_t * eps_pred) / a_t
    a_ts = a_t / a_s
    b_ts = 1 - a_ts**2
    mean = (a_s * b_ts / s_t**2) * x0 + (a_ts * s_s**2 / s_t**2) * x_t
    return mean + math.sqrt(s_s**2 * b_ts / s_t**2) * noise


def ddim_step(x_t: torch.Tensor, eps_pred: torch.Tensor, t: int, s: int, schedule: NoiseSchedule) -> torch.Tensor:
    """A deterministic DDIM step x_t → x_s (Song et al. 2021, eq. 12 with σ = 0).

    x_s = α_s x̂_0 + σ_s ε_θ, with x̂_0 = (x_t − σ_t ε_θ)/α_t: keep the predicted noise, rescale
    the predicted clean point. It is an Euler step of the probability-flow ODE in the variables
    x/α and σ/α, so a few dozen steps suffice where DDPM takes hundreds.
    """
    x_t = _check_batch(x_t, "x_t")
    eps_pred = _check_partner(eps_pred, "eps_pred", x_t, "x_t")
    return _ddim_step(x_t, eps_pred, _steps(schedule, t, s))


def _ddim_step(x_t: torch.Tensor, eps_pred: torch.Tensor, steps: tuple[float, float, float, float]) -> torch.Tensor:
    """:func:`ddim_step` without its checks (for the samplers' inner loops)."""
    a_t, s_t, a_s, s_s = steps
    x0 = (x_t - s_t * eps_pred) / a_t
    return a_s * x0 + s_s * eps_pred


def guided_epsilon(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, w: float) -> torch.Tensor:
    """Classifier-free guidance: ε̃ = (1 + w) ε_θ(x_t, y) − w ε_θ(x_t, ∅) (Ho & Salimans 2021, eq. 6).

    In scores, ∇ log p(x_t | y) + w ∇ log p(y | x_t) up to the implicit classifier: w = 0 is the
    conditional model, w > 0 pushes samples towards what makes y likely.
    """
    eps_cond = _check_batch(eps_cond, "eps_cond")
    eps_uncond = _check_partner(eps_uncond, "eps_uncond", eps_cond, "eps_cond")
    w = _validate.number(w, "w", minimum=0, why="the guidance weight")
    return _guided_epsilon(eps_cond, eps_uncond, w)


def _guided_epsilon(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, w: float) -> torch.Tensor:
    return (1 + w) * eps_cond - w * eps_uncond


# =============================================================================================
# The exact score of a Gaussian mixture: the ground truth on the toys
# =============================================================================================

def mixture_score(x: torch.Tensor, modes: torch.Tensor, std: float, alpha: float = 1.0, sigma: float = 0.0) -> torch.Tensor:
    """∇ log p_t(x) for data p_0 = (1/K) Σ_k N(μ_k, s² I) noised to x = α x_0 + σ ε.

    p_t is again a mixture, (1/K) Σ_k N(α μ_k, v I) with v = α² s² + σ², so its score is exact:

        ∇ log p_t(x) = Σ_k w_k(x) (α μ_k − x)/v,   w_k = softmax_k(−‖x − α μ_k‖²/(2v)).
    """
    x = _validate.tensor(x, "x", shape=("n", "d"), finite=True, nonempty=True, what="tensor of points")
    _validate.values(x, "x")
    modes = _validate.tensor(modes, "modes", shape=("K", x.shape[1]), finite=True, nonempty=True,
                             what="tensor of mode centres")
    _validate.values(modes, "modes")
    std = _validate.number(std, "std", minimum=0)
    alpha = _validate.number(alpha, "alpha", minimum=0, why="the signal scale α")
    sigma = _validate.number(sigma, "sigma", minimum=0, why="the noise scale σ")
    variance = alpha**2 * std**2 + sigma**2
    if not variance > 0:
        raise ValueError(f"the noised mixture's variance α²s² + σ² must be positive, got {variance!r}")
    centres = alpha * modes.to(x)
    weights = torch.softmax(-torch.cdist(x, centres) ** 2 / (2 * variance), dim=1)
    return (weights @ centres - x) / variance


# =============================================================================================
# Networks
# =============================================================================================

def noise_embedding(log_snr: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the noise level (Vaswani et al. 2017; Ho et al. 2020): (B,) → (B, dim).

    Angular frequencies are geometric from π/40 to 1,000·π/40: the slowest turns a quarter of a
    cycle over the log-SNR range [−20, 20] that any schedule here spans, the fastest 500 cycles,
    so the network can tell apart nearby levels at every scale. Raises ValueError for NaN/±inf levels
    (λ_0 = +∞ at t = 0 has no features: embed steps t ≥ 1).
    """
    log_snr = _validate.tensor(log_snr, "log_snr", ndim=1, finite=True, nonempty=True,
                               what="tensor of log-SNRs", why="one per sample")
    _validate.values(log_snr, "log_snr")
    dim = _check_embed(dim, "dim")
    return _noise_embedding(log_snr, dim)


def _check_embed(dim: object, name: str) -> int:
    dim = _validate.width(dim, name)
    if dim % 2:
        raise ValueError(f"{name} must be even (a sine and a cosine per frequency), got {dim!r}")
    return dim


def _noise_embedding(log_snr: torch.Tensor, dim: int) -> torch.Tensor:
    """:func:`noise_embedding` without its checks (the networks' forward passes check shapes only)."""
    half = dim // 2
    freqs = torch.exp(torch.linspace(0, math.log(1000), half, device=log_snr.device)) * (math.pi / 40)
    angles = log_snr.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ToyDenoiser(nn.Module):
    """ε_θ(x_t, λ_t) for 2-D points: an MLP on the point and the noise level's sinusoidal features.

    With ``fourier`` = K > 0 the point also enters as sin/cos of 2π·2^k·x for k = 0 … K − 1
    (Fourier features, Tancik et al. 2020): an MLP learns slowly what varies fast in its input,
    and the denoiser at small noise varies on the scale of a mode's width.
    """

    def __init__(self, dim: int = 2, hidden: int = 256, depth: int = 3, embed: int = 32, fourier: int = 0):
        dim = _validate.width(dim, "dim")
        hidden = _validate.width(hidden, "hidden")
        depth = _validate.layers(depth, "depth", minimum=0)
        embed = _check_embed(embed, "embed")
        fourier = _validate.integer(fourier, "fourier", minimum=0, maximum=MAX_FOURIER, why=WHY_FOURIER)
        n_in = dim + 2 * dim * fourier + embed
        n_params = ((n_in + 1) * hidden + max(depth - 1, 0) * (hidden + 1) * hidden
                    + ((hidden if depth else n_in) + 1) * dim)
        _validate.memory(4 * n_params, "hidden", f"a ToyDenoiser of {n_params:,} float32 parameters")
        super().__init__()
        self.dim, self.embed = dim, embed
        self.register_buffer("frequencies", 2 * math.pi * 2.0 ** torch.arange(fourier, dtype=torch.float32))
        layers: list[nn.Module] = []
        width = dim + 2 * dim * fourier + embed
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, dim))

    def forward(self, x_t: torch.Tensor, log_snr: torch.Tensor) -> torch.Tensor:
        """ε (or v) for points ``x_t`` (B, dim) at noise levels ``log_snr`` (B,). NaN passes through."""
        x_t = _validate.tensor(x_t, "x_t", shape=("B", self.dim), nonempty=True, what="batch of points")
        _validate.for_module(x_t, "x_t", self)
        _check_levels(log_snr, "log_snr", x_t)
        angles = (x_t[:, :, None] * self.frequencies).flatten(1)
        return self.net(torch.cat([x_t, angles.sin(), angles.cos(), _noise_embedding(log_snr, self.embed)], dim=1))


# Fourier features sin/cos(2π·2^k·x), k < K: beyond 2^30 a float32 x has no fractional digits left, so
# the features are noise (and 2^128 overflows float32).
MAX_FOURIER = 30
WHY_FOURIER = "frequencies 2π·2^k beyond k = 30 are finer than float32 resolves"


def _check_levels(log_snr: object, name: str, x_t: torch.Tensor) -> torch.Tensor:
    """A forward pass's noise levels: a floating (B,) tensor on x_t's device (no finiteness check: cheap)."""
    log_snr = _validate.tensor(log_snr, name, shape=(len(x_t),), what="tensor of log-SNRs",
                               why="one per sample of x_t")
    _validate.same_device([x_t, log_snr], ["x_t", name])
    return log_snr


class _ResBlock(nn.Module):
    """GroupNorm → SiLU → conv, twice, with the noise level (and class) added in between; a skip path."""

    def __init__(self, c_in: int, c_out: int, c_embed: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.embed = nn.Linear(c_embed, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(8, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(nn.functional.silu(self.norm1(x)))
        h = h + self.embed(embedding)[:, :, None, None]
        h = self.conv2(nn.functional.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """A small U-Net ε_θ(x_t, λ_t, y) for slices (Ronneberger et al. 2015; as in Ho et al. 2020, without attention).

    One residual block per resolution on the way down (stride-2 convolutions halve the size) and
    one on the way up (nearest upsampling, then the skip from the same resolution concatenated).
    The noise level enters every block through its sinusoidal features; with ``n_classes`` > 0
    a learnt class embedding is added to it, and class ``n_classes`` means "no condition" (∅),
    for classifier-free guidance.
    """

    def __init__(self, channels: Sequence[int] = (16, 32, 64, 64), n_classes: int = 0, embed: int = 64):
        channels = _check_channels(channels, "channels")
        n_classes = _validate.integer(n_classes, "n_classes", minimum=0, maximum=_validate.MAX_CLASSES,
                                      why=_validate.WHY_CLASSES + "; 0 is an unconditional network")
        embed = _check_embed(embed, "embed")
        c_embed = 4 * embed
        n_params = embed * c_embed + c_embed * c_embed + (n_classes + 1) * c_embed
        for i, c in enumerate(channels):
            c_in = channels[max(i - 1, 0)]
            n_params += 9 * (c_in + c) * c + c_embed * c + 9 * c * c  # a block, its downsampling
            c_below = channels[-1] if i == len(channels) - 1 else channels[i + 1]
            n_params += 9 * (c_below + 2 * c) * c + c_embed * c  # the way up
        _validate.memory(4 * n_params, "channels", f"a UNet of about {n_params:,} float32 parameters")
        super().__init__()
        self.n_classes, self.embed_dim = n_classes, embed
        self.embed = nn.Sequential(nn.Linear(embed, 4 * embed), nn.SiLU(), nn.Linear(4 * embed, 4 * embed))
        self.classes = nn.Embedding(n_classes + 1, 4 * embed) if n_classes else None
        c_embed = 4 * embed
        self.inp = nn.Conv2d(1, channels[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downsample = nn.ModuleList()
        for i, c in enumerate(channels):
            c_prev = channels[max(i - 1, 0)]
            self.down_blocks.append(_ResBlock(c_prev, c, c_embed))
            self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1) if i < len(channels) - 1 else nn.Identity())
        self.middle = _ResBlock(channels[-1], channels[-1], c_embed)
        self.up_blocks = nn.ModuleList()
        for i in reversed(range(len(channels))):
            c_below = channels[-1] if i == len(channels) - 1 else channels[i + 1]
            self.up_blocks.append(_ResBlock(c_below + channels[i], channels[i], c_embed))
        self.out = nn.Sequential(nn.GroupNorm(8, channels[0]), nn.SiLU(), nn.Conv2d(channels[0], 1, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def forward(self, x_t: torch.Tensor, log_snr: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """ε (or v) for images ``x_t`` (B, 1, H, W) at noise levels ``log_snr`` (B,), with class labels
        ``y`` (B,) in 0 … n_classes (n_classes: no condition; None: all unconditional). NaN passes through."""
        x_t = _validate.tensor(x_t, "x_t", shape=("B", 1, "H", "W"), nonempty=True, what="batch of images")
        _validate.for_module(x_t, "x_t", self)
        _check_levels(log_snr, "log_snr", x_t)
        if y is not None:
            if self.classes is None:
                raise ValueError(f"y must be None for an unconditional UNet (n_classes = 0), "
                                 f"got {_validate.describe(y)}")
            if isinstance(y, torch.Tensor) and y.device.type == "meta":  # a meta model: shapes only, no values
                if y.dtype != torch.long or y.shape != (len(x_t),):
                    raise TypeError(f"y must be a 1-D int64 tensor of class labels with {len(x_t)} entries, "
                                    f"got {_validate.describe(y)}")
            else:
                _validate.labels(y, "y", n_classes=self.n_classes + 1, length=len(x_t))
            _validate.same_device([x_t, y], ["x_t", "y"])
        e = self.embed(_noise_embedding(log_snr, self.embed_dim))
        if self.classes is not None:
            y = torch.full((len(x_t),), self.n_classes, device=x_t.device) if y is None else y
            e = e + self.classes(y)
        h = self.inp(x_t)
        skips = []
        for block, down in zip(self.down_blocks, self.downsample):
            h = block(h, e)
            skips.append(h)
            h = down(h)
        h = self.middle(h, e)
        for block in self.up_blocks:
            skip = skips.pop()
            if h.shape[-1] != skip.shape[-1]:
                h = nn.functional.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = block(torch.cat([h, skip], dim=1), e)
        return self.out(h)


def _check_channels(channels: object, name: str) -> tuple[int, ...]:
    """A U-Net's channels per resolution: 1 to MAX_LAYERS widths, each a multiple of 8 (GroupNorm's 8 groups)."""
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence):
        raise TypeError(f"{name} must be a sequence of channel counts, e.g. (16, 32, 64), "
                        f"got {_validate.describe(channels)}")
    _validate.layers(len(channels), f"len({name})")
    out = tuple(_validate.width(c, f"{name}[{i}]") for i, c in enumerate(channels))
    for i, c in enumerate(out):
        if c % 8:
            raise ValueError(f"{name}[{i}] must be a multiple of 8 (GroupNorm normalises 8 groups of channels), "
                             f"got {c}")
    return out


PARAMETRISATIONS = ("epsilon", "v")


class DiffusionModel(nn.Module):
    """A diffusion model: a denoising network, its noise schedule, and the map to the model's space.

    Data x enter the model as (x − ``shift``)/``scale`` — unit variance for the toys, [−1, 1] for
    slices — the scale the forward process assumes. ``parametrisation`` says what the network
    outputs: ``"epsilon"`` the noise ε (Ho et al. 2020), or ``"v"`` the velocity
    v = α_t ε − σ_t x_0 (Salimans & Ho 2022), from which ε = σ_t x_t + α_t v. Whatever it outputs,
    :meth:`epsilon` returns ε_θ, so the samplers need not know.
    """

    def __init__(self, network: nn.Module, schedule: NoiseSchedule, data_shape: Sequence[int], *,
                 parametrisation: str = "epsilon", shift: float | Sequence[float] = 0.0,
                 scale: float | Sequence[float] = 1.0):
        network = _validate.module(network, "network", what="the denoising network ε_θ(x_t, λ_t[, y])")
        schedule = _check_schedule(schedule)
        data_shape = _check_data_shape(data_shape)
        parametrisation = _validate.choice(parametrisation, "parametrisation", PARAMETRISATIONS)
        super().__init__()
        self.data_shape = data_shape
        self.parametrisation = parametrisation
        self.network = network
        # The sampler and the loss use this attribute, not the buffer below: .float() or .half()
        # would round a buffer's ᾱ_t (1 − ᾱ_1 is about 1e-6). The buffer records in the checkpoint
        # which schedule the weights were trained with.
        self.schedule = schedule
        self.register_buffer("alpha_bar", schedule.alpha_bar.clone())
        # One number for all coordinates, or one per coordinate of a point (the banana's x₂ has mean −2, variance 3).
        shift = _numbers(shift, "shift", len(self.data_shape) == 1 and self.data_shape[0])
        scale = _numbers(scale, "scale", len(self.data_shape) == 1 and self.data_shape[0])
        if not bool((scale > 0).all()):
            raise ValueError(f"scale must be positive, got {scale.tolist()!r}")
        self.register_buffer("shift", shift)
        self.register_buffer("scale", scale)

    def to_model_space(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift) / self.scale

    def to_data_space(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift

    def raw(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The network's own output at steps t (B,): ε or v."""
        log_snr = self.schedule.log_snr(t).to(x_t.device)
        return self.network(x_t, log_snr) if y is None else self.network(x_t, log_snr, y)

    def epsilon(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """ε_θ(x_t, t[, y]) in the model's space, for a tensor of steps t (B,)."""
        out = self.raw(x_t, t, y)
        if self.parametrisation == "v":
            schedule = self.schedule
            out = _per_sample(schedule.sigma(t), x_t) * x_t + _per_sample(schedule.alpha(t), x_t) * out
        return out

    def target(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """What the network is trained to output: ε, or v = α_t ε − σ_t x_0."""
        if self.parametrisation == "epsilon":
            return eps
        schedule = self.schedule
        return _per_sample(schedule.alpha(t), x0) * eps - _per_sample(schedule.sigma(t), x0) * x0


def _check_data_shape(data_shape: object) -> tuple[int, ...]:
    """One sample's shape: (d,) for points, (C, H, W) for images; each size 1 … MAX_WIDTH."""
    expected = "one sample's shape as a non-empty tuple of sizes, e.g. (2,) for points or (1, 32, 32) for images"
    if isinstance(data_shape, (str, bytes)) or not isinstance(data_shape, Sequence):
        raise TypeError(f"data_shape must be {expected}, got {_validate.describe(data_shape)}")
    if not data_shape:
        raise ValueError(f"data_shape must be {expected}, got {_validate.describe(data_shape)}")
    return tuple(_validate.width(n, f"data_shape[{i}]") for i, n in enumerate(data_shape))


def _numbers(value: float | Sequence[float], name: str, per_coordinate: int | bool) -> torch.Tensor:
    """A float, or (for points) one float per coordinate, as a float32 tensor."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(_validate.number(value, name)))
    values = [_validate.number(v, f"{name}[{i}]") for i, v in enumerate(value)] if isinstance(value, (list, tuple)) else None
    if values is None or not per_coordinate or len(values) != per_coordinate:
        raise TypeError(f"{name} must be a number{f' or {per_coordinate} numbers, one per coordinate' if per_coordinate else ''}, "
                        f"got {_validate.describe(value)}")
    return torch.tensor(values, dtype=torch.float32)


def toy_diffusion(schedule: NoiseSchedule, scale: float | Sequence[float] = 1.0, parametrisation: str = "epsilon",
                  hidden: int = 256, depth: int = 3, fourier: int = 0,
                  shift: float | Sequence[float] = 0.0) -> DiffusionModel:
    """A :class:`DiffusionModel` of 2-D points with a :class:`ToyDenoiser`."""
    _check_schedule(schedule)
    return DiffusionModel(ToyDenoiser(2, hidden, depth, fourier=fourier), schedule, (2,),
                          parametrisation=parametrisation, shift=shift, scale=scale)


def train_diffusion(model: DiffusionModel, draw: Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor | None]],
                    *, steps: int, batch_size: int = 512, lr: float = 2e-3, ema_decay: float | None = 0.999,
                    p_uncond: float = 0.0, seed: int = 0, progress: bool = False,
                    device: str | torch.device = "cpu") -> History:
    """Train ``model`` with the simple loss: x_0 from the data, t ~ U{1…T}, ε ~ N(0, I), and

        L = E‖target − network(α_t x_0 + σ_t ε, t)‖²   (target ε or v; Ho et al. 2020, eq. 14).

    ``draw(n, generator)`` returns n data points (in data space) and their class labels, or None.
    With ``p_uncond`` > 0 each label is replaced by the null class ∅ with that probability, so one
    network learns p(x | y) and p(x) for classifier-free guidance (Ho & Salimans 2021). Adam with a
    cosine learning-rate decay to 0; with ``ema_decay`` the model ends with the exponential moving
    average of its weights (Ho et al. use 0.9999 over 800k steps; short runs need a shorter memory).
    Returns the per-step loss history. Raises ValueError before a step for bad settings, and at the
    step where ``draw`` returns a batch of the wrong shape or with NaN/inf.
    """
    model = _check_model(model)
    draw = _validate.function(draw, "draw", what="a function (n, generator) → (n data points, labels or None)")
    steps = _validate.steps(steps)
    batch_size = _validate.positive_int(batch_size, "batch_size", maximum=1_000_000, why="samples per step")
    _validate.memory(4 * batch_size * math.prod(model.data_shape), "batch_size", "one batch of float32 data")
    lr = _validate.number(lr, "lr", minimum=0, open_minimum=True, why="the learning rate")
    if ema_decay is not None:
        ema_decay = _validate.number(ema_decay, "ema_decay", minimum=0, maximum=1, open_minimum=True,
                                     open_maximum=True, why="the weight average's decay per step, or None")
    p_uncond = _validate.fraction(p_uncond, "p_uncond", why="a probability")
    seed = _validate.seed(seed)
    device = _validate.device(device)
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed + 1)
    model.to(device).train()
    schedule = model.schedule
    optimiser, lr_schedule = adam_with_schedule(
        model.network.parameters(), lr, schedule=lambda k: 0.5 * (1 + math.cos(math.pi * k / steps)))
    averaged = WeightAverages([model.network], ema_decay)
    history: History = {"loss": []}
    watch = LossWatch()
    for step in tqdm(range(1, steps + 1), desc="training the diffusion model", disable=not progress):
        x0, y = draw(batch_size, rng)
        x0 = _validate.tensor(x0, "the data draw(batch_size, generator) returned",
                              shape=(batch_size, *model.data_shape), finite=True, what="batch")
        if y is not None and (not isinstance(y, torch.Tensor) or y.dtype != torch.long or y.shape != (batch_size,)):
            raise TypeError(f"the labels draw(batch_size, generator) returned must be None or a 1-D int64 tensor with "
                            f"{batch_size} entries, got {_validate.describe(y)}")
        x0 = model.to_model_space(x0.to(device))
        t = torch.randint(1, schedule.T + 1, (batch_size,), generator=rng)
        eps = torch.randn(x0.shape, generator=rng).to(device)
        if y is not None and p_uncond > 0:
            dropped = torch.rand(batch_size, generator=rng) < p_uncond
            y = torch.where(dropped, torch.full_like(y, model.network.n_classes), y)
        y = None if y is None else y.to(device)
        optimiser.zero_grad()
        with located(f"step {step}"):
            x_t = _q_sample(x0, t, schedule, eps)
            loss = ((model.raw(x_t, t, y) - model.target(x0, eps, t)) ** 2).mean()
            value = backward_and_step(optimiser, loss)
        watch.check({"loss": value}, epoch=1, step=step)
        lr_schedule.step()
        averaged.update()
        history["loss"].append(value)
    averaged.copy_into_networks()
    model.eval()
    return history


def train_toy_diffusion(sampler: Callable[[int, torch.Generator], torch.Tensor], schedule: NoiseSchedule, *,
                        steps: int, scale: float | Sequence[float] = 1.0, shift: float | Sequence[float] = 0.0,
                        parametrisation: str = "epsilon", hidden: int = 256, depth: int = 3, fourier: int = 0,
                        seed: int = 0, device: str | torch.device = "cpu", **training) -> dict:
    """A :func:`toy_diffusion` trained on fresh points of ``sampler(n, generator)``, on one thread
    (tiny network: see :func:`~course_lib.training.single_threaded`). Returns {"model", "history"}."""
    sampler = _validate.function(sampler, "sampler", what="a function (n, generator) → n points (n, 2)")
    _check_schedule(schedule)
    steps = _validate.steps(steps)
    seed = _validate.seed(seed)
    device = _validate.device(device)
    torch.manual_seed(seed)
    model = toy_diffusion(schedule, scale, parametrisation, hidden, depth, fourier, shift)
    with single_threaded():
        history = train_diffusion(model, lambda n, g: (sampler(n, g), None), steps=steps, seed=seed, device=device,
                                  **training)
    return {"model": model, "history": history}


class SliceDiffusion(nn.Module):
    """A class-conditional diffusion model of 32 px slices (a :class:`UNet`, v-parametrised, cosine
    schedule), with samples it drew when it was trained, saved as buffers with its weights.

    ``samples`` (n, 1, 32, 32) are unconditional (∅) samples; ``guided`` (W, n_classes, k, 1, 32, 32)
    are k samples per class at each guidance weight of ``guidance_weights`` (W,). Both are stored as
    8-bit images, as a PNG would; :meth:`stored` returns them as floats in [0, 1].
    """

    def __init__(self, channels: Sequence[int] = (32, 64, 64), n_classes: int = 4, n_samples: int = 0,
                 guidance_weights: Sequence[float] = (), per_class: int = 0, size: int = 32,
                 schedule: NoiseSchedule | None = None):
        channels = _check_channels(channels, "channels")
        n_classes = _validate.integer(n_classes, "n_classes", minimum=0, maximum=_validate.MAX_CLASSES,
                                      why=_validate.WHY_CLASSES)
        n_samples = _validate.integer(n_samples, "n_samples", minimum=0, maximum=_validate.MAX_SAMPLES,
                                      why=_validate.WHY_SAMPLES)
        if isinstance(guidance_weights, (str, bytes)) or not isinstance(guidance_weights, Sequence):
            raise TypeError(f"guidance_weights must be a sequence of guidance weights w ≥ 0, "
                            f"got {_validate.describe(guidance_weights)}")
        guidance_weights = [_validate.number(w, f"guidance_weights[{i}]", minimum=0, why="a guidance weight")
                            for i, w in enumerate(guidance_weights)]
        per_class = _validate.integer(per_class, "per_class", minimum=0, maximum=_validate.MAX_SAMPLES,
                                      why=_validate.WHY_SAMPLES)
        size = _validate.positive_int(size, "size", maximum=_validate.MAX_WIDTH, why="the image side in pixels")
        n_bytes = (n_samples + len(guidance_weights) * n_classes * per_class) * size * size
        _validate.memory(n_bytes, "n_samples", "the stored 8-bit samples")
        if schedule is not None:
            _check_schedule(schedule)
        super().__init__()
        schedule = schedule or cosine_schedule()
        self.model = DiffusionModel(UNet(channels, n_classes), schedule, (1, size, size), parametrisation="v",
                                    shift=0.5, scale=0.5)
        self.register_buffer("samples", torch.zeros(n_samples, 1, size, size, dtype=torch.uint8))
        self.register_buffer("guidance_weights", torch.tensor([float(w) for w in guidance_weights]))
        self.register_buffer("guided", torch.zeros(len(guidance_weights), n_classes, per_class, 1, size, size,
                                                   dtype=torch.uint8))

    @staticmethod
    def to_bytes(x: torch.Tensor) -> torch.Tensor:
        return (x.clamp(0, 1) * 255).round().to(torch.uint8)

    @staticmethod
    def stored(images: torch.Tensor) -> torch.Tensor:
        return images.float() / 255


# =============================================================================================
# Sampling
# =============================================================================================

def sampling_steps(schedule: NoiseSchedule, n_steps: int, t_last: int | None = None) -> list[int]:
    """The decreasing steps a sampler visits, from T to 0, making ``n_steps`` moves (DDIM's sub-sequence τ).

    By default they are evenly spaced. With ``t_last`` they are evenly spaced from T down to
    ``t_last``, and the last move jumps from t_last straight to 0: it returns the denoiser's
    estimate x̂_0 = E[x_0 | x_{t_last}] (Tweedie) instead of trusting the network at noise levels
    finer than σ_{t_last}, where it has the least to go on.
    """
    schedule = _check_schedule(schedule)
    n_steps = _validate.positive_int(n_steps, "n_steps", maximum=schedule.T)
    if t_last is None:
        return [round(v) for v in torch.linspace(schedule.T, 0, n_steps + 1).tolist()]
    t_last = _validate.integer(t_last, "t_last", minimum=1, maximum=schedule.T - n_steps + 1,
                               why=f"so that {n_steps} moves fit between T = {schedule.T} and 0")
    if n_steps == 1:
        if t_last != schedule.T:
            raise ValueError(f"with n_steps = 1 the only move is T → 0, so t_last must be T = {schedule.T}, got {t_last}")
        return [schedule.T, 0]
    return [round(v) for v in torch.linspace(schedule.T, t_last, n_steps).tolist()] + [0]


@torch.no_grad()
def sample(model: DiffusionModel, n: int, *, n_steps: int, sampler: str = "ddim", t_last: int | None = None,
           labels: torch.Tensor | None = None, guidance: float = 0.0, generator: torch.Generator | None = None,
           clip: tuple[float, float] | None = None, batch_size: int = 2500) -> torch.Tensor:
    """n samples in data space: the reverse process from x_T ~ N(0, I), ``n_steps`` DDPM or DDIM steps
    on :func:`sampling_steps` (``t_last``: where the last move jumps to x̂_0).

    With ``labels`` (n,) the class-conditional model is sampled; ``guidance`` w > 0 combines it with
    the unconditional one by :func:`guided_epsilon`. ``clip`` clamps the result (e.g. to [0, 1]
    for slices). Noise is drawn on the CPU from ``generator``, so a seed gives the same samples on
    every device. Returned on the CPU. ``labels`` are int64, from 0 to the network's n_classes (∅).
    """
    model = _check_model(model)
    n = _validate.positive_int(n, "n", maximum=1_000_000, why="the number of samples")
    _validate.memory(4 * n * math.prod(model.data_shape), "n", f"{n:,} float32 samples")
    schedule = model.schedule
    steps = sampling_steps(schedule, n_steps, t_last)
    _validate.choice(sampler, "sampler", ("ddpm", "ddim"))
    labels = _check_labels(labels, "labels", model, n)
    guidance = _validate.number(guidance, "guidance", minimum=0, why="the guidance weight w")
    if guidance > 0 and labels is None:
        raise ValueError("guidance needs labels: classifier-free guidance pushes samples towards a condition y")
    generator = _validate.generator(generator)
    if clip is not None:
        clip = _check_clip(clip)
    batch_size = _validate.positive_int(batch_size, "batch_size", maximum=1_000_000, why="samples per network pass")
    device = _validate.device_of(model)
    out = []
    for first in range(0, n, batch_size):
        m = min(batch_size, n - first)
        x = torch.randn((m, *model.data_shape), generator=generator).to(device)
        y = None if labels is None else labels[first:first + m].to(device)
        for t, s in zip(steps[:-1], steps[1:]):
            t_batch = torch.full((m,), t, dtype=torch.long)
            eps = model.epsilon(x, t_batch, y)
            if guidance > 0:
                eps = _guided_epsilon(eps, model.epsilon(x, t_batch, None), guidance)
            if sampler == "ddim":
                x = _ddim_step(x, eps, _steps(schedule, t, s))
            else:
                x = _ddpm_step(x, eps, _steps(schedule, t, s), torch.randn(x.shape, generator=generator).to(device))
        x = model.to_data_space(x).cpu()
        out.append(x if clip is None else x.clamp(*clip))
    return torch.cat(out)


def _check_clip(clip: object) -> tuple[float, float]:
    """A range (low, high) of two finite numbers, low < high."""
    if isinstance(clip, (str, bytes)) or not isinstance(clip, Sequence) or len(clip) != 2:
        raise TypeError(f"clip must be None or a pair (low, high) of numbers, got {_validate.describe(clip)}")
    low, high = (_validate.number(v, f"clip[{i}]") for i, v in enumerate(clip))
    if not low < high:
        raise ValueError(f"clip must be a range (low, high) with low < high, got {tuple(clip)!r}")
    return tuple(clip)


def model_score(model: DiffusionModel, x: torch.Tensor, t: int) -> torch.Tensor:
    """The model's score in data units, ∇_x log p_t(x) ≈ −ε_θ/(c σ_t), at step t.

    In data units (x = c·x' + shift, c = ``model.scale``) the noised data are x_t = α_t x_0 + c σ_t ε:
    the noise level is c σ_t, and the score is the model-space score divided by c. ``x`` (B, *data_shape)
    finite, in the model's dtype; ``t`` an int in 1 … T (σ_0 = 0 has no score).
    """
    model = _check_model(model)
    x = _check_data(x, "x", model)
    schedule = model.schedule
    t = _validate.integer(t, "t", minimum=1, maximum=schedule.T, why="a noise step: σ_0 = 0 has no score")
    steps = torch.full((len(x),), t, dtype=torch.long)
    with torch.no_grad():
        eps = model.epsilon(model.to_model_space(x.to(_validate.device_of(model))), steps).cpu()
    return _epsilon_to_score(eps, schedule.sigma(steps)) / model.scale.cpu()


def step_at_noise(schedule: NoiseSchedule, sigma: float) -> int:
    """The step t ≥ 1 whose noise scale σ_t is nearest to ``sigma`` (in the model's units)."""
    schedule = _check_schedule(schedule)
    sigma = _validate.number(sigma, "sigma", minimum=0, maximum=1, why="a VP noise scale")
    return int((1 - schedule.alpha_bar[1:]).sqrt().sub(sigma).abs().argmin()) + 1


def score_error(model: DiffusionModel, modes: torch.Tensor, std: float, t: int, n: int = 4000,
                generator: torch.Generator | None = None) -> float:
    """The model's relative score error at step t on a Gaussian mixture, whose score is exact:

        √(E‖s_θ(x) − ∇ log p_t(x)‖²) / √(E‖∇ log p_t(x)‖²),   x ~ p_t,

    with x drawn as α_t x_0 + c σ_t ε from n fresh mixture points (c = the model's scale: the
    noise level in data units is c σ_t). 0 is a perfect score; 1 is as far off as predicting 0.
    """
    model = _check_model(model)
    if len(model.data_shape) != 1:
        raise ValueError(f"model must be a model of points (data_shape (d,)) for a mixture's exact score, "
                         f"got data_shape {model.data_shape}")
    modes = _validate.tensor(modes, "modes", shape=("K", model.data_shape[0]), finite=True, nonempty=True,
                             what="tensor of mode centres")
    _validate.values(modes, "modes")
    _validate.dtype_like(modes, "modes", model)
    std = _validate.number(std, "std", minimum=0, why="the modes' standard deviation")
    schedule = model.schedule
    t = schedule.check_step(t).item()
    n = _validate.samples(n)
    _validate.memory(4 * n * (len(modes) + 4 * model.data_shape[0]), "n", f"{n:,} noised points and their scores")
    generator = _validate.generator(generator)
    if model.scale.numel() > 1 and not bool((model.scale == model.scale.flatten()[0]).all()):
        raise ValueError(f"score_error needs a model with one scale for all coordinates (the mixture's noise is "
                         f"isotropic), got scale {model.scale.tolist()}")
    generator = generator or torch.Generator().manual_seed(0)
    x0 = mixture_sampler(modes, std)(n, generator)
    alpha, sigma = schedule.alpha(torch.tensor(t)).item(), model.scale.flatten()[0].item() * schedule.sigma(torch.tensor(t)).item()
    x_t = alpha * x0 + sigma * torch.randn(x0.shape, generator=generator)
    exact = mixture_score(x_t, modes, std, alpha, sigma)
    learned = model_score(model, x_t, t)
    return ((learned - exact).pow(2).sum(1).mean() / exact.pow(2).sum(1).mean()).sqrt().item()


@torch.no_grad()
def anomaly_map(model: DiffusionModel, x: torch.Tensor, t_start: int, *, n_steps: int, n_draws: int = 2,
                generator: torch.Generator | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
    """|x − x̂| averaged over ``n_draws`` noise draws of :func:`reconstruct`: high where the model,
    trained on healthy slices, cannot explain the image. Same shape as ``x``."""
    model, x, t_start, n_steps = _check_reconstruction(model, x, t_start, n_steps)
    n_draws = _validate.positive_int(n_draws, "n_draws", maximum=1000)
    generator = _validate.generator(generator)
    labels = _check_labels(labels, "labels", model, len(x))
    x = x.cpu()
    total = torch.zeros_like(x)
    for _ in range(n_draws):
        total += (x - _reconstruct(model, x, t_start, n_steps, generator, labels)).abs()
    return total / n_draws


def _check_reconstruction(model: object, x: object, t_start: object, n_steps: object
                          ) -> tuple[DiffusionModel, torch.Tensor, int, int]:
    """:func:`reconstruct`'s model, images, start step (1 … T) and number of moves (1 … t_start)."""
    model = _check_model(model)
    x = _check_data(x, "x", model)
    t_start = model.schedule.check_step(t_start, "t_start")
    if t_start.ndim:
        raise ValueError(f"t_start must be one step (an int), got {_validate.describe(t_start)}")
    t_start = t_start.item()
    n_steps = _validate.positive_int(n_steps, "n_steps", maximum=t_start)
    return model, x, t_start, n_steps


@torch.no_grad()
def reconstruct(model: DiffusionModel, x: torch.Tensor, t_start: int, *, n_steps: int,
                generator: torch.Generator | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Noise ``x`` to step ``t_start`` in one draw of q(x_t | x_0), then denoise it back with DDIM.

    The partial round trip of diffusion-based anomaly detection (Wolleb et al. 2022; Pinaya et
    al. 2022): noise at level σ_t hides detail smaller than about σ_t, and the model fills it in
    with what is typical of its training data. What it cannot explain — a lesion in a model
    trained on healthy slices — is replaced, so the residual |x − x̂| marks it. ``n_steps`` DDIM
    steps from t_start to 0; ``x`` in data space (finite, in the model's dtype), returned in data space
    on the CPU.
    """
    model, x, t_start, n_steps = _check_reconstruction(model, x, t_start, n_steps)
    generator = _validate.generator(generator)
    labels = _check_labels(labels, "labels", model, len(x))
    return _reconstruct(model, x, t_start, n_steps, generator, labels)


def _reconstruct(model: DiffusionModel, x: torch.Tensor, t_start: int, n_steps: int,
                 generator: torch.Generator | None, labels: torch.Tensor | None) -> torch.Tensor:
    """:func:`reconstruct` without its checks (anomaly_map checks once for all its draws)."""
    schedule = model.schedule
    device = _validate.device_of(model)
    x0 = model.to_model_space(x.to(device))
    noise = torch.randn(x0.shape, generator=generator).to(device)
    x_t = _q_sample(x0, torch.full((len(x0),), t_start), schedule, noise)
    steps = [round(v) for v in torch.linspace(t_start, 0, n_steps + 1).tolist()]
    y = None if labels is None else labels.to(device)
    for t, s in zip(steps[:-1], steps[1:]):
        x_t = _ddim_step(x_t, model.epsilon(x_t, torch.full((len(x_t),), t), y), _steps(schedule, t, s))
    return model.to_data_space(x_t).cpu()


def _log_snr_to_alpha_sigma(log_snr: float) -> tuple[float, float]:
    """α² = sigmoid(λ), σ² = sigmoid(−λ): the scales at any log-SNR, on or between the schedule's steps."""
    return math.sqrt(1 / (1 + math.exp(-log_snr))), math.sqrt(1 / (1 + math.exp(log_snr)))


def probability_flow_log_prob(model: DiffusionModel, x: torch.Tensor, *, rtol: float = 1e-5,
                              atol: float = 1e-5) -> torch.Tensor:
    """log p(x) under the model's probability-flow ODE: a continuous normalizing flow (Song et al. 2021b).

    In the variables y = x_t/α_t and τ = σ_t/α_t, DDIM's ODE is dy/dτ = ε_θ(α y, τ). It maps every
    x at the finest noise level τ_0 (the schedule's first step) to one y at τ_1 (its last), where
    x_T = α_T y is close to N(0, I); the map is invertible, so its density follows from the
    instantaneous change of variables (Chen et al. 2018): along the path,

        d log p(y)/dτ = −tr(∂(dy/dτ)/∂y) = −α tr(∂ε_θ/∂x_t),

    and log p(x) = log N(α_T y_1; 0, I) + ∫ α tr(∂ε_θ/∂x_t) dτ + the rescalings' log-determinants
    (x' = (x − shift)/scale, y = x'/α). In 2-D the trace
    is exact by autograd (one backward pass per coordinate). scipy's adaptive Runge–Kutta
    (RK45, ``rtol``/``atol``) integrates y and the log-density together, in u = log τ.
    ``x`` (n, d) in data space; returns (n,) float64.
    """
    model = _check_model(model)
    if len(model.data_shape) != 1:
        raise ValueError(f"probability_flow_log_prob needs a model of points (data_shape (d,)), got {model.data_shape}")
    x = _validate.tensor(x, "x", shape=("n", model.data_shape[0]), finite=True, nonempty=True, what="tensor of points")
    _validate.values(x, "x")
    rtol = _validate.number(rtol, "rtol", minimum=0, open_minimum=True, why="the ODE solver's relative tolerance")
    atol = _validate.number(atol, "atol", minimum=0, open_minimum=True, why="the ODE solver's absolute tolerance")
    n, d = x.shape
    schedule = model.schedule
    device = _validate.device_of(model)
    lam_first, lam_last = schedule.log_snr(torch.tensor(1)).item(), schedule.log_snr(torch.tensor(schedule.T)).item()
    alpha0, _ = _log_snr_to_alpha_sigma(lam_first)
    y0 = model.to_model_space(x.to(model.scale.device)).cpu().double() / alpha0

    def velocity(u: float, state: np.ndarray) -> np.ndarray:
        tau = math.exp(u)
        log_snr = -2 * u
        alpha, _ = _log_snr_to_alpha_sigma(log_snr)
        y = torch.from_numpy(state[: n * d].reshape(n, d))
        x_t = (alpha * y).float().to(device).requires_grad_(True)
        with torch.enable_grad():
            eps = model.network(x_t, torch.full((n,), log_snr, device=device))
            if model.parametrisation == "v":
                _, sigma = _log_snr_to_alpha_sigma(log_snr)
                eps = sigma * x_t + alpha * eps
            trace = sum(torch.autograd.grad(eps[:, i].sum(), x_t, retain_graph=i < d - 1)[0][:, i] for i in range(d))
        dy = tau * eps.detach().double().cpu()
        dlogp = tau * alpha * trace.double().cpu()  # the divergence of dy/du, accumulated along the path
        return np.concatenate([dy.reshape(-1).numpy(), dlogp.numpy()])

    u0, u1 = -lam_first / 2, -lam_last / 2
    state0 = np.concatenate([y0.reshape(-1).numpy(), np.zeros(n)])
    solution = integrate.solve_ivp(velocity, (u0, u1), state0, method="RK45", rtol=rtol, atol=atol)
    if not solution.success:
        raise RuntimeError(f"the probability-flow ODE did not integrate: {solution.message}")
    end = torch.from_numpy(solution.y[:, -1])
    y1, divergence = end[: n * d].reshape(n, d), end[n * d:]
    alpha1, _ = _log_snr_to_alpha_sigma(lam_last)
    x_T = alpha1 * y1
    log_prior = -0.5 * (x_T**2).sum(1) - 0.5 * d * math.log(2 * math.pi)
    # x_T = α_T y_T and y_0 = x'/α_0: each rescaling changes the density by d·log α; x' = (x − shift)/scale.
    log_scale = model.scale.detach().cpu().double().log().expand(d).sum().item()
    return log_prior + d * math.log(alpha1) + divergence - d * math.log(alpha0) - log_scale
