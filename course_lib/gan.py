"""Lecture 04: the GAN minimax game — discriminator and generator losses, the saturation of the
minimax generator loss, MLP GANs for the 2-D toys and a DCGAN for brain slices. (How the
generators are judged — mode coverage, the Fréchet distance — is in :mod:`course_lib.evaluation`.)

Notation of the lecture: a generator G maps noise z to a sample G(z); a discriminator D maps a
sample x to D(x) ∈ (0, 1), the probability that x is real. The value function is

    V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))],      min_G max_D V(D, G).

Every loss here takes the discriminator's *logits* l (D = σ(l)) and uses the stable forms
log σ(l) = −softplus(−l) and log(1 − σ(l)) = −softplus(l). Reductions: means over the batch.
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


def _check_logits(name: str, logits: torch.Tensor) -> None:
    """One logit per sample: shape (B,) or (B, 1), B ≥ 1."""
    _validate.tensor(logits, name, ndim=(1, 2), nonempty=True, what="tensor of logits, one per sample")
    if logits.ndim == 2 and logits.shape[1] != 1:
        raise ValueError(f"{name} must be a floating-point tensor of logits, one per sample, of shape (B,) or "
                         f"(B, 1), got {_validate.describe(logits)}")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of D on a 50/50 batch: label 1 for real samples, 0 for generated ones.

        L_D = ½ (mean_real[−log D(x)] + mean_fake[−log(1 − D(G(z)))]) = −½ V̂(D, G)

    (the mean over the combined batch when both halves have the same size). Minimising L_D is
    maximising V over D.
    """
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    _validate.same_shape(real_logits, fake_logits, ("real_logits", "fake_logits"), "a 50/50 batch")
    return 0.5 * (softplus(-real_logits).mean() + softplus(fake_logits).mean())


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """The generator's loss on D's logits for generated samples, mean over the batch.

    * ``"minimax"``: minimise mean log(1 − D(G(z))) — G's part of V, as in min_G max_D V.
    * ``"non_saturating"`` (the flipped-label loss): minimise mean −log D(G(z)), the BCE of
      D(G(z)) against label 1 — "pretend the fakes are real".
    """
    _check_logits("fake_logits", fake_logits)
    if kind == "minimax":
        return -softplus(fake_logits).mean()
    if kind == "non_saturating":
        return softplus(-fake_logits).mean()
    raise ValueError(f"unknown generator loss {kind!r}; expected one of {GENERATOR_LOSSES}")


def generator_logit_gradient(d_of_g: torch.Tensor, kind: str) -> torch.Tensor:
    """|∂ loss / ∂ logit| of one generated sample as a function of D(G(z)) ∈ (0, 1).

    minimax: ∂ log(1 − σ(l))/∂l = −σ(l), magnitude D(G(z)) → 0 when D confidently rejects;
    non-saturating: ∂ −log σ(l)/∂l = −(1 − σ(l)), magnitude 1 − D(G(z)) → 1 in the same case.
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"unknown generator loss {kind!r}; expected one of {GENERATOR_LOSSES}")
    d = torch.as_tensor(d_of_g, dtype=torch.float64)
    if ((d <= 0) | (d >= 1)).any():
        raise ValueError("D(G(z)) must lie strictly between 0 and 1")
    return d if kind == "minimax" else 1 - d


def sample_latent(n: int, dim: int, kind: str = "gaussian", generator: torch.Generator | None = None,
                  device: str | torch.device = "cpu") -> torch.Tensor:
    """n noise vectors z: ``"gaussian"`` N(0, I) (the lecture's choice) or ``"uniform"`` on [−1, 1]^dim
    (the original GAN paper's, which lecture 04 found far worse on the toys), on ``device``.

    They are drawn where ``generator`` lives (the CPU for ``torch.Generator()``) and then moved,
    so a seed gives the same noise on every device."""
    if kind == "uniform":
        return (2 * torch.rand(n, dim, generator=generator) - 1).to(device)
    if kind == "gaussian":
        return torch.randn(n, dim, generator=generator).to(device)
    raise ValueError(f"unknown latent kind {kind!r}; expected 'uniform' or 'gaussian'")


def mixture_sampler(modes: torch.Tensor, std: float) -> Callable[[int, torch.Generator], torch.Tensor]:
    """``sampler(n, generator)``: n fresh points of the equal-weight mixture of N(m_j, std² I) over
    the rows m_j of ``modes`` — an endless stream of training data for :func:`train_toy_gan`."""
    if modes.ndim != 2 or not std > 0:
        raise ValueError(f"need modes (K, d) and std > 0, got {tuple(modes.shape)} and {std!r}")

    def sampler(n: int, generator: torch.Generator) -> torch.Tensor:
        which = torch.randint(len(modes), (n,), generator=generator)
        return modes[which] + std * torch.randn(n, modes.shape[1], generator=generator)

    return sampler


class MLPGenerator(nn.Module):
    """G(z): an MLP from noise z ∈ R^latent_dim to a point in R^out_dim."""

    def __init__(self, latent_dim: int = 2, hidden: int = 128, depth: int = 3, out_dim: int = 2):
        super().__init__()
        layers: list[nn.Module] = []
        width = latent_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, out_dim))
        self.latent_dim = latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """The logit l(x) of D(x) = σ(l(x)): an MLP from R^in_dim to one number per sample (B,)."""

    def __init__(self, in_dim: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
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
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"unknown generator loss {kind!r}; expected one of {GENERATOR_LOSSES}")
    with unchanged_on_nonfinite(generator, discriminator):  # a NaN leaves no trace, not even in BatchNorm
        for real in real_batches:
            fake = generator(latent(len(real))).detach()
            if r1_gamma > 0:
                real = real.detach().requires_grad_(True)
            real_logits = discriminator(real)
            d_loss = discriminator_loss(real_logits, discriminator(fake))
            penalty = 0.0
            if r1_gamma > 0:
                (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
                penalty = r1_gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()
            d_optimizer.zero_grad()
            backward_and_step(d_optimizer, d_loss + penalty, "d_loss", "the discriminator's step")
        m = len(real_batches[-1])
        g_loss = generator_loss(discriminator(generator(latent(m))), kind)
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
    :class:`~course_lib.training.NonFiniteLossError`.
    """
    if not (isinstance(r1_every, int) and r1_every >= 1 and 0 <= hold < 1 and 0 <= late_fraction <= 1):
        raise ValueError(f"need r1_every ≥ 1, 0 ≤ hold < 1 and 0 ≤ late_fraction ≤ 1, got {r1_every!r}, {hold!r}, "
                         f"{late_fraction!r}")
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed + 1)
    device = _validate.device(device)
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
        return sample_latent(n, latent_dim, latent_kind, rng, device)

    history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "g_grad_norm": []}
    snapshots: dict[int, torch.Tensor] = {}
    fixed_noise = latent(snapshot_size)
    watch = LossWatch()
    with single_threaded():  # tiny networks: see single_threaded
        for step in range(1, steps + 1):
            m = late_batch_size if late_batch_size and step > late_fraction * steps else batch_size
            gamma = r1_gamma * r1_every if (step - 1) % r1_every == 0 else 0.0
            with located(f"step {step}"):
                losses = gan_training_step(generator, discriminator, g_opt, d_opt,
                                           [sampler(m, rng).to(device) for _ in range(k_disc)], latent, kind,
                                           r1_gamma=gamma)
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
        super().__init__()
        if not (isinstance(latent_dim, int) and latent_dim > 0 and isinstance(width, int) and width > 0):
            raise ValueError(f"latent_dim and width must be positive ints, got {latent_dim!r}, {width!r}")
        self.latent_dim = latent_dim
        c = [8 * width, 4 * width, 2 * width, width]
        self.project = nn.Sequential(nn.Linear(latent_dim, c[0] * 16), nn.Unflatten(1, (c[0], 4, 4)),
                                     nn.BatchNorm2d(c[0]), nn.ReLU())
        self.upsample = nn.Sequential(*upsampling_convs((*c, 1), output=nn.Sigmoid(), batch_norm=True,
                                                        activation=nn.ReLU))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected noise of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.upsample(self.project(z))


def dcgan_trunk(width: int) -> list[nn.Module]:
    """The DCGAN discriminator's trunk: four stride-2 convolutions, 64 → 4 px, channels
    1 → w → 2w → 4w → 8w, batch norm after all but the first, LeakyReLU(0.2)."""
    return downsampling_convs((1, width, 2 * width, 4 * width, 8 * width), batch_norm=True)


SLICES_64 = ("B", 1, 64, 64)  # the DCGAN's and the feature network's input


class DCGANDiscriminator(nn.Module):
    """The logit l(x) of D(x) = σ(l(x)) for 64 px slices: the mirror image of the generator —
    four stride-2 convolutions (batch norm after all but the first, LeakyReLU(0.2)) and a linear
    map of the 4×4×8w features to one logit per slice, shape (B,)."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(*dcgan_trunk(width), nn.Flatten(), nn.Linear(8 * width * 16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", shape=SLICES_64, what="batch of slices")
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
    with :class:`~course_lib.training.NonFiniteLossError`.
    """
    _validate.tensor(x_train, "x_train", shape=SLICES_64, nonempty=True, what="batch of slices")
    device = _validate.device(device)
    snapshots: dict[int, torch.Tensor] = {}

    def snapshot(epoch: int) -> None:
        if snapshot_noise is not None:
            generator.eval()
            with torch.no_grad():
                snapshots[epoch] = generator(snapshot_noise.to(device)).cpu()
            generator.train()

    def play(batch: torch.Tensor, g_opt, d_opt, rng: torch.Generator) -> dict[str, float]:
        return gan_training_step(generator, discriminator, g_opt, d_opt, [batch],
                                 lambda n: sample_latent(n, generator.latent_dim, latent_kind, rng, device), kind)

    history = train_players(generator, discriminator, x_train, play, epochs=epochs, batch_size=batch_size, lr=lr,
                            seed=seed, progress=progress, desc="DCGAN", device=device, on_epoch=snapshot)
    return {"history": history, "snapshots": snapshots}


class DCGAN(nn.Module):
    """A DCGAN's two players in one module, so that one checkpoint holds both, plus ``snapshots``:
    G's samples of a fixed noise batch at a few epochs of its training (a buffer, saved with it)."""

    def __init__(self, latent_dim: int = 64, width: int = 16, n_snapshots: int = 0, snapshot_size: int = 8) -> None:
        super().__init__()
        self.generator = DCGANGenerator(latent_dim, width)
        self.discriminator = DCGANDiscriminator(width)
        self.register_buffer("snapshots", torch.zeros(n_snapshots, snapshot_size, 1, 64, 64))
        self.register_buffer("snapshot_epochs", torch.zeros(n_snapshots, dtype=torch.long))
