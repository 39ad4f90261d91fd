"""Self-checks for lecture 07 (diffusion models): the forward noising in closed form, the simple
ε-loss, one ancestral DDPM step, one deterministic DDIM step, and classifier-free guidance.

The student's functions take the schedule as a plain float64 tensor ``alpha_bar`` of ᾱ_0 … ᾱ_T
(ᾱ_0 = 1) and steps as integers, with the lecture's index convention: t = 0 is the data, and
``alpha_bar[t]`` is ᾱ_t. Every hidden case is computed by the library's reference in float64;
the student's float32 result must agree to float32 precision (allowing for the cancellation in
1 − ᾱ near ᾱ = 1), keep the input's dtype, and leave its inputs unchanged.

Behaviour probes: an input changed in place is named before the values are judged; the noise
argument must be what makes the randomness (two calls with the same noise agree, a different
noise changes the result as it should, no noise of one's own or from a fixed seed); the loss
carries its gradient to ε̂ without calling backward itself; the noising and loss batches have odd
sizes. None of
these functions takes a generator: the random numbers all come in through ``noise``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course_lib.checks._framework import (
    CheckFailed, _changed_in_place, _close, _expect_callable, _expect_tensor, _fail, _passed, _seeded,
    _student_code,
)
from course_lib.diffusion import _per_sample  # (B,) → (B, 1, …, 1), as the reference reshapes
from course_lib.diffusion import (
    NoiseSchedule, cosine_schedule, ddim_step, ddpm_step, epsilon_loss, guided_epsilon, linear_schedule, q_sample,
)

__all__ = ["check_forward_noising", "check_epsilon_loss", "check_ddpm_step", "check_ddim_step", "check_guidance"]

_RTOL = 1e-4  # float32 against a float64 reference
# How far a float32 1 − ᾱ_t (or 1 − ᾱ_t/ᾱ_s) may be off: ᾱ rounded to float32 near 1 is off by up to 3e-8,
# and the subtraction cancels the leading digits. At the cosine schedule's first step (σ_1 = 10⁻³) that moves
# σ_1 by up to 1.5·10⁻⁵, far above float32's usual 10⁻⁷ relative error. The tolerances add the effect of an
# error of _CANCEL (about 16 such roundings) in each of these differences.
_CANCEL = 5e-7
# The hidden data come from their own generator, seeded apart from the global generator that ``_seeded``
# seeds (and that a student's torch.randn_like would draw from), so no verdict hangs on the two streams
# happening to agree.
_DATA_SEED = 7


def _schedules() -> dict[str, torch.Tensor]:
    """The hidden schedules, as the float64 ᾱ_0 … ᾱ_T a student's function receives."""
    return {"linear": linear_schedule(1000).alpha_bar, "cosine": cosine_schedule(1000).alpha_bar}


def _within(value: torch.Tensor, expected: torch.Tensor, tol: torch.Tensor | float) -> bool:
    """Every element of ``value`` within ``tol`` (per element) of the float64 ``expected``; NaN never is."""
    return bool(((value.detach().double() - expected).abs() <= tol).all())


def _call(name: str, call: str, fn: Callable, *args: object, broadcast_hint: str = "") -> object:
    """Run ``fn(*args)`` as student code; a broadcasting error gets ``broadcast_hint`` appended."""
    try:
        with _student_code(name, call):
            return fn(*args)
    except CheckFailed as err:
        cause = err.__cause__
        if broadcast_hint and isinstance(cause, RuntimeError) and "must match the size" in str(cause):
            raise CheckFailed(f"{err}\n  {broadcast_hint}") from cause
        raise


def _copies(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tuple(t.clone() for t in tensors)


def _unchanged(name: str, originals: dict[str, torch.Tensor], given: tuple[torch.Tensor, ...]) -> None:
    """Fail when the student's function changed one of the tensors it was given."""
    what = _changed_in_place(list(given), list(originals.values()), list(originals))
    if what is not None:
        _fail(name, f"Your function changed its input {what} in place (an in-place operation such as "
              f"`{what} *= …`, `.mul_()` or `.add_()`); compute a new tensor and leave {what} as it was.")


_PROMOTED = " (ᾱ is stored in float64, and a tensor of coefficients taken from it promotes the result)"


def _expect_dtype(name: str, case: str, value: torch.Tensor, like: torch.Tensor, what: str, why: str = "") -> None:
    """Fail unless ``value`` has ``like``'s dtype; ``why`` is added when the result came out float64."""
    if value.dtype != like.dtype:
        why = why if value.dtype == torch.float64 else ""
        _fail(name, case + f"the result is {str(value.dtype).removeprefix('torch.')} but {what} is "
              f"{str(like.dtype).removeprefix('torch.')}: the result must keep {what}'s dtype{why}.")


def _first(value: torch.Tensor, candidates: list[tuple[torch.Tensor, str]], tol: torch.Tensor | float) -> str | None:
    for wrong, hint in candidates:
        if _within(value, wrong, tol):
            return hint
    return None


def _noise_reused(name: str, label: str, out: torch.Tensor, call: Callable[[torch.Tensor], object],
                  noise: torch.Tensor, what: str) -> str | None:
    """A hint when a second call with the same `noise` gives another result (the function draws its own)."""
    again = _call(name, f"your function on {label}, a second time", call, noise.clone())
    if isinstance(again, torch.Tensor) and not torch.equal(again, out):
        return (f"two calls with the same `noise` gave different {what}: use the `noise` argument, do not draw "
                "your own.")
    return None


def _noise_ignored(name: str, label: str, out: torch.Tensor, call: Callable[[torch.Tensor], object],
                   noise: torch.Tensor, g: torch.Generator, what: str, scale: str) -> str | None:
    """A hint when other noise gives the very same result: the `noise` argument is ignored (noise from a fixed
    seed, or kept from an earlier call). Only for results that must depend on the noise."""
    other = _call(name, f"your function on {label}, with other noise", call, torch.randn(noise.shape, generator=g))
    if isinstance(other, torch.Tensor) and torch.equal(other, out):
        return (f"{what} does not change when the `noise` argument changes: the noise term is {scale} times `noise` "
                "(noise drawn inside the function, from a fixed seed, or kept from an earlier call is not the "
                "caller's noise).")
    return None


# ---------------------------------------------------------------------------------------------
# The forward process: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε
# ---------------------------------------------------------------------------------------------

_BROADCAST = ("t holds one step per sample, so coefficients taken from ᾱ at t have shape (B,): they must be "
              "reshaped to (B, 1, …, 1) to scale every element of their own sample.")


def _noising_cases(g: torch.Generator) -> list[tuple[str, str, torch.Tensor, torch.Tensor]]:
    """(label, schedule, x0, t): steps 1 … T first, then batches that include the end points t = 0 and t = T."""
    points = torch.randn(63, 2, generator=g) * 1.5 + 0.5
    images = torch.rand(7, 1, 8, 8, generator=g) * 2 - 1
    t_points = torch.randint(1, 1001, (63,), generator=g)
    t_images = torch.tensor([0, 1, 10, 250, 500, 999, 1000])
    more = torch.randn(31, 2, generator=g)
    t_more = torch.randint(0, 1001, (31,), generator=g)
    t_more[:2] = torch.tensor([0, 1000])
    return [("63 points (63, 2), linear schedule", "linear", points, t_points),
            ("7 images (7, 1, 8, 8), cosine schedule", "cosine", images, t_images),
            ("31 points (31, 2), cosine schedule, t from 0 to T", "cosine", more, t_more)]


def _noising_mistakes(x0: torch.Tensor, t: torch.Tensor, a: torch.Tensor, eps: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    def ps(v: torch.Tensor) -> torch.Tensor:
        return _per_sample(v, x0)

    ab, ab_prev, ab_last = ps(a[t]), ps(a[t - 1]), ps(a[-1].expand(len(t)))
    beta = 1 - ab / ab_prev
    return [
        (ab * x0 + (1 - ab) * eps, "ᾱ_t and 1 − ᾱ_t are the *variances* of the signal and the noise; x0 and ε "
         "must be scaled by their square roots (scales, not variances)."),
        (ab * x0 + (1 - ab).sqrt() * eps, "x0 is scaled by ᾱ_t, the variance of the signal: its scale is the square "
         "root of that."),
        (ab.sqrt() * x0 + (1 - ab) * eps, "ε is scaled by 1 − ᾱ_t, the variance of the noise: its scale is the square "
         "root of that."),
        ((1 - ab).sqrt() * x0 + ab.sqrt() * eps, "the two coefficients are swapped: the signal's scale shrinks with t "
         "(ᾱ_t falls from 1), the noise's grows."),
        (ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * eps, "ᾱ is indexed off by one (at t − 1): alpha_bar holds "
         "ᾱ_0 = 1 at index 0, so step t's value is at index t."),
        ((1 - beta).sqrt() * x0 + beta.sqrt() * eps, "that uses β_t, the variance added by the single step t − 1 → t; "
         "x_t from x_0 in one go needs the cumulative product ᾱ_t."),
        (ab_last.sqrt() * x0 + (1 - ab_last).sqrt() * eps, "every sample got the coefficients of the last step T: "
         "each sample has its own step t[i]."),
        (x0 + (1 - ab).sqrt() * eps, "x0 is not scaled: the forward process shrinks the signal by √ᾱ_t as it adds "
         "noise (it preserves the variance)."),
        (ab.sqrt() * x0 - (1 - ab).sqrt() * eps, "the noise is subtracted: x_t adds the scaled noise to the scaled x0."),
        (ab.sqrt() * x0 + (1 - ab).sqrt(), "the noise argument is missing: the noise scale multiplies ε."),
    ]


def check_forward_noising(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x0, t, alpha_bar, noise)`` = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, each sample at its own step t[i].

    Hidden cases: 2-D points (B, 2) and images (B, 1, 8, 8), linear and cosine schedules, steps
    from 0 (x_t = x_0) to T, then the first batch again with new noise (the result must follow each
    call's `noise`). The result must have x0's shape and dtype, and the inputs must not change.
    """
    name = "check_forward_noising"
    _expect_callable(name, fn, "your forward-noising function")
    schedules = _schedules()
    with _seeded():
        g = torch.Generator().manual_seed(_DATA_SEED)
        cases = _noising_cases(g)
        # The first batch once more, with new noise: the result must follow each call's own `noise`.
        again = [(f"{cases[0][0]}, called again with new noise", *cases[0][1:])]
        for label, schedule, x0, t in cases + again:
            a = schedules[schedule]
            eps = torch.randn(x0.shape, generator=g)
            given = _copies(x0, t, a, eps)
            out = _call(name, f"your function on {label}", fn, *given, broadcast_hint=_BROADCAST)
            case = f"On {label}: "
            _unchanged(name, {"x0": x0, "t": t, "alpha_bar": a, "noise": eps}, given)
            out = _expect_tensor(name, case + "your function", out, tuple(x0.shape),
                                 " (x_t has x0's shape: scale each sample by its own coefficients, of shape "
                                 "(B, 1, …, 1))")
            x0_64, eps_64 = x0.double(), eps.double()
            expected = q_sample(x0_64, t, NoiseSchedule(a), eps_64)
            sigma = (1 - a[t]).sqrt()
            spread = (1 - a[t] + _CANCEL * (a[t] < 1)).sqrt() - sigma  # a float32 σ_t's error; none at t = 0
            tol = 1e-6 + _RTOL * expected.abs() + _per_sample(spread, x0) * eps_64.abs()
            if not _within(out, expected, tol):
                hint = _first(out, _noising_mistakes(x0_64, t, a, eps_64), tol)
                if hint is None:
                    call = lambda z: fn(*_copies(x0, t, a), z)  # noqa: E731
                    hint = (_noise_reused(name, label, out, call, eps, "x_t")
                            or _noise_ignored(name, label, out, call, eps, g, "x_t", "√(1 − ᾱ_t)")
                            or "x_t differs from √ᾱ_t x0 + √(1 − ᾱ_t) ε.")
                _fail(name, case + hint)
            _expect_dtype(name, case, out, x0, "x0", _PROMOTED)
    _passed(name, f"{len(cases)} hidden batches (points and images, linear and cosine schedules, t from 0 to T) "
            "agree with √ᾱ_t x0 + √(1 − ᾱ_t) ε.")


# ---------------------------------------------------------------------------------------------
# The simple loss: mean over every element of (ε − ε̂)²
# ---------------------------------------------------------------------------------------------

def _loss_mistakes(d: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    sq = d.pow(2)
    return [
        (sq.sum(), "you summed over every element; the loss is the mean."),
        (sq.flatten(1).sum(1).mean(), "you summed over each sample's elements and averaged over the batch only: the "
         "mean runs over every element, batch and sample dimensions alike."),
        (sq.flatten(1).mean(1).sum(), "you averaged within each sample but summed over the batch: the mean runs over "
         "every element, the batch included."),
        (d.abs().mean(), "that is the mean absolute error (L1); the loss is the mean *squared* error."),
        (sq.mean().sqrt(), "you took the square root of the mean squared error (an RMS); the loss is the mean squared "
         "error itself."),
        (d.flatten(1).norm(dim=1).mean(), "that is the mean of per-sample norms ‖ε − ε̂‖ (no square); the loss is the "
         "mean of the squared errors."),
        (0.5 * sq.mean(), "there is an extra factor ½."),
        (d.mean().pow(2), "you squared the mean error; average the squared errors instead."),
        (d.mean(), "the errors are not squared."),
        (-d.mean(), "the errors are not squared."),
    ]


def check_epsilon_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(eps_pred, eps)`` = mean over every element of (ε − ε̂)², a scalar, with gradient 2(ε̂ − ε)/N.

    Hidden batches of points (B, 2) and images (B, C, H, W), with different numbers of elements
    per sample so that the reduction shows; the gradient must reach ``eps_pred`` (given, as a
    network gives it, as an inner node of a graph), and the function must not call backward itself.
    """
    name = "check_epsilon_loss"
    _expect_callable(name, fn, "your loss function")
    shapes = ((63, 2), (7, 1, 8, 8), (5, 3, 4, 4))
    with _seeded():
        g = torch.Generator().manual_seed(_DATA_SEED)
        for shape in shapes:
            eps = torch.randn(shape, generator=g)
            eps_pred = (eps + 0.7 * torch.randn(shape, generator=g) + 0.2)
            case = f"On a batch of shape {shape}: "
            # eps_pred as a network gives it: an inner node of a graph (not a leaf), so an in-place change by the
            # loss is possible, as it is in the notebook, and is named rather than crashing on a leaf.
            leaf = eps_pred.clone().requires_grad_()
            eps_pred_in, eps_in = leaf * 1.0, eps.clone()
            value = _call(name, f"your function on a batch of shape {shape}", fn, eps_pred_in, eps_in)
            _unchanged(name, {"eps_pred": eps_pred, "eps": eps}, (eps_pred_in.detach(), eps_in))
            if leaf.grad is not None:
                _fail(name, case + "your function called .backward() itself: return the loss and leave backward to the "
                      "training loop, which calls loss.backward() once per step (a second backward through the same "
                      "graph fails, and gradients would be counted twice).")
            if not isinstance(value, torch.Tensor):
                _fail(name, case + f"it returned a {type(value).__name__}; return a 0-d tensor that autograd can "
                      "differentiate (no .item()).")
            if value.ndim != 0:
                per_sample = " (one value per sample: the batch must be averaged too)" if tuple(value.shape) == shape[:1] else ""
                _fail(name, case + f"it returned shape {tuple(value.shape)}; the loss is one number, the mean over "
                      f"every element{per_sample}.")
            if value.grad_fn is None:
                _fail(name, case + "the loss is cut off from the autograd graph (no grad_fn): was eps_pred detached, "
                      "the loss made from a Python number, or computed under no_grad? No gradient would reach the network.")
            expected = epsilon_loss(eps_pred.double(), eps.double())
            tol = 1e-6 + _RTOL * abs(expected.item())
            if not _within(value, expected, tol):
                hint = _first(value, _loss_mistakes((eps - eps_pred).double()), tol)
                _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}: "
                      + (hint or "the loss is the mean over every element of (ε − ε̂)²."))
            _expect_dtype(name, case, value, eps, "eps")
            (grad,) = torch.autograd.grad(value, leaf, allow_unused=True)
            want = 2 * (eps_pred - eps).double() / eps.numel()
            if grad is None or not _close(grad, want, rtol=1e-3, atol=1e-8):
                _fail(name, case + "the value is right but its gradient with respect to eps_pred is not 2(ε̂ − ε)/N: "
                      "build the loss from eps_pred with differentiable operations (no .detach(), .data or .item()).")
    _passed(name, f"{len(shapes)} hidden batches agree with the mean of (ε − ε̂)² over every element, "
            "and its gradient reaches eps_pred.")


# ---------------------------------------------------------------------------------------------
# Shared by the two samplers: hidden steps and the quantities of one step t → s
# ---------------------------------------------------------------------------------------------

# (schedule, t, s, shape): one step, jumps, the very first and the last steps, s = 0.
_STEP_CASES = (
    ("linear", 500, 499, (256, 2)),
    ("cosine", 10, 9, (4, 1, 8, 8)),
    ("linear", 500, 450, (4, 1, 8, 8)),
    ("cosine", 1000, 950, (256, 2)),
    ("linear", 30, 0, (256, 2)),
    ("cosine", 1, 0, (4, 1, 8, 8)),
    ("cosine", 600, 200, (256, 2)),
)


def _step_inputs(g: torch.Generator, a: torch.Tensor, t: int, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """x_t noised from data-like x_0, and a good-but-imperfect prediction of its noise."""
    x0 = torch.randn(shape, generator=g) * 0.8
    eps = torch.randn(shape, generator=g)
    ab = a[t].item()
    x_t = (math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps).float()
    eps_pred = eps + 0.2 * torch.randn(shape, generator=g)
    return x_t, eps_pred


def _step_trials(g: torch.Generator):
    """For each of ``_STEP_CASES``: (ᾱ, t, s, shape, x_t, ε_θ, the case's label) — shared by both sampler checks."""
    schedules = _schedules()
    for schedule, t, s, shape in _STEP_CASES:
        a = schedules[schedule]
        x_t, eps_pred = _step_inputs(g, a, t, shape)
        yield a, t, s, shape, x_t, eps_pred, f"the step t = {t} → s = {s} ({schedule} schedule, shape {shape})"


class _Step:
    """A step t → s in float64: the reference's formulas, written in the quantities σ_t², σ_s² and
    β_{t|s} = 1 − ᾱ_t/ᾱ_s that a float32 implementation gets by cancellation, and common variants."""

    def __init__(self, a: torch.Tensor, t: int, s: int, x_t: torch.Tensor, eps_pred: torch.Tensor):
        self.x_t, self.eps = x_t.double(), eps_pred.double()
        self.ab_t, self.ab_s = a[t].item(), a[s].item()
        self.al_t, self.al_s = math.sqrt(self.ab_t), math.sqrt(self.ab_s)
        self.q = (1 - self.ab_t, 1 - self.ab_s, 1 - self.ab_t / self.ab_s)  # σ_t², σ_s², β_{t|s}
        self.sg_t, self.sg_s = math.sqrt(self.q[0]), math.sqrt(self.q[1])
        self.beta_ts = self.q[2]
        self.var = self.q[1] * self.q[2] / self.q[0]  # the posterior variance β̃
        self.x0 = self.x0_hat(self.al_t, self.sg_t)
        self.mean = self.posterior_mean(self.x0)
        self.beta_1 = 1 - self.ab_t / a[t - 1].item()  # the single step's β_t = 1 − ᾱ_t/ᾱ_{t−1}
        self.off_by_one = (a[t - 1].item(), a[s - 1].item())  # s − 1 = −1 wraps to ᾱ_T, as Python indexing does
        self.scale = float(self.x0.abs().max())  # x̂_0 grows as 1/α_t, and its float32 rounding with it

    def x0_hat(self, alpha: float, sigma: float, sign: float = 1.0) -> torch.Tensor:
        return (self.x_t - sign * sigma * self.eps) / alpha

    def posterior_mean(self, x0: torch.Tensor, var_t: float | None = None, var_s: float | None = None,
                       beta: float | None = None) -> torch.Tensor:
        var_t, var_s, beta = (q if v is None else v for v, q in zip((var_t, var_s, beta), self.q))
        return (self.al_s * beta / var_t) * x0 + (self.al_t / self.al_s * var_s / var_t) * self.x_t

    def ddpm(self, z: torch.Tensor, var_t: float, var_s: float, beta: float) -> torch.Tensor:
        x0 = self.x0_hat(self.al_t, math.sqrt(var_t))
        return self.posterior_mean(x0, var_t, var_s, beta) + math.sqrt(var_s * beta / var_t) * z

    def ddim(self, var_t: float, var_s: float, beta: float) -> torch.Tensor:
        return self.al_s * self.x0_hat(self.al_t, math.sqrt(var_t)) + math.sqrt(var_s) * self.eps

    def tolerance(self, formula: Callable[[float, float, float], torch.Tensor]) -> torch.Tensor:
        """Per element: float32 rounding (relative, and of the terms as large as x̂_0), plus how far the result
        moves when σ_t², σ_s² or β_{t|s} is off by a float32 cancellation error (0 stays exactly 0)."""
        exact = formula(*self.q)
        tol = 1e-6 * max(1.0, self.scale) + _RTOL * exact.abs()
        for k in range(3):
            moved = [v + _CANCEL if i == k and v > 0 else v for i, v in enumerate(self.q)]
            tol = tol + (formula(*moved) - exact).abs()
        return tol


_CLIPPED = ("x̂_0 is clipped to [−1, 1]: the step uses x̂_0 = (x_t − σ_t ε_θ)/α_t as it is (the data here are "
            "points, not images confined to [−1, 1]).")


def _explained_by(value: torch.Tensor, mean: torch.Tensor, z: torch.Tensor, tol: torch.Tensor) -> float | None:
    """c when ``value`` = ``mean`` + c·z for one number c (any noise scale, 0 included), else None."""
    z = z.double()
    c = float(((value.detach().double() - mean) * z).sum() / (z * z).sum())
    return c if _within(value, mean + c * z, tol) else None


def _same_number(a: float, b: float, unit: float) -> bool:
    """a ≈ b, to 1 % of ``unit`` (the size of the noise scale being diagnosed)."""
    return abs(a - b) <= 0.01 * unit


# ---------------------------------------------------------------------------------------------
# One ancestral (DDPM) step
# ---------------------------------------------------------------------------------------------

def _ddpm_mean_mistakes(st: _Step, t: int, s: int) -> list[tuple[torch.Tensor, str]]:
    mistakes = []
    if s < t - 1:
        b = st.beta_1
        eq11 = (st.x_t - b / st.sg_t * st.eps) / math.sqrt(1 - b)
        mistakes.append((eq11, "the mean uses the one-step β_t = 1 − ᾱ_t/ᾱ_{t−1} (DDPM's eq. 11), right only for "
                         "s = t − 1: the step must work for any s < t, with the coefficients of the jump from t to s "
                         "(from ᾱ_t and ᾱ_s)."))
    if s > 0:
        ab_t, ab_s = st.off_by_one
        shifted = _Step.__new__(_Step)
        shifted.x_t, shifted.eps = st.x_t, st.eps
        shifted.al_t, shifted.al_s = math.sqrt(ab_t), math.sqrt(ab_s)
        shifted.q = (1 - ab_t, 1 - ab_s, 1 - ab_t / ab_s)
        mistakes.append((shifted.posterior_mean(shifted.x0_hat(shifted.al_t, math.sqrt(1 - ab_t))),
                         "ᾱ is indexed off by one (at t − 1 and s − 1): alpha_bar holds ᾱ_0 = 1 at index 0, so "
                         "step t's value is at index t."))
    mistakes += [
        (st.posterior_mean(st.x0_hat(st.al_t, st.sg_t, sign=-1.0)), "the sign of ε_θ is wrong in x̂_0: the noise "
         "must be removed from x_t, x̂_0 = (x_t − σ_t ε_θ)/α_t."),
        (st.posterior_mean(st.x_t - st.sg_t * st.eps), "x̂_0 is not divided by α_t = √ᾱ_t: x_t = α_t x_0 + σ_t ε."),
        (st.posterior_mean(st.x0_hat(st.ab_t, 1 - st.ab_t)), "x̂_0 uses ᾱ_t and 1 − ᾱ_t (variances) where the "
         "scales α_t = √ᾱ_t and σ_t = √(1 − ᾱ_t) belong."),
        (st.al_s * st.x0 + st.sg_s * st.eps, "the mean is the deterministic DDIM update α_s x̂_0 + σ_s ε_θ; "
         "an ancestral step's mean is that of the posterior q(x_s | x_t, x̂_0), μ̃."),
        (st.posterior_mean(st.x0.clamp(-1, 1)), _CLIPPED),
    ]
    return mistakes


def _ddpm_noise_hint(c: float, st: _Step, s: int) -> str:
    if s == 0:
        return ("noise was added at s = 0: the last step returns x̂_0 itself (the posterior variance β̃ is 0 "
                "there, because σ_0 = 0).")
    std = math.sqrt(st.var)
    if _same_number(c, 0.0, std):
        return ("no noise was added: an ancestral step draws x_s from the posterior, N(μ̃, β̃ I), so it adds "
                "√β̃ times the `noise` argument (except at s = 0).")
    if _same_number(c, math.sqrt(st.beta_ts), std):
        return ("the noise has the forward step's variance β_{t|s} = 1 − ᾱ_t/ᾱ_s; the reference uses the "
                "posterior variance β̃ = σ_s² β_{t|s}/σ_t² of q(x_s | x_t, x_0).")
    if _same_number(c, st.var, std):
        return "the noise is scaled by the posterior variance β̃; its scale is the standard deviation √β̃."
    if _same_number(c, -std, std):
        return "the noise is subtracted: add √β̃ times the `noise` argument."
    return ("the mean is right but the noise term's scale is not: it is the posterior standard deviation √β̃, "
            "β̃ = σ_s² β_{t|s}/σ_t².")


def check_ddpm_step(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x_t, eps_pred, t, s, alpha_bar, noise)`` = μ̃ + √β̃ z: one ancestral step t → s < t.

    μ̃ and β̃ are the mean and variance of the forward process's posterior q(x_s | x_t, x̂_0), with
    x̂_0 = (x_t − σ_t ε_θ)/α_t. Hidden steps: s = t − 1 at small and large t, jumps (500 → 450,
    1000 → 950, 600 → 200), and s = 0, where the step returns x̂_0 and adds no noise; then the
    first step again with new noise. A wrong result is probed: same noise twice (own noise drawn?),
    other noise (the argument ignored?), before the formula's pieces are examined.
    """
    name = "check_ddpm_step"
    _expect_callable(name, fn, "your DDPM step")
    with _seeded():
        g = torch.Generator().manual_seed(_DATA_SEED)
        trials = list(_step_trials(g))
        # The first step once more, with new noise: the result must follow each call's own `noise`.
        trials.append((*trials[0][:-1], trials[0][-1] + ", called again with new noise"))
        for a, t, s, shape, x_t, eps_pred, label in trials:
            z = torch.randn(shape, generator=g)
            case = f"On {label}: "
            given = _copies(x_t, eps_pred, a, z)
            out = _call(name, f"your function on {label}", fn, given[0], given[1], t, s, given[2], given[3])
            _unchanged(name, {"x_t": x_t, "eps_pred": eps_pred, "alpha_bar": a, "noise": z}, given)
            out = _expect_tensor(name, case + "your function", out, shape)
            st = _Step(a, t, s, x_t, eps_pred)
            z64 = z.double()
            expected = ddpm_step(x_t.double(), eps_pred.double(), t, s, NoiseSchedule(a), z64)
            tol = st.tolerance(lambda var_t, var_s, beta: st.ddpm(z64, var_t, var_s, beta))
            if not _within(out, expected, tol):
                def call(noise: torch.Tensor) -> object:
                    return fn(*_copies(x_t, eps_pred), t, s, a.clone(), noise)

                hint = _noise_reused(name, label, out, call, z, "x_s")
                if hint is not None:
                    _fail(name, case + hint)
                c = _explained_by(out, st.mean, z, tol)
                if c is not None:
                    _fail(name, case + _ddpm_noise_hint(c, st, s))
                for mean, hint in _ddpm_mean_mistakes(st, t, s):
                    if _explained_by(out, mean, z, tol) is not None:
                        _fail(name, case + hint)
                if s > 0:  # at s = 0 the right answer does not depend on the noise either
                    hint = _noise_ignored(name, label, out, call, z, g, "x_s", "√β̃")
                    if hint is not None:
                        _fail(name, case + hint)
                _fail(name, case + "x_s differs from μ̃ + √β̃ · noise: check the posterior mean's two coefficients, "
                      "for a jump from t to any s < t.")
            _expect_dtype(name, case, out, x_t, "x_t", _PROMOTED)
    _passed(name, f"{len(_STEP_CASES)} hidden steps (s = t − 1, jumps, and s = 0 returning x̂_0) agree with "
            "the posterior mean plus √β̃ · noise.")


# ---------------------------------------------------------------------------------------------
# One deterministic (DDIM) step
# ---------------------------------------------------------------------------------------------

def _ddim_mistakes(st: _Step, s: int) -> list[tuple[torch.Tensor, str]]:
    mistakes = [
        (st.x0 + st.sg_s * st.eps, "x̂_0 is not rescaled by α_s = √ᾱ_s: x_s puts the predicted clean point back at "
         "step s's signal scale."),
        (st.al_s * st.x0 + st.sg_t * st.eps, "the noise term uses σ_t, the noise scale of the step you come from; "
         "x_s carries step s's noise scale σ_s."),
        (st.ab_s * st.x0 + (1 - st.ab_s) * st.eps, "ᾱ_s and 1 − ᾱ_s are variances; x̂_0 and ε_θ are scaled by their "
         "square roots α_s and σ_s."),
        (st.sg_s * st.x0 + st.al_s * st.eps, "the two coefficients are swapped: x̂_0 is scaled by α_s, ε_θ by σ_s."),
        (st.al_s * st.x0_hat(st.al_t, st.sg_t, sign=-1.0) + st.sg_s * st.eps, "the sign of ε_θ is wrong in x̂_0: the "
         "noise must be removed from x_t, x̂_0 = (x_t − σ_t ε_θ)/α_t."),
        (st.al_s * (st.x_t - st.sg_t * st.eps) + st.sg_s * st.eps, "x̂_0 is not divided by α_t = √ᾱ_t."),
        (st.mean, "that is the mean of DDPM's ancestral step; DDIM keeps the predicted noise ε_θ and moves x̂_0 "
         "and ε_θ to step s's scales."),
        (st.al_s * st.x0.clamp(-1, 1) + st.sg_s * st.eps, _CLIPPED),
    ]
    if s > 0:
        ab_t, ab_s = st.off_by_one
        x0_off = st.x0_hat(math.sqrt(ab_t), math.sqrt(1 - ab_t))
        mistakes.insert(0, (st.x0, "it returned x̂_0: a step to s > 0 must land on step s's noise level, not on the "
                            "clean estimate."))
        mistakes.append((math.sqrt(ab_s) * x0_off + math.sqrt(1 - ab_s) * st.eps, "ᾱ is indexed off by one (at t − 1 "
                         "and s − 1): alpha_bar holds ᾱ_0 = 1 at index 0, so step t's value is at index t."))
    return mistakes


def check_ddim_step(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x_t, eps_pred, t, s, alpha_bar)`` = α_s x̂_0 + σ_s ε_θ, x̂_0 = (x_t − σ_t ε_θ)/α_t.

    Same hidden steps as the DDPM check (s = t − 1, jumps, s = 0). The step must be
    deterministic: two calls agree exactly, and it draws no random numbers.
    """
    name = "check_ddim_step"
    _expect_callable(name, fn, "your DDIM step")
    with _seeded():
        g = torch.Generator().manual_seed(_DATA_SEED)
        for a, t, s, shape, x_t, eps_pred, label in _step_trials(g):
            case = f"On {label}: "
            given = _copies(x_t, eps_pred, a)
            rng = torch.get_rng_state()
            out = _call(name, f"your function on {label}", fn, given[0], given[1], t, s, given[2])
            drew = not torch.equal(rng, torch.get_rng_state())
            _unchanged(name, {"x_t": x_t, "eps_pred": eps_pred, "alpha_bar": a}, given)
            out = _expect_tensor(name, case + "your function", out, shape)
            again = _call(name, f"your function on {label}, a second time", fn, *_copies(x_t, eps_pred), t, s, a.clone())
            if isinstance(again, torch.Tensor) and not torch.equal(again, out):
                _fail(name, case + "two calls with the same inputs gave different x_s: a DDIM step (η = 0) is "
                      "deterministic and adds no noise.")
            if drew:
                _fail(name, case + "your step draws random numbers (the global generator moved); a DDIM step (η = 0) "
                      "is deterministic and needs none.")
            st = _Step(a, t, s, x_t, eps_pred)
            expected = ddim_step(x_t.double(), eps_pred.double(), t, s, NoiseSchedule(a))
            tol = st.tolerance(st.ddim)
            if not _within(out, expected, tol):
                hint = _first(out, _ddim_mistakes(st, s), tol)
                _fail(name, case + (hint or "x_s differs from α_s x̂_0 + σ_s ε_θ."))
            _expect_dtype(name, case, out, x_t, "x_t", _PROMOTED)
    _passed(name, f"{len(_STEP_CASES)} hidden steps (s = t − 1, jumps, and s = 0 returning x̂_0) agree with "
            "α_s x̂_0 + σ_s ε_θ, deterministically.")


# ---------------------------------------------------------------------------------------------
# Classifier-free guidance
# ---------------------------------------------------------------------------------------------

_WEIGHTS = ((2.0, (64, 2)), (0.0, (4, 1, 8, 8)), (7.5, (4, 1, 8, 8)), (0.5, (64, 2)))


def _guidance_mistakes(c: torch.Tensor, u: torch.Tensor, w: float) -> list[tuple[torch.Tensor, str]]:
    return [
        (w * c + (1 - w) * u, "that is w ε_c + (1 − w) ε_u, a parametrisation whose weight is the lecture's 1 + w; "
         "the lecture follows Ho & Salimans, whose convention is that w = 0 gives the conditional prediction ε_c."),
        ((1 + w) * u - w * c, "ε_c and ε_u are swapped: guidance pushes towards the condition, away from the "
         "unconditional prediction."),
        (c + w * (u - c), "the push has the wrong sign: guidance moves from ε_c further along ε_c − ε_u, away "
         "from ε_u."),
        ((1 + w) * c, "the unconditional prediction ε_u is missing."),
        ((1 + w) * c + w * u, "the unconditional prediction must be subtracted, not added."),
        (c - w * u, "the conditional prediction must be weighted by 1 + w."),
        (w * (c - u), "the conditional prediction itself is missing: guidance starts from ε_c and pushes it further "
         "away from ε_u."),
        (((1 + w) * c - w * u) / (1 + w), "the result is divided by 1 + w: guidance extrapolates, it does not "
         "average."),
    ]


def check_guidance(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(eps_cond, eps_uncond, w)`` = (1 + w) ε_c − w ε_u (Ho & Salimans' convention: w = 0 is ε_c).

    Hidden weights w ∈ {2, 0, 7.5, 0.5} on points and images; the inputs must not change.
    """
    name = "check_guidance"
    _expect_callable(name, fn, "your guidance function")
    with _seeded():
        g = torch.Generator().manual_seed(_DATA_SEED)
        for w, shape in _WEIGHTS:
            eps_c = torch.randn(shape, generator=g)
            eps_u = eps_c + 0.5 * torch.randn(shape, generator=g)
            label = f"w = {w}, shape {shape}"
            case = f"With {label}: "
            given = _copies(eps_c, eps_u)
            out = _call(name, f"your function with {label}", fn, given[0], given[1], w)
            _unchanged(name, {"eps_cond": eps_c, "eps_uncond": eps_u}, given)
            out = _expect_tensor(name, case + "your function", out, shape)
            expected = guided_epsilon(eps_c.double(), eps_u.double(), w)
            tol = 1e-6 * (1 + 2 * w) + _RTOL * expected.abs()
            if not _within(out, expected, tol):
                if w == 0 and _within(out, eps_u.double(), tol):
                    hint = "at w = 0 the result must be the conditional prediction ε_c (the lecture's convention)."
                else:
                    hint = _first(out, _guidance_mistakes(eps_c.double(), eps_u.double(), w), tol)
                _fail(name, case + (hint or "the result differs from (1 + w) ε_c − w ε_u."))
            _expect_dtype(name, case, out, eps_c, "eps_cond")
    _passed(name, f"{len(_WEIGHTS)} hidden cases (w ∈ {[w for w, _ in _WEIGHTS]}) agree with (1 + w) ε_c − w ε_u.")
