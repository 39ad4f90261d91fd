"""Self-checks for lecture 06 (normalizing flows): the toy map, the change of variables, the
inverse of an affine coupling, and the MADE masks."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from course_lib.checks._framework import (
    _close, _expect_callable, _expect_tensor, _fail, _passed, _seeded, _student_code,
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


def _expect_points(name: str, what: str, value: object, shape: tuple[int, ...]) -> torch.Tensor:
    """A tensor of ``shape``; per-point results (n,) get a hint about the reduction."""
    hint = " (one value per point: sum over the coordinates, not over the batch)" if len(shape) == 1 else ""
    return _expect_tensor(name, what, value, shape, hint)


# ---------------------------------------------------------------------------------------------
# The toy map: forward, inverse, log |det J(f⁻¹)|
# ---------------------------------------------------------------------------------------------

def check_toy_map(forward: Callable, inverse: Callable, log_det_inverse: Callable) -> None:
    """Check x = f(u; σ) = (σu₁, u₂ − x₁² − 1), its inverse, and log |det J(f⁻¹(x))| for several σ.

    Invertibility is tested both ways (f⁻¹(f(u)) = u and f(f⁻¹(x)) = x), and the log-det at
    σ ≠ 1, where its sign matters.
    """
    name = "check_toy_map"
    for fn, what in ((forward, "your forward map"), (inverse, "your inverse"), (log_det_inverse, "your log-det")):
        _expect_callable(name, fn, what)
    n = 64
    with _seeded() as g:
        for sigma in _SIGMAS:
            u = torch.randn(n, 2, generator=g)
            x = toy_map(u, sigma)
            case = f"With σ = {sigma}: "
            with _student_code(name, f"forward(u, sigma={sigma})"):
                x_student = _expect_points(name, case + "forward", forward(u, sigma), (n, 2))
            if not _close(x_student[:, 0], x[:, 0], atol=1e-5):
                _fail(name, case + "the first coordinate of f(u) is wrong: it is u₁ stretched by σ.")
            if not _close(x_student[:, 1], x[:, 1], atol=1e-4):
                if _close(x_student[:, 1], u[:, 1] - u[:, 0] ** 2 - 1, atol=1e-4):
                    _fail(name, case + "the second coordinate subtracts u₁², but the map subtracts x₁² (= (σu₁)²).")
                _fail(name, case + "the second coordinate of f(u) is wrong: u₂ minus the square of x₁, minus 1.")
            with _student_code(name, f"inverse(x, sigma={sigma})"):
                u_student = _expect_points(name, case + "inverse", inverse(x, sigma), (n, 2))
            if not _close(u_student, u, atol=1e-4):
                _fail(name, case + "inverse(forward(u)) does not give u back: the inverse must undo each step of f, "
                      "last step first (check the signs and the division by σ).")
            x_any = torch.randn(n, 2, generator=g) * 2
            with _student_code(name, f"forward(inverse(x), sigma={sigma})"):
                round_trip = forward(inverse(x_any, sigma), sigma)
            if not _close(round_trip, x_any, atol=1e-4):
                _fail(name, case + "forward(inverse(x)) does not give x back for points off the samples.")
            with _student_code(name, f"log_det_inverse(x, sigma={sigma})"):
                log_det = _expect_points(name, case + "log_det_inverse", log_det_inverse(x, sigma), (n,))
            expected = toy_map_log_det_inverse(x, sigma)
            if not _close(log_det, expected, atol=1e-5):
                if sigma != 1 and _close(log_det, -expected, atol=1e-5):
                    _fail(name, case + "the log-det has the wrong sign: that is log |det J| of the forward map f; "
                          "the density needs the Jacobian of the inverse f⁻¹, whose determinant is 1 / det J_f.")
                if _close(log_det, torch.zeros(n), atol=1e-6):
                    _fail(name, case + "the log-det is 0, which is right only for σ = 1: the first coordinate's "
                          "scaling changes volume.")
                if _close(log_det, expected.exp(), atol=1e-5):
                    _fail(name, case + "it returned |det J| itself, not its logarithm.")
                _fail(name, case + "log |det J(f⁻¹(x))| is wrong: write down J(f⁻¹), note it is triangular, and "
                      "take the log of the absolute product of its diagonal.")
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


def check_change_of_variables(fn: Callable) -> None:
    """Check ``fn(x, inverse, log_det_inverse)`` = log π_u(f⁻¹(x)) + log |det J(f⁻¹(x))|, π_u = N(0, I).

    Hidden cases: the toy map at σ = 2 (2-D) and random affine maps in 2 and 5 dimensions.
    """
    name = "check_change_of_variables"
    _expect_callable(name, fn, "your log-density function")
    with _seeded() as g:
        cases = [("the toy map with σ = 2", 2, lambda x: toy_map_inverse(x, 2.0), lambda x: toy_map_log_det_inverse(x, 2.0))]
        cases += [(f"a random affine map in {d} dimensions", d, *_linear_map(g, d)) for d in (2, 5)]
        for label, dim, inverse, log_det_inverse in cases:
            n = 32
            x = torch.randn(n, dim, generator=g) * 1.5
            expected = change_of_variables_log_prob(x, inverse, log_det_inverse)
            with _student_code(name, f"your function on {label}"):
                value = _expect_points(name, f"On {label}, your function", fn(x, inverse, log_det_inverse), (n,))
            if _close(value, expected, atol=1e-4):
                continue
            u, log_det = inverse(x), log_det_inverse(x)
            base = -0.5 * u.pow(2).sum(1) - 0.5 * dim * math.log(2 * math.pi)
            known = [
                (base, "the log |det J(f⁻¹(x))| term is missing."),
                (base - log_det, "the log-det enters with the wrong sign: the density is π_u(f⁻¹(x)) times |det J(f⁻¹(x))|."),
                (-0.5 * x.pow(2).sum(1) - 0.5 * dim * math.log(2 * math.pi) + log_det,
                 "π_u is evaluated at x; it must be evaluated at u = f⁻¹(x)."),
                (expected + 0.5 * dim * math.log(2 * math.pi), "the normalising constant −(D/2) log 2π of π_u is missing."),
                (expected + 0.5 * (dim - 1) * math.log(2 * math.pi), "the normalising constant must count every "
                 "dimension: −(D/2) log 2π, with D the number of coordinates."),
                (expected.exp(), "it returns the density, not its logarithm."),
            ]
            for wrong, hint in known:
                if _close(value, wrong, atol=1e-4):
                    _fail(name, f"On {label}: " + hint)
            _fail(name, f"On {label}: the log-density differs from log π_u(f⁻¹(x)) + log |det J(f⁻¹(x))| "
                  "with π_u = N(0, I) (check the ½ in the Gaussian's exponent).")
    _passed(name, f"{len(cases)} hidden maps (toy map, affine in 2-D and 5-D) agree with the reference.")


# ---------------------------------------------------------------------------------------------
# The inverse of an affine coupling layer
# ---------------------------------------------------------------------------------------------

def _random_coupling(mask: Sequence[float]) -> AffineCoupling:
    layer = AffineCoupling(mask, hidden=16)
    with torch.no_grad():  # the library starts a layer as the identity; give it real work to undo
        last = layer.net[-1]
        last.weight.normal_(0, 0.5)
        last.bias.normal_(0, 0.5)
    return layer


def check_coupling_inverse(fn: Callable) -> None:
    """Check ``fn(layer, x) -> (u, log_det)`` against ``AffineCoupling.inverse`` on random layers.

    It must use ``layer.mask`` and ``layer.scale_and_shift``; the check verifies the values,
    that ``layer(u)`` gives x back, that the kept coordinates pass unchanged, and the log-det.
    """
    name = "check_coupling_inverse"
    _expect_callable(name, fn, "your inverse function")
    masks = ([1.0, 0.0], [0.0, 1.0], [1.0, 0.0, 1.0, 0.0, 0.0])
    with _seeded() as g, torch.no_grad():
        for mask in masks:
            layer = _random_coupling(mask)
            n, dim = 32, len(mask)
            x = torch.randn(n, dim, generator=g) * 2
            u_ref, ld_ref = layer.inverse(x)
            case = f"With mask {mask}: "
            with _student_code(name, f"your function with mask {mask}"):
                out = fn(layer, x)
            if not (isinstance(out, tuple) and len(out) == 2):
                _fail(name, case + "return a pair (u, log_det).")
            u = _expect_points(name, case + "u", out[0], (n, dim))
            log_det = _expect_points(name, case + "log_det", out[1], (n,))
            kept = torch.as_tensor(mask).bool()
            if not _close(u[:, kept], x[:, kept], atol=1e-5):
                _fail(name, case + "the kept coordinates (mask = 1) changed: a coupling passes them through untouched.")
            if not _close(u, u_ref, atol=1e-4):
                s, t = layer.scale_and_shift(x * layer.mask)
                known = [
                    ((x - t) * torch.exp(s), "the scale is applied the wrong way: the forward multiplies by exp(s), "
                     "so the inverse must divide by it."),
                    (x * torch.exp(-s) - t, "the order of the steps is wrong: the forward scales then shifts, so the "
                     "inverse must remove the shift first, then the scale."),
                ]
                s_all, t_all = layer.scale_and_shift(x)
                known.append(((x - t_all) * torch.exp(-s_all), "s and t were computed from all of x: the network may "
                              "only see the kept coordinates (x ⊙ mask), or the layer is not invertible."))
                for wrong, hint in known:
                    if _close(u, wrong, atol=1e-4):
                        _fail(name, case + hint)
                _fail(name, case + "u differs from the reference, and layer(u) does not give x back.")
            if not _close(log_det, ld_ref, atol=1e-4):
                if _close(log_det, -ld_ref, atol=1e-4):
                    _fail(name, case + "the log-det has the wrong sign: the inverse divides by exp(s), so its "
                          "log-det is −Σ s over the transformed coordinates.")
                _fail(name, case + "log_det is wrong: it is the sum, over the transformed coordinates, of the "
                      "log-scales of the inverse.")
    _passed(name, f"u and log |det ∂u/∂x| agree with the reference for masks {[list(m) for m in masks]}.")


# ---------------------------------------------------------------------------------------------
# MADE masks
# ---------------------------------------------------------------------------------------------

_MADE_CASES = ((2, [4]), (3, [8, 8]), (4, [3]), (5, [16, 12, 16]))


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


def check_made_masks(fn: Callable[[int, list[int]], list[torch.Tensor]]) -> None:
    """Check ``fn(dim, hidden_sizes)``: masks (out, in) that make output d depend on exactly x_{1:d−1}.

    A random MLP with the student's masks must have a strictly lower-triangular Jacobian (the
    autoregressive property) with every entry below the diagonal non-zero (full connectivity).
    """
    name = "check_made_masks"
    _expect_callable(name, fn, "your mask function")
    with _seeded() as g:
        for dim, hidden in _MADE_CASES:
            case = f"For dim = {dim}, hidden_sizes = {hidden}: "
            with _student_code(name, f"your function with dim={dim}, hidden_sizes={hidden}"):
                masks = fn(dim, list(hidden))
            if not isinstance(masks, (list, tuple)) or len(masks) != len(hidden) + 1:
                _fail(name, case + f"expected a list of {len(hidden) + 1} masks (one per linear layer, output included).")
            sizes = [dim, *hidden, dim]
            for i, mask in enumerate(masks):
                shape = (sizes[i + 1], sizes[i])
                if not isinstance(mask, torch.Tensor) or tuple(mask.shape) != shape:
                    got = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
                    flipped = " (transposed? masks are shaped like nn.Linear weights: (out, in))" if got == shape[::-1] else ""
                    _fail(name, case + f"mask {i} has shape {got}, expected {shape}{flipped}.")
                if not ((mask == 0) | (mask == 1)).all():
                    _fail(name, case + f"mask {i} has entries other than 0 and 1.")
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
