"""Lecture 05: image-to-image translation, T1 → T2 — CycleGAN on unpaired slices, the naive
one-sided GAN it fixes, pix2pix on registered pairs as the upper bound, and histogram matching.

Notation of the lecture: X is the T1 domain, Y the T2-like one. G: X → Y and F: Y → X are
generators; D_Y tells real y from G(x), D_X real x from F(y). The CycleGAN objective
(Zhu et al., 2017) is

    L(G, F, D_X, D_Y) = L_GAN(G, D_Y) + L_GAN(F, D_X) + λ_cyc L_cyc(G, F) + λ_id L_id(G, F),

with least-squares adversarial terms (Mao et al., 2017) and L1 cycle and identity terms. The
discriminators are PatchGANs: they score overlapping windows of the image, so the output is a
map of scores (B, 1, h, w), not one number per image. Reductions: every loss here is a mean over
the batch and over pixels (or patches).

At about 480 lines this is the library's longest module, and deliberately one: its translators
share the networks, the losses and the training loop, and a reader comparing CycleGAN with the
naive GANs and pix2pix wants them side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from . import _validate
from .gan import discriminator_loss, generator_loss
from .training import (GAN_ADAM_BETAS, History, WeightAverages, adam_with_schedule, backward_and_step, fit,
                       map_batches, modes_restored_on_error, unchanged_on_nonfinite)

__all__ = [
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "cycle_consistency_loss",
    "identity_loss",
    "ResnetGenerator",
    "PatchDiscriminator",
    "CycleGAN",
    "GeneratorStep",
    "ImagePool",
    "cyclegan_generator_step",
    "cyclegan_discriminator_step",
    "train_cyclegan",
    "Pix2Pix",
    "pix2pix_step",
    "train_pix2pix",
    "histogram_match",
    "translate",
]


# =============================================================================================
# Input checks
# =============================================================================================


def _check_translator_input(x: torch.Tensor, name: str, channels: int = 1, *, multiple: int = 4,
                            data: bool = False) -> None:
    """Slices for the translators: a non-empty float tensor (B, channels, S, S), S a multiple of 4
    (the generators halve the size and restore it; ``multiple``: of a deeper generator's 2^d), S ≥ 32
    (the discriminator halves it three times). ``data``: values that are computed with (a loss,
    a step, a trainer, an evaluation), so finite and not on the ``meta`` device; a forward pass
    propagates NaN like every torch layer and is not checked for it (one sync per step saved)."""
    _validate.tensor(x, name, shape=("B", channels, "S", "S"), what="batch of slices", nonempty=True)
    size = x.shape[-1]
    if x.shape[-2] != size or size % multiple or size < 32:
        raise ValueError(f"{name} must be square slices with a side that is a multiple of {multiple} and at least "
                         f"32 px, got {_validate.describe(x)}")
    if data:
        _validate.values(x, name)
        _validate.tensor(x, name, finite=True, what="batch of slices")


def _check_scores(name: str, scores: torch.Tensor) -> None:
    _validate.tensor(scores, name, nonempty=True, finite=True,
                     what="tensor of discriminator scores, one or more per sample")


def _check_images(name: str, images: torch.Tensor) -> None:
    """Images an L1 term compares: a non-empty, finite float tensor (any shape: the checks use 8 px slices)."""
    _validate.tensor(images, name, nonempty=True, finite=True, what="batch of images")


def _check_weight(value, name: str) -> float:
    """A loss term's weight λ ≥ 0 (0 drops the term)."""
    return _validate.number(value, name, minimum=0, why="a loss term's weight; 0 drops the term")


def _check_ema_decay(value) -> float | None:
    if value is None:
        return None
    return _validate.number(value, "ema_decay", minimum=0, maximum=1, open_minimum=True, open_maximum=True,
                            why="the moving average's β, or None for no average")


def _check_generator_size(width: int, n_blocks: int, downsamplings: int, name: str = "width",
                          copies: int = 1) -> int:
    """Validate a ResnetGenerator's sizes (in the order of its parameters); return its parameter count.
    The widest layer has width·2^downsamplings channels, bounded like any width; the parameters must fit."""
    width = _validate.width(width, name)
    n_blocks = _validate.layers(n_blocks, "n_blocks", minimum=0)
    downsamplings = _validate.layers(downsamplings, "downsamplings", minimum=0)
    if downsamplings > 20 or width * 2**downsamplings > _validate.MAX_WIDTH:
        raise ValueError(f"downsamplings must leave the widest layer, {name}·2^downsamplings channels, at most "
                         f"{_validate.MAX_WIDTH:,} ({_validate.WHY_WIDTH}), got {name} = {width} and "
                         f"downsamplings = {downsamplings}")
    channels = [width * 2**i for i in range(downsamplings + 1)]
    count = 2 * 49 * width + sum(2 * 9 * a * b for a, b in zip(channels[:-1], channels[1:]))
    count += n_blocks * 2 * 9 * channels[-1] ** 2
    _validate.memory(4 * copies * count, "n_blocks" if n_blocks else name, "the generator's parameters")
    return count


def _check_discriminator_size(in_channels: int, width: int, name: str = "width", copies: int = 1) -> None:
    in_channels = _validate.width(in_channels, "in_channels")
    width = _validate.width(width, name)
    if 8 * width > _validate.MAX_WIDTH:
        raise ValueError(f"{name} must be at most {_validate.MAX_WIDTH // 8:,} (the last layer has 8·{name} "
                         f"channels; {_validate.WHY_WIDTH}), got {width}")
    count = 16 * (in_channels * width + 42 * width**2 + 8 * width)
    _validate.memory(4 * copies * count, name, "the discriminator's parameters")


# =============================================================================================
# The losses
# =============================================================================================


def lsgan_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Least-squares discriminator loss (Mao et al., 2017), the form CycleGAN uses:

        L_D = ½ E_y[(D(y) − 1)²] + ½ E_x[D(G(x))²].

    The labels are lecture 04's (1 = real, 0 = generated); the squared error replaces binary
    cross-entropy, and D outputs an unbounded score, not a probability. Means over samples and
    patches; the real and fake batches may differ in size but not in score-map shape. Raises
    ValueError for empty or non-finite scores.
    """
    _check_scores("real_scores", real_scores)
    _check_scores("fake_scores", fake_scores)
    if real_scores.shape[1:] != fake_scores.shape[1:]:
        raise ValueError(f"real and fake score maps must have the same shape per sample, got "
                         f"{tuple(real_scores.shape[1:])} and {tuple(fake_scores.shape[1:])}")
    _validate.same_device([real_scores, fake_scores], ["real_scores", "fake_scores"])
    return _lsgan_d(real_scores, fake_scores)


def _lsgan_d(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    return 0.5 * (real_scores - 1).pow(2).mean() + 0.5 * fake_scores.pow(2).mean()


def lsgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Least-squares generator loss, L_G = E_x[(D(G(x)) − 1)²]: G wants its outputs scored as real.

    Like lecture 04's flipped-label loss it targets the *real* label, so its gradient
    2(D(G(x)) − 1) is largest exactly when D confidently rejects the fakes — it does not saturate.
    Raises ValueError for empty or non-finite scores.
    """
    _check_scores("fake_scores", fake_scores)
    return _lsgan_g(fake_scores)


def _lsgan_g(fake_scores: torch.Tensor) -> torch.Tensor:
    return (fake_scores - 1).pow(2).mean()


def _l1(a: torch.Tensor, b: torch.Tensor, what: str) -> torch.Tensor:
    if a.shape != b.shape:
        raise ValueError(f"{what}: the images compared must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return (a - b).abs().mean()


def _check_l1_inputs(names: tuple[str, str, str, str], tensors: tuple[torch.Tensor, ...]) -> None:
    """The four images of an L1 pair loss, in the order of its parameters, then on one device."""
    for name, value in zip(names, tensors):
        _check_images(name, value)
    _validate.same_device(tensors, names)


def cycle_consistency_loss(x: torch.Tensor, x_cycled: torch.Tensor, y: torch.Tensor, y_cycled: torch.Tensor) -> torch.Tensor:
    """L_cyc = E_x‖F(G(x)) − x‖₁ + E_y‖G(F(y)) − y‖₁, each term a mean over batch and pixels.

    ``x_cycled`` = F(G(x)) and ``y_cycled`` = G(F(y)): a translation there and back must return
    the input, so G cannot map an image to just *any* realistic image of the other domain.
    Raises ValueError for empty or non-finite images.
    """
    _check_l1_inputs(("x", "x_cycled", "y", "y_cycled"), (x, x_cycled, y, y_cycled))
    return _cycle(x, x_cycled, y, y_cycled)


def _cycle(x: torch.Tensor, x_cycled: torch.Tensor, y: torch.Tensor, y_cycled: torch.Tensor) -> torch.Tensor:
    return _l1(x_cycled, x, "cycle loss (x direction)") + _l1(y_cycled, y, "cycle loss (y direction)")


def identity_loss(x: torch.Tensor, f_of_x: torch.Tensor, y: torch.Tensor, g_of_y: torch.Tensor) -> torch.Tensor:
    """L_id = E_y‖G(y) − y‖₁ + E_x‖F(x) − x‖₁: an image already in the target domain should pass
    through unchanged. It keeps G and F from shifting intensities they need not shift.
    Raises ValueError for empty or non-finite images."""
    _check_l1_inputs(("x", "f_of_x", "y", "g_of_y"), (x, f_of_x, y, g_of_y))
    return _identity(x, f_of_x, y, g_of_y)


def _identity(x: torch.Tensor, f_of_x: torch.Tensor, y: torch.Tensor, g_of_y: torch.Tensor) -> torch.Tensor:
    return _l1(g_of_y, y, "identity loss (G on y)") + _l1(f_of_x, x, "identity loss (F on x)")


# =============================================================================================
# The networks
# =============================================================================================


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


class ResnetGenerator(nn.Module):
    """The CycleGAN generator (Johnson et al., 2016), scaled for 64 px slices on a CPU:
    a 7×7 convolution to ``width`` channels, ``downsamplings`` stride-2 convolutions (each halves
    the size and doubles the channels), ``n_blocks`` residual blocks, as many stride-2 transposed
    convolutions back to full size, and a 7×7 convolution to one channel with a sigmoid (slices
    lie in [0, 1]). Instance norm and ReLU throughout, reflection padding at the borders."""

    def __init__(self, width: int = 16, n_blocks: int = 4, downsamplings: int = 2) -> None:
        super().__init__()
        _check_generator_size(width, n_blocks, downsamplings)
        self.downsamplings = downsamplings

        def norm_relu(c: int) -> list[nn.Module]:
            return [nn.InstanceNorm2d(c, affine=True), nn.ReLU()]

        channels = [width * 2**i for i in range(downsamplings + 1)]
        down: list[nn.Module] = []
        up: list[nn.Module] = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            down += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), *norm_relu(c_out)]
            up = [nn.ConvTranspose2d(c_out, c_in, 3, stride=2, padding=1, output_padding=1), *norm_relu(c_in)] + up
        self.net = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(1, width, 7), *norm_relu(width), *down,
            *[_ResidualBlock(channels[-1]) for _ in range(n_blocks)],
            *up, nn.ReflectionPad2d(3), nn.Conv2d(width, 1, 7), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_translator_input(x, "the generator's input", multiple=max(4, 2**self.downsamplings))
        _validate.for_module(x, "the generator's input", self, model_name="the generator")
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """The 70 × 70 PatchGAN discriminator of pix2pix and CycleGAN (Isola et al., 2017): a fully
    convolutional net whose output is a map of scores, one per overlapping 70 × 70 px window (its
    receptive field) — a 6 × 6 map for a 64 px slice. The window is wider than such a slice: each
    score sees 47–63 px of it in each direction (the rest is zero padding), so on 64 px slices this
    is in effect a global discriminator with 36 overlapping verdicts, not a local one. 4 × 4
    convolutions: three stride-2 (width, 2·width, 4·width channels), one stride-1 (8·width), then
    a stride-1 convolution to one score channel; instance norm after all but the first and the
    last, LeakyReLU(0.2). ``in_channels`` = 2 for pix2pix's conditional D, which sees (x, y) stacked.
    """

    def __init__(self, in_channels: int = 1, width: int = 32) -> None:
        super().__init__()
        _check_discriminator_size(in_channels, width)
        self.in_channels = in_channels
        c = [in_channels, width, 2 * width, 4 * width, 8 * width]
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(c[:-1], c[1:])):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2 if i < 3 else 1, padding=1),
                       *([nn.InstanceNorm2d(c_out, affine=True)] if i > 0 else []), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Conv2d(c[-1], 1, 4, stride=1, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_translator_input(x, "the discriminator's input", channels=self.in_channels)
        _validate.for_module(x, "the discriminator's input", self, model_name="the discriminator")
        return self.net(x)


def _check_translator_sizes(width: int, n_blocks: int, d_width: int, downsamplings: int, *, copies: int,
                            d_channels: int = 1) -> None:
    """A translator's sizes in the order of its parameters (width, n_blocks, d_width, downsamplings),
    with ``copies`` generators and as many discriminators, before any network is built."""
    _validate.width(width, "width")
    _validate.layers(n_blocks, "n_blocks", minimum=0)
    _check_discriminator_size(d_channels, d_width, "d_width", copies=copies)
    _check_generator_size(width, n_blocks, downsamplings, copies=copies)


class CycleGAN(nn.Module):
    """The four players in one module (one checkpoint): G: X → Y, F: Y → X, D_X and D_Y.

    Trained with λ_cyc = λ_id = 0 the same module is the *naive* approach: two independent
    one-sided GANs, G against D_Y and F against D_X, with nothing tying an output to its input.
    """

    def __init__(self, width: int = 16, n_blocks: int = 4, d_width: int = 32, downsamplings: int = 2) -> None:
        super().__init__()
        _check_translator_sizes(width, n_blocks, d_width, downsamplings, copies=2)
        self.G = ResnetGenerator(width, n_blocks, downsamplings)
        self.F = ResnetGenerator(width, n_blocks, downsamplings)
        self.D_X = PatchDiscriminator(1, d_width)
        self.D_Y = PatchDiscriminator(1, d_width)

    def generator_parameters(self) -> list[nn.Parameter]:
        return [*self.G.parameters(), *self.F.parameters()]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return [*self.D_X.parameters(), *self.D_Y.parameters()]


# =============================================================================================
# Training
# =============================================================================================


class GeneratorStep(NamedTuple):
    """What one generator update returns: the loss values, and the fakes F(y), G(x) (detached),
    which the discriminator step that follows scores."""

    losses: dict[str, float]
    fake_x: torch.Tensor
    fake_y: torch.Tensor


def cyclegan_generator_step(model: CycleGAN, g_optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                            lambda_cyc: float = 10.0, lambda_id: float = 5.0) -> GeneratorStep:
    """One update of G and F on an unpaired minibatch (x from X, y from Y):

        L_G,F = L_GAN(G, D_Y) + L_GAN(F, D_X) + λ_cyc L_cyc + λ_id L_id,

    with the least-squares generator loss for both adversarial terms. The paper's weights are
    λ_cyc = 10 and λ_id = 0.5·λ_cyc = 5. Only ``g_optimizer`` (G's and F's parameters) steps;
    the discriminators' gradients are left for their own step to clear. The returned losses are
    "g_adversarial", "g_total" and, where its weight is not 0, "cycle" and "identity": a term of
    weight 0 is not computed (two generator passes each). Raises ValueError for non-finite slices.
    """
    _validate.module(model, "model", CycleGAN)
    _validate.optimizer(g_optimizer, "g_optimizer")
    _check_translator_input(x, "x", data=True)
    _validate.for_module(x, "x", model, model_name="the CycleGAN")
    _check_translator_input(y, "y", data=True)
    _validate.for_module(y, "y", model, model_name="the CycleGAN")
    lambda_cyc = _check_weight(lambda_cyc, "lambda_cyc")
    lambda_id = _check_weight(lambda_id, "lambda_id")
    return _generator_step(model, g_optimizer, x, y, lambda_cyc, lambda_id)


def _generator_step(model: CycleGAN, g_optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                    lambda_cyc: float, lambda_id: float) -> GeneratorStep:
    """:func:`cyclegan_generator_step` on checked arguments (the trainer checks its data once, up front)."""
    with unchanged_on_nonfinite(model):
        fake_y, fake_x = model.G(x), model.F(y)
        adversarial = _lsgan_g(model.D_Y(fake_y)) + _lsgan_g(model.D_X(fake_x))
        total, terms = adversarial, {"g_adversarial": adversarial}
        # A term of weight 0 is skipped, not multiplied by 0: its two generator passes and their
        # backward would only add exact zeros (the update is bit for bit the same without them).
        if lambda_cyc:
            terms["cycle"] = _cycle(x, model.F(fake_y), y, model.G(fake_x))
            total = total + lambda_cyc * terms["cycle"]
        if lambda_id:
            terms["identity"] = _identity(x, model.F(x), y, model.G(y))
            total = total + lambda_id * terms["identity"]
        g_optimizer.zero_grad()
        backward_and_step(g_optimizer, total, "g_total", "the generators' step")
    losses = {name: value.item() for name, value in terms.items()} | {"g_total": total.item()}
    return GeneratorStep(losses, fake_x.detach(), fake_y.detach())


def cyclegan_discriminator_step(model: CycleGAN, d_optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                                fake_x: torch.Tensor, fake_y: torch.Tensor) -> dict[str, float]:
    """One update of D_X and D_Y: L_D(D_Y) on (y, G(x)) plus L_D(D_X) on (x, F(y)), least squares.
    The fakes must come detached (from :func:`cyclegan_generator_step`), so G and F do not move.
    Raises ValueError for non-finite slices, and for fakes of another size than the real slices."""
    _validate.module(model, "model", CycleGAN)
    _validate.optimizer(d_optimizer, "d_optimizer")
    for name, value in (("x", x), ("y", y), ("fake_x", fake_x), ("fake_y", fake_y)):
        _check_translator_input(value, name, data=True)
        _validate.for_module(value, name, model, model_name="the CycleGAN")
    for real, fake, names in ((x, fake_x, ("x", "fake_x")), (y, fake_y, ("y", "fake_y"))):
        if real.shape[1:] != fake.shape[1:]:
            raise ValueError(f"{names[1]} must be slices of the size of {names[0]} (D scores both into one map "
                             f"size), got {tuple(fake.shape)} and {tuple(real.shape)}")
    return _discriminator_step(model, d_optimizer, x, y, fake_x, fake_y)


def _discriminator_step(model: CycleGAN, d_optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                        fake_x: torch.Tensor, fake_y: torch.Tensor) -> dict[str, float]:
    """:func:`cyclegan_discriminator_step` on checked arguments."""
    with unchanged_on_nonfinite(model):
        d_y = _lsgan_d(model.D_Y(y), model.D_Y(fake_y))
        d_x = _lsgan_d(model.D_X(x), model.D_X(fake_x))
        d_optimizer.zero_grad()
        backward_and_step(d_optimizer, d_x + d_y, "d_x + d_y", "the discriminators' step")
    return {"d_x": d_x.item(), "d_y": d_y.item()}


class ImagePool:
    """A history of generated images for the discriminator's step (Shrivastava et al., 2017; used
    by CycleGAN): D is shown, for each new fake, either that fake or — with probability ½, once
    the pool is full — one of up to ``size`` earlier fakes, which the new one then replaces. D thus
    keeps rejecting what G produced a while ago, which damps the oscillation of the two players.
    Every query must bring fakes of one kind (shape per image, dtype, device) as the pool holds.
    """

    def __init__(self, size: int = 50, generator: torch.Generator | None = None) -> None:
        size = _validate.integer(size, "size", minimum=0, maximum=_validate.MAX_SAMPLES,
                                 why="a non-negative number of stored fakes, 0 for no pool")
        self.size, self.images, self.rng = size, [], _validate.generator(generator)

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        _validate.tensor(fakes, "fakes", nonempty=True, what="batch of generated images")
        if self.images:
            kept = self.images[0]
            if fakes.shape[1:] != kept.shape or fakes.dtype != kept.dtype or fakes.device != kept.device:
                raise ValueError(f"fakes must be images like those the pool holds ({_validate.describe(kept)} each, "
                                 f"on {kept.device}), got {_validate.describe(fakes)} on {fakes.device}")
        if self.size == 0:
            return fakes
        out = []
        for image in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif torch.rand((), generator=self.rng) < 0.5:
                i = int(torch.randint(self.size, (), generator=self.rng))
                out.append(self.images[i])
                self.images[i] = image
            else:
                out.append(image)
        return torch.stack(out)


def _adam(parameters, lr: float) -> torch.optim.Adam:
    """Adam as the CycleGAN and pix2pix papers set it; the schedule is per epoch (:func:`_linear_decay`)."""
    return adam_with_schedule(parameters, lr, betas=GAN_ADAM_BETAS)[0]


def _linear_decay(optimizers: list[torch.optim.Optimizer], epochs: int) -> Callable[[int, History], None]:
    """The papers' schedule: each optimiser's learning rate stays at its starting value for the
    first half of training, then falls linearly towards 0 over the second half (set after each epoch)."""
    start = [[group["lr"] for group in optimizer.param_groups] for optimizer in optimizers]

    def after_epoch(epoch: int, _history: History) -> None:
        half = epochs / 2
        factor = 1.0 if epoch < half else max(0.0, (epochs - epoch) / (epochs - half + 1))
        for optimizer, rates in zip(optimizers, start):
            for group, rate in zip(optimizer.param_groups, rates):
                group["lr"] = rate * factor

    return after_epoch


def _check_training_data(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, model_name: str) -> None:
    """A trainer's two sets of slices: checked once, before training (finite, in the model's dtype)."""
    for name, value in (("x_train", x_train), ("y_train", y_train)):
        _check_translator_input(value, name, multiple=max(4, 2**model.G.downsamplings), data=True)
        _validate.dtype_like(value, name, model, model_name)


def _train_translator(model: nn.Module, step: Callable, data: tuple[torch.Tensor, torch.Tensor],
                      optimizers: list[torch.optim.Optimizer], averaged: WeightAverages, *, epochs: int,
                      batch_size: int, seed: int, progress: bool, desc: str, device: str | torch.device) -> History:
    """The loop CycleGAN and pix2pix share: ``step`` per minibatch in train mode, the papers' linear
    decay of the rates after each epoch, then the generators replaced by their weight averages."""
    with modes_restored_on_error(model):
        model.train()
        history = fit(step, data, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress, desc=desc,
                      callback=_linear_decay(optimizers, epochs), device=device)
    averaged.copy_into_networks()
    model.eval()
    return history


def train_cyclegan(model: CycleGAN, x_train: torch.Tensor, y_train: torch.Tensor, *, epochs: int,
                   batch_size: int = 8, lr: float = 2e-4, d_lr: float | None = None, lambda_cyc: float = 10.0,
                   lambda_id: float = 5.0, pool_size: int = 50, ema_decay: float | None = None, seed: int = 0,
                   progress: bool = True, desc: str = "CycleGAN", device: str | torch.device = "cpu") -> History:
    """Train a CycleGAN on unpaired sets X = ``x_train`` and Y = ``y_train`` (equal counts; slice
    i of one has nothing to do with slice i of the other). Each minibatch: one generator step,
    then one discriminator step on the fakes it made, drawn through an :class:`ImagePool` of
    ``pool_size`` earlier fakes per domain (0: no pool). Adam (lr 2·10⁻⁴, β₁ = 0.5), the rate held
    for half the epochs and then decayed linearly, as in the paper. ``d_lr`` gives the
    discriminators a rate of their own (default: ``lr``): two rates, as in the two time-scale
    update rule (Heusel et al., 2017), but the other way round — they give D the faster one. Here
    a slower D keeps it from winning the game outright in a short training on a small data set.
    With ``ema_decay`` = β, G and F end as the moving averages of their weights over training
    (:func:`~course_lib.training.weight_average`); the game itself, and D_X and D_Y, are the same
    as without. With ``lambda_cyc`` = ``lambda_id`` = 0 this trains the naive pair of one-sided GANs.
    The four networks train on ``device`` (moved there; each minibatch follows them).

    Returns the per-epoch mean losses; a NaN/inf loss stops training with a clear error. Raises
    ValueError before training for non-finite slices.
    """
    _validate.module(model, "model", CycleGAN)
    _check_training_data(model, x_train, y_train, "the CycleGAN")
    if len(x_train) != len(y_train):
        raise ValueError(f"x_train and y_train must hold the same number of slices (batches draw one of each), "
                         f"got {len(x_train)} and {len(y_train)}")
    _validate.epochs(epochs)
    _validate.positive_int(batch_size, "batch_size")
    lr = _validate.number(lr, "lr", minimum=0, open_minimum=True)
    d_lr = lr if d_lr is None else _validate.number(d_lr, "d_lr", minimum=0, open_minimum=True)
    lambda_cyc, lambda_id = _check_weight(lambda_cyc, "lambda_cyc"), _check_weight(lambda_id, "lambda_id")
    _validate.integer(pool_size, "pool_size", minimum=0, maximum=_validate.MAX_SAMPLES,
                      why="a non-negative number of stored fakes, 0 for no pool")
    ema_decay = _check_ema_decay(ema_decay)
    _validate.seed(seed)
    model.to(_validate.device(device))
    averaged = WeightAverages([model.G, model.F], ema_decay)
    g_opt, d_opt = _adam(model.generator_parameters(), lr), _adam(model.discriminator_parameters(), d_lr)
    rng = torch.Generator().manual_seed(seed)
    pool_x, pool_y = ImagePool(pool_size, rng), ImagePool(pool_size, rng)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        x, y = batch
        g = _generator_step(model, g_opt, x, y, lambda_cyc, lambda_id)
        averaged.update()
        return {**g.losses, **_discriminator_step(model, d_opt, x, y, pool_x.query(g.fake_x),
                                                   pool_y.query(g.fake_y))}

    return _train_translator(model, step, (x_train, y_train), [g_opt, d_opt], averaged, epochs=epochs,
                             batch_size=batch_size, seed=seed, progress=progress, desc=desc, device=device)


class Pix2Pix(nn.Module):
    """Paired translation x → y (Isola et al., 2017): a generator G (the same network as
    CycleGAN's, for a fair comparison) and a conditional PatchGAN D that sees the source and a
    target stacked as two channels, D(x, y)."""

    def __init__(self, width: int = 16, n_blocks: int = 4, d_width: int = 32, downsamplings: int = 2) -> None:
        super().__init__()
        _check_translator_sizes(width, n_blocks, d_width, downsamplings, copies=1, d_channels=2)
        self.G = ResnetGenerator(width, n_blocks, downsamplings)
        self.D = PatchDiscriminator(2, d_width)


def pix2pix_step(model: Pix2Pix, g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer,
                 x: torch.Tensor, y: torch.Tensor, lambda_l1: float = 100.0) -> dict[str, float]:
    """One pix2pix round on registered pairs (x[i], y[i]). D's step is lecture 04's binary
    cross-entropy, applied to every patch: real pairs (x, y) labelled 1, fake pairs (x, G(x))
    labelled 0. G's step is the conditional GAN's flipped-label loss plus the "intensity" term

        L_G = −E log D(x, G(x)) + λ_L1 E‖y − G(x)‖₁,     λ_L1 = 100 as in the paper,

    which is where the pairs are needed: G is told, pixel by pixel, what the answer is.
    Raises ValueError for non-finite slices.
    """
    _validate.module(model, "model", Pix2Pix)
    _validate.optimizer(g_optimizer, "g_optimizer")
    _validate.optimizer(d_optimizer, "d_optimizer")
    _check_translator_input(x, "x", data=True)
    _validate.for_module(x, "x", model, model_name="the pix2pix model")
    _check_translator_input(y, "y", data=True)
    _validate.for_module(y, "y", model, model_name="the pix2pix model")
    _validate.same_shape(x, y, ("x", "y"), "registered pairs: x[i] goes with y[i]")
    lambda_l1 = _check_weight(lambda_l1, "lambda_l1")
    return _pix2pix_step(model, g_optimizer, d_optimizer, x, y, lambda_l1)


def _pix2pix_step(model: Pix2Pix, g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer,
                  x: torch.Tensor, y: torch.Tensor, lambda_l1: float) -> dict[str, float]:
    """:func:`pix2pix_step` on checked arguments."""
    with unchanged_on_nonfinite(model):
        fake = model.G(x)
        real_logits = model.D(torch.cat([x, y], 1)).flatten()
        fake_logits = model.D(torch.cat([x, fake.detach()], 1)).flatten()
        d_loss = discriminator_loss(real_logits, fake_logits)
        d_optimizer.zero_grad()
        backward_and_step(d_optimizer, d_loss, "d_loss", "the discriminator's step")
        adversarial = generator_loss(model.D(torch.cat([x, fake], 1)).flatten(), "non_saturating")
        l1 = (fake - y).abs().mean()
        g_loss = adversarial + lambda_l1 * l1
        g_optimizer.zero_grad()
        backward_and_step(g_optimizer, g_loss, "g_loss", "the generator's step")
    return {"d_loss": d_loss.item(), "g_adversarial": adversarial.item(), "l1": l1.item()}


def train_pix2pix(model: Pix2Pix, x_train: torch.Tensor, y_train: torch.Tensor, *, epochs: int, batch_size: int = 8,
                  lr: float = 2e-4, lambda_l1: float = 100.0, ema_decay: float | None = None, seed: int = 0,
                  progress: bool = True, desc: str = "pix2pix", device: str | torch.device = "cpu") -> History:
    """Train pix2pix on registered pairs (``x_train[i]``, ``y_train[i]``): per minibatch one D step,
    then one G step; Adam (lr 2·10⁻⁴, β₁ = 0.5) with the same schedule as :func:`train_cyclegan`,
    and, with ``ema_decay``, G's weights averaged the same way. Raises ValueError before training
    for non-finite slices."""
    _validate.module(model, "model", Pix2Pix)
    _check_training_data(model, x_train, y_train, "the pix2pix model")
    _validate.same_shape(x_train, y_train, ("x_train", "y_train"), "registered pairs: x_train[i] goes with y_train[i]")
    _validate.epochs(epochs)
    _validate.positive_int(batch_size, "batch_size")
    lr = _validate.number(lr, "lr", minimum=0, open_minimum=True)
    lambda_l1 = _check_weight(lambda_l1, "lambda_l1")
    ema_decay = _check_ema_decay(ema_decay)
    _validate.seed(seed)
    model.to(_validate.device(device))
    averaged = WeightAverages([model.G], ema_decay)
    g_opt, d_opt = _adam(model.G.parameters(), lr), _adam(model.D.parameters(), lr)

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        losses = _pix2pix_step(model, g_opt, d_opt, *batch, lambda_l1)
        averaged.update()
        return losses

    return _train_translator(model, step, (x_train, y_train), [g_opt, d_opt], averaged, epochs=epochs,
                             batch_size=batch_size, seed=seed, progress=progress, desc=desc, device=device)


# =============================================================================================
# The histogram-matching baseline, and applying a trained generator
# =============================================================================================


def histogram_match(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Map each image's intensities so that its histogram matches the pooled histogram of
    ``reference`` (images of the target domain):  x ↦ F_Y⁻¹(F_x(x)), with F_x the image's own
    empirical CDF and F_Y⁻¹ the reference's quantile function (linearly interpolated).

    The map is monotone increasing: it can stretch and shift intensities but never reverse their
    order — and T1 → T2 must reverse it (CSF is dark in T1, bright in T2). Raises ValueError for
    non-finite images.
    """
    _check_translator_input(images, "images", data=True)
    _check_translator_input(reference, "reference", data=True)
    _validate.same_device([images, reference], ["images", "reference"])
    ref = reference.flatten().sort().values
    flat = images.flatten(1)
    n_pixels = flat.shape[1]
    ranks = flat.argsort(dim=1).argsort(dim=1).to(ref.dtype)  # 0 … n_pixels − 1 within each image
    quantile = (ranks + 0.5) / n_pixels * (len(ref) - 1)  # position in the sorted reference
    lo = quantile.floor().long().clamp(max=len(ref) - 1)
    hi = (lo + 1).clamp(max=len(ref) - 1)
    frac = quantile - lo
    return (ref[lo] * (1 - frac) + ref[hi] * frac).reshape(images.shape)


@torch.no_grad()
def translate(generator: nn.Module, images: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """Apply a trained generator to ``images`` in eval mode and minibatches, without gradients, on
    the generator's device; the translations are returned on ``images``' device. Raises ValueError
    for non-finite images."""
    _validate.module(generator, "generator", what="a trained generator, e.g. a CycleGAN's G")
    shapes_only = _validate.shapes_only(images, "images", generator, "the generator")
    _check_translator_input(images, "images", multiple=max(4, 2**getattr(generator, "downsamplings", 2)),
                            data=not shapes_only)
    _validate.dtype_like(images, "images", generator, "the generator")
    _validate.positive_int(batch_size, "batch_size")
    was_training = generator.training
    generator.eval()
    out = map_batches(generator, images, batch_size, _validate.device_of(generator))
    generator.train(was_training)
    return out
