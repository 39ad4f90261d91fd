"""Lecture 04, conditional GANs (Mirza & Osindero, 2014): both players are told a condition y.

The generator draws from p_g(x | y) with G(z | y); the discriminator judges *pairs*, D(x | y) —
"is x a real sample of class y?". The value function of the cGAN is

    V(D, G) = E_{x,y ~ p_data}[log D(x | y)] + E_{z ~ p_z, y ~ p(y)}[log(1 − D(G(z | y) | y))],

min_G max_D V(D, G): the GAN game played on the joint distribution of (x, y), in which G
copies y and only has to produce x. A generator that ignores y loses, because D sees a sample
of the wrong class paired with y. The losses are the unconditional ones (:mod:`course_lib.gan`)
evaluated on conditional logits, so everything here is about *passing y along*:

* the networks take (x, y) or (z, y) — y as integer labels (B,), one-hot inside;
* :func:`given_labels` fixes y for one batch, so that a conditional network behaves like an
  unconditional one and :func:`~course_lib.gan.gan_training_step` plays the round unchanged;
* :func:`conditional_discriminator_loss` is the exercise of lecture 04's solution notebook;
* :func:`conditional_mode_accuracy` and :func:`~course_lib.evaluation.band_accuracy` measure whether G obeys y.

Every public function checks its arguments first (``TypeError`` / ``ValueError`` naming the argument):
labels must be integer class labels in range, one per sample; the losses, the accuracy and the trainers
refuse NaN/±inf data, and the trainers learning rates ≤ 0, negative seeds and oversized networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from . import _validate
from .gan import (SLICES_64, DCGANGenerator, _data, _dcgan_memory, _gan_round, _lr, _mlp_memory, _sample_latent,
                  dcgan_trunk, discriminator_loss, train_players)
from .training import GAN_ADAM_BETAS, LossWatch, WeightAverages, adam_with_schedule, located, single_threaded
from .evaluation import band_accuracy  # re-exported: the cGAN's conditional accuracy on slices
from .vae import one_hot

__all__ = [
    "ConditionalMLPGenerator",
    "ConditionalMLPDiscriminator",
    "ConditionalDCGANGenerator",
    "ConditionalDCGANDiscriminator",
    "ConditionalDCGAN",
    "given_labels",
    "conditional_discriminator_loss",
    "labelled_mixture_sampler",
    "train_toy_cgan",
    "train_conditional_dcgan",
    "conditional_mode_accuracy",
    "band_accuracy",
]


def _check_labels(labels: torch.Tensor, n: int, n_classes: int, name: str = "labels") -> None:
    _validate.tensor(labels, name, ndim=1, what="integer tensor of class labels (B,)", floating=False)
    if len(labels) != n:
        raise ValueError(f"{name} must hold one label per sample ({n}), got {len(labels)}")
    _validate.values(labels, name)
    one_hot(labels, n_classes)  # range check with a clear message


def _check_points(x: torch.Tensor, name: str, what: str, rows: str = "B") -> None:
    """Data a function computes numbers from: a non-empty, finite floating (rows, 2) tensor holding values."""
    _validate.tensor(x, name, shape=(rows, 2), nonempty=True, what=what)
    _validate.values(x, name)
    _validate.tensor(x, name, finite=True, what=what)


class ConditionalMLPGenerator(nn.Module):
    """G(z | y) for the 2-D toys: an MLP of the concatenation [z, one_hot(y)]."""

    def __init__(self, latent_dim: int = 2, n_classes: int = 8, hidden: int = 128, depth: int = 3) -> None:
        latent_dim = _validate.width(latent_dim, "latent_dim")
        n_classes = _validate.classes(n_classes, "n_classes", minimum=1)
        hidden = _validate.width(hidden, "hidden")
        depth = _validate.layers(depth, "depth", minimum=0)
        _mlp_memory([latent_dim + n_classes] + [hidden] * depth + [2], "hidden")
        super().__init__()
        self.latent_dim = latent_dim
        self.n_classes = n_classes
        layers: list[nn.Module] = []
        width = latent_dim + n_classes
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, 2))

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _validate.tensor(z, "z", shape=("B", self.latent_dim), nonempty=True, what="batch of noise vectors")
        _validate.for_module(z, "z", self, model_name="the generator")
        _check_labels(labels, len(z), self.n_classes)
        return self.net(torch.cat([z, one_hot(labels, self.n_classes).to(z)], dim=1))


class ConditionalMLPDiscriminator(nn.Module):
    """The logit l(x | y) of D(x | y) for the 2-D toys: an MLP of [x, one_hot(y)], shape (B,)."""

    def __init__(self, n_classes: int = 8, hidden: int = 128, depth: int = 3) -> None:
        n_classes = _validate.classes(n_classes, "n_classes", minimum=1)
        hidden = _validate.width(hidden, "hidden")
        depth = _validate.layers(depth, "depth", minimum=0)
        _mlp_memory([2 + n_classes] + [hidden] * depth + [1], "hidden")
        super().__init__()
        self.n_classes = n_classes
        layers: list[nn.Module] = []
        width = 2 + n_classes
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", shape=("B", 2), nonempty=True, what="batch of 2-D points")
        _validate.for_module(x, "x", self, model_name="the discriminator")
        _check_labels(labels, len(x), self.n_classes)
        return self.net(torch.cat([x, one_hot(labels, self.n_classes).to(x)], dim=1)).squeeze(1)


class ConditionalDCGANGenerator(DCGANGenerator):
    """G(z | y) for 64 px slices: the DCGAN generator of [z, one_hot(y)] (Mirza & Osindero, 2014)."""

    def __init__(self, latent_dim: int = 64, n_classes: int = 4, width: int = 16) -> None:
        latent_dim = _validate.width(latent_dim, "latent_dim")
        n_classes = _validate.classes(n_classes, "n_classes", minimum=1)
        self.n_classes = n_classes
        super().__init__(latent_dim + n_classes, width)
        self.noise_dim = latent_dim

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        _validate.tensor(z, "z", shape=("B", self.noise_dim), nonempty=True, what="batch of noise vectors")
        _validate.for_module(z, "z", self, model_name="the generator")
        _check_labels(labels, len(z), self.n_classes)
        return super().forward(torch.cat([z, one_hot(labels, self.n_classes).to(z)], dim=1))


class ConditionalDCGANDiscriminator(nn.Module):
    """The logit l(x | y) for 64 px slices, a *projection* discriminator (Miyato & Koyama, 2018):

        l(x | y) = wᵀφ(x) + b + e_yᵀφ(x),

    φ(x) the DCGAN trunk's flattened features and e_y a learnt embedding of class y. The second
    term is the log-ratio of the class-conditional to the marginal density under a log-linear
    model; concatenating y to the input image instead works too, but learns more slowly."""

    def __init__(self, n_classes: int = 4, width: int = 16) -> None:
        n_classes = _validate.classes(n_classes, "n_classes", minimum=1)
        width = _validate.width(width, "width")
        _dcgan_memory(width, "width", latent_dim=n_classes)  # the embedding: n_classes × 16·8w
        super().__init__()
        self.n_classes = n_classes
        self.trunk = nn.Sequential(*dcgan_trunk(width), nn.Flatten())
        self.linear = nn.Linear(8 * width * 16, 1)
        self.embed = nn.Embedding(n_classes, 8 * width * 16)
        nn.init.normal_(self.embed.weight, std=0.01)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _validate.tensor(x, "x", shape=SLICES_64, nonempty=True, what="batch of slices")
        _validate.for_module(x, "x", self, model_name="the discriminator")
        _check_labels(labels, len(x), self.n_classes)
        phi = self.trunk(x)
        return self.linear(phi).squeeze(1) + (self.embed(labels.long()) * phi).sum(1)


class _GivenLabels(nn.Module):
    """A conditional network with y fixed: forward(x) = net(x, labels). Its parameters are net's."""

    def __init__(self, net: nn.Module, labels: torch.Tensor) -> None:
        super().__init__()
        self.net = net
        self.labels = labels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.labels)


def given_labels(net: nn.Module, labels: torch.Tensor) -> nn.Module:
    """``net`` with the condition fixed to ``labels``: a module whose forward(x) is net(x, labels),
    sharing net's parameters — one batch of a cGAN played as an unconditional round."""
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a conditional nn.Module, got {type(net).__name__}")
    _validate.tensor(labels, "labels", ndim=1, nonempty=True, floating=False, what="integer tensor of class labels")
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor of class labels, got {_validate.describe(labels)}")
    _validate.values(labels, "labels")
    n_classes = getattr(net, "n_classes", None)
    if isinstance(n_classes, int) and not isinstance(n_classes, bool):
        _check_labels(labels, len(labels), n_classes)  # labels beyond the classes net knows
    elif labels.min() < 0:
        raise ValueError(f"labels must hold class labels ≥ 0, got {int(labels.min())}")
    return _GivenLabels(net, labels)


def conditional_discriminator_loss(discriminator: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                                   real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """D's loss in the cGAN game: the binary cross-entropy of D(· | y) on real pairs (x, y), label 1,
    and on generated pairs (G(z | y), y) with the *same* y, label 0 — minus V̂ of the module doc, halved:

        L_D = ½ (mean[−log D(x | y)] + mean[−log(1 − D(G(z | y) | y))]).

    Only D learns from this loss: ``fake`` is detached, so no gradient reaches G. Raises ValueError
    for NaN/±inf or empty batches and for labels that are not one per sample."""
    _validate.function(discriminator, "discriminator", what="a conditional discriminator (x, labels) → logits")
    for x, name in ((real, "real"), (fake, "fake")):
        _validate.batch(x, name, what="batch of samples")
        _validate.values(x, name)
        if isinstance(discriminator, nn.Module):
            _validate.for_module(x, name, discriminator, model_name="the discriminator")
    _validate.same_shape(real, fake, ("real", "fake"), "a 50/50 batch")
    n_classes = getattr(discriminator, "n_classes", None)
    if isinstance(n_classes, int) and not isinstance(n_classes, bool):
        _check_labels(labels, len(real), n_classes)
    else:
        _validate.tensor(labels, "labels", ndim=1, what="integer tensor of class labels (B,)", floating=False)
        if len(labels) != len(real):
            raise ValueError(f"labels must hold one label per sample ({len(real)}), got {len(labels)}")
        _validate.values(labels, "labels")
    _validate.tensor(real, "real", finite=True, what="batch of samples")
    _validate.tensor(fake, "fake", finite=True, what="batch of samples")
    return discriminator_loss(discriminator(real, labels), discriminator(fake.detach(), labels))


def labelled_mixture_sampler(modes: torch.Tensor, std: float) -> Callable[[int, torch.Generator], tuple]:
    """``sampler(n, generator)`` → (x, y): n points of the equal-weight mixture of N(m_j, std² I)
    and the index y of the mode each was drawn from — the toy cGAN's labelled data."""
    _validate.tensor(modes, "modes", shape=("K", 2), nonempty=True, finite=True, what="mode centres")
    std = _validate.number(std, "std", minimum=0, open_minimum=True)

    def sampler(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(len(modes), (n,), generator=generator)
        return modes[y] + std * torch.randn(n, 2, generator=generator), y

    return sampler


def train_toy_cgan(sampler: Callable[[int, torch.Generator], tuple], n_classes: int, *, steps: int,
                   batch_size: int = 256, lr: float = 1e-3, hold: float = 0.5, r1_gamma: float = 0.03,
                   ema_decay: float | None = 0.995, latent_dim: int = 2, hidden: int = 128, seed: int = 0,
                   device: str | torch.device = "cpu") -> dict:
    """Train a conditional MLP GAN on a labelled 2-D toy (``sampler(n, generator)`` → (x, y)).

    Each round is :func:`~course_lib.gan.gan_training_step` on the batch's labels: D sees the
    real pairs (x, y) and G's pairs (G(z | y), y) with the same y; G then plays against
    D(· | y). The rest is lecture 04's toy recipe: Adam (β₁ = 0.5), the flipped-label loss,
    the R1 penalty on the real pairs, lr held for a fraction ``hold`` and then cosine-decayed,
    and G's weights averaged (β = ``ema_decay``) after ``hold``.

    Returns {"generator", "discriminator", "history" (per-round losses)}. Every argument is checked
    before training (ValueError for counts < 1 or beyond their bounds, lr ≤ 0, hold ∉ [0, 1), …).
    """
    _validate.function(sampler, "sampler", what="a function (n, generator) → (points, labels)")
    n_classes = _validate.classes(n_classes, "n_classes", minimum=1)
    steps = _validate.positive_int(steps, "steps", maximum=10**6, why="one round takes milliseconds")
    batch_size = _validate.samples(batch_size, "batch_size")
    _lr(lr)
    _validate.number(hold, "hold", minimum=0, maximum=1, open_maximum=True, why="the cosine decay needs steps after it")
    _validate.number(r1_gamma, "r1_gamma", minimum=0, why="the R1 penalty's weight")
    if ema_decay is not None:
        _validate.number(ema_decay, "ema_decay", minimum=0, maximum=1, open_minimum=True, open_maximum=True,
                         why="the weight average's decay β, or None")
    latent_dim = _validate.width(latent_dim, "latent_dim")
    hidden = _validate.width(hidden, "hidden")
    _validate.seed(seed)
    if seed + 1 > 2**63 - 1:
        raise ValueError(f"seed must be an int from 0 to {2**63 - 2:,} (seed + 1 seeds the data), got {seed!r}")
    _mlp_memory([latent_dim + n_classes, hidden, hidden, hidden, 2], "hidden")
    _validate.memory(4 * batch_size * max(hidden, latent_dim + n_classes), "batch_size",
                     f"a batch of {batch_size:,} samples through {hidden:,} hidden units")
    device = _validate.device(device)
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed + 1)
    generator = ConditionalMLPGenerator(latent_dim, n_classes, hidden).to(device)
    discriminator = ConditionalMLPDiscriminator(n_classes, hidden).to(device)
    averaged = WeightAverages([generator], ema_decay)
    hold_steps = int(hold * steps)

    def lr_factor(t: int) -> float:
        return 1.0 if t < hold_steps else 0.5 * (1 + math.cos(math.pi * (t - hold_steps) / (steps - hold_steps)))

    g_opt, g_schedule = adam_with_schedule(generator.parameters(), lr, schedule=lr_factor, betas=GAN_ADAM_BETAS)
    d_opt, d_schedule = adam_with_schedule(discriminator.parameters(), lr, schedule=lr_factor, betas=GAN_ADAM_BETAS)
    history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "g_grad_norm": []}
    watch = LossWatch()
    with single_threaded():  # tiny networks: see single_threaded
        for step in range(1, steps + 1):
            x, y = sampler(batch_size, rng)
            x, y = x.to(device), y.to(device)
            with located(f"step {step}"):
                losses = _gan_round(_GivenLabels(generator, y), _GivenLabels(discriminator, y), g_opt, d_opt,
                                    [x], lambda n: _sample_latent(n, latent_dim, "gaussian", rng, device),
                                    r1_gamma=r1_gamma)
            watch.check(losses, epoch=1, step=step)
            if step > hold_steps:
                averaged.update()
            g_schedule.step()
            d_schedule.step()
            for name, value in losses.items():
                history[name].append(value)
    averaged.copy_into_networks()
    return {"generator": generator.eval(), "discriminator": discriminator.eval(), "history": history}


def train_conditional_dcgan(generator: ConditionalDCGANGenerator, discriminator: ConditionalDCGANDiscriminator,
                            x_train: torch.Tensor, labels: torch.Tensor, *, epochs: int, batch_size: int = 64,
                            lr: float = 2e-4, seed: int = 0, progress: bool = True,
                            device: str | torch.device = "cpu") -> dict:
    """Train a conditional DCGAN on labelled slices as :func:`~course_lib.gan.train_dcgan` trains the
    unconditional one (k = 1, Adam lr 2·10⁻⁴, β₁ = 0.5, flipped-label loss), each round on its
    minibatch's labels. Returns {"history": per-epoch mean d_loss and g_loss}. Non-finite ``x_train``
    is refused (ValueError) before training."""
    _validate.module(generator, "generator", ConditionalDCGANGenerator, what="the conditional generator")
    _validate.module(discriminator, "discriminator", ConditionalDCGANDiscriminator,
                     what="the conditional discriminator")
    _validate.tensor(x_train, "x_train", shape=SLICES_64, nonempty=True, what="batch of slices")
    _check_labels(labels, len(x_train), generator.n_classes, "labels")
    if discriminator.n_classes != generator.n_classes:
        raise ValueError(f"generator and discriminator must know the same classes, got {generator.n_classes} "
                         f"and {discriminator.n_classes}")
    _data(x_train, "x_train", SLICES_64, "batch of slices", discriminator, "the discriminator")
    _validate.epochs(epochs)
    _validate.samples(batch_size, "batch_size")
    _lr(lr)
    _validate.seed(seed)
    device = _validate.device(device)

    def play(batch: tuple[torch.Tensor, torch.Tensor], g_opt, d_opt, rng: torch.Generator) -> dict[str, float]:
        x, y = batch
        return _gan_round(_GivenLabels(generator, y), _GivenLabels(discriminator, y), g_opt, d_opt, [x],
                          lambda n: _sample_latent(n, generator.noise_dim, "gaussian", rng, device))

    history = train_players(generator, discriminator, (x_train, labels), play, epochs=epochs, batch_size=batch_size,
                            lr=lr, seed=seed, progress=progress, desc="conditional DCGAN", device=device)
    return {"history": history}


class ConditionalDCGAN(nn.Module):
    """A conditional DCGAN's two players in one module (one checkpoint holds both)."""

    def __init__(self, latent_dim: int = 64, n_classes: int = 4, width: int = 16) -> None:
        super().__init__()
        self.generator = ConditionalDCGANGenerator(latent_dim, n_classes, width)
        self.discriminator = ConditionalDCGANDiscriminator(n_classes, width)


def conditional_mode_accuracy(samples: torch.Tensor, labels: torch.Tensor, modes: torch.Tensor, std: float) -> float:
    """The share of toy samples that landed where they were asked to: within 3·std of the mode
    ``modes[labels[i]]`` their condition names (the high-quality radius of lecture 04's mode count)."""
    _check_points(samples, "samples", "batch of 2-D samples")
    _check_points(modes, "modes", "mode centres", rows="K")
    _check_labels(labels, len(samples), len(modes))
    std = _validate.number(std, "std", minimum=0, open_minimum=True)
    distance = (samples - modes.to(samples)[labels.long()]).norm(dim=1)
    return (distance < 3 * std).double().mean().item()
