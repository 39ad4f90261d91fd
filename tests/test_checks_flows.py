"""Lecture 06's self-checks accept the references, reject the common mistakes by name, and let blanks through."""

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


# --- the toy map ---------------------------------------------------------------------------------

def test_toy_map_accepts_reference(capsys):
    check_toy_map(toy_map, toy_map_inverse, toy_map_log_det_inverse)
    assert capsys.readouterr().out.startswith("✓ check_toy_map passed")


def _forward_u1_squared(u, sigma=1.0):
    return torch.stack([sigma * u[:, 0], u[:, 1] - u[:, 0] ** 2 - 1], dim=1)


def _inverse_wrong_sign(x, sigma=1.0):
    return torch.stack([x[:, 0] / sigma, x[:, 1] - x[:, 0] ** 2 + 1], dim=1)


def _inverse_times_sigma(x, sigma=1.0):
    return torch.stack([x[:, 0] * sigma, x[:, 1] + x[:, 0] ** 2 + 1], dim=1)


@pytest.mark.parametrize("candidate, words", [
    ((_forward_u1_squared, toy_map_inverse, toy_map_log_det_inverse), ["subtracts u₁²"]),
    ((lambda u, s=1.0: torch.stack([u[:, 0], u[:, 1] - u[:, 0] ** 2 - 1], 1), toy_map_inverse, toy_map_log_det_inverse),
     ["first coordinate"]),
    ((toy_map, _inverse_wrong_sign, toy_map_log_det_inverse), ["does not give u back"]),
    ((toy_map, _inverse_times_sigma, toy_map_log_det_inverse), ["division by σ"]),
    ((toy_map, toy_map_inverse, lambda x, s=1.0: -toy_map_log_det_inverse(x, s)), ["wrong sign", "forward map"]),
    ((toy_map, toy_map_inverse, lambda x, s=1.0: torch.zeros(len(x))), ["is 0", "σ = 1"]),
    ((toy_map, toy_map_inverse, lambda x, s=1.0: torch.full((len(x),), 1 / s)), ["not its logarithm"]),
    ((toy_map, toy_map_inverse, lambda x, s=1.0: torch.full((), -math.log(s))), ["shape ()", "one value per point"]),
], ids=["u1-squared", "no-sigma", "inverse-sign", "inverse-times-sigma", "log-det-sign", "log-det-zero", "det-not-log",
        "log-det-scalar"])
def test_toy_map_names_the_mistake(candidate, words):
    rejects(check_toy_map, *candidate, words=words)


# --- the change of variables ---------------------------------------------------------------------

def _reference_cov(x, inverse, log_det_inverse):
    return standard_normal_log_prob(inverse(x)) + log_det_inverse(x)


def test_change_of_variables_accepts_reference(capsys):
    check_change_of_variables(_reference_cov)
    assert "✓ check_change_of_variables passed" in capsys.readouterr().out


def _gauss(u):
    return -0.5 * u.pow(2).sum(1) - 0.5 * u.shape[1] * math.log(2 * math.pi)


@pytest.mark.parametrize("candidate, words", [
    (lambda x, inv, ld: _gauss(inv(x)), ["log |det j(f⁻¹(x))| term is missing"]),
    (lambda x, inv, ld: _gauss(inv(x)) - ld(x), ["wrong sign"]),
    (lambda x, inv, ld: _gauss(x) + ld(x), ["evaluated at x"]),
    (lambda x, inv, ld: -0.5 * inv(x).pow(2).sum(1) + ld(x), ["normalising constant"]),
    (lambda x, inv, ld: -0.5 * inv(x).pow(2).sum(1) - 0.5 * math.log(2 * math.pi) + ld(x), ["every dimension"]),
    (lambda x, inv, ld: (_gauss(inv(x)) + ld(x)).exp(), ["density, not its logarithm"]),
    (lambda x, inv, ld: (_gauss(inv(x)) + ld(x)).sum(), ["shape ()", "one value per point"]),
    (lambda x, inv, ld: -inv(x).pow(2).sum(1) - 0.5 * x.shape[1] * math.log(2 * math.pi) + ld(x), ["½"]),
], ids=["no-log-det", "minus-log-det", "pi-at-x", "no-constant", "constant-1d", "density", "summed", "no-half"])
def test_change_of_variables_names_the_mistake(candidate, words):
    rejects(check_change_of_variables, candidate, words=words)


# --- the coupling inverse ------------------------------------------------------------------------

def test_coupling_inverse_accepts_reference(capsys):
    check_coupling_inverse(lambda layer, x: layer.inverse(x))
    assert "✓ check_coupling_inverse passed" in capsys.readouterr().out


def _inverse_with(formula, log_det_sign=-1.0, condition_on_all=False):
    def inverse(layer, x):
        s, t = layer.scale_and_shift(x if condition_on_all else x * layer.mask)
        return formula(x, s, t), log_det_sign * s.sum(1)
    return inverse


@pytest.mark.parametrize("candidate, words", [
    (_inverse_with(lambda x, s, t: (x - t) * torch.exp(s)), ["wrong way", "divide"]),
    (_inverse_with(lambda x, s, t: x * torch.exp(-s) - t), ["order of the steps"]),
    (_inverse_with(lambda x, s, t: (x - t) * torch.exp(-s), condition_on_all=True), ["x ⊙ mask"]),
    (_inverse_with(lambda x, s, t: (x - t) * torch.exp(-s), log_det_sign=1.0), ["wrong sign", "−σ s"]),
    (lambda layer, x: (x * 0 + (x - 1), torch.zeros(len(x))), ["kept coordinates"]),
    (lambda layer, x: layer.inverse(x)[0], ["pair (u, log_det)"]),
    (lambda layer, x: (layer.inverse(x)[0], layer.inverse(x)[1].sum()), ["shape ()"]),
], ids=["exp-plus", "order", "unmasked", "log-det-sign", "touches-kept", "no-log-det", "summed-log-det"])
def test_coupling_inverse_names_the_mistake(candidate, words):
    rejects(check_coupling_inverse, candidate, words=words)


# --- MADE masks ----------------------------------------------------------------------------------

def test_made_masks_accepts_reference(capsys):
    check_made_masks(made_masks)
    assert "✓ check_made_masks passed" in capsys.readouterr().out


def _masks_with(hidden_rule, output_rule, transpose=False, degrees=None):
    def masks(dim, hidden_sizes):
        d_in = torch.arange(1, dim + 1)
        ds = [d_in] + [(degrees or (lambda h: 1 + torch.arange(h) % (dim - 1)))(h) for h in hidden_sizes]
        out = [hidden_rule(later[:, None], earlier[None, :]).float() for earlier, later in zip(ds, ds[1:])]
        out.append(output_rule(d_in[:, None], ds[-1][None, :]).float())
        return [m.T for m in out] if transpose else out
    return masks


@pytest.mark.parametrize("candidate, words", [
    (_masks_with(lambda a, b: a >= b, lambda a, b: a >= b), ["depends on x_d itself"]),
    (_masks_with(lambda a, b: a > b, lambda a, b: a > b), ["connection is missing"]),
    (_masks_with(lambda a, b: (a > 0) | (b > 0), lambda a, b: (a > 0) | (b > 0)), ["later input"]),
    (_masks_with(lambda a, b: a >= b, lambda a, b: a > b, transpose=True), ["transposed"]),
    (_masks_with(lambda a, b: a >= b, lambda a, b: a > b, degrees=lambda h: torch.ones(h, dtype=torch.long)),
     ["connection is missing"]),
    (lambda dim, hidden: made_masks(dim, hidden)[:-1], ["list of"]),
], ids=["output-ge", "hidden-gt", "fully-connected", "transposed", "all-degree-one", "no-output-mask"])
def test_made_masks_names_the_mistake(candidate, words):
    rejects(check_made_masks, candidate, words=words)


# --- blanks and crashes --------------------------------------------------------------------------

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
