"""Lecture 06's self-checks accept correct answers (the references and unusual-but-correct ones),
reject the common mistakes by name, and let blanks through.

For every check, ``WRONG_<name>`` lists answers a student could plausibly write, each with the
words its hint must contain, and ``CORRECT_<name>`` lists answers that must pass, the solution
notebook's own among them.
"""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.checks import (
    check_change_of_variables,
    check_coupling_inverse,
    check_made_masks,
    check_toy_map,
)
from course_lib.flows import made_masks, standard_normal_log_prob, toy_map, toy_map_inverse, toy_map_log_det_inverse

from check_helpers import blank as _blank, rejects


# --- the solution notebook's answers (solutions/06_normalizing_flows.py, copied verbatim) ---------

def toy_forward(u: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    x1 = sigma * u[:, 0]
    return torch.stack([x1, u[:, 1] - x1**2 - 1], dim=1)


def toy_inverse(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    return torch.stack([x[:, 0] / sigma, x[:, 1] + x[:, 0] ** 2 + 1], dim=1)


def toy_log_det_inverse(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    # J(f⁻¹) = [[1/σ, 0], [2x₁, 1]] is triangular: det = 1/σ everywhere.
    return torch.full((x.shape[0],), -math.log(sigma), dtype=x.dtype)


def log_prob(x: torch.Tensor, inverse, log_det_inverse) -> torch.Tensor:
    u = inverse(x)
    log_base = -0.5 * u.pow(2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
    return log_base + log_det_inverse(x)


def coupling_inverse(layer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    s, t = layer.scale_and_shift(x * layer.mask)  # the kept half is the same in u and in x
    u = (x - t) * torch.exp(-s)  # s = t = 0 where the mask is 1, so those pass unchanged
    return u, -s.sum(dim=1)


def solution_made_masks(dim: int, hidden_sizes: list[int]) -> list[torch.Tensor]:
    inputs = torch.arange(1, dim + 1)
    degrees = [inputs] + [1 + torch.arange(h) % (dim - 1) for h in hidden_sizes]
    masks = [(later[:, None] >= earlier[None, :]).float() for earlier, later in zip(degrees, degrees[1:])]
    masks.append((inputs[:, None] > degrees[-1][None, :]).float())
    return masks


def _accepts(check, *candidate, capsys) -> str:
    check(*candidate)
    out = capsys.readouterr().out
    assert out.startswith(f"✓ {check.__name__} passed"), out
    return out


# =================================================================================================
# the toy map
# =================================================================================================

def _forward_u1_squared(u, sigma=1.0):
    return torch.stack([sigma * u[:, 0], u[:, 1] - u[:, 0] ** 2 - 1], dim=1)


def _toy_inverse_with(first, second):
    def inverse(x, sigma=1.0):
        return torch.stack([first(x, sigma), second(x, sigma)], dim=1)
    return inverse


def _forward_in_place(u, sigma=1.0):
    u[:, 0] *= sigma
    u[:, 1] -= u[:, 0] ** 2 + 1
    return u


def _inverse_in_place(x, sigma=1.0):
    x[:, 1] += x[:, 0] ** 2 + 1
    x[:, 0] /= sigma
    return x


def _forward_into_new(u, sigma=1.0):
    x = torch.empty_like(u)
    x[:, 0] = sigma * u[:, 0]
    x[:, 1] = u[:, 1] - x[:, 0] ** 2 - 1
    return x


def _inverse_on_clone(x, sigma=1.0):
    u = x.clone()
    u[:, 1] += u[:, 0] ** 2 + 1
    u[:, 0] /= sigma
    return u


def _log_det_autograd(x, sigma=1.0):
    """Unusual but right: the log |det| of the inverse's Jacobian, by autograd, point by point."""
    jacobians = torch.func.vmap(torch.func.jacrev(lambda p: toy_inverse(p[None], sigma)[0]))(x)
    return torch.linalg.slogdet(jacobians).logabsdet


_memory = {}


def _forward_remembering(u, sigma=1.0):
    _memory["u"] = u.clone()
    return toy_forward(u, sigma)


def _inverse_remembered(x, sigma=1.0):
    return _memory["u"]  # right only for the points forward has just mapped


WRONG_toy_map = [
    pytest.param((_forward_u1_squared, toy_inverse, toy_log_det_inverse), ["subtracts u₁²"], id="u1-squared"),
    pytest.param((lambda u, s=1.0: torch.stack([u[:, 0], u[:, 1] - u[:, 0] ** 2 - 1], 1), toy_inverse,
                  toy_log_det_inverse), ["first coordinate", "stretched by σ"], id="forward-ignores-sigma"),
    pytest.param((lambda u, s=1.0: torch.stack([s * u[:, 0], u[:, 1] - s * u[:, 0] ** 2 - 1], 1), toy_inverse,
                  toy_log_det_inverse), ["second coordinate"], id="forward-sigma-not-squared"),
    pytest.param((lambda u, s=1.0: (s * u[:, 0], u[:, 1] - (s * u[:, 0]) ** 2 - 1), toy_inverse, toy_log_det_inverse),
                 ["returned a tuple", "torch.stack"], id="forward-tuple"),
    pytest.param((lambda u, s=1.0: toy_forward(u, s).T, toy_inverse, toy_log_det_inverse),
                 ["shape (2, 63)", "expected (63, 2)"], id="forward-stacked-on-dim-0"),
    pytest.param((_forward_in_place, toy_inverse, toy_log_det_inverse),
                 ["forward map changed its input u in place"], id="forward-in-place"),
    pytest.param((toy_forward, _toy_inverse_with(lambda x, s: x[:, 0] / s, lambda x, s: x[:, 1] - x[:, 0] ** 2 + 1),
                  toy_log_det_inverse), ["does not give u back", "second coordinate", "signs"], id="inverse-sign"),
    pytest.param((toy_forward, _toy_inverse_with(lambda x, s: x[:, 0] * s, lambda x, s: x[:, 1] + x[:, 0] ** 2 + 1),
                  toy_log_det_inverse), ["multiplies x₁ by σ", "division by σ"], id="inverse-times-sigma"),
    pytest.param((toy_forward, _toy_inverse_with(lambda x, s: x[:, 0], lambda x, s: x[:, 1] + x[:, 0] ** 2 + 1),
                  toy_log_det_inverse), ["as if σ were 1", "sigma argument"], id="inverse-ignores-sigma"),
    pytest.param((toy_forward, _toy_inverse_with(lambda x, s: x[:, 0] / s, lambda x, s: x[:, 1] + (x[:, 0] / s) ** 2 + 1),
                  toy_log_det_inverse), ["adds back (x₁/σ)²"], id="inverse-adds-u1-squared"),
    pytest.param((toy_forward, _inverse_in_place, toy_log_det_inverse),
                 ["your inverse changed its input x in place"], id="inverse-in-place"),
    pytest.param((_forward_remembering, _inverse_remembered, toy_log_det_inverse),
                 ["forward(inverse(x)) does not give x back", "earlier call"], id="inverse-remembers-forward"),
    pytest.param((toy_forward, toy_inverse, lambda x, s=1.0: -toy_log_det_inverse(x, s)), ["wrong sign", "forward map"],
                 id="log-det-sign"),
    pytest.param((toy_forward, toy_inverse, lambda x, s=1.0: torch.zeros(len(x))), ["is 0", "σ = 1"], id="log-det-zero"),
    pytest.param((toy_forward, toy_inverse, lambda x, s=1.0: torch.full((len(x),), 1 / s)), ["not its logarithm"],
                 id="det-not-log"),
    pytest.param((toy_forward, toy_inverse, lambda x, s=1.0: torch.full((), -math.log(s))),
                 ["shape ()", "one value per point"], id="log-det-scalar"),
    pytest.param((toy_forward, toy_inverse, lambda x, s=1.0: torch.full((x.shape[1],), -math.log(s))),
                 ["shape (2,)", "x.shape[0]"], id="log-det-one-per-coordinate"),
    pytest.param((toy_forward, toy_inverse, lambda x, s=1.0: -math.log(s) + (2 * x[:, 0]).abs().log()),
                 ["off-diagonal", "triangular"], id="log-det-off-diagonal"),
]

CORRECT_toy_map = [
    pytest.param((toy_map, toy_map_inverse, toy_map_log_det_inverse), id="library"),
    pytest.param((toy_forward, toy_inverse, toy_log_det_inverse), id="solution-notebook"),
    pytest.param((_forward_into_new, _inverse_on_clone, toy_log_det_inverse), id="in-place-on-own-copies"),
    pytest.param((toy_forward, toy_inverse, _log_det_autograd), id="log-det-by-autograd"),
    pytest.param((toy_forward, toy_inverse, lambda x, s=1.0: -torch.log(torch.tensor(s)).expand(len(x))),
                 id="log-det-expanded"),
]


@pytest.mark.parametrize("candidate, words", WRONG_toy_map)
def test_toy_map_rejects_wrong(candidate, words):
    rejects(check_toy_map, *candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_toy_map)
def test_toy_map_accepts_correct(candidate, capsys):
    _accepts(check_toy_map, *candidate, capsys=capsys)


# =================================================================================================
# the change of variables
# =================================================================================================

def _gauss(u):
    return -0.5 * u.pow(2).sum(1) - 0.5 * u.shape[1] * math.log(2 * math.pi)


def _cov_overwrites_x(x, inv, ld):
    log_det = ld(x)
    x.copy_(inv(x))  # reuses x's memory for u
    return _gauss(x) + log_det


def _cov_no_grad(x, inv, ld):
    with torch.no_grad():
        return _gauss(inv(x)) + ld(x)


def _cov_distributions(x, inv, ld):
    return torch.distributions.Normal(0.0, 1.0).log_prob(inv(x)).sum(1) + ld(x)


def _cov_multivariate(x, inv, ld):
    dim = x.shape[1]
    base = torch.distributions.MultivariateNormal(torch.zeros(dim), torch.eye(dim))
    return base.log_prob(inv(x)) + ld(x)


def _cov_einsum(x, inv, ld):
    log_det = ld(x)
    u = inv(x)
    return log_det - 0.5 * torch.einsum("nd,nd->n", u, u) - x.shape[1] / 2 * math.log(2 * math.pi)


WRONG_change_of_variables = [
    pytest.param(lambda x, inv, ld: _gauss(inv(x)), ["log |det j(f⁻¹(x))| term is missing"], id="no-log-det"),
    pytest.param(lambda x, inv, ld: _gauss(inv(x)) - ld(x), ["wrong sign"], id="minus-log-det"),
    pytest.param(lambda x, inv, ld: _gauss(x) + ld(x), ["evaluated at x"], id="pi-at-x"),
    pytest.param(lambda x, inv, ld: _gauss(inv(x)) + ld(inv(x)), ["log-det is evaluated at u"], id="log-det-at-u"),
    pytest.param(lambda x, inv, ld: -0.5 * inv(x).pow(2).sum(1) + ld(x), ["normalising constant"], id="no-constant"),
    pytest.param(lambda x, inv, ld: -0.5 * inv(x).pow(2).sum(1) - 0.5 * math.log(2 * math.pi) + ld(x),
                 ["every dimension"], id="constant-1d"),
    pytest.param(lambda x, inv, ld: -0.5 * inv(x).pow(2).sum(1) - 0.5 * x.shape[0] * math.log(2 * math.pi) + ld(x),
                 ["batch size", "x.shape[1]"], id="constant-counts-points"),
    pytest.param(lambda x, inv, ld: (_gauss(inv(x)) + ld(x)).exp(), ["density, not its logarithm"], id="density"),
    pytest.param(lambda x, inv, ld: (_gauss(inv(x)) + ld(x)).sum(), ["shape ()", "one value per point"], id="summed"),
    pytest.param(lambda x, inv, ld: -inv(x).pow(2).sum(1) - 0.5 * x.shape[1] * math.log(2 * math.pi) + ld(x), ["½"],
                 id="no-half"),
    pytest.param(lambda x, inv, ld: -0.5 * inv(x).pow(2).sum() - 0.5 * x.shape[1] * math.log(2 * math.pi) + ld(x),
                 ["whole batch"], id="norm-over-batch"),
    pytest.param(lambda x, inv, ld: -0.5 * inv(x).pow(2).mean(1) - 0.5 * x.shape[1] * math.log(2 * math.pi) + ld(x),
                 ["averaged over the coordinates"], id="mean-over-coordinates"),
    pytest.param(lambda x, inv, ld: -0.5 * inv(x).norm(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi) + ld(x),
                 ["not its square"], id="norm-not-squared"),
    pytest.param(lambda x, inv, ld: _gauss(inv(x)) + ld(x).sum(), ["log-det is summed over the batch"],
                 id="log-det-summed-over-batch"),
    pytest.param(lambda x, inv, ld: -0.5 * inv(x).pow(2).sum(1) + 0.5 * x.shape[1] * math.log(2 * math.pi) + ld(x),
                 ["normalising constant has the wrong sign"], id="constant-sign"),
    pytest.param(_cov_overwrites_x, ["changed its input x in place"], id="overwrites-x"),
    pytest.param(lambda x, inv, ld: (_gauss(inv(x)) + ld(x)).detach(), ["cut off from the autograd graph"],
                 id="detached"),
    pytest.param(_cov_no_grad, ["cut off from the autograd graph", "no_grad"], id="under-no-grad"),
    pytest.param(lambda x, inv, ld: _gauss(inv(x).detach()) + ld(x), ["no gradient flows through log π_u"],
                 id="u-detached"),
    pytest.param(lambda x, inv, ld: _gauss(inv(x)) + ld(x).detach(), ["no gradient flows through the log-det"],
                 id="log-det-detached"),
]

CORRECT_change_of_variables = [
    pytest.param(log_prob, id="solution-notebook"),
    pytest.param(lambda x, inv, ld: standard_normal_log_prob(inv(x)) + ld(x), id="library-gaussian"),
    pytest.param(_cov_distributions, id="torch-distributions-normal"),
    pytest.param(_cov_multivariate, id="multivariate-normal"),
    pytest.param(_cov_einsum, id="einsum-log-det-first"),
]


@pytest.mark.parametrize("candidate, words", WRONG_change_of_variables)
def test_change_of_variables_rejects_wrong(candidate, words):
    rejects(check_change_of_variables, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_change_of_variables)
def test_change_of_variables_accepts_correct(candidate, capsys):
    _accepts(check_change_of_variables, candidate, capsys=capsys)


# =================================================================================================
# the coupling inverse
# =================================================================================================

def _inverse_with(formula, log_det_sign=-1.0, condition_on_all=False):
    def inverse(layer, x):
        s, t = layer.scale_and_shift(x if condition_on_all else x * layer.mask)
        return formula(x, s, t), log_det_sign * s.sum(1)
    return inverse


def _coupling_with_log_det(log_det):
    def inverse(layer, x):
        s, t = layer.scale_and_shift(x * layer.mask)
        return (x - t) * torch.exp(-s), log_det(layer, x, s)
    return inverse


def _coupling_no_grad(layer, x):
    with torch.no_grad():
        s, t = layer.scale_and_shift(x * layer.mask)
    return (x - t) * torch.exp(-s), -s.sum(1)


def _coupling_x_detached(layer, x):
    s, t = layer.scale_and_shift(x.detach() * layer.mask)
    return (x - t) * torch.exp(-s), -s.sum(1)


def _coupling_in_place(layer, x):
    s, t = layer.scale_and_shift(x * layer.mask)
    return x.sub_(t).mul_(torch.exp(-s)), -s.sum(1)


def _coupling_cached(layer, x):
    if not hasattr(layer, "_cached_st"):
        layer._cached_st = layer.scale_and_shift(x * layer.mask)  # computed once, reused for every x
    s, t = layer._cached_st
    return (x - t) * torch.exp(-s), -s.sum(1)


def _coupling_divide(layer, x):
    s, t = layer.scale_and_shift(x * layer.mask)
    return (x - t) / torch.exp(s), -(s * (1 - layer.mask)).sum(1)


def _coupling_where(layer, x):
    s, t = layer.scale_and_shift(x * layer.mask)
    return torch.where(layer.mask.bool(), x, (x - t) * torch.exp(-s)), -s.sum(dim=-1)


def _coupling_log_det_from_u(layer, x):
    s, t = layer.scale_and_shift(x * layer.mask)
    u = (x - t) * torch.exp(-s)
    s_again, _ = layer.scale_and_shift(u * layer.mask)  # u ⊙ m = x ⊙ m: the same s
    return u, -s_again.sum(1)


def _coupling_on_clone(layer, x):
    s, t = layer.scale_and_shift(x * layer.mask)
    u = x.clone()
    u.sub_(t).mul_(torch.exp(-s))
    return [u, -s.sum(1)]


def _coupling_raw_network(layer, x):
    s, t = layer.net(x * layer.mask).chunk(2, dim=1)  # bypasses scale_and_shift: not masked, not bounded
    return (x - t) * torch.exp(-s), -s.sum(1)


WRONG_coupling_inverse = [
    pytest.param(_inverse_with(lambda x, s, t: (x - t) * torch.exp(s)), ["wrong way", "divide"], id="exp-plus"),
    pytest.param(_inverse_with(lambda x, s, t: x * torch.exp(-s) - t), ["order of the steps"], id="order"),
    pytest.param(_inverse_with(lambda x, s, t: (x + t) * torch.exp(-s)), ["shift is added"], id="shift-added"),
    pytest.param(_inverse_with(lambda x, s, t: (x - t) * torch.exp(-s), condition_on_all=True), ["x ⊙ mask"],
                 id="unmasked"),
    pytest.param(lambda layer, x: layer(x), ["forward direction"], id="forward-direction"),
    pytest.param(_inverse_with(lambda x, s, t: (x - t) * torch.exp(-s), log_det_sign=1.0), ["wrong sign", "−σ s"],
                 id="log-det-sign"),
    pytest.param(_coupling_with_log_det(lambda layer, x, s: -s.mean(1)), ["averaged", "sum"], id="log-det-mean"),
    pytest.param(_coupling_with_log_det(lambda layer, x, s: torch.exp(-s).prod(1)), ["not its logarithm"],
                 id="log-det-not-log"),
    pytest.param(_coupling_with_log_det(lambda layer, x, s: -layer.scale_and_shift(x * (1 - layer.mask))[0].sum(1)),
                 ["transformed half"], id="log-det-from-other-half"),
    pytest.param(_coupling_with_log_det(lambda layer, x, s: -layer.scale_and_shift(x)[0].sum(1)),
                 ["log-det's s is computed from all of x"], id="log-det-unmasked"),
    pytest.param(_coupling_with_log_det(lambda layer, x, s: -s.sum(1).detach()), ["log_det is cut off", "detach"],
                 id="log-det-detached"),
    pytest.param(_coupling_with_log_det(lambda layer, x, s: torch.tensor((-s.sum(1)).tolist())),
                 ["log_det is cut off"], id="log-det-rebuilt"),
    pytest.param(lambda layer, x: (coupling_inverse(layer, x)[0].data, coupling_inverse(layer, x)[1]),
                 ["u is cut off"], id="u-data"),
    pytest.param(_coupling_no_grad, ["no gradient reaches the layer's network through u", "no_grad"],
                 id="st-under-no-grad"),
    pytest.param(_coupling_x_detached, ["with respect to x", "previous layer"], id="x-detached"),
    pytest.param(_coupling_in_place, ["changed its input x in place"], id="in-place"),
    pytest.param(_coupling_cached, ["first call was right", "second call", "own x"], id="caches-s-and-t"),
    pytest.param(lambda layer, x: (x * 0 + (x - 1), torch.zeros(len(x))), ["kept coordinates"], id="touches-kept"),
    pytest.param(_coupling_raw_network, ["kept coordinates", "scale_and_shift"], id="raw-network-output"),
    pytest.param(lambda layer, x: layer.inverse(x)[0], ["one tensor", "pair (u, log_det)"], id="no-log-det"),
    pytest.param(lambda layer, x: dict(zip(("u", "log_det"), layer.inverse(x))), ["dict", "tuple"], id="dict"),
    pytest.param(lambda layer, x: (*layer.inverse(x), layer.mask), ["3 items", "pair"], id="triple"),
    pytest.param(lambda layer, x: (layer.inverse(x)[0], layer.inverse(x)[1].sum()), ["shape ()"], id="summed-log-det"),
]

CORRECT_coupling_inverse = [
    pytest.param(coupling_inverse, id="solution-notebook"),
    pytest.param(lambda layer, x: layer.inverse(x), id="library"),
    pytest.param(_coupling_divide, id="divide-by-exp"),
    pytest.param(_coupling_where, id="torch-where"),
    pytest.param(_coupling_log_det_from_u, id="log-det-from-u-mask"),
    pytest.param(_coupling_on_clone, id="list-in-place-on-clone"),
]


@pytest.mark.parametrize("candidate, words", WRONG_coupling_inverse)
def test_coupling_inverse_rejects_wrong(candidate, words):
    rejects(check_coupling_inverse, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_coupling_inverse)
def test_coupling_inverse_accepts_correct(candidate, capsys):
    _accepts(check_coupling_inverse, candidate, capsys=capsys)


def test_coupling_check_uses_input_dependent_log_dets():
    """The hidden layers' log-dets vary from point to point, so one taken at the wrong point cannot pass."""
    from course_lib.checks.flows import _random_coupling

    torch.manual_seed(0)
    for mask in ([1.0, 0.0], [0.0, 1.0], [1.0, 0.0, 1.0, 0.0, 0.0]):
        layer = _random_coupling(mask)
        _, log_det = layer.inverse(torch.randn(64, len(mask)) * 2)
        assert log_det.std() > 0.1


# =================================================================================================
# MADE masks
# =================================================================================================

def _masks_with(hidden_rule, output_rule, transpose=False, degrees=None):
    def masks(dim, hidden_sizes):
        d_in = torch.arange(1, dim + 1)
        ds = [d_in] + [(degrees or (lambda h, dim: 1 + torch.arange(h) % (dim - 1)))(h, dim) for h in hidden_sizes]
        out = [hidden_rule(later[:, None], earlier[None, :]).float() for earlier, later in zip(ds, ds[1:])]
        out.append(output_rule(d_in[:, None], ds[-1][None, :]).float())
        return [m.T for m in out] if transpose else out
    return masks


def _masks_insert_into_sizes(dim, hidden_sizes):
    hidden_sizes.insert(0, dim)  # the sizes of every layer's input, built in the caller's list
    degrees = [torch.arange(1, dim + 1)] + [1 + torch.arange(h) % (dim - 1) for h in hidden_sizes[1:]]
    masks = [(b[:, None] >= a[None, :]).float() for a, b in zip(degrees, degrees[1:])]
    return masks + [(degrees[0][:, None] > degrees[-1][None, :]).float()]


_all_masks: list[torch.Tensor] = []


def _masks_accumulating(dim, hidden_sizes):
    _all_masks.extend(made_masks(dim, hidden_sizes))  # a module-level list, never emptied
    return _all_masks[-(len(hidden_sizes) + 1):] if len(_all_masks) < 2 * (len(hidden_sizes) + 1) else _all_masks


def _masks_loops(dim, hidden_sizes):
    """Unit by unit, with Python loops and integer degrees."""
    degrees = [list(range(1, dim + 1))] + [[1 + k % (dim - 1) for k in range(h)] for h in hidden_sizes]
    masks = []
    for earlier, later in zip(degrees, degrees[1:]):
        masks.append(torch.tensor([[1.0 if m >= e else 0.0 for e in earlier] for m in later]))
    masks.append(torch.tensor([[1.0 if d > m else 0.0 for m in degrees[-1]] for d in degrees[0]]))
    return masks


WRONG_made_masks = [
    pytest.param(_masks_with(lambda a, b: a >= b, lambda a, b: a >= b), ["depends on x_d itself"], id="output-ge"),
    pytest.param(_masks_with(lambda a, b: a > b, lambda a, b: a > b), ["connection is missing"], id="hidden-gt"),
    pytest.param(_masks_with(lambda a, b: a > b, lambda a, b: a >= b), ["connection is missing"],
                 id="strictness-swapped"),
    pytest.param(_masks_with(lambda a, b: (a > 0) | (b > 0), lambda a, b: (a > 0) | (b > 0)), ["later input"],
                 id="fully-connected"),
    pytest.param(_masks_with(lambda a, b: a >= b, lambda a, b: a > b, transpose=True), ["transposed"], id="transposed"),
    pytest.param(_masks_with(lambda a, b: a >= b, lambda a, b: a > b,
                             degrees=lambda h, dim: torch.ones(h, dtype=torch.long)), ["connection is missing"],
                 id="all-degree-one"),
    pytest.param(_masks_with(lambda a, b: a >= b, lambda a, b: a > b, degrees=lambda h, dim: torch.arange(h) % (dim - 1)),
                 ["connection is missing"], id="degrees-from-0"),
    pytest.param(_masks_with(lambda a, b: a >= b, lambda a, b: a > b,
                             degrees=lambda h, dim: torch.arange(1, dim).repeat(h // (dim - 1))),
                 ["has shape", "expected (7, 8)"], id="degrees-repeat"),
    pytest.param(_masks_with(lambda a, b: a >= b, lambda a, b: a > b,
                             degrees=lambda h, dim: torch.randint(1, dim, (h,))), ["second call", "random"],
                 id="random-degrees"),
    pytest.param(_masks_with(lambda a, b: 2 * (a >= b), lambda a, b: a > b), ["other than 0 and 1"], id="twos"),
    pytest.param(lambda dim, hidden: made_masks(dim, hidden)[:-1], ["list of", "output included"], id="no-output-mask"),
    pytest.param(lambda dim, hidden: [m.numpy() for m in made_masks(dim, hidden)], ["type ndarray", "torch tensor"],
                 id="numpy"),
    pytest.param(_masks_insert_into_sizes, ["changed the list hidden_sizes"], id="mutates-hidden-sizes"),
    pytest.param(_masks_accumulating, ["second call"], id="module-level-list"),
]

CORRECT_made_masks = [
    pytest.param(solution_made_masks, id="solution-notebook"),
    pytest.param(made_masks, id="library"),
    pytest.param(lambda dim, hidden: tuple(m.bool() for m in made_masks(dim, hidden)), id="tuple-of-bool"),
    pytest.param(lambda dim, hidden: [m.long() for m in made_masks(dim, hidden)], id="long"),
    pytest.param(_masks_loops, id="python-loops"),
    pytest.param(_masks_with(lambda a, b: a >= b, lambda a, b: a > b, degrees=lambda h, dim: 1 + torch.arange(h) % dim),
                 id="degrees-up-to-D"),  # units of degree D feed no output: wasteful, but the property holds
]


@pytest.mark.parametrize("candidate, words", WRONG_made_masks)
def test_made_masks_rejects_wrong(candidate, words):
    rejects(check_made_masks, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_made_masks)
def test_made_masks_accepts_correct(candidate, capsys):
    _accepts(check_made_masks, candidate, capsys=capsys)


# =================================================================================================
# every check: enough cases, the notebook's pass lines, blanks, crashes, the global generator
# =================================================================================================

@pytest.mark.parametrize("wrong, correct", [
    (WRONG_toy_map, CORRECT_toy_map),
    (WRONG_change_of_variables, CORRECT_change_of_variables),
    (WRONG_coupling_inverse, CORRECT_coupling_inverse),
    (WRONG_made_masks, CORRECT_made_masks),
], ids=["toy_map", "change_of_variables", "coupling_inverse", "made_masks"])
def test_enough_cases(wrong, correct):
    assert len(wrong) >= 8 and len(correct) >= 2


def test_pass_lines_are_the_notebooks(capsys):
    check_toy_map(toy_forward, toy_inverse, toy_log_det_inverse)
    check_change_of_variables(log_prob)
    check_coupling_inverse(coupling_inverse)
    check_made_masks(solution_made_masks)
    assert capsys.readouterr().out.splitlines() == [
        "✓ check_toy_map passed: f, f⁻¹ and log |det J(f⁻¹)| agree with the reference for σ ∈ [1.0, 0.5, 2.5], "
        "and the map inverts both ways.",
        "✓ check_change_of_variables passed: 3 hidden maps (toy map, affine in 2-D and 5-D) agree with the reference.",
        "✓ check_coupling_inverse passed: u and log |det ∂u/∂x| agree with the reference for masks "
        "[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0, 1.0, 0.0, 0.0]].",
        "✓ check_made_masks passed: 4 networks have a strictly lower-triangular Jacobian with every allowed "
        "dependency present.",
    ]


@pytest.mark.parametrize("check, arity", [
    (check_toy_map, 3), (check_change_of_variables, 1), (check_coupling_inverse, 1), (check_made_masks, 1),
])
def test_blanks_pass_through(check, arity):
    with pytest.raises(NotImplementedError):
        check(*[_blank] * arity)


def test_crashes_become_a_named_failure():
    def broken(layer, x):
        return layer.scale_and_shift(x[:, :1])  # wrong width: the network cannot take it

    error = rejects(check_coupling_inverse, broken, words=("raised RuntimeError",))
    assert isinstance(error.__cause__, RuntimeError)


def test_checks_leave_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_toy_map(toy_forward, toy_inverse, toy_log_det_inverse)
    check_change_of_variables(log_prob)
    check_coupling_inverse(coupling_inverse)
    check_made_masks(solution_made_masks)
    assert torch.equal(torch.rand(3), expected)

