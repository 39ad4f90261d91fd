"""Self-checks for lecture 06 (normalizing flows): the toy map, the change of variables, the
inverse of an affine coupling, and the MADE masks.

Besides the values, every check probes behaviour the notebook relies on: inputs are left as they
were (an in-place change is named before anything else is judged), the coupling's u and log-det
carry gradients to the layer's network and to x (maximum likelihood trains through both), a
log-det is tested where it varies from point to point (so one evaluated at the wrong point shows),
and repeated calls do not depend on state left over from an earlier call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from course_lib.checks._framework import (
    _changed_in_place, _close, _expect_callable, _expect_tensor, _fail, _passed, _seeded, _student_code,
)
from course_lib.flows import (
    AffineCoupling,
    change_of_variables_log_prob,
    toy_map,
    toy_map_inverse,
    toy_map_log_det_inverse,
)

__all__ = ["check_toy_map", "check_change_of_variables", "check_coupling_inverse", "check_made_masks"]

_SIGMAS = (1.0, 0.5, 2.5)  # σ ≠ 1 is what makes a wrong sign or a forgotten σ visible
# The hidden data come from their own generator, seeded apart from the global generator that
# ``_seeded`` seeds (and that a student's own torch.randn would draw from): no verdict can then
# hang on the data and a student's random numbers being the same stream.
_DATA_SEED = 6


def _expect_points(name: str, what: str, value: object, shape: tuple[int, ...],
                   hint: str = " (one value per point: sum over the coordinates, not over the batch)") -> torch.Tensor:
    """A tensor of ``shape``; per-point results (n,) get ``hint`` (about the reduction, by default)."""
    if isinstance(value, tuple) and len(shape) == 2:
        _fail(name, f"{what} returned a tuple, expected one tensor of shape {shape} (the points as rows: stack the "
              "coordinates with torch.stack(…, dim=1)).")
    return _expect_tensor(name, what, value, shape, hint if len(shape) == 1 else "")


def _unchanged(name: str, who: str, originals: dict[str, torch.Tensor], given: Sequence[torch.Tensor]) -> None:
    """Fail, naming the argument, when ``who`` changed a tensor it was given (checked before its result)."""
    arg = _changed_in_place(list(given), list(originals.values()), list(originals))
    if arg is not None:
        _fail(name, f"{who} changed its input {arg} in place (an assignment into {arg}[…], `{arg} *= …` or a "
              f"method such as .mul_() / .add_()): the caller still needs {arg}. Compute the result as a new "
              f"tensor (torch.stack, or work on {arg}.clone()) and leave {arg} as it was.")


def _call(name: str, call: str, fn: Callable, *args: object) -> object:
    with _student_code(name, call):
        return fn(*args)


# ---------------------------------------------------------------------------------------------
# The toy map: forward, inverse, log |det J(f⁻¹)|
# ---------------------------------------------------------------------------------------------

def _inverse_hint(u_student: torch.Tensor, x: torch.Tensor, sigma: float) -> str:
    """Which coordinate of f⁻¹(x) is wrong, and how (u_student is known to differ from f⁻¹(x))."""
    u = toy_map_inverse(x, sigma)
    head = "inverse(forward(u)) does not give u back: "
    if not _close(u_student[:, 0], u[:, 0], atol=1e-4):
        if sigma != 1 and _close(u_student[:, 0], x[:, 0], atol=1e-4):
            return head + ("its first coordinate is x₁ itself, as if σ were 1: use the sigma argument, and undo "
                           "the stretch (division by σ).")
        if sigma != 1 and _close(u_student[:, 0], x[:, 0] * sigma, atol=1e-4):
            return head + "its first coordinate multiplies x₁ by σ: f stretched u₁ by σ, so the inverse needs a division by σ."
        return head + "its first coordinate must undo the stretch u₁ → σu₁ (a division by σ)."
    if sigma != 1 and _close(u_student[:, 1], x[:, 1] + (x[:, 0] / sigma) ** 2 + 1, atol=1e-4):
        return head + ("its second coordinate adds back (x₁/σ)² = u₁², but f subtracted x₁² = (σu₁)²: the inverse "
                       "adds x₁² back.")
    return head + ("its second coordinate must undo x₂ = u₂ − x₁² − 1, the last step of f first: add x₁² and 1 back "
                   "(check the signs).")


def _log_det_hint(log_det: torch.Tensor, expected: torch.Tensor, x: torch.Tensor, sigma: float) -> str:
    if sigma != 1 and _close(log_det, -expected, atol=1e-5):
        return ("the log-det has the wrong sign: that is log |det J| of the forward map f; the density needs the "
                "Jacobian of the inverse f⁻¹, whose determinant is 1 / det J_f.")
    if _close(log_det, torch.zeros_like(expected), atol=1e-6):
        return "the log-det is 0, which is right only for σ = 1: the first coordinate's scaling changes volume."
    if _close(log_det, expected.exp(), atol=1e-5):
        return "it returned |det J| itself, not its logarithm."
    off_diagonal = (2 * x[:, 0]).abs().log()
    if _close(log_det, expected + off_diagonal, atol=1e-4) or _close(log_det, -expected + off_diagonal, atol=1e-4):
        return ("the log-det depends on x₁ through the off-diagonal entry 2x₁ of J(f⁻¹): J(f⁻¹) is triangular, so its "
                "determinant is the product of the diagonal alone.")
    return ("log |det J(f⁻¹(x))| is wrong: write down J(f⁻¹), note it is triangular, and take the log of the "
            "absolute product of its diagonal.")


def check_toy_map(forward: Callable, inverse: Callable, log_det_inverse: Callable) -> None:
    """Check x = f(u; σ) = (σu₁, u₂ − x₁² − 1), its inverse, and log |det J(f⁻¹(x))| for several σ.

    Invertibility is tested both ways (f⁻¹(f(u)) = u and f(f⁻¹(x)) = x), and the log-det at
    σ ≠ 1, where its sign matters. None of the three may change the tensor it is given.
    """
    name = "check_toy_map"
    for fn, what in ((forward, "your forward map"), (inverse, "your inverse"), (log_det_inverse, "your log-det")):
        _expect_callable(name, fn, what)
    n = 63
    with _seeded():
        g = torch.Generator().manual_seed(_DATA_SEED)
        for sigma in _SIGMAS:
            u = torch.randn(n, 2, generator=g)
            x = toy_map(u, sigma)
            case = f"With σ = {sigma}: "
            given = u.clone()
            out = _call(name, f"forward(u, sigma={sigma})", forward, given, sigma)
            _unchanged(name, case + "your forward map", {"u": u}, (given,))
            x_student = _expect_points(name, case + "forward", out, (n, 2))
            if not _close(x_student[:, 0], x[:, 0], atol=1e-5):
                _fail(name, case + "the first coordinate of f(u) is wrong: it is u₁ stretched by σ.")
            if not _close(x_student[:, 1], x[:, 1], atol=1e-4):
                if _close(x_student[:, 1], u[:, 1] - u[:, 0] ** 2 - 1, atol=1e-4):
                    _fail(name, case + "the second coordinate subtracts u₁², but the map subtracts x₁² (= (σu₁)²).")
                _fail(name, case + "the second coordinate of f(u) is wrong: u₂ minus the square of x₁, minus 1.")

            given = x.clone()
            out = _call(name, f"inverse(x, sigma={sigma})", inverse, given, sigma)
            _unchanged(name, case + "your inverse", {"x": x}, (given,))
            u_student = _expect_points(name, case + "inverse", out, (n, 2))
            if not _close(u_student, u, atol=1e-4):
                _fail(name, case + _inverse_hint(u_student.detach(), x, sigma))

            x_any = torch.randn(n, 2, generator=g) * 2
            given = x_any.clone()
            u_any = _call(name, f"inverse(x, sigma={sigma})", inverse, given, sigma)
            _unchanged(name, case + "your inverse", {"x": x_any}, (given,))
            round_trip = _call(name, f"forward(inverse(x), sigma={sigma})", forward, u_any, sigma)
            if not (isinstance(round_trip, torch.Tensor) and _close(round_trip, x_any, atol=1e-4)):
                _fail(name, case + "forward(inverse(x)) does not give x back for points off the samples (each call "
                      "must compute from its own input, not from an earlier call).")

            given = x.clone()
            out = _call(name, f"log_det_inverse(x, sigma={sigma})", log_det_inverse, given, sigma)
            _unchanged(name, case + "your log-det", {"x": x}, (given,))
            log_det = _expect_points(name, case + "log_det_inverse", out, (n,),
                                     " (one value per point: as many values as x has rows, x.shape[0])")
            expected = toy_map_log_det_inverse(x, sigma)
            if not _close(log_det, expected, atol=1e-5):
                _fail(name, case + _log_det_hint(log_det.detach(), expected, x, sigma))
    _passed(name, f"f, f⁻¹ and log |det J(f⁻¹)| agree with the reference for σ ∈ {list(_SIGMAS)}, "
            "and the map inverts both ways.")


# ---------------------------------------------------------------------------------------------
# The change of variables
# ---------------------------------------------------------------------------------------------

def _linear_map(g: torch.Generator, dim: int):
    """x = A u + b with a random invertible lower-triangular A: its inverse and log |det J(f⁻¹)|."""
    diag = torch.exp(torch.randn(dim, generator=g) * 0.5)
    a = torch.tril(torch.randn(dim, dim, generator=g), -1) + torch.diag(diag)
    b = torch.randn(dim, generator=g)

    def inverse(x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve_triangular(a, (x - b).T, upper=False).T

    def log_det_inverse(x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0],), -diag.log().sum().item())

    return inverse, log_det_inverse


def _sinh_map(g: torch.Generator, dim: int):
    """u = f⁻¹(x) = sinh(a ⊙ x + b) elementwise, with trainable a > 0 and b: log |det J(f⁻¹(x))| =
    Σᵢ log(aᵢ cosh(aᵢxᵢ + bᵢ)) changes from point to point, so a log-det taken at the wrong point shows."""
    a = (0.4 + 0.4 * torch.rand(dim, generator=g)).requires_grad_()
    b = (0.3 * torch.randn(dim, generator=g)).requires_grad_()

    def inverse(x: torch.Tensor) -> torch.Tensor:
        return torch.sinh(a * x + b)

    def log_det_inverse(x: torch.Tensor) -> torch.Tensor:
        return (a.log() + torch.cosh(a * x + b).log()).sum(dim=1)

    return inverse, log_det_inverse, (a, b)


def _gauss(u: torch.Tensor) -> torch.Tensor:
    return -0.5 * u.pow(2).sum(1) - 0.5 * u.shape[1] * math.log(2 * math.pi)


def _cov_hint(value: torch.Tensor, x: torch.Tensor, inverse: Callable, log_det_inverse: Callable) -> str:
    with torch.no_grad():
        n, dim = x.shape
        u, log_det = inverse(x), log_det_inverse(x)
        base = _gauss(u)
        expected = base + log_det
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        known = [
            (base, "the log |det J(f⁻¹(x))| term is missing."),
            (base - log_det, "the log-det enters with the wrong sign: the density is π_u(f⁻¹(x)) times |det J(f⁻¹(x))|."),
            (_gauss(x) + log_det, "π_u is evaluated at x; it must be evaluated at u = f⁻¹(x)."),
            (base + log_det_inverse(u), "the log-det is evaluated at u = f⁻¹(x); log_det_inverse takes x, the same "
             "point that inverse takes (its Jacobian is that of f⁻¹ at x)."),
            (base + log_det.sum(), "the log-det is summed over the batch: each point has its own "
             "log |det J(f⁻¹(x))|, added to its own log π_u(f⁻¹(x))."),
            (expected + dim * half_log_2pi, "the normalising constant −(D/2) log 2π of π_u is missing."),
            (expected + 2 * dim * half_log_2pi, "the normalising constant has the wrong sign: log π_u(u) = −½‖u‖² "
             "− (D/2) log 2π subtracts it."),
            (expected + (dim - 1) * half_log_2pi, "the normalising constant must count every dimension: −(D/2) log 2π, "
             "with D the number of coordinates."),
            (expected + (dim - n) * half_log_2pi, "the normalising constant counts the points: D is the number of "
             "coordinates, x.shape[1], not the batch size x.shape[0]."),
            (-0.5 * u.pow(2).sum() - dim * half_log_2pi + log_det, "‖u‖² is summed over the whole batch: sum over "
             "each point's coordinates only (dim=1), one value per point."),
            (-0.5 * u.pow(2).mean(1) - dim * half_log_2pi + log_det, "‖u‖² is averaged over the coordinates: it is "
             "their sum."),
            (-0.5 * u.norm(dim=1) - dim * half_log_2pi + log_det, "the exponent uses ‖u‖, not its square ‖u‖²."),
            (expected.exp(), "it returns the density, not its logarithm."),
        ]
        for wrong, hint in known:
            if _close(value, wrong, atol=1e-4):
                return hint
    return ("the log-density differs from log π_u(f⁻¹(x)) + log |det J(f⁻¹(x))| with π_u = N(0, I) "
            "(check the ½ in the Gaussian's exponent).")


def _cov_gradient_hint(fn: Callable, name: str, label: str, x: torch.Tensor, inverse: Callable,
                       log_det_inverse: Callable, params: tuple[torch.Tensor, ...], g: torch.Generator) -> str | None:
    """None when the gradient of the student's log-density reaches the map's parameters as the reference's does."""
    weights = torch.randn(len(x), generator=g)
    value = _call(name, f"your function on {label}", fn, x.clone(), inverse, log_det_inverse)
    if not isinstance(value, torch.Tensor) or value.grad_fn is None:
        return ("the values are right, but the result is cut off from the autograd graph (computed under "
                "torch.no_grad(), with .detach() / .item() / numpy, or rebuilt with torch.tensor): maximum likelihood "
                "trains a flow through this value, so no gradient would reach its parameters.")
    got = torch.autograd.grad((weights * value).sum(), params, allow_unused=True)
    got = [torch.zeros_like(p) if d is None else d for p, d in zip(params, got)]
    base, log_det = _gauss(inverse(x)), log_det_inverse(x)
    want = torch.autograd.grad((weights * (base + log_det)).sum(), params, retain_graph=True)
    # float32 round-off of a few dozen operations on values up to ~10³ (sinh): 10⁻³ relative covers it with margin,
    # a missing or doubled term changes the gradient by O(1) relative.
    if all(_close(d, w, rtol=1e-3, atol=1e-3) for d, w in zip(got, want)):
        return None
    only_log_det = torch.autograd.grad((weights * log_det).sum(), params, retain_graph=True)
    only_base = torch.autograd.grad((weights * base).sum(), params)
    if all(_close(d, w, rtol=1e-3, atol=1e-3) for d, w in zip(got, only_log_det)):
        return ("the values are right, but no gradient flows through log π_u(f⁻¹(x)): u = f⁻¹(x) was detached "
                "(.detach(), .data, numpy, or no_grad), so maximum likelihood could not train the map through it.")
    if all(_close(d, w, rtol=1e-3, atol=1e-3) for d, w in zip(got, only_base)):
        return ("the values are right, but no gradient flows through the log-det term (it was detached, or "
                "made from Python numbers): maximum likelihood trains a flow's scales through it.")
    return ("the values are right, but their gradient with respect to the map's parameters is not: build the "
            "result from inverse(x) and log_det_inverse(x) with differentiable operations only.")


def check_change_of_variables(fn: Callable) -> None:
    """Check ``fn(x, inverse, log_det_inverse)`` = log π_u(f⁻¹(x)) + log |det J(f⁻¹(x))|, π_u = N(0, I).

    Hidden cases: the toy map at σ = 2 (2-D) and random affine maps in 2 and 5 dimensions, then an
    elementwise non-linear map in 3-D whose log-det varies with x (a log-det evaluated at the wrong
    point shows there) and whose parameters must receive the result's gradient. x must not change.
    """
    name = "check_change_of_variables"
    _expect_callable(name, fn, "your log-density function")
    with _seeded():
        g = torch.Generator().manual_seed(_DATA_SEED)
        cases = [("the toy map with σ = 2", 2, lambda x: toy_map_inverse(x, 2.0), lambda x: toy_map_log_det_inverse(x, 2.0))]
        cases += [(f"a random affine map in {d} dimensions", d, *_linear_map(g, d)) for d in (2, 5)]
        sinh_inverse, sinh_log_det, sinh_params = _sinh_map(g, 3)
        probes = cases + [("a non-linear map in 3 dimensions (its log-det varies with x)", 3, sinh_inverse, sinh_log_det)]
        for label, dim, inverse, log_det_inverse in probes:  # the non-linear map last: its x is kept for the gradients
            n = 31
            x = torch.randn(n, dim, generator=g) * 1.5
            with torch.no_grad():
                expected = change_of_variables_log_prob(x, inverse, log_det_inverse)
            given = x.clone()
            out = _call(name, f"your function on {label}", fn, given, inverse, log_det_inverse)
            _unchanged(name, f"On {label}, your function", {"x": x}, (given,))
            value = _expect_points(name, f"On {label}, your function", out, (n,))
            if not _close(value.detach(), expected, atol=1e-4):
                _fail(name, f"On {label}: " + _cov_hint(value.detach(), x, inverse, log_det_inverse))
        hint = _cov_gradient_hint(fn, name, probes[-1][0], x, sinh_inverse, sinh_log_det, sinh_params, g)
        if hint is not None:
            _fail(name, f"On {probes[-1][0]}: " + hint)
    _passed(name, f"{len(cases)} hidden maps (toy map, affine in 2-D and 5-D) agree with the reference.")


# ---------------------------------------------------------------------------------------------
# The inverse of an affine coupling layer
# ---------------------------------------------------------------------------------------------

def _random_coupling(mask: Sequence[float]) -> AffineCoupling:
    """A coupling whose s and t vary strongly with the kept coordinates (the library starts a layer as
    the identity; this one has real, input-dependent work to undo, so its log-det differs from point to point)."""
    layer = AffineCoupling(mask, hidden=16)
    with torch.no_grad():
        for linear in layer.net:
            if isinstance(linear, nn.Linear):
                linear.weight.normal_(0, 1.5 / math.sqrt(linear.in_features))
                linear.bias.normal_(0, 0.5)
        last = layer.net[-1]
        last.weight.normal_(0, 0.6)
        last.bias.normal_(0, 0.3)
    return layer


def _pair(name: str, case: str, out: object, n: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(u, log_det) from the student's return value, whose container the flow unpacks as ``u, ld = …``."""
    if isinstance(out, dict):
        _fail(name, case + f"it returned a dict (keys {list(out)}); the flow unpacks `u, log_det = layer.inverse(x)`, "
              "so return the pair (u, log_det) as a tuple.")
    if isinstance(out, torch.Tensor):
        _fail(name, case + f"it returned one tensor of shape {tuple(out.shape)}; return the pair (u, log_det).")
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        got = f"a {type(out).__name__}" + (f" of {len(out)} items" if isinstance(out, (tuple, list)) else "")
        _fail(name, case + f"it returned {got}; return a pair (u, log_det).")
    u = _expect_points(name, case + "u", out[0], (n, dim))
    log_det = _expect_points(name, case + "log_det", out[1], (n,))
    return u, log_det


def _coupling_value_hint(layer: AffineCoupling, x: torch.Tensor, u: torch.Tensor) -> str:
    with torch.no_grad():
        s, t = layer.scale_and_shift(x * layer.mask)
        s_all, t_all = layer.scale_and_shift(x)
        known = [
            ((x - t) * torch.exp(s), "the scale is applied the wrong way: the forward multiplies by exp(s), "
             "so the inverse must divide by it."),
            (x * torch.exp(-s) - t, "the order of the steps is wrong: the forward scales then shifts, so the "
             "inverse must remove the shift first, then the scale."),
            ((x + t) * torch.exp(-s), "the shift is added: the forward adds t, so the inverse subtracts it."),
            ((x - t_all) * torch.exp(-s_all), "s and t were computed from all of x: the network may only see the kept "
             "coordinates (x ⊙ mask), or the layer is not invertible."),
            (layer(x)[0], "that is the forward direction f(x); the inverse undoes it."),
        ]
        for wrong, hint in known:
            if _close(u, wrong, atol=1e-4):
                return hint
    return "u differs from the reference, and layer(u) does not give x back."


def _coupling_log_det_hint(layer: AffineCoupling, x: torch.Tensor, log_det: torch.Tensor, ref: torch.Tensor) -> str:
    with torch.no_grad():
        dim = x.shape[1]
        s_other = layer.scale_and_shift(x * (1 - layer.mask))[0]
        s_all = layer.scale_and_shift(x)[0]
        known = [
            (-ref, "the log-det has the wrong sign: the inverse divides by exp(s), so its log-det is −Σ s over the "
             "transformed coordinates."),
            (ref / dim, "the log-scales are averaged over the coordinates; the log-det is their sum."),
            (ref.exp(), "it returned |det ∂u/∂x| itself, not its logarithm."),
            (-s_other.sum(1), "the log-det's s is computed from the transformed half x ⊙ (1 − mask): s comes from the "
             "kept coordinates x ⊙ mask, the same s that gives u."),
            (-s_all.sum(1), "the log-det's s is computed from all of x: s comes from the kept coordinates x ⊙ mask, "
             "the same s that gives u."),
        ]
        for wrong, hint in known:
            if _close(log_det, wrong, atol=1e-4):
                return hint
    return ("log_det is wrong: it is the sum, over the transformed coordinates, of the log-scales of the inverse, "
            "evaluated with the same s as u.")


def _grads(value: torch.Tensor, weights: torch.Tensor, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    got = torch.autograd.grad((weights * value).sum(), inputs, allow_unused=True, retain_graph=True)
    return [torch.zeros_like(i) if d is None else d for i, d in zip(inputs, got)]


def _same_grads(got: list[torch.Tensor], want: list[torch.Tensor]) -> bool:
    # Float32 round-off: the student's formula may order its few dozen operations differently from the reference
    # (e.g. ÷ exp(s) for × exp(−s)), which moves a gradient by ~10⁻⁶ relative; 10⁻³ of the largest entry is far
    # above that and far below what a detached term or a wrong input changes (O(1)).
    return all(_close(d, w, rtol=1e-3, atol=1e-3 * (float(w.abs().max()) + 1e-3)) for d, w in zip(got, want))


def _coupling_gradient_hint(layer: AffineCoupling, x: torch.Tensor, x_leaf: torch.Tensor, u: torch.Tensor,
                            log_det: torch.Tensor, g: torch.Generator) -> str | None:
    """None when u and log_det carry the reference's gradients to the network's parameters and to x."""
    params = list(layer.parameters())
    x_ref = x.clone().requires_grad_()
    u_ref, ld_ref = layer.inverse(x_ref)
    w_u, w_ld = torch.randn(u.shape, generator=g), torch.randn(log_det.shape, generator=g)
    for what, value, ref, w in (("u", u, u_ref, w_u), ("log_det", log_det, ld_ref, w_ld)):
        if value.grad_fn is None:
            why = ("the log-det's gradient is what trains the scales s; with it detached, a flow trains to a much worse "
                   "fit" if what == "log_det" else "maximum likelihood trains the layer through it")
            return (f"the values are right, but {what} is cut off from the autograd graph (.detach(), .data, "
                    f"torch.no_grad() or a tensor rebuilt from numbers): {why}.")
        got_p, want_p = _grads(value, w, params), _grads(ref, w, params)
        if not _same_grads(got_p, want_p):
            if all(not d.any() for d in got_p):
                return (f"the values are right, but no gradient reaches the layer's network through {what}: s and t "
                        "were detached (or computed under torch.no_grad()); maximum likelihood trains s and t through "
                        f"{what}.")
            return (f"the values are right, but the gradient of {what} with respect to the layer's parameters differs "
                    "from the reference: compute s and t once, from x ⊙ mask, with differentiable operations.")
        (got_x,), (want_x,) = _grads(value, w, [x_leaf]), _grads(ref, w, [x_ref])
        if not _same_grads([got_x], [want_x]):
            return (f"the values are right, but the gradient of {what} with respect to x is wrong: x (or x ⊙ mask) was "
                    "detached on its way into the network. In a flow, x is the previous layer's output, so its "
                    "gradient must pass through s and t as well.")
    return None


def check_coupling_inverse(fn: Callable) -> None:
    """Check ``fn(layer, x) -> (u, log_det)`` against ``AffineCoupling.inverse`` on random layers.

    It must use ``layer.mask`` and ``layer.scale_and_shift``; the check verifies the values (on
    layers whose scale varies with x), that the kept coordinates pass unchanged, that x and the
    layer are left as they were, that a second call on new points is right too (nothing cached),
    and that u and log_det carry gradients to the layer's parameters and to x.
    """
    name = "check_coupling_inverse"
    _expect_callable(name, fn, "your inverse function")
    masks = ([1.0, 0.0], [0.0, 1.0], [1.0, 0.0, 1.0, 0.0, 0.0])
    with _seeded():
        g = torch.Generator().manual_seed(_DATA_SEED)
        for mask in masks:
            layer = _random_coupling(mask)
            state = {k: v.clone() for k, v in layer.state_dict().items()}
            n, dim = 31, len(mask)
            case = f"With mask {mask}: "
            for call in range(2):  # the second call, on new points, needs gradients
                x = torch.randn(n, dim, generator=g) * 2
                given = x.clone().requires_grad_(call == 1)
                out = _call(name, f"your function with mask {mask}", fn, layer, given)
                _unchanged(name, case + "your function", {"x": x}, (given,))
                if any(not torch.equal(v, layer.state_dict()[k]) for k, v in state.items()):
                    _fail(name, case + "your function changed the layer (its mask or its network's weights): the "
                          "inverse only reads them.")
                u, log_det = _pair(name, case, out, n, dim)
                with torch.no_grad():
                    u_ref, ld_ref = layer.inverse(x)
                kept = layer.mask.bool()
                if not _close(u.detach()[:, kept], x[:, kept], atol=1e-5):
                    _fail(name, case + "the kept coordinates (mask = 1) changed: a coupling passes them through untouched "
                          "(layer.scale_and_shift returns s and t already 0 there; the raw output of layer.net is not).")
                u_right, ld_right = _close(u.detach(), u_ref, atol=1e-4), _close(log_det.detach(), ld_ref, atol=1e-4)
                if call == 1 and not (u_right and ld_right):
                    _fail(name, case + "the first call was right, but a second call on the same layer with new points "
                          f"gave a wrong {'u' if not u_right else 'log_det'}: compute s and t from each call's own x "
                          "(nothing kept from an earlier call).")
                if not u_right:
                    _fail(name, case + _coupling_value_hint(layer, x, u.detach()))
                if not ld_right:
                    _fail(name, case + _coupling_log_det_hint(layer, x, log_det.detach(), ld_ref))
                if call == 1:
                    hint = _coupling_gradient_hint(layer, x, given, u, log_det, g)
                    if hint is not None:
                        _fail(name, case + hint)
    _passed(name, f"u and log |det ∂u/∂x| agree with the reference for masks {[list(m) for m in masks]}.")


# ---------------------------------------------------------------------------------------------
# MADE masks
# ---------------------------------------------------------------------------------------------

# Hidden sizes that are not all multiples of D − 1, so a degree rule that only works for those shows.
_MADE_CASES = ((2, [4]), (3, [8, 7]), (4, [3]), (5, [16, 13, 16]))


def _masked_net_jacobian(masks: list[torch.Tensor], g: torch.Generator, points: int = 6) -> torch.Tensor:
    """|∂ output / ∂ input| summed over random points of a tanh MLP whose weights are masked (D, D)."""
    weights = [torch.randn(m.shape, generator=g) * m for m in masks]
    biases = [torch.randn(m.shape[0], generator=g) * 0.1 for m in masks]

    def net(x: torch.Tensor) -> torch.Tensor:
        for i, (w, b) in enumerate(zip(weights, biases)):
            x = nn.functional.linear(x, w, b)
            if i < len(weights) - 1:
                x = torch.tanh(x)
        return x

    dim = masks[0].shape[1]
    x = torch.randn(points, dim, generator=g)
    return sum(torch.autograd.functional.jacobian(net, row).abs() for row in x)


def _check_mask_list(name: str, case: str, masks: object, dim: int, hidden: list[int]) -> list[torch.Tensor]:
    if not isinstance(masks, (list, tuple)) or len(masks) != len(hidden) + 1:
        got = f"{len(masks)} masks" if isinstance(masks, (list, tuple)) else f"a {type(masks).__name__}"
        _fail(name, case + f"expected a list of {len(hidden) + 1} masks (one per linear layer, output included), "
              f"got {got}.")
    sizes = [dim, *hidden, dim]
    for i, mask in enumerate(masks):
        shape = (sizes[i + 1], sizes[i])
        if not isinstance(mask, torch.Tensor):
            _fail(name, case + f"mask {i} has type {type(mask).__name__}, expected a torch tensor of shape {shape} "
                  "(the next cell calls .int() on each mask).")
        got = tuple(mask.shape)
        if got != shape:
            flipped = " (transposed? masks are shaped like nn.Linear weights: (out, in))" if got == shape[::-1] else ""
            _fail(name, case + f"mask {i} has shape {got}, expected {shape}{flipped}.")
        if mask.is_complex() or not ((mask == 0) | (mask == 1)).all():
            _fail(name, case + f"mask {i} has entries other than 0 and 1.")
    return list(masks)


def check_made_masks(fn: Callable[[int, list[int]], list[torch.Tensor]]) -> None:
    """Check ``fn(dim, hidden_sizes)``: masks (out, in) that make output d depend on exactly x_{1:d−1}.

    A random MLP with the student's masks must have a strictly lower-triangular Jacobian (the
    autoregressive property) with every entry below the diagonal non-zero (full connectivity).
    The list ``hidden_sizes`` must not be changed, and a second call must give the same masks.
    """
    name = "check_made_masks"
    _expect_callable(name, fn, "your mask function")
    with _seeded() as g:
        for dim, hidden in _MADE_CASES:
            case = f"For dim = {dim}, hidden_sizes = {hidden}: "
            given = list(hidden)
            masks = _call(name, f"your function with dim={dim}, hidden_sizes={hidden}", fn, dim, given)
            if given != hidden:
                _fail(name, case + f"your function changed the list hidden_sizes it was given (to {given}), e.g. with "
                      ".insert() or .append(): the caller's list must stay as it was; build a new list of sizes.")
            masks = _check_mask_list(name, case, masks, dim, hidden)
            masks = [m.detach().clone() for m in masks]
            again = _call(name, f"your function with dim={dim}, hidden_sizes={hidden}, a second time", fn, dim, list(hidden))
            if not (isinstance(again, (list, tuple)) and len(again) == len(masks)
                    and all(isinstance(b, torch.Tensor) and b.shape == a.shape and torch.equal(a.float(), b.float())
                            for a, b in zip(masks, again))):
                _fail(name, case + "a second call with the same arguments gave different masks: build them from dim and "
                      "hidden_sizes alone (no random degrees, nothing kept from an earlier call).")
            jac = _masked_net_jacobian([m.float() for m in masks], g)
            upper = torch.triu(jac)
            if (upper > 0).any():
                if (torch.triu(jac, 1) == 0).all():
                    _fail(name, case + "output d depends on x_d itself (the Jacobian's diagonal is not zero): the "
                          "output layer must only connect to hidden units of degree strictly below d.")
                _fail(name, case + "some output depends on a later input: the autoregressive order is broken "
                      "(a hidden unit must only see inputs and units whose degree is at most its own).")
            missing = torch.tril(torch.ones(dim, dim), -1).bool() & (jac == 0)
            if missing.any():
                d, j = [int(i) + 1 for i in missing.nonzero()[0]]
                _fail(name, case + f"output {d} does not depend on x_{j} although {j} < {d}: a connection is "
                      "missing (hidden units may see units of *equal* degree, and every degree 1…D−1 needs a unit).")
    _passed(name, f"{len(_MADE_CASES)} networks have a strictly lower-triangular Jacobian with every "
            "allowed dependency present.")
