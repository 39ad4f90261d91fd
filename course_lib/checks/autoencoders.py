"""Self-checks for lecture 01 (autoencoders): the reconstruction loss, a linear AE, one training step.

Lecture 02's checks are in ``course_lib.checks.denoising_stacked``.

Each check judges behaviour, not one value: the result's type and graph, its gradient, that the
inputs are left as they were, the interface the notebook's next cells read, and (for the
training step) the optimiser's state across repeated calls. When something is wrong, targeted
probes name the mistake before any generic message.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.autoencoders import pca_fit, reconstruction_loss
from course_lib.checks._framework import (
    CheckFailed, _close, _expect_callable, _expect_tensor, _fail, _passed, _seeded, _student_code,
)
from course_lib.training import train_step

__all__ = ["check_reconstruction_loss", "check_linear_autoencoder", "check_train_step"]


# ---------------------------------------------------------------------------------------------
# Lecture 01: the reconstruction loss
# ---------------------------------------------------------------------------------------------

# Images with one and with three channels, flat vectors, a 3-d batch, odd sizes, a batch of one.
# The first case is a 4-d image batch, so a function that only handles images fails later, on a
# shape it does not expect, and can be told so.
_LOSS_SHAPES = [(4, 1, 8, 8), (2, 3, 5, 7), (1, 1, 6, 6), (8, 20), (3, 5, 6), (5, 1, 4, 4)]


def _diagnose_loss(value: torch.Tensor, x_hat: torch.Tensor, x: torch.Tensor, expected: torch.Tensor) -> str:
    """Name the mistake that turns the reference into ``value``, if it is a common one."""
    diff = (x - x_hat).detach().flatten(1)
    b, d = diff.shape
    clamped = (x - x_hat.detach().clamp(0, 1)).flatten(1).pow(2).sum(1).mean()
    known = [
        (-expected, "The sign is flipped: a squared error is never negative."),
        (expected / d, "You averaged over the pixels as well; the loss is a per-image sum (then a mean over the batch)."),
        (expected * b, "You summed over the batch; average the per-image sums over the batch instead."),
        (diff.abs().sum(1).mean(), "You used absolute errors |x − x′|; the loss uses squared errors."),
        (diff.pow(2).sum(1).sqrt().mean(), "You took the norm ‖x − x′‖ (with a square root); the loss is the squared norm."),
        (clamped, "You clipped x_hat to [0, 1] before comparing: a model's output can leave [0, 1] (here it does), "
                  "and the loss must see it as it is, or the gradient vanishes where it was clipped."),
    ]
    if x.ndim > 2 and x.shape[1] > 1:
        known.append((expected / x.shape[1], "You averaged over the channels; sum over every dimension except the "
                                             "batch (channels included), then average over the batch."))
    for wrong, hint in known:
        if _close(value, wrong):
            return hint
    return "The value differs from the reference: per image, sum the squared errors over all pixels; then average over the batch."


def check_reconstruction_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(x_hat, x)`` against L = (1/B) Σ_b Σ_i (x_{b,i} − x′_{b,i})² on hidden batches.

    Batches are images (B, C, H, W) with one or three channels, flat vectors (B, D) and a 3-d
    batch, of several sizes; ``x_hat`` requires grad, as a model's output does, and half the
    cases leave [0, 1] as an unbounded model's output can. Besides the value: the result must be
    a 0-d tensor in the autograd graph whose gradient is ∂L/∂x′ = 2(x′ − x)/B, and neither input
    may be changed in place.
    """
    name = "check_reconstruction_loss"
    _expect_callable(name, fn, "your loss function")
    worked_on: list[tuple[int, ...]] = []
    with _seeded() as g:
        for i, shape in enumerate(_LOSS_SHAPES):
            x = torch.rand(shape, generator=g)
            x_hat = torch.rand(shape, generator=g) if i % 2 == 0 else 0.5 + 0.7 * torch.randn(shape, generator=g)
            x_hat.requires_grad_()
            x_before, x_hat_before = x.clone(), x_hat.detach().clone()
            expected = reconstruction_loss(x_hat, x).detach()
            case = f"On a batch of shape {shape}: "
            try:
                value = fn(x_hat, x)
            except (NotImplementedError, CheckFailed):
                raise
            except Exception as err:
                if "in-place" in str(err):
                    raise CheckFailed(f"✗ {name}: {case}your function changed an input in place ({type(err).__name__}: "
                                      f"{err}). Compute new tensors; x_hat and x must stay as they were.") from err
                if worked_on and len(shape) != len(worked_on[0]):
                    raise CheckFailed(
                        f"✗ {name}: {case}your function raised {type(err).__name__}: {err}\n  It worked on batches of "
                        f"shape {worked_on[0]} but not on {len(shape)}-d ones: the loss must work for any shape "
                        "(B, ...), summing over every dimension except the first (e.g. after flatten(1)).") from err
                raise CheckFailed(f"✗ {name}: your function on a batch of shape {shape} raised {type(err).__name__}: "
                                  f"{err}\n  (the traceback above shows the line of your code where it happened)") from err
            if not (torch.equal(x, x_before) and torch.equal(x_hat.detach(), x_hat_before)):
                which = "x" if not torch.equal(x, x_before) else "x_hat"
                _fail(name, case + f"Your function changed its input {which} in place (an in-place operation such as "
                      "-=, sub_ or pow_ on it, or on a view of it). Compute new tensors: the caller still needs both.")
            if not isinstance(value, torch.Tensor):
                _fail(name, case + f"It returned a {type(value).__name__}, not a tensor. The loss must stay a tensor in "
                      "the autograd graph so that backward() can reach the parameters (was it turned into a number?).")
            if value.ndim != 0:
                if tuple(value.shape) == shape[:1]:
                    what = "one value per image; the batch still has to be averaged."
                elif value.shape == x.shape:
                    what = "one value per pixel; nothing was reduced."
                elif value.numel() == 1:
                    what = "the right single number, but with an extra dimension (was keepdim or a reshape used?)."
                else:
                    what = "not a single number."
                _fail(name, case + f"It returned a tensor of shape {tuple(value.shape)}, expected a scalar (0-d) tensor: {what}")
            if value.grad_fn is None:
                _fail(name, case + "The result is cut off from the autograd graph (no grad_fn): it was detached, "
                      "computed under no_grad, or rebuilt from a Python number, so backward() cannot train the model.")
            # Tolerance: every correct form (flatten-sum-mean, mse_loss(sum)/B, mean·D, einsum) sums at
            # most 105 float32 squares per image in some order: relative round-off ≲ 105 · 6e-8 ≈ 6e-6,
            # far inside rtol 1e-4; every mistake named above changes the value by ≥ 30 %.
            if not _close(value.detach(), expected):
                _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}. "
                      + _diagnose_loss(value.detach(), x_hat, x, expected))
            grad = torch.autograd.grad(value, x_hat, allow_unused=True)[0]
            want = 2 * (x_hat.detach() - x) / shape[0]
            if grad is None or not grad.any():
                _fail(name, case + "The value is right, but no gradient reaches x_hat: the path from x_hat to the "
                      "loss was cut (detach, .data, or a number turned back into a tensor), so training would not "
                      "move the model.")
            if not _close(grad, want, atol=1e-6):
                _fail(name, case + "The value is right, but its gradient with respect to x_hat is not 2(x′ − x)/B: "
                      "something in the computation passes a different gradient (a clamp, a detached part, a "
                      "custom backward).")
            worked_on.append(shape)
    _passed(name, f"{len(_LOSS_SHAPES)} hidden cases agree with the reference.")


# ---------------------------------------------------------------------------------------------
# Lecture 01: the linear autoencoder
# ---------------------------------------------------------------------------------------------

_N_INPUTS, _LATENT = 16, 3
_IMAGE = (1, 4, 4)  # 16 inputs as a one-channel image: encode must flatten, forward must give this shape back


def _planted_data(g: torch.Generator, n: int = 256) -> torch.Tensor:
    """Rank-3 data in R^16 (std 3, 2, 1.5 along random orthonormal directions) + noise 0.5, around a mean in [1, 2]^16.

    The mean is what makes biases necessary: without an offset a rank-3 map must spend one of its
    three directions on the mean and loses the weakest planted one (≈ 1.5× PCA's error). The
    sizes are tuned so that the reference reaches PCA's error within 0.5 % from any sane
    initialisation (tested over many seeds) while every wrong variant stays ≥ 50 % above it.
    """
    basis = torch.linalg.qr(torch.randn(_N_INPUTS, _LATENT, generator=g))[0].T
    codes = torch.randn(n, _LATENT, generator=g) * torch.tensor([3.0, 2.0, 1.5])
    mean = 1.0 + torch.rand(_N_INPUTS, generator=g)
    return mean + codes @ basis + 0.5 * torch.randn(n, _N_INPUTS, generator=g)


def _fit(model: nn.Module, x: torch.Tensor, steps: int = 800, lr: float = 0.1) -> float:
    """Full-batch Adam with a cosine schedule on the mean squared error; returns the final MSE."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(model(x), x).backward()
        optimizer.step()
        schedule.step()
    with torch.no_grad():
        return F.mse_loss(model(x), x).item()


def _no_offset_mse(x: torch.Tensor, k: int) -> float:
    """The least MSE of any rank-k *linear* map (no offset): the tail energy of the uncentred data."""
    s = torch.linalg.svdvals(x.double())
    return (s[k:] ** 2).sum().item() / x.numel()


_LAYERS_HINT = ("name the two layers self.encoder = nn.Linear(n_inputs, latent_dim) and "
                "self.decoder = nn.Linear(latent_dim, n_inputs): the cells after the check read "
                "linear_ae.decoder.weight and linear_ae.decoder.bias")


def _check_layers(name: str, model: nn.Module, n: int, k: int) -> tuple[nn.Module, nn.Module]:
    """The interface the notebook reads: registered submodules ``encoder`` and ``decoder`` shaped like nn.Linear."""
    layers = []
    for attr, (out_features, in_features) in (("encoder", (k, n)), ("decoder", (n, k))):
        layer = model._modules.get(attr)
        if layer is None:
            if attr in vars(model) or hasattr(type(model), attr):
                _fail(name, f"model.{attr} is a {type(getattr(model, attr)).__name__}, not a layer registered on the "
                      f"module: {_LAYERS_HINT}.")
            others = ", ".join(key for key in model._modules) or "none"
            _fail(name, f"The model has no submodule named `{attr}` (its submodules: {others}); {_LAYERS_HINT}.")
        weight = getattr(layer, "weight", None)
        if not isinstance(weight, torch.Tensor):
            _fail(name, f"self.{attr} is a {type(layer).__name__} without a .weight; make it a single nn.Linear layer: "
                  f"{_LAYERS_HINT}.")
        if tuple(weight.shape) != (out_features, in_features):
            _fail(name, f"self.{attr}.weight has shape {tuple(weight.shape)}, expected {(out_features, in_features)}: "
                  f"self.{attr} maps {in_features} inputs to {out_features} outputs (nn.Linear(in_features, "
                  "out_features)).")
        layers.append(layer)
    encoder, decoder = layers
    if getattr(decoder, "bias", None) is None:
        _fail(name, "self.decoder has no bias (bias=False): the reconstruction needs an offset after the code, "
              "x′ = W_d z + b_d, because the data have a mean (the next cell starts linear_ae.decoder.bias at the "
              "mean image).")
    if tuple(decoder.bias.shape) != (n,):
        _fail(name, f"self.decoder.bias has shape {tuple(decoder.bias.shape)}, expected {(n,)}.")
    frozen = [f"self.{attr}.{p_name}" for attr, layer in (("encoder", encoder), ("decoder", decoder))
              for p_name, p in layer.named_parameters() if not p.requires_grad]
    if frozen:
        _fail(name, f"{', '.join(frozen)}: requires_grad is False, so training cannot change it; leave every "
              "parameter of the two layers trainable.")
    return encoder, decoder


def check_linear_autoencoder(cls: Callable[[int, int], nn.Module]) -> None:
    """Check a linear autoencoder class ``cls(n_inputs, latent_dim)`` with encode, decode and forward.

    The interface the notebook reads (``encoder`` and ``decoder``, nn.Linear-shaped, the decoder
    with a bias); shapes on flat inputs (B, n_inputs) and on images (B, 1, 4, 4), which encode
    flattens and forward gives back in their shape; that forward is deterministic, that x → x′
    is affine, x′ = W_d (W_e x + b_e) + b_d, computed by those two layers; and that after
    training on data with a rank-3 structure and a large mean, its squared error is within 10 %
    of PCA's with 3 components (the best any rank-3 affine map can do).
    """
    name = "check_linear_autoencoder"
    _expect_callable(name, cls, "your autoencoder class")
    n, k, batch = _N_INPUTS, _LATENT, 8
    with _seeded() as g:
        with _student_code(name, f"{getattr(cls, '__name__', 'your class')}({n}, {k})"):
            model = cls(n, k)
        if not isinstance(model, nn.Module):
            _fail(name, f"The class must build an nn.Module, got a {type(model).__name__}.")
        if not any(p.requires_grad for p in model.parameters()):
            _fail(name, "The model has no trainable parameters: its layers must be attributes of the module, "
                  "created in __init__.")

        x1, x2 = torch.randn(batch, n, generator=g), torch.randn(batch, n, generator=g)
        with _student_code(name, f"encode/decode/forward on a batch of shape {(batch, n)}"), torch.no_grad():
            z = model.encode(x1)
            _expect_tensor(name, f"encode on a batch of shape {(batch, n)}", z, (batch, k))
            decoded = model.decode(z)
            _expect_tensor(name, f"decode on codes of shape {(batch, k)}", decoded, (batch, n))
            out = model(x1)
            _expect_tensor(name, f"forward on a batch of shape {(batch, n)}", out, (batch, n))
            if not torch.equal(model(x1), out):
                _fail(name, "forward gave two different results for the same input: a linear autoencoder is "
                      "deterministic (no dropout or noise, and its layers are created once, in __init__, not in forward).")
            # An affine map keeps affine combinations, for any a (extrapolating too): a ReLU,
            # sigmoid or tanh anywhere breaks this for random weights.
            for a in (0.3, -1.5):
                if not _close(model(a * x1 + (1 - a) * x2), a * model(x1) + (1 - a) * model(x2), atol=1e-4):
                    _fail(name, "The map x → x′ is not affine: a linear autoencoder has no non-linearity "
                          "(no ReLU, sigmoid or tanh) between or after its layers.")
            if not _close(out, decoded, atol=1e-5):
                _fail(name, "forward(x) is not decode(encode(x)): the reconstruction must pass through the code z.")

        encoder, decoder = _check_layers(name, model, n, k)
        with _student_code(name, "encode/decode compared with self.encoder and self.decoder"), torch.no_grad():
            # Same float32 products either way (a Linear layer is F.linear): atol 1e-5 on values of size ≈ 1.
            if not _close(decoded, F.linear(z, decoder.weight, decoder.bias), atol=1e-5):
                _fail(name, "decode(z) is not self.decoder(z): the decoding must be done by the layer self.decoder "
                      "(the next cells read its weight as the learned subspace and its bias as the offset).")
            if not _close(z, F.linear(x1, encoder.weight, getattr(encoder, "bias", None)), atol=1e-5):
                _fail(name, "encode(x) is not self.encoder(x): the encoding must be done by the layer self.encoder.")

        images = torch.randn(batch, *_IMAGE, generator=g)
        try:
            with torch.no_grad():
                z_img, out_img = model.encode(images), model(images)
        except (NotImplementedError, CheckFailed):
            raise
        except Exception as err:
            raise CheckFailed(f"✗ {name}: on images of shape {(batch, *_IMAGE)} ({n} inputs each) your model raised "
                              f"{type(err).__name__}: {err}\n  encode must flatten anything that is not (B, n_inputs) "
                              "into (B, n_inputs) first, e.g. x.flatten(1).") from err
        _expect_tensor(name, f"encode on images of shape {(batch, *_IMAGE)}", z_img, (batch, k),
                       " (flatten each image into its n_inputs values first)")
        if tuple(out_img.shape) == (batch, n):
            _fail(name, f"forward on images of shape {(batch, *_IMAGE)} returned shape {(batch, n)}: give the "
                  "reconstruction back in the input's shape (e.g. .view_as(x)).")
        _expect_tensor(name, f"forward on images of shape {(batch, *_IMAGE)}", out_img, (batch, *_IMAGE))

        # All-zero weights and codes: each weight's gradient is zero as long as the other's is (a saddle).
        enc_bias = getattr(encoder, "bias", None)
        zero_start = not (encoder.weight.detach().any() or decoder.weight.detach().any()
                          or (enc_bias is not None and enc_bias.detach().any()))
        x = _planted_data(g)
        pca_mse = F.mse_loss(pca_fit(x, k).reconstruct(x), x).item()
        with _student_code(name, "training your model (Adam on the mean squared error)"):
            mse = _fit(model, x)
    if not math.isfinite(mse) or mse > 1.1 * pca_mse:
        if zero_start:
            _fail(name, f"After training, the error {mse:.4f} is far above PCA's {pca_mse:.4f}: both weight matrices "
                  "(and the code's bias) start at zero, where each weight's gradient is zero as long as the other "
                  "weight is, so they never move. "
                  "Start from small random weights (as nn.Linear does).")
        if math.isfinite(mse) and mse >= 0.98 * _no_offset_mse(x, k):
            _fail(name, f"After training, the error {mse:.4f} is that of the best map *without offset* "
                  f"(PCA's is {pca_mse:.4f}). The data have a large mean, which the model cannot represent: "
                  "the reconstruction needs a bias (an offset) after the code.")
        _fail(name, f"After training, the reconstruction error {mse:.4f} is more than 10 % above PCA's {pca_mse:.4f} "
              f"with {k} components. Check that nothing restricts the map (if you create the weights yourself, "
              "start them small, as nn.Linear does).")
    if mse < 0.9 * pca_mse:
        _fail(name, f"After training, the error {mse:.4f} is below PCA's {pca_mse:.4f}, which no rank-{k} map can "
              f"reach: the reconstruction must pass through the {k}-dimensional code.")
    _passed(name, f"shapes and affine map are right, and after training the error is within 10 % of PCA's "
            f"with {k} components.")


# ---------------------------------------------------------------------------------------------
# Lecture 01: one training step
# ---------------------------------------------------------------------------------------------

_TRAIN_STEPS = 3


def _mse_loss_fn(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    return F.mse_loss(model(x), y)


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(_close(p, q, rtol=1e-5, atol=1e-7) for p, q in zip(a, b))


class _StepRecorder:
    """Watches a model and its optimiser: every backward pass (and whether it landed on stale gradients),
    every optimiser step (and whether there were gradients to apply), every zero_grad.

    Only hints use the log; the verdict comes from the parameters and the returned value.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.events: list[tuple[str, bool]] = []
        self.params = list(model.parameters())
        step, zero_grad, model_zero_grad = optimizer.step, optimizer.zero_grad, model.zero_grad

        def recorded_step(*args, **kwargs):
            self.events.append(("step", self._has_grads()))
            return step(*args, **kwargs)

        def recorded_zero_grad(*args, **kwargs):
            self.events.append(("zero_grad", True))
            return zero_grad(*args, **kwargs)

        def recorded_model_zero_grad(*args, **kwargs):
            self.events.append(("zero_grad", True))
            return model_zero_grad(*args, **kwargs)

        optimizer.step, optimizer.zero_grad, model.zero_grad = recorded_step, recorded_zero_grad, recorded_model_zero_grad
        # A tensor hook on a leaf runs before the new gradient is added to .grad: .grad is then what was left over.
        first = self.params[0]
        first.register_hook(lambda grad: self.events.append(("backward", first.grad is not None and bool(first.grad.any()))))

    def _has_grads(self) -> bool:
        return any(p.grad is not None and bool(p.grad.any()) for p in self.params)

    def mark(self) -> int:
        return len(self.events)

    def since(self, start: int) -> list[tuple[str, bool]]:
        return self.events[start:]


def _diagnose_step(events: list[tuple[str, bool]], moved: bool) -> str:
    """Name what went wrong in one call from what the recorder saw (the parameters disagree with the reference)."""
    kinds = [kind for kind, _ in events]
    steps = [i for i, kind in enumerate(kinds) if kind == "step"]
    backwards = [i for i, kind in enumerate(kinds) if kind == "backward"]
    if not steps:
        if moved:
            return ("The parameters changed, but the optimizer you were given never took a step: update them with "
                    "optimizer.step(). A new optimizer made inside the function, or a hand-written update, ignores the "
                    "given optimizer's settings and its state across steps (here: momentum).")
        if not backwards:
            return "The parameters did not change: neither loss.backward() nor optimizer.step() was called."
        return "Gradients were computed but the parameters did not change: the optimizer never took its step."
    if len(steps) > 1:
        return f"The optimizer stepped {len(steps)} times in one call: take exactly one step per call."
    if not backwards:
        return ("optimizer.step() ran, but loss.backward() was never called: the step had no gradients of this "
                "batch's loss to apply.")
    if len(backwards) > 1:
        return (f"loss.backward() ran {len(backwards)} times in one call: the gradients add up; back-propagate "
                "once per step.")
    if steps[0] < backwards[0]:
        return ("optimizer.step() came before loss.backward(): the step applied old gradients (or none); compute the "
                "gradients first, then step.")
    if not events[steps[0]][1]:
        return ("The gradients were cleared after loss.backward() and before optimizer.step(), so the step had "
                "nothing to apply: clear them before the backward pass, not between it and the step.")
    if events[backwards[0]][1]:
        return ("The gradients accumulate across steps: backward() adds to .grad, so the previous step's gradients "
                "must be cleared (zero_grad) before each new backward pass. (The first step matched the reference "
                "because there was nothing to clear yet.)")
    return ("The parameters differ from one step of the given optimizer on the gradients of loss_fn(model, batch), "
            "though backward and step each ran once, in that order: something else changed the gradients or the "
            "parameters (a second loss, scaling, clipping, a manual update).")


def check_train_step(fn: Callable[[nn.Module, torch.optim.Optimizer, object, Callable], float]) -> None:
    """Check ``fn(model, optimizer, batch, loss_fn) -> float`` against one gradient step, three times in a row.

    Two copies of a small network, SGD with momentum 0.9 (lr 0.1), the same batches, the same
    model and optimizer on every call: after each step the parameters must match the
    reference's, so that stale gradients (a missing zero_grad) and a lost optimizer state (a new
    optimizer, a hand-written update) show up from the second step; the returned value must be
    the loss as a Python float, computed *before* the update; the batch must not be modified.
    What went wrong is read from a log of backward passes, zero_grads and optimizer steps.
    """
    name = "check_train_step"
    _expect_callable(name, fn, "your step function")
    with _seeded() as g:
        reference = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        student = copy.deepcopy(reference)
        ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
        student_opt = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
        recorder = _StepRecorder(student, student_opt)
        batches = [(torch.randn(16, 4, generator=g), torch.randn(16, 1, generator=g)) for _ in range(_TRAIN_STEPS)]

        for step, batch in enumerate(batches, start=1):
            before = _params(student)
            originals = tuple(t.clone() for t in batch)
            expected = train_step(reference, ref_opt, batch, _mse_loss_fn)
            start = recorder.mark()
            with _student_code(name, f"your function at step {step}"):
                value = fn(student, student_opt, batch, _mse_loss_fn)
            after = _params(student)
            at = f"At step {step} of {_TRAIN_STEPS}: "
            if not all(torch.equal(t, o) for t, o in zip(batch, originals)):
                _fail(name, at + "Your function changed the batch in place; leave the data as they are (the same "
                      "batch is used again in the next epoch).")
            # Tolerance: the same float32 operations in the same order give identical parameters;
            # rtol 1e-5 / atol 1e-7 only absorbs a reordered reduction, while every mistake above
            # moves a parameter by ≈ lr · |grad| ≳ 1e-4.
            if not _same(after, _params(reference)):
                _fail(name, at + _diagnose_step(recorder.since(start), moved=not _same(after, before)))
            if isinstance(value, torch.Tensor):
                _fail(name, at + "It returned a tensor; return the loss as a Python float (a tensor keeps the "
                      "whole graph of the step alive).")
            if not isinstance(value, float):
                _fail(name, at + f"It returned {type(value).__name__}, expected the loss as a Python float.")
            if not _close(value, expected, rtol=1e-5):
                with torch.no_grad():
                    after_update = _mse_loss_fn(student, batch).item()
                if _close(value, after_update, rtol=1e-5):
                    _fail(name, at + "It returned the loss *after* the update; return the loss of the forward pass, "
                          "computed before the optimizer step.")
                _fail(name, at + f"It returned {value:.6g}, but the loss on this batch before the update is {expected:.6g}.")
    _passed(name, f"{_TRAIN_STEPS} consecutive steps agree with the reference (returned losses and updated parameters).")
