"""Self-checks for lecture 01 (autoencoders): the reconstruction loss, a linear AE, one training step.

Lecture 02's checks are in ``course_lib.checks.denoising_stacked``.
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
    _close, _expect_callable, _expect_tensor, _fail, _passed, _seeded, _student_code,
)
from course_lib.training import train_step

__all__ = ["check_reconstruction_loss", "check_linear_autoencoder", "check_train_step"]


# ---------------------------------------------------------------------------------------------
# Lecture 01: the reconstruction loss
# ---------------------------------------------------------------------------------------------

_LOSS_SHAPES = [(4, 1, 8, 8), (2, 1, 5, 7), (1, 1, 6, 6), (8, 20), (3, 7), (5, 1, 4, 4)]


def _diagnose_loss(value: torch.Tensor, x_hat: torch.Tensor, x: torch.Tensor, expected: torch.Tensor) -> str:
    """Name the mistake that turns the reference into ``value``, if it is a common one."""
    diff = (x - x_hat).detach().flatten(1)
    b, d = diff.shape
    known = [
        (-expected, "The sign is flipped: a squared error is never negative."),
        (expected / d, "You averaged over the pixels as well; the loss is a per-image sum (then a mean over the batch)."),
        (expected * b, "You summed over the batch; average the per-image sums over the batch instead."),
        (diff.abs().sum(1).mean(), "You used absolute errors |x − x′|; the loss uses squared errors."),
        (diff.pow(2).sum(1).sqrt().mean(), "You took the norm ‖x − x′‖ (with a square root); the loss is the squared norm."),
    ]
    for wrong, hint in known:
        if _close(value, wrong):
            return hint
    return "The value differs from the reference: per image, sum the squared errors over all pixels; then average over the batch."


def check_reconstruction_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(x_hat, x)`` against L = (1/B) Σ_b Σ_i (x_{b,i} − x′_{b,i})² on hidden batches.

    Batches are images (B, 1, H, W) and flat vectors (B, D) of several sizes; ``x_hat`` requires
    grad, as a model's output does, so the result must stay in the autograd graph.
    """
    name = "check_reconstruction_loss"
    _expect_callable(name, fn, "your loss function")
    with _seeded() as g:
        for shape in _LOSS_SHAPES:
            x = torch.rand(shape, generator=g)
            x_hat = torch.rand(shape, generator=g).requires_grad_()
            expected = reconstruction_loss(x_hat, x).detach()
            with _student_code(name, f"your function on a batch of shape {shape}"):
                value = fn(x_hat, x)
            case = f"On a batch of shape {shape}: "
            if not isinstance(value, torch.Tensor):
                _fail(name, case + f"It returned a {type(value).__name__}, not a tensor. The loss must stay a tensor in "
                      "the autograd graph so that backward() can reach the parameters (was it turned into a number?).")
            if value.ndim != 0:
                if tuple(value.shape) == shape[:1]:
                    what = "one value per image; the batch still has to be averaged."
                elif value.shape == x.shape:
                    what = "one value per pixel; nothing was reduced."
                else:
                    what = "not a single number."
                _fail(name, case + f"It returned a tensor of shape {tuple(value.shape)}, expected a scalar (0-d) tensor: {what}")
            if value.grad_fn is None:
                _fail(name, case + "The result is cut off from the autograd graph (no grad_fn): it was detached, "
                      "computed under no_grad, or rebuilt from a Python number, so backward() cannot train the model.")
            if not _close(value.detach(), expected):
                _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}. "
                      + _diagnose_loss(value.detach(), x_hat, x, expected))
    _passed(name, f"{len(_LOSS_SHAPES)} hidden cases agree with the reference.")


# ---------------------------------------------------------------------------------------------
# Lecture 01: the linear autoencoder
# ---------------------------------------------------------------------------------------------

_N_INPUTS, _LATENT = 16, 3


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


def check_linear_autoencoder(cls: Callable[[int, int], nn.Module]) -> None:
    """Check a linear autoencoder class ``cls(n_inputs, latent_dim)`` with encode, decode and forward.

    Shapes on flat inputs (B, n_inputs); that x → x′ is affine, x′ = W_d (W_e x + b_e) + b_d;
    and that after training on data with a rank-3 structure and a large mean, its squared error
    is within 10 % of PCA's with 3 components (the best any rank-3 affine map can do).
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
            # An affine map keeps affine combinations, for any a (extrapolating too): a ReLU,
            # sigmoid or tanh anywhere breaks this for random weights.
            for a in (0.3, -1.5):
                if not _close(model(a * x1 + (1 - a) * x2), a * model(x1) + (1 - a) * model(x2), atol=1e-4):
                    _fail(name, "The map x → x′ is not affine: a linear autoencoder has no non-linearity "
                          "(no ReLU, sigmoid or tanh) between or after its layers.")
            if not _close(out, decoded, atol=1e-5):
                _fail(name, "forward(x) is not decode(encode(x)): the reconstruction must pass through the code z.")

        x = _planted_data(g)
        pca_mse = F.mse_loss(pca_fit(x, k).reconstruct(x), x).item()
        with _student_code(name, "training your model (Adam on the mean squared error)"):
            mse = _fit(model, x)
    if not math.isfinite(mse) or mse > 1.1 * pca_mse:
        if math.isfinite(mse) and mse >= 0.98 * _no_offset_mse(x, k):
            _fail(name, f"After training, the error {mse:.4f} is that of the best map *without offset* "
                  f"(PCA's is {pca_mse:.4f}). The data have a large mean, which the model cannot represent: "
                  "the reconstruction needs a bias (an offset) after the code.")
        _fail(name, f"After training, the reconstruction error {mse:.4f} is more than 10 % above PCA's {pca_mse:.4f} "
              f"with {k} components. Check that every layer has its bias and that nothing else restricts the "
              "map (if you create the weights yourself, start them small, as nn.Linear does).")
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


def check_train_step(fn: Callable[[nn.Module, torch.optim.Optimizer, object, Callable], float]) -> None:
    """Check ``fn(model, optimizer, batch, loss_fn) -> float`` against one gradient step, three times in a row.

    Two copies of a small network, plain SGD (lr 0.1, no momentum), the same batches: after each
    step the parameters must match the reference's, and the returned value must be the loss as a
    Python float, computed *before* the update.
    """
    name = "check_train_step"
    _expect_callable(name, fn, "your step function")
    with _seeded() as g:
        reference = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        student = copy.deepcopy(reference)
        ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.0)
        student_opt = torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.0)
        batches = [(torch.randn(16, 4, generator=g), torch.randn(16, 1, generator=g)) for _ in range(_TRAIN_STEPS)]

        for step, batch in enumerate(batches, start=1):
            before = _params(student)
            expected = train_step(reference, ref_opt, batch, _mse_loss_fn)
            with _student_code(name, f"your function at step {step}"):
                value = fn(student, student_opt, batch, _mse_loss_fn)
            after = _params(student)
            at = f"At step {step} of {_TRAIN_STEPS}: "
            if _same(after, before):
                if all(p.grad is None or not p.grad.any() for p in student.parameters()):
                    _fail(name, at + "The parameters did not change and no gradients reached the optimizer: the "
                          "backward pass is missing (or the gradients were cleared after it, before the step).")
                _fail(name, at + "Gradients were computed but the parameters did not change: the optimizer never "
                      "took its step.")
            if not _same(after, _params(reference)):
                if step > 1:
                    _fail(name, at + "Step 1 matched the reference but this one does not: the gradients accumulate "
                          "across steps. backward() adds to .grad, so the old gradients must be cleared "
                          "(zero_grad) before each new backward pass.")
                _fail(name, at + "The parameters differ from one SGD step on this batch: was the step taken exactly "
                      "once, on the loss of this batch?")
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
