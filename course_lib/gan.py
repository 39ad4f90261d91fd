"""Lecture 04: the GAN minimax game — discriminator and generator losses, the saturation of the
minimax generator loss, MLP GANs for the 2-D toys and a DCGAN for brain slices. (How the
generators are judged — mode coverage, the Fréchet distance — is in :mod:`course_lib.evaluation`.)

Notation of the lecture: a generator G maps noise z to a sample G(z); a discriminator D maps a
sample x to D(x) ∈ (0, 1), the probability that x is real. The value function is

    V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))],      min_G max_D V(D, G).

Every loss here takes the discriminator's *logits* l (D = σ(l)) and uses the stable forms
log σ(l) = −softplus(−l) and log(1 − σ(l)) = −softplus(l). Reductions: means over the batch.

Every public function checks its arguments first and raises ``TypeError`` / ``ValueError`` naming
the argument: the losses refuse NaN/±inf logits and empty batches, the trainers refuse non-finite
data, learning rates ≤ 0, negative seeds and sizes beyond the bounds of :mod:`course_lib._validate`.
(The networks' ``forward`` checks shapes, dtype and device, not finiteness.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn.functional import softplus

from . import _validate
from .layers import downsampling_convs, upsampling_convs
from .training import (GAN_ADAM_BETAS, LossWatch, WeightAverages, adam_with_schedule, backward_and_step, check_loss,
                       checked_step, fit, located, modes_restored_on_error, single_threaded, unchanged_on_nonfinite)

__all__ = [
    "GENERATOR_LOSSES",
    "discriminator_loss",
    "generator_loss",
    "generator_logit_gradient",
    "sample_latent",
    "dcgan_trunk",
    "mixture_sampler",
    "MLPGenerator",
    "MLPDiscriminator",
    "gan_training_step",
    "train_toy_gan",
    "ToyGAN",
    "DCGAN",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "train_players",
    "train_dcgan",
]

GENERATOR_LOSSES = ("non_saturating", "minimax")
LATENT_KINDS = ("gaussian", "uniform")


def _check_logits(name: str, logits: torch.Tensor, finite: bool = True) -> None:
    """One logit per sample: shape (B,) or (B, 1), B ≥ 1, holding values (finite unless ``finite`` is False)."""
    _validate.tensor(logits, name, ndim=(1, 2), nonempty=True, finite=finite, what="tensor of logits, one per sample")
    if logits.ndim == 2 and logits.shape[1] != 1:
        raise ValueError(f"{name} must be a floating-point tensor of logits, one per sample, of shape (B,) or "
                         f"(B, 1), got {_validate.describe(logits)}")


def _kind(kind: str, name: str = "kind") -> str:
    return _validate.choice(kind, name, GENERATOR_LOSSES, why="the generator's loss")


def _lr(lr: float, name: str = "lr") -> float:
    return _validate.number(lr, name, minimum=0, open_minimum=True, why="a learning rate")


def _mlp_memory(sizes: Sequence[int], name: str) -> None:
    """Refuse an MLP (layer widths ``sizes``) whose float32 weights would not fit in memory."""
    n_weights = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    _validate.memory(4 * n_weights, name, "the network's weights")


def _dcgan_memory(width: int, name: str, latent_dim: int = 0) -> None:
    """Refuse a DCGAN player of this width whose float32 weights would not fit in memory (four 4×4
    convolutions w → 2w → 4w → 8w and a linear map to or from 4×4×8w)."""
    n_weights = 16 * (width + 2 * width ** 2 + 8 * width ** 2 + 32 * width ** 2) + (latent_dim + 1) * 128 * width
    _validate.memory(4 * n_weights, name, "the network's weights")


def _snapshot_steps(value, name: str = "snapshot_steps") -> tuple[int, ...]:
    """Steps (or epochs) at which to take a snapshot: a collection of ints ≥ 1, possibly empty."""
    if isinstance(value, (str, bytes, torch.Tensor)) or not isinstance(value, (list, tuple, range, set, frozenset)):
        raise TypeError(f"{name} must be a tuple or list of steps (ints ≥ 1, possibly empty), "
                        f"got {_validate.describe(value)}")
    for i, step in enumerate(value):
        _validate.positive_int(step, f"{name}[{i}]", maximum=_validate.MAX_STEPS, why=_validate.WHY_STEPS)
    return tuple(value)


def _data(x, name: str, shape, what: str, model: nn.Module, model_name: str) -> torch.Tensor:
    """Training data: a non-empty, finite floating tensor of ``shape`` with values, in the model's dtype."""
    _validate.tensor(x, name, shape=shape, nonempty=True, what=what)
    _validate.values(x, name)
    _validate.dtype_like(x, name, model, model_name)
    return _validate.tensor(x, name, finite=True, what=what, why="training data")


def _d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return 0.5 * (softplus(-real_logits).mean() + softplus(fake_logits).mean())


def _g_loss(fake_logits: torch.Tensor, kind: str) -> torch.Tensor:
    return -softplus(fake_logits).mean() if kind == "minimax" else softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of D on a 50/50 batch: label 1 for real samples, 0 for generated ones.

        L_D = ½ (mean_real[−log D(x)] + mean_fake[−log(1 − D(G(z)))]) = −½ V̂(D, G)

    (the mean over the combined batch when both halves have the same size). Minimising L_D is
    maximising V over D. Raises ValueError for NaN/±inf logits (use logits, never σ(l)) or an empty batch.
    """
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    _validate.same_shape(real_logits, fake_logits, ("real_logits", "fake_logits"), "a 50/50 batch")
    _validate.same_device((real_logits, fake_logits), ("real_logits", "fake_logits"))
    return _d_loss(real_logits, fake_logits)


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """The generator's loss on D's logits for generated samples, mean over the batch.

    * ``"minimax"``: minimise mean log(1 − D(G(z))) — G's part of V, as in min_G max_D V.
    * ``"non_saturating"`` (the flipped-label loss): minimise mean −log D(G(z)), the BCE of
      D(G(z)) against label 1 — "pretend the fakes are real".

    Raises ValueError for NaN/±inf logits, an empty batch or another ``kind``.
    """
    _check_logits("fake_logits", fake_logits)
    return _g_loss(fake_logits, _kind(kind))


def generator_logit_gradient(d_of_g: torch.Tensor, kind: str) -> torch.Tensor:
    """|∂ loss / ∂ logit| of one generated sample as a function of D(G(z)) ∈ (0, 1).

    minimax: ∂ log(1 − σ(l))/∂l = −σ(l), magnitude D(G(z)) → 0 when D confidently rejects;
    non-saturating: ∂ −log σ(l)/∂l = −(1 − σ(l)), magnitude 1 − D(G(z)) → 1 in the same case.
    """
    if d_of_g is None or isinstance(d_of_g, (str, bytes, bool)):
        raise TypeError(f"d_of_g must be values of D(G(z)) in (0, 1): a number, a list or a tensor, "
                        f"got {_validate.describe(d_of_g)}")
    if isinstance(d_of_g, torch.Tensor):
        _validate.values(d_of_g, "d_of_g")
    _kind(kind)
    try:
        d = torch.as_tensor(d_of_g, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"d_of_g must be values of D(G(z)) in (0, 1): a number, a list or a tensor, "
                        f"got {_validate.describe(d_of_g)} ({error})") from None
    if d.numel() == 0:
        raise ValueError(f"d_of_g must hold at least one value of D(G(z)), got {_validate.describe(d)}")
    if not ((d > 0) & (d < 1)).all():  # NaN fails both comparisons
        raise ValueError(f"d_of_g must hold values of D(G(z)) strictly between 0 and 1, got values from "
                         f"{d.min().item():g} to {d.max().item():g}" + (" and NaN" if d.isnan().any() else ""))
    return d if kind == "minimax" else 1 - d


def sample_latent(n: int, dim: int, kind: str = "gaussian", generator: torch.Generator | None = None,
                  device: str | torch.device = "cpu") -> torch.Tensor:
    """n noise vectors z: ``"gaussian"`` N(0, I) (the lecture's choice) or ``"uniform"`` on [−1, 1]^dim
    (the original GAN paper's, which lecture 04 found far worse on the toys), on ``device``.

    They are drawn where ``generator`` lives (the CPU for ``torch.Generator()``) and then moved,
    so a seed gives the same noise on every device."""
    n = _validate.samples(n, "n")
    dim = _validate.width(dim, "dim")
    _validate.choice(kind, "kind", LATENT_KINDS, why="the noise distribution")
    _validate.generator(generator)
    device = _validate.device(device)
    _validate.memory(4 * n * dim, "n", f"{n:,} noise vectors of dimension {dim:,}")
    return _sample_latent(n, dim, kind, generator, device)


def _sample_latent(n: int, dim: int, kind: str, generator: torch.Generator | None,
                   device: torch.device) -> torch.Tensor:
    """:func:`sample_latent` without the checks, for the trainers' inner loops (checked once up front)."""
    if kind == "uniform":
        return (2 * torch.rand(n, dim, generator=generator) - 1).to(device)
    return torch.randn(n, dim, generator=generator).to(device)


def mixture_sampler(modes: torch.Tensor, std: float) -> Callable[[int, torch.Generator], torch.Tensor]:
    """``sampler(n, generator)``: n fresh points of the equal-weight mixture of N(m_j, std² I) over
    the rows m_j of ``modes`` — an endless stream of training data for :func:`train_toy_gan`.
    ``modes`` must be a finite floating tensor (K, d) with K, d ≥ 1, ``std`` a number > 0."""
    _validate.tensor(modes, "modes", shape=("K", "d"), nonempty=True, what="tensor of mode centres")
    _validate.values(modes, "modes")
    if modes.shape[1] == 0:
        raise ValueError(f"modes must have at least one coordinate (d ≥ 1), got {_validate.describe(modes)}")
    _validate.tensor(modes, "modes", finite=True, what="tensor of mode centres")
    std = _validate.number(std, "std", minimum=0, open_minimum=True, why="the modes' standard deviation")

    def sampler(n: int, generator: torch.Generator) -> torch.Tensor:
        which = torch.randint(len(modes), (n,), generator=generator)
        return modes[which] + std * torch.randn(n, modes.shape[1], generator=generator)

    return sampler


class MLPGenerator(nn.Module):
    """G(z): an MLP from noise z ∈ R^latent_dim to a point in R^out_dim."""

    def __init__(self, latent_dim: int = 2, hidden: int = 128, depth: int = 3, out_dim: int = 2):
        latent_dim = _validate.width(latent_dim, "latent_dim")
        hidden = _validate.width(hidden, "hidden")
        depth = _validate.layers(depth, "depth", minimum=0)
        out_dim = _validate.width(out_dim, "out_dim")
        _mlp_memory([latent_dim] + [hidden] * depth + [out_dim], "hidden")
        super().__init__()
        layers: list[nn.Module] = []
        width = latent_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, out_dim))
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _validate.tensor(z, "z", shape=("B", self.latent_dim), nonempty=True, what="batch of noise vectors")
        _validate.for_module(z, "z", self, model_name="the generator")
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """The logit l(x) of D(x) = σ(l(x)): an MLP from R^in_dim to one number per sample (B,)."""

    def __init__(self, in_dim: int = 2, hidden: int = 128, depth: int = 3):
        in_dim = _validate.width(in_dim, "in_dim")
        hidden = _validate.width(hidden, "hidden")
        depth = _validate.layers(depth, "depth", minimum=0)
        _mlp_memory([in_dim] + [hidden] * depth + [1], "hidden")
        super().__init__()
        self.in_dim = in_dim
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", shape=("B", self.in_dim), nonempty=True, what="batch of points")
        _validate.for_module(x, "x", self, model_name="the discriminator")
        return self.net(x).squeeze(1)


def gan_training_step(generator: nn.Module, discriminator: nn.Module, g_optimizer: torch.optim.Optimizer,
                      d_optimizer: torch.optim.Optimizer, real_batches: list[torch.Tensor],
                      latent: Callable[[int], torch.Tensor], kind: str = "non_saturating",
                      r1_gamma: float = 0.0) -> dict[str, float]:
    """One round of the original algorithm: k discriminator steps (one per real minibatch of m
    samples, each against m fresh generated ones), then one generator step on m fresh noise samples.

    D's steps do not move G (the fakes are detached); G's step moves only G (D's optimiser is not
    stepped, and D's gradients are cleared before its next step). Returns the last D loss, the
    G loss and the norm of G's gradient ‖∇_θ L_G‖.

    ``r1_gamma`` > 0 adds the R1 penalty (Mescheder et al., 2018) to D's loss,
    (γ/2) · mean_x ‖∇_x l(x)‖² on the real samples: it flattens D's logit around the data, which
    damps the oscillations that make a GAN drop modes. The returned d_loss excludes the penalty.

    Raises ValueError for an empty list of batches, an empty or non-finite real batch, or r1_gamma < 0.
    """
    _validate.module(generator, "generator", what="the generator G")
    _validate.module(discriminator, "discriminator", what="the discriminator D")
    _optimizer(g_optimizer, "g_optimizer", "the generator's")
    _optimizer(d_optimizer, "d_optimizer", "the discriminator's")
    if isinstance(real_batches, (str, bytes, torch.Tensor)) or not isinstance(real_batches, (list, tuple)):
        raise TypeError(f"real_batches must be a list of real minibatches (tensors), one per discriminator step, "
                        f"got {_validate.describe(real_batches)}")
    if not real_batches:
        raise ValueError("real_batches must hold at least one real minibatch (one per discriminator step), got []")
    for i, real in enumerate(real_batches):
        _validate.tensor(real, f"real_batches[{i}]", nonempty=True, what="batch of real samples")
        _validate.values(real, f"real_batches[{i}]")
        _validate.tensor(real, f"real_batches[{i}]", finite=True, what="batch of real samples")
    _validate.function(latent, "latent", what="a function n → n noise vectors")
    kind = _kind(kind)
    r1_gamma = _validate.number(r1_gamma, "r1_gamma", minimum=0, why="the R1 penalty's weight")
    return _gan_round(generator, discriminator, g_optimizer, d_optimizer, real_batches, latent, kind, r1_gamma)


def _optimizer(value, name: str, whose: str) -> None:
    _validate.optimizer(value, name, what=f"{whose} optimiser")


def _gan_round(generator: nn.Module, discriminator: nn.Module, g_optimizer: torch.optim.Optimizer,
               d_optimizer: torch.optim.Optimizer, real_batches: list[torch.Tensor],
               latent: Callable[[int], torch.Tensor], kind: str = "non_saturating",
               r1_gamma: float = 0.0) -> dict[str, float]:
    """:func:`gan_training_step` without the argument checks: the trainers check once, before their loop."""
    with unchanged_on_nonfinite(generator, discriminator):  # a NaN leaves no trace, not even in BatchNorm
        for real in real_batches:
            fake = generator(latent(len(real))).detach()
            if r1_gamma > 0:
                real = real.detach().requires_grad_(True)
            real_logits, fake_logits = discriminator(real), discriminator(fake)
            _check_logits("real_logits", real_logits, finite=False)  # NaN: check_loss names the step below
            _check_logits("fake_logits", fake_logits, finite=False)
            _validate.same_shape(real_logits, fake_logits, ("real_logits", "fake_logits"), "a 50/50 batch")
            d_loss = _d_loss(real_logits, fake_logits)
            penalty = 0.0
            if r1_gamma > 0:
                (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
                penalty = r1_gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()
            d_optimizer.zero_grad()
            backward_and_step(d_optimizer, d_loss + penalty, "d_loss", "the discriminator's step")
        m = len(real_batches[-1])
        fake_logits = discriminator(generator(latent(m)))
        _check_logits("fake_logits", fake_logits, finite=False)
        g_loss = _g_loss(fake_logits, kind)
        g_optimizer.zero_grad()
        check_loss(g_loss, "g_loss", "the generator's step")
        g_loss.backward()
        # ‖∇_θG loss‖ (max_norm = inf: measured, not clipped) — how hard G is being pushed.
        g_grad_norm = torch.nn.utils.clip_grad_norm_(generator.parameters(), float("inf"))
        checked_step(g_optimizer, "the generator's step")
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "g_grad_norm": g_grad_norm.item()}


def train_toy_gan(sampler: Callable[[int, torch.Generator], torch.Tensor], *, steps: int, kind: str = "non_saturating",
                  batch_size: int = 256, late_batch_size: int | None = None, late_fraction: float = 0.75,
                  k_disc: int = 1, lr: float = 1e-3, hold: float = 0.0, r1_gamma: float = 0.0, r1_every: int = 1,
                  ema_decay: float | None = None, latent_dim: int = 2, latent_kind: str = "gaussian", hidden: int = 128,
                  seed: int = 0, snapshot_steps: Sequence[int] = (), snapshot_size: int = 2500,
                  device: str | torch.device = "cpu") -> dict:
    """Train an MLP GAN on a 2-D toy: ``sampler(n, generator)`` draws n real points (on the CPU,
    moved to ``device``, where both players train).

    Adam (β₁ = 0.5) for both players. The learning rate stays at ``lr`` for the first ``hold``
    fraction of the steps, then follows a cosine to 0: large steps find the modes, small ones
    sharpen them. After ``late_fraction`` of the steps the batch grows to ``late_batch_size``
    (if given): a larger batch gives less noisy gradients when the samples must become precise.
    With ``r1_gamma`` > 0, D's loss gets the R1 penalty every ``r1_every``-th round, weighted by
    γ·r1_every so that its average strength stays γ ("lazy" regularisation, Karras et al., 2020).
    With ``ema_decay`` = β, the returned generator is the moving average of G's weights over the
    steps after ``hold`` (:func:`~course_lib.training.weight_average`), which damps the last
    steps' jitter; training itself is unchanged, and the snapshots show G itself.

    Returns {"generator", "discriminator", "history" (per-round losses and ‖∇G‖), "snapshots"
    (step → G's samples of a fixed noise batch, for each of ``snapshot_steps``, on the CPU), "latent"
    (n → fresh noise)}. A NaN/inf loss stops training with
    :class:`~course_lib.training.NonFiniteLossError`. Every argument is checked before training
    (ValueError for counts < 1 or beyond the bounds of :mod:`course_lib._validate`, lr ≤ 0, hold ∉ [0, 1), …).
    """
    _validate.function(sampler, "sampler", what="a function (n, generator) → n real points")
    steps = _validate.steps(steps)
    kind = _kind(kind)
    batch_size = _validate.samples(batch_size, "batch_size")
    if late_batch_size is not None:
        late_batch_size = _validate.samples(late_batch_size, "late_batch_size")
    _validate.fraction(late_fraction, "late_fraction", why="the share of steps before the batch grows")
    k_disc = _validate.positive_int(k_disc, "k_disc", maximum=_validate.MAX_STEPS, why=_validate.WHY_STEPS)
    if steps * k_disc > _validate.MAX_STEPS:
        raise ValueError(f"steps × k_disc must be ≤ {_validate.MAX_STEPS:,} discriminator steps "
                         f"({_validate.WHY_STEPS}), got {steps:,} × {k_disc:,}")
    _lr(lr)
    _validate.number(hold, "hold", minimum=0, maximum=1, open_maximum=True, why="the cosine decay needs steps after it")
    _validate.number(r1_gamma, "r1_gamma", minimum=0, why="the R1 penalty's weight")
    _validate.positive_int(r1_every, "r1_every", maximum=_validate.MAX_STEPS, why="apply R1 every r1_every-th round")
    if ema_decay is not None:
        _validate.number(ema_decay, "ema_decay", minimum=0, maximum=1, open_minimum=True, open_maximum=True,
                         why="the weight average's decay β, or None")
    latent_dim = _validate.width(latent_dim, "latent_dim")
    _validate.choice(latent_kind, "latent_kind", LATENT_KINDS, why="the noise distribution")
    hidden = _validate.width(hidden, "hidden")
    _validate.seed(seed)
    if seed + 1 > 2**63 - 1:
        raise ValueError(f"seed must be an int from 0 to {2**63 - 2:,} (seed + 1 seeds the data), got {seed!r}")
    snapshot_steps = _snapshot_steps(snapshot_steps)
    snapshot_size = _validate.samples(snapshot_size, "snapshot_size")
    largest = max(batch_size, late_batch_size or 0, snapshot_size)
    _validate.memory(4 * largest * max(hidden, latent_dim), "batch_size",
                     f"a batch of {largest:,} samples through {hidden:,} hidden units")
    _mlp_memory([latent_dim, hidden, hidden, hidden, 2], "hidden")
    device = _validate.device(device)
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed + 1)
    generator, discriminator = MLPGenerator(latent_dim, hidden).to(device), MLPDiscriminator(2, hidden).to(device)
    averaged = WeightAverages([generator], ema_decay)
    hold_steps = int(hold * steps)

    def lr_factor(t: int) -> float:
        return 1.0 if t < hold_steps else 0.5 * (1 + math.cos(math.pi * (t - hold_steps) / (steps - hold_steps)))

    # fused=True: the same Adam update in one kernel per optimiser (about 30 % faster rounds here).
    g_opt, g_schedule = adam_with_schedule(generator.parameters(), lr, schedule=lr_factor, betas=GAN_ADAM_BETAS,
                                           fused=True)
    d_opt, d_schedule = adam_with_schedule(discriminator.parameters(), lr, schedule=lr_factor, betas=GAN_ADAM_BETAS,
                                           fused=True)
    schedules = [g_schedule, d_schedule]

    def latent(n: int) -> torch.Tensor:
        return _sample_latent(n, latent_dim, latent_kind, rng, device)

    history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "g_grad_norm": []}
    snapshots: dict[int, torch.Tensor] = {}
    fixed_noise = latent(snapshot_size)
    watch = LossWatch()
    with single_threaded():  # tiny networks: see single_threaded
        for step in range(1, steps + 1):
            m = late_batch_size if late_batch_size and step > late_fraction * steps else batch_size
            gamma = r1_gamma * r1_every if (step - 1) % r1_every == 0 else 0.0
            with located(f"step {step}"):
                losses = _gan_round(generator, discriminator, g_opt, d_opt,
                                    [sampler(m, rng).to(device) for _ in range(k_disc)], latent, kind, r1_gamma=gamma)
            watch.check(losses, epoch=1, step=step)
            if step > hold_steps:
                averaged.update()
            for schedule in schedules:
                schedule.step()
            for name, value in losses.items():
                history[name].append(value)
            if step in snapshot_steps:
                with torch.no_grad():
                    snapshots[step] = generator(fixed_noise).cpu()
    averaged.copy_into_networks()
    return {"generator": generator.eval(), "discriminator": discriminator.eval(), "history": history,
            "snapshots": snapshots, "latent": latent}


class ToyGAN(nn.Module):
    """A toy GAN's two MLP players in one module (one checkpoint holds both), plus ``snapshots``:
    G's samples of a fixed noise batch at ``snapshot_steps`` of its training (buffers, saved with it)."""

    def __init__(self, latent_dim: int = 2, hidden: int = 128, snapshot_steps: Sequence[int] = (),
                 snapshot_size: int = 2500) -> None:
        latent_dim = _validate.width(latent_dim, "latent_dim")
        hidden = _validate.width(hidden, "hidden")
        snapshot_steps = _snapshot_steps(snapshot_steps)
        snapshot_size = _validate.integer(snapshot_size, "snapshot_size", minimum=0, maximum=_validate.MAX_SAMPLES,
                                          why=_validate.WHY_SAMPLES)
        _validate.memory(4 * 2 * len(snapshot_steps) * snapshot_size, "snapshot_size", "the snapshots' buffer")
        super().__init__()
        self.generator = MLPGenerator(latent_dim, hidden)
        self.discriminator = MLPDiscriminator(2, hidden)
        self.register_buffer("snapshots", torch.zeros(len(snapshot_steps), snapshot_size, 2))
        self.register_buffer("snapshot_steps", torch.tensor(list(snapshot_steps), dtype=torch.long))


# =============================================================================================
# A DCGAN for 64 px brain slices, and the feature network for the Fréchet distance
# =============================================================================================


class DCGANGenerator(nn.Module):
    """G(z) for 64 px slices, after Radford et al. (2016): a linear map of z ∈ R^latent_dim to a
    4×4 grid of 8w channels, four stride-2 transposed convolutions (4 → 8 → 16 → 32 → 64 px)
    with batch norm and ReLU between them, and a sigmoid, since slices lie in [0, 1]."""

    def __init__(self, latent_dim: int = 64, width: int = 16) -> None:
        latent_dim = _validate.width(latent_dim, "latent_dim")
        width = _validate.width(width, "width")
        _dcgan_memory(width, "width", latent_dim)
        super().__init__()
        self.latent_dim = latent_dim
        c = [8 * width, 4 * width, 2 * width, width]
        self.project = nn.Sequential(nn.Linear(latent_dim, c[0] * 16), nn.Unflatten(1, (c[0], 4, 4)),
                                     nn.BatchNorm2d(c[0]), nn.ReLU())
        self.upsample = nn.Sequential(*upsampling_convs((*c, 1), output=nn.Sigmoid(), batch_norm=True,
                                                        activation=nn.ReLU))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _validate.tensor(z, "z", shape=("B", self.latent_dim), nonempty=True, what="batch of noise vectors")
        _validate.for_module(z, "z", self, model_name="the generator")
        return self.upsample(self.project(z))


def dcgan_trunk(width: int) -> list[nn.Module]:
    """The DCGAN discriminator's trunk: four stride-2 convolutions, 64 → 4 px, channels
    1 → w → 2w → 4w → 8w, batch norm after all but the first, LeakyReLU(0.2)."""
    width = _validate.width(width, "width")
    _dcgan_memory(width, "width")
    return downsampling_convs((1, width, 2 * width, 4 * width, 8 * width), batch_norm=True)


SLICES_64 = ("B", 1, 64, 64)  # the DCGAN's and the feature network's input


class DCGANDiscriminator(nn.Module):
    """The logit l(x) of D(x) = σ(l(x)) for 64 px slices: the mirror image of the generator —
    four stride-2 convolutions (batch norm after all but the first, LeakyReLU(0.2)) and a linear
    map of the 4×4×8w features to one logit per slice, shape (B,)."""

    def __init__(self, width: int = 16) -> None:
        width = _validate.width(width, "width")
        _dcgan_memory(width, "width")
        super().__init__()
        self.net = nn.Sequential(*dcgan_trunk(width), nn.Flatten(), nn.Linear(8 * width * 16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", shape=SLICES_64, nonempty=True, what="batch of slices")
        _validate.for_module(x, "x", self, model_name="the discriminator")
        return self.net(x).squeeze(1)


def train_players(generator: nn.Module, discriminator: nn.Module, data, play: Callable, *, epochs: int,
                  batch_size: int, lr: float, seed: int, progress: bool, desc: str, device: torch.device,
                  on_epoch: Callable[[int], None] | None = None) -> dict[str, list[float]]:
    """The loop :func:`train_dcgan` and the conditional DCGAN share: both players moved to ``device``,
    one Adam each (lr, β₁ = 0.5), a noise generator seeded with ``seed``, and
    ``play(batch, g_optimizer, d_optimizer, noise_generator)`` — one round of the game — on every
    minibatch of ``data`` for ``epochs`` epochs (:func:`~course_lib.training.fit`). ``on_epoch(e)``
    runs before training (e = 0) and after each epoch. Returns the per-epoch mean losses; the
    players end in eval mode (and are put back as they were if training stops on an error)."""
    _validate.module(generator, "generator", what="the generator G")
    _validate.module(discriminator, "discriminator", what="the discriminator D")
    _validate.function(play, "play", what="a function (batch, g_optimizer, d_optimizer, noise generator) → losses")
    epochs = _validate.epochs(epochs)
    batch_size = _validate.samples(batch_size, "batch_size")
    _lr(lr)
    _validate.seed(seed)
    device = _validate.device(device)
    if on_epoch is not None:
        _validate.function(on_epoch, "on_epoch", what="a function of the epoch, or None")
    generator.to(device)
    discriminator.to(device)
    rng = torch.Generator().manual_seed(seed)
    g_opt, _ = adam_with_schedule(generator.parameters(), lr, betas=GAN_ADAM_BETAS)
    d_opt, _ = adam_with_schedule(discriminator.parameters(), lr, betas=GAN_ADAM_BETAS)
    if on_epoch is not None:
        on_epoch(0)
    with modes_restored_on_error(generator, discriminator):
        generator.train()
        discriminator.train()
        history = fit(lambda batch: play(batch, g_opt, d_opt, rng), data, epochs=epochs, batch_size=batch_size,
                      seed=seed, progress=progress, desc=desc, device=device,
                      callback=None if on_epoch is None else lambda epoch, _: on_epoch(epoch))
    generator.eval()
    discriminator.eval()
    return history


def train_dcgan(generator: DCGANGenerator, discriminator: DCGANDiscriminator, x_train: torch.Tensor, *,
                epochs: int, batch_size: int = 64, lr: float = 2e-4, kind: str = "non_saturating",
                latent_kind: str = "gaussian", seed: int = 0, snapshot_noise: torch.Tensor | None = None,
                progress: bool = True, device: str | torch.device = "cpu") -> dict:
    """Train a DCGAN by the alternating algorithm (k = 1: one D step, then one G step, per minibatch
    of real slices), with Adam (lr 2·10⁻⁴, β₁ = 0.5) as in Radford et al. (2016).

    Returns {"history": per-epoch mean d_loss and g_loss, "snapshots": epoch → G(snapshot_noise)
    after that epoch (epoch 0: before training), on the CPU, if ``snapshot_noise`` is given}. Both
    players train on ``device`` (moved there; each batch follows). A NaN/inf loss stops training
    with :class:`~course_lib.training.NonFiniteLossError`; non-finite ``x_train`` or ``snapshot_noise``
    is refused (ValueError) before training.
    """
    _validate.module(generator, "generator", what="the DCGAN generator")
    _validate.module(discriminator, "discriminator", what="the DCGAN discriminator")
    latent_dim = getattr(generator, "latent_dim", None)
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int):
        raise TypeError(f"generator must be a generator with an int latent_dim (a DCGANGenerator), "
                        f"got {_validate.describe(generator)}")
    _data(x_train, "x_train", SLICES_64, "batch of slices", discriminator, "the discriminator")
    epochs = _validate.epochs(epochs)
    batch_size = _validate.samples(batch_size, "batch_size")
    _lr(lr)
    kind = _kind(kind)
    _validate.choice(latent_kind, "latent_kind", LATENT_KINDS, why="the noise distribution")
    _validate.seed(seed)
    if snapshot_noise is not None:
        _data(snapshot_noise, "snapshot_noise", ("N", latent_dim), "batch of noise vectors", generator,
              "the generator")
    device = _validate.device(device)
    snapshots: dict[int, torch.Tensor] = {}

    def snapshot(epoch: int) -> None:
        if snapshot_noise is not None:
            generator.eval()
            with torch.no_grad():
                snapshots[epoch] = generator(snapshot_noise.to(device)).cpu()
            generator.train()

    def play(batch: torch.Tensor, g_opt, d_opt, rng: torch.Generator) -> dict[str, float]:
        return _gan_round(generator, discriminator, g_opt, d_opt, [batch],
                          lambda n: _sample_latent(n, generator.latent_dim, latent_kind, rng, device), kind)

    history = train_players(generator, discriminator, x_train, play, epochs=epochs, batch_size=batch_size, lr=lr,
                            seed=seed, progress=progress, desc="DCGAN", device=device, on_epoch=snapshot)
    return {"history": history, "snapshots": snapshots}


class DCGAN(nn.Module):
    """A DCGAN's two players in one module, so that one checkpoint holds both, plus ``snapshots``:
    G's samples of a fixed noise batch at a few epochs of its training (a buffer, saved with it)."""

    def __init__(self, latent_dim: int = 64, width: int = 16, n_snapshots: int = 0, snapshot_size: int = 8) -> None:
        latent_dim = _validate.width(latent_dim, "latent_dim")
        width = _validate.width(width, "width")
        n_snapshots = _validate.integer(n_snapshots, "n_snapshots", minimum=0, maximum=_validate.MAX_SAMPLES,
                                        why=_validate.WHY_SAMPLES)
        snapshot_size = _validate.integer(snapshot_size, "snapshot_size", minimum=0, maximum=_validate.MAX_SAMPLES,
                                          why=_validate.WHY_SAMPLES)
        _validate.memory(4 * 64 * 64 * n_snapshots * snapshot_size, "snapshot_size", "the snapshots' buffer")
        super().__init__()
        self.generator = DCGANGenerator(latent_dim, width)
        self.discriminator = DCGANDiscriminator(width)
        self.register_buffer("snapshots", torch.zeros(n_snapshots, snapshot_size, 1, 64, 64))
        self.register_buffer("snapshot_epochs", torch.zeros(n_snapshots, dtype=torch.long))
