"""Training (all lectures): one optimisation step, the fit loop with its guards, the optimiser set-up.

Every lecture trains with :func:`fit`: it walks the data in minibatches, calls the lecture's
``step(batch)`` (which updates θ, or D and G in turn) and keeps a history of per-epoch mean
losses. Saving and loading the trained weights: :mod:`course_lib.checkpoint_io`.

Training never damages what it trains. Each optimiser step goes through :func:`check_loss`
(before ``backward``) and :func:`checked_step` (gradients, before ``optimizer.step()``), usually
both at once by :func:`backward_and_step`: a NaN or ±inf stops training with
:class:`NonFiniteLossError` while the parameters are still those before the step.
:class:`LossWatch` stops a loss that stays finite but explodes (:class:`TrainingDivergedError`),
and :func:`modes_restored_on_error` puts train/eval modes back when training is interrupted
(Ctrl-C) or fails.

Every public function checks its arguments first (``TypeError`` for the wrong kind of object,
``ValueError`` for a value out of range): the checks are type tests and, once per :func:`fit`, one
pass over the data (finite, not empty), so the per-step guards cost what they did before.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import torch
from threadpoolctl import threadpool_limits
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

from . import _validate

__all__ = ["NonFiniteLossError", "TrainingDivergedError", "check_finite", "check_loss", "checked_step",
           "backward_and_step", "located", "LossWatch", "modes_restored_on_error", "unchanged_on_nonfinite",
           "train_step", "fit", "single_threaded", "weight_average", "WeightAverages", "GAN_ADAM_BETAS",
           "adam_with_schedule", "to_device", "map_batches"]

Loss = float | torch.Tensor
History = dict[str, list[float]]


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch, and the BLAS that numpy and scipy call, on one thread inside the ``with`` block;
    the thread counts are restored after.

    For tiny networks (2-D toys, 32 px classifiers) and small matrices: they gain nothing from a
    second thread, and a second thread that must share its core with another program slows every
    step many times over (a Fréchet distance's matrix square root took 7× longer on a busy 2-core
    laptop when torch alone was limited). The results are also the same whatever the machine's
    thread count. threadpoolctl limits the BLAS libraries numpy and scipy have loaded.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(threads)


def weight_average(module: nn.Module, decay: float) -> AveragedModel:
    """An exponential moving average of ``module``'s parameters, for a GAN's generator. Call
    ``average.update_parameters(module)`` after each of the module's optimiser steps:

        θ̄_1 = θ_1,    θ̄_t = β θ̄_{t−1} + (1 − β) θ_t,    β = ``decay``,

    an average over roughly the last 1/(1 − β) steps. Why it helps: the players of a GAN keep
    circling the game's equilibrium instead of settling on it, and the average of the circling
    generator sits nearer to it than its last step (Yazıcı et al., 2019; Karras et al., 2018).
    The average is a copy (``average.module``); the training itself is unchanged.
    torch.optim.swa_utils does the bookkeeping. Buffers are not averaged, so this is meant for
    networks without running statistics (instance norm, or none).
    """
    _validate.module(module, "module", what="the network to average")
    decay = _validate.number(decay, "decay", minimum=0, maximum=1, open_minimum=True, open_maximum=True,
                             why="the weight of the running average")
    return AveragedModel(module, multi_avg_fn=get_ema_multi_avg_fn(decay))


class WeightAverages:
    """Optional :func:`weight_average` of several networks (``decay`` None: nothing is averaged):
    call :meth:`update` after each of their optimiser steps, and :meth:`copy_into_networks` when
    training ends, so that the networks themselves carry the averaged weights."""

    def __init__(self, networks: list[nn.Module], decay: float | None) -> None:
        if isinstance(networks, nn.Module) or not isinstance(networks, (list, tuple)):
            raise TypeError(f"networks must be a list of torch.nn.Module, got {_validate.describe(networks)}")
        for i, net in enumerate(networks):
            _validate.module(net, f"networks[{i}]")
        if decay is not None:
            _validate.number(decay, "decay", minimum=0, maximum=1, open_minimum=True, open_maximum=True,
                             why="the weight of the running average; None averages nothing")
        self.networks = networks
        self.averages = [] if decay is None else [weight_average(net, decay) for net in networks]

    def update(self) -> None:
        for average, net in zip(self.averages, self.networks):
            average.update_parameters(net)

    def copy_into_networks(self) -> None:
        for average, net in zip(self.averages, self.networks):
            net.load_state_dict(average.module.state_dict())


class NonFiniteLossError(RuntimeError):
    """A loss or a gradient became NaN or ±inf; training stopped before that step changed the parameters."""


class TrainingDivergedError(RuntimeError):
    """A loss stayed finite but exploded (see :class:`LossWatch`): the learning rate is far too high."""


def _as_float(value: Any, name: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"loss {name!r} must be a scalar, got a tensor of shape {tuple(value.shape)}")
        return float(value.detach())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"loss {name!r} must be a float or a 0-d tensor, got {type(value).__name__}")


def _as_dict(losses: Mapping[str, Loss] | Loss) -> dict[str, float]:
    """A bare loss becomes {"loss": value}; every value becomes a Python float."""
    if not isinstance(losses, Mapping):
        losses = {"loss": losses}
    if not losses:
        raise ValueError("expected at least one loss, got an empty dict")
    return {str(k): _as_float(v, str(k)) for k, v in losses.items()}


def _non_finite(name: str, value: float, where: str) -> NonFiniteLossError:
    return NonFiniteLossError(
        f"loss {name!r} is {value} at {where}; lower the learning rate or check the inputs"
    )


def _scalar_loss(loss: Any, name: str) -> None:
    """A loss tensor with one element that holds a value (type, size and device tests: no sync)."""
    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"loss {name!r} must be a scalar tensor (a torch.Tensor with one element), "
                        f"got {_validate.describe(loss)}")
    if loss.numel() != 1:
        raise ValueError(f"loss {name!r} must be a scalar tensor (one element), got {_validate.describe(loss)}")
    _validate.values(loss, f"loss {name!r}")


def check_loss(loss: torch.Tensor, name: str = "loss", where: str = "this step") -> float:
    """The loss as a float, or :class:`NonFiniteLossError` if it is NaN or ±inf. Call it before
    ``loss.backward()``: the step is abandoned while the parameters are untouched.

    Raises TypeError for a loss that is not a tensor, ValueError for one of more than one element."""
    _validate.text(name, "name", why="it labels the error message")
    _scalar_loss(loss, name)
    _validate.text(where, "where", why="it labels the error message")
    value = float(loss.detach())
    if not math.isfinite(value):
        raise _non_finite(name, value, f"{where} (parameters left unchanged)")
    return value


def checked_step(optimizer: torch.optim.Optimizer, where: str = "this step") -> None:
    """``optimizer.step()``, after checking that every gradient it would apply is finite.

    The check is one number, the largest |∂L/∂p| over the optimiser's parameters (the ℓ∞ norm:
    unlike a sum of squares it cannot overflow, and a NaN anywhere makes it NaN). If it is not
    finite the gradients are cleared, :class:`NonFiniteLossError` is raised and the parameters
    are exactly as before the step.
    """
    _validate.optimizer(optimizer)
    _validate.text(where, "where", why="it labels the error message")
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if grads:
        largest = float(torch.nn.utils.get_total_norm(grads, norm_type=math.inf))
        if not math.isfinite(largest):
            optimizer.zero_grad()
            raise NonFiniteLossError(f"a gradient is {largest} at {where} (parameters left unchanged); "
                                     "lower the learning rate or check the inputs")
    optimizer.step()


def backward_and_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, name: str = "loss",
                      where: str = "this step") -> float:
    """One guarded update from a scalar loss: :func:`check_loss`, ``loss.backward()``,
    :func:`checked_step`. Returns the loss as a float.

    Raises TypeError for a loss that is not a floating-point tensor, ValueError for one that does
    not require a gradient (nothing to step)."""
    _validate.optimizer(optimizer)
    _scalar_loss(loss, name)
    if not loss.is_floating_point():
        raise TypeError(f"loss {name!r} must be a floating-point scalar tensor (backward needs one), "
                        f"got {_validate.describe(loss)}")
    if not loss.requires_grad:
        raise ValueError(f"loss {name!r} must require a gradient (be computed from the optimised parameters), "
                         "got a tensor with requires_grad=False")
    value = check_loss(loss, name, where)
    loss.backward()
    checked_step(optimizer, where)
    return value


@contextlib.contextmanager
def located(where: str) -> Iterator[None]:
    """Add where in training it happened (e.g. "epoch 2, step 40") to a
    :class:`NonFiniteLossError` raised inside the block."""
    _validate.text(where, "where", why="it labels the error message")
    try:
        yield
    except NonFiniteLossError as error:
        raise NonFiniteLossError(f"{error} ({where})") from None


DIVERGENCE_FACTOR = 1e6


class LossWatch:
    """The per-step guard of a training loop: every loss finite (:func:`check_finite`), and none
    exploding while finite — a loss is stopped when

        |loss_t| > 10⁶ · max(1, min_{s < t} |loss_s|),

    six orders of magnitude above the smallest value it has had (losses below 1 count as 1).
    Training at a sane learning rate moves a loss by a few times, not a million; at lr = 10⁶ the
    course's trainers reach 10¹²–10³⁰ and would otherwise finish without a word.
    """

    def __init__(self, factor: float = DIVERGENCE_FACTOR) -> None:
        self.factor = _validate.number(factor, "factor", minimum=0, open_minimum=True,
                                       why="how many times its smallest value a loss may grow")
        self.smallest: dict[str, float] = {}

    def check(self, losses: Mapping[str, Loss] | Loss, *, epoch: int, step: int) -> dict[str, float]:
        losses = _as_dict(losses)
        check_finite(losses, epoch=epoch, step=step)
        for name, value in losses.items():
            smallest = min(self.smallest.get(name, abs(value)), abs(value))
            if abs(value) > self.factor * max(smallest, 1.0):
                raise TrainingDivergedError(
                    f"loss {name!r} is {value:.3g} at epoch {epoch}, step {step}, more than {self.factor:.0e} times "
                    f"its smallest value so far ({smallest:.3g}): training diverged; lower the learning rate")
            self.smallest[name] = smallest
        return losses


@contextlib.contextmanager
def unchanged_on_nonfinite(*modules: nn.Module) -> Iterator[None]:
    """Wrap one training step: if it raises :class:`NonFiniteLossError`, put the modules' buffers
    (BatchNorm's running statistics) back as they were. The forward pass that met the NaN has
    already folded it into them; without this the parameters would be intact but every output in
    eval mode NaN. (The parameters themselves are protected by :func:`check_loss` and
    :func:`checked_step`.)"""
    for i, module in enumerate(modules):
        _validate.module(module, f"modules[{i}]")
    saved = [(buffer, buffer.clone()) for module in modules for buffer in module.buffers()]
    try:
        yield
    except NonFiniteLossError:
        with torch.no_grad():
            for buffer, copy in saved:
                buffer.copy_(copy)
        raise


@contextlib.contextmanager
def modes_restored_on_error(*modules: nn.Module) -> Iterator[None]:
    """If the block raises — an error, or Ctrl-C (KeyboardInterrupt) — put every submodule of
    ``modules`` back in the train/eval mode it had on entry, then re-raise. (A model left in
    train mode by an interrupted run gives different outputs: BatchNorm uses batch statistics.)"""
    for i, module in enumerate(modules):
        _validate.module(module, f"modules[{i}]")
    modes = [[m.training for m in module.modules()] for module in modules]
    try:
        yield
    except BaseException:
        for module, saved in zip(modules, modes):
            for m, training in zip(module.modules(), saved):
                m.training = training
        raise


def check_finite(losses: Mapping[str, Loss] | Loss, *, epoch: int, step: int) -> None:
    """Raise :class:`NonFiniteLossError` if any loss is NaN or ±inf, naming it, the epoch and the step.

    A NaN never goes away by itself: once it reaches θ every later loss is NaN too, so the
    loop stops at the first one and says where it happened.
    """
    for name, value in _as_dict(losses).items():
        if not math.isfinite(value):
            raise _non_finite(name, value, f"epoch {epoch}, step {step}")


# Radford et al. (2016): β₁ = 0.5 instead of 0.9 — less momentum, which steadies the two players'
# alternating updates; the DCGAN, CycleGAN and pix2pix papers all train with it.
GAN_ADAM_BETAS = (0.5, 0.999)


def adam_with_schedule(parameters: Iterable[nn.Parameter], lr: float, *,
                       schedule: str | Callable[[int], float] | None = None, total_steps: int | None = None,
                       betas: tuple[float, float] = (0.9, 0.999), fused: bool | None = None,
                       ) -> tuple[torch.optim.Adam, torch.optim.lr_scheduler.LRScheduler | None]:
    """Adam (Kingma & Ba, 2015) and its per-step learning-rate schedule: the set-up of every trainer.

    ``schedule`` (step the scheduler once per optimiser step, t = 0 … T − 1 with T = ``total_steps``):

    * ``None``: the rate stays at ``lr`` (the scheduler returned is None);
    * ``"one_cycle"`` (Smith & Topin, 2019): warm up from lr/25 to ``lr`` over the first 30 % of
      the steps, then anneal by a cosine to about 0 — a low loss in a small, fixed budget;
    * ``"cosine"``: lr_t = lr · ½(1 + cos(π t / T));
    * a function f: lr_t = lr · f(t), for a schedule of the trainer's own.

    ``fused=True`` does the same update in one kernel per optimiser (faster for many small tensors).

    Raises ValueError for no parameters, a learning rate ≤ 0 or betas outside [0, 1).
    """
    if isinstance(parameters, (torch.Tensor, str, bytes)) or not isinstance(parameters, Iterable):
        raise TypeError(f"parameters must be an iterable of parameters (e.g. model.parameters()) or of parameter "
                        f"groups, got {_validate.describe(parameters)}")
    parameters = list(parameters)  # torch.optim.Adam makes the same list; a generator is read once here
    if not parameters:
        raise ValueError("parameters must hold at least one parameter to optimise, got none")
    for i, p in enumerate(parameters):
        if not isinstance(p, (torch.Tensor, Mapping)):
            raise TypeError(f"parameters[{i}] must be a parameter (a tensor) or a parameter group (a dict), "
                            f"got {_validate.describe(p)}")
    lr = _validate.number(lr, "lr", minimum=0, open_minimum=True, why="the learning rate")
    if isinstance(betas, (str, bytes)) or not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (β₁, β₂) of numbers in [0, 1), got {_validate.describe(betas)}")
    for i, beta in enumerate(betas):
        _validate.number(beta, f"betas[{i}]", minimum=0, maximum=1, open_maximum=True,
                         why="Adam's moving-average factors")
    if fused is not None and not isinstance(fused, bool):
        raise TypeError(f"fused must be True, False or None, got {_validate.describe(fused)}")
    if schedule is not None and not callable(schedule):
        _validate.choice(schedule, "schedule", ("one_cycle", "cosine"), why="or None, or a function of the step")
        _validate.steps(total_steps, "total_steps")
    optimizer = torch.optim.Adam(parameters, lr=lr, betas=betas, fused=fused)
    if schedule is None:
        return optimizer, None
    if callable(schedule):
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    total_steps = _validate.positive_int(total_steps, "total_steps", why="the schedule's length")
    if schedule == "one_cycle":
        return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: Any,
    loss_fn: Callable[[nn.Module, Any], torch.Tensor],
) -> float:
    """One gradient step θ ← θ − η ∇_θ L(θ; batch) (for plain SGD; other optimisers rescale it).

    Line by line:

    - ``optimizer.zero_grad()`` — ``backward`` *adds* to ``.grad``, so last step's gradient
      must be cleared first;
    - ``loss = loss_fn(model, batch)`` — the forward pass builds the graph of L(θ);
    - the finiteness check comes *before* ``backward``/``step``: a NaN gradient would
      overwrite θ with NaN, and then no later step can recover;
    - ``loss.backward()`` — fills ``p.grad`` with ∂L/∂p for every parameter p;
    - ``optimizer.step()`` — moves θ against the gradient (:func:`checked_step`: only if every
      gradient is finite);
    - ``loss.item()`` — a Python float, so the graph can be freed and nothing keeps it alive.
    """
    _validate.module(model, "model")
    _validate.optimizer(optimizer)
    _validate.function(loss_fn, "loss_fn", what="a function (model, batch) → scalar loss")
    optimizer.zero_grad()
    with unchanged_on_nonfinite(model):
        loss = loss_fn(model, batch)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError(f"loss_fn must return a scalar tensor, got {getattr(loss, 'shape', type(loss))}")
        value = backward_and_step(optimizer, loss, "loss", "train_step")
    return value


def _as_tensors(data: Any) -> tuple[torch.Tensor, ...] | None:
    """The tensors that fit slices into minibatches itself, or None for a DataLoader-like iterable."""
    tensors = (data,) if isinstance(data, torch.Tensor) else data
    if isinstance(tensors, (tuple, list)) and all(isinstance(t, torch.Tensor) for t in tensors):
        sizes = [t.shape[0] if t.ndim else 0 for t in tensors]
        if not sizes or 0 in sizes:
            raise ValueError(f"data is empty: got tensors with first dimensions {sizes}")
        if len(set(sizes)) > 1:
            raise ValueError(f"data tensors must have the same first dimension, got {sizes}")
        return tuple(tensors)
    if not isinstance(data, Iterable):
        raise TypeError(f"data must be a tensor, a tuple of tensors or an iterable of batches, "
                        f"got {type(data).__name__}")
    if isinstance(data, Iterator):  # a generator would be exhausted after the first epoch
        raise TypeError("data must be re-iterable (e.g. a DataLoader), got a one-shot iterator")
    return None


def _batches(tensors: tuple[torch.Tensor, ...], batch_size: int, shuffle: bool, generator: torch.Generator):
    """One epoch of minibatches: a tuple of row slices per batch, in a fresh random order if shuffling."""
    n = tensors[0].shape[0]
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return (tuple(t[idx] for t in tensors) for idx in order.split(batch_size))


def fit(
    step: Callable[[Any], Mapping[str, Loss] | Loss],
    data: Any,
    *,
    epochs: int,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int = 0,
    callback: Callable[[int, History], bool | None] | None = None,
    progress: bool = True,
    desc: str = "training",
    device: str | torch.device | None = None,
) -> History:
    """Run ``step`` over ``data`` for ``epochs`` epochs and return the per-epoch mean losses.

    ``step(batch)`` performs one optimisation step and returns a float, a 0-d tensor, or a dict
    name → loss (a GAN returns {"d_loss": …, "g_loss": …}); a bare value is named "loss".
    ``data`` is a tensor (minibatches of ``batch_size`` rows), a tuple/list of tensors with equal
    first dimension (each batch a tuple of slices), or any re-iterable such as a DataLoader (used
    as-is; ``batch_size``, ``shuffle`` and ``seed`` then do nothing). Tensors are reshuffled every
    epoch by a generator seeded with ``seed``, so the same seed gives the same batches.

    Epochs and steps are counted from 1. The history maps each loss name to its mean over each
    epoch's steps, history[name][e − 1] = (1/|steps of e|) Σ_{steps of e} loss; it is a plain
    dict of lists (JSON-able). After each epoch ``callback(epoch, history)`` is called; returning
    True stops training early. Every step's losses pass a :class:`LossWatch` (finite, not
    exploding); a :class:`NonFiniteLossError` raised inside ``step`` gets the epoch and step added.
    With ``device`` each batch is moved there before ``step`` sees it (the data itself stays
    where it is, e.g. on the CPU while the model trains on a GPU); None leaves batches as they are.
    """
    if not callable(step):
        raise TypeError(f"step must be callable, got {type(step).__name__}")
    _validate.epochs(epochs)
    _validate.positive_int(batch_size, "batch_size", maximum=_validate.MAX_SAMPLES, why=_validate.WHY_SAMPLES)
    _validate.seed(seed)
    tensors = _as_tensors(data)
    if tensors is not None:
        for i, t in enumerate(tensors):
            label = "data" if isinstance(data, torch.Tensor) else f"data[{i}]"
            _validate.values(t, label)
            if t.is_floating_point() and not torch.isfinite(t).all():
                raise ValueError(f"{label} must be finite (training on NaN or ±inf makes every weight NaN), "
                                 f"got {_validate.describe(t)} containing NaN or ±inf")
    if callback is not None:
        _validate.function(callback, "callback", what="None or a function (epoch, history) → stop?")
    _validate.text(desc, "desc", why="it labels the progress bar")
    device = None if device is None else _validate.device(device)
    generator = torch.Generator().manual_seed(seed)
    history: History = {}
    global_step = 0
    watch = LossWatch()
    with tqdm(range(1, epochs + 1), desc=desc, disable=not progress, unit="epoch") as bar:
        for epoch in bar:
            sums: dict[str, float] = {}
            counts: dict[str, int] = {}
            batches = data if tensors is None else _batches(tensors, batch_size, shuffle, generator)
            for batch in batches:
                if isinstance(data, torch.Tensor):
                    batch = batch[0]  # a single tensor gives a tensor batch, not a 1-tuple
                if device is not None:
                    batch = _to_device(batch, device)
                global_step += 1
                with located(f"epoch {epoch}, step {global_step}"):  # a NaN met inside the step
                    returned = step(batch)
                losses = watch.check(returned, epoch=epoch, step=global_step)
                for name, value in losses.items():
                    sums[name] = sums.get(name, 0.0) + value
                    counts[name] = counts.get(name, 0) + 1
            if not counts:
                raise ValueError(f"data yielded no batches in epoch {epoch}")
            means = {name: sums[name] / counts[name] for name in sums}
            for name, mean in means.items():
                history.setdefault(name, []).append(mean)
            bar.set_postfix({name: f"{mean:.4g}" for name, mean in means.items()})
            if callback is not None and callback(epoch, history):
                break
    return history


@torch.no_grad()
def map_batches(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 256,
                device: str | torch.device | None = None) -> torch.Tensor:
    """``fn`` applied to ``x`` in chunks of ``batch_size`` rows, without gradients, concatenated.

    Each chunk is moved to ``device`` first (a model's device, say; None: left where it is) and
    each result back to ``x``'s device, so the output lives where the input did.

    Raises ValueError for an empty ``x`` (nothing to concatenate)."""
    _validate.function(fn, "fn", what="a function of a chunk of rows")
    _validate.tensor(x, "x", floating=False, what="tensor of rows")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must hold at least one row (a first dimension of 1 or more), got {_validate.describe(x)}")
    _validate.positive_int(batch_size, "batch_size", maximum=_validate.MAX_SAMPLES, why=_validate.WHY_SAMPLES)
    device = x.device if device is None else _validate.device(device)
    if device.type != "meta":  # a meta x can go to a meta model; elsewhere it has no values to copy
        _validate.values(x, "x")
    return torch.cat([fn(chunk.to(device)).to(x.device) for chunk in x.split(batch_size)])


def to_device(batch: Any, device: torch.device) -> Any:
    """A batch (a tensor, or a tuple/list/dict of them) with every tensor moved to ``device``.

    Raises ValueError for a device this machine does not have."""
    return _to_device(batch, _validate.device(device))


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch
