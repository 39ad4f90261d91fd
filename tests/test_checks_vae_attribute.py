"""Lecture 03's AR-VAE self-check accepts the reference and correct variants, and rejects plausible
mistakes in the attribute regularization with a hint that names them."""

import pytest
import torch
from torch.nn import functional as F

import course_lib.checks.vae as vae_checks
from course_lib.checks import check_attribute_regularization
from course_lib.vae import attribute_regularization
from tests.check_helpers import blank, rejects


def _pairs(z, a):
    return z[:, None] - z[None, :], a[:, None] - a[None, :]


# --- correct answers -----------------------------------------------------------------------------

def _both_reversed(z, a, delta):
    # D_r and D_a both as j − i: every term is the negative of the reference's, its absolute value the same.
    return (torch.tanh(delta * (z[None, :] - z[:, None])) - torch.sign(a[None, :] - a[:, None])).abs().mean()


def _l1_loss(z, a, delta):
    d_r, d_a = _pairs(z, a)
    return F.l1_loss(torch.tanh(delta * d_r), torch.sign(d_a))


def _double_loop(z, a, delta):
    n = len(z)
    total = 0
    for i in range(n):
        for j in range(n):
            total = total + (torch.tanh(delta * (z[i] - z[j])) - torch.sign(a[i] - a[j])).abs()
    return total / n**2


def _comparisons_as_sign(z, a, delta):
    d_r, _ = _pairs(z, a)
    order = (a[:, None] > a[None, :]).float() - (a[:, None] < a[None, :]).float()
    return torch.mean(torch.abs(torch.tanh(delta * d_r) - order))


def _unsqueeze_float64(z, a, delta):
    d_r = z.double().unsqueeze(1) - z.double().unsqueeze(0)
    d_a = a.double().unsqueeze(1) - a.double().unsqueeze(0)
    return (torch.tanh(delta * d_r) - d_a.sign()).abs().sum() / len(z) ** 2


def _solution(z_r, attribute, delta=1.0):
    # solutions/03_vae_reparametrization.py, Exercise 5
    code_order = torch.tanh(delta * (z_r[:, None] - z_r[None, :]))
    attribute_order = torch.sign(attribute[:, None] - attribute[None, :])
    return (code_order - attribute_order).abs().mean()


CORRECT_attribute_regularization = [
    pytest.param(_solution, id="solution-notebook"),
    pytest.param(attribute_regularization, id="library-reference"),
    pytest.param(_both_reversed, id="both-reversed"),
    pytest.param(_l1_loss, id="l1-loss"),
    pytest.param(_double_loop, id="double-loop"),
    pytest.param(_comparisons_as_sign, id="comparisons"),
    pytest.param(_unsqueeze_float64, id="float64-sum-over-b2"),
]


@pytest.mark.parametrize("candidate", CORRECT_attribute_regularization)
def test_attribute_regularization_accepts_correct(candidate, capsys):
    check_attribute_regularization(candidate)
    assert capsys.readouterr().out.startswith("✓ check_attribute_regularization passed: 4 hidden batches")


# --- mistakes ------------------------------------------------------------------------------------

def _terms(z, a, delta):
    d_r, d_a = _pairs(z, a)
    return torch.tanh(delta * d_r), torch.sign(d_a)


def _code_order_swapped(z, a, delta):
    return (torch.tanh(delta * (z[None, :] - z[:, None])) - torch.sign(a[:, None] - a[None, :])).abs().mean()


def _attribute_order_swapped(z, a, delta):
    return (torch.tanh(delta * (z[:, None] - z[None, :])) - torch.sign(a[None, :] - a[:, None])).abs().mean()


def _off_diagonal_mean(z, a, delta):
    t, s = _terms(z, a, delta)
    off = ~torch.eye(len(z), dtype=torch.bool)
    return (t - s).abs()[off].mean()


def _summed(z, a, delta):
    t, s = _terms(z, a, delta)
    return (t - s).abs().sum()


def _sum_over_j_mean_over_i(z, a, delta):
    t, s = _terms(z, a, delta)
    return (t - s).abs().sum(1).mean()


def _no_delta(z, a, delta):
    return attribute_regularization(z, a, 1.0)


def _delta_outside(z, a, delta):
    d_r, d_a = _pairs(z, a)
    return (delta * torch.tanh(d_r) - torch.sign(d_a)).abs().mean()


def _no_tanh(z, a, delta):
    d_r, d_a = _pairs(z, a)
    return (delta * d_r - torch.sign(d_a)).abs().mean()


def _squared(z, a, delta):
    t, s = _terms(z, a, delta)
    return (t - s).pow(2).mean()


def _raw_attribute_differences(z, a, delta):
    d_r, d_a = _pairs(z, a)
    return (torch.tanh(delta * d_r) - d_a).abs().mean()


def _tanh_on_attribute(z, a, delta):
    d_r, d_a = _pairs(z, a)
    return (torch.tanh(delta * d_r) - torch.tanh(delta * d_a)).abs().mean()


def _sign_of_codes(z, a, delta):
    d_r, d_a = _pairs(z, a)
    return (torch.sign(d_r) - torch.sign(d_a)).abs().mean()


def _detached(z, a, delta):
    return attribute_regularization(z.detach(), a, delta)


def _python_float(z, a, delta):
    return attribute_regularization(z, a, delta).item()


def _per_sample(z, a, delta):
    t, s = _terms(z, a, delta)
    return (t - s).abs().mean(1)


def _per_pair(z, a, delta):
    t, s = _terms(z, a, delta)
    return (t - s).abs()


def _half_detached(z, a, delta):
    d_a = a[:, None] - a[None, :]
    return (torch.tanh(delta * (z[:, None] - z.detach()[None, :])) - torch.sign(d_a)).abs().mean()


def _centres_attribute_in_place(z, a, delta):
    a -= a.mean()  # the order is unchanged, but the caller's tensor is
    return attribute_regularization(z, a, delta)


def _no_return(z, a, delta):
    attribute_regularization(z, a, delta)


def _centres_codes_in_place(z, a, delta):
    z -= z.mean()  # the differences are unchanged, but the caller's z (its codes) is not
    return attribute_regularization(z, a, delta)


def _backward_inside(z, a, delta):
    loss = attribute_regularization(z, a, delta)
    loss.backward(retain_graph=True)
    return loss


WRONG_attribute_regularization = [
    pytest.param(_code_order_swapped, ["opposite orders"], id="code-order-swapped"),
    pytest.param(_attribute_order_swapped, ["opposite orders"], id="attribute-order-swapped"),
    pytest.param(_off_diagonal_mean, ["i ≠ j", "diagonal"], id="off-diagonal-mean"),
    pytest.param(_summed, ["summed over the pairs", "average"], id="summed"),
    pytest.param(_sum_over_j_mean_over_i, ["summed over one index"], id="sum-j-mean-i"),
    pytest.param(_no_delta, ["δ is missing"], id="no-delta"),
    pytest.param(_delta_outside, ["δ multiplies the tanh"], id="delta-outside-tanh"),
    pytest.param(_no_tanh, ["tanh is missing"], id="no-tanh"),
    pytest.param(_squared, ["squared", "absolute"], id="squared"),
    pytest.param(_raw_attribute_differences, ["attribute differences themselves", "sign"], id="raw-attribute-diffs"),
    pytest.param(_tanh_on_attribute, ["tanh of the attribute"], id="tanh-on-attribute"),
    pytest.param(_sign_of_codes, ["sign of the code differences", "zero gradient"], id="sign-of-codes"),
    pytest.param(_detached, ["autograd graph", "z_r"], id="detached"),
    pytest.param(_python_float, ["python float", "0-d tensor"], id="python-float"),
    pytest.param(_per_sample, ["one number per sample"], id="per-sample"),
    pytest.param(_per_pair, ["one number per pair"], id="per-pair"),
    pytest.param(_half_detached, ["value is right", "gradient"], id="half-detached"),
    pytest.param(_centres_attribute_in_place, ["changed its input `attribute`"], id="attribute-in-place"),
    pytest.param(_centres_codes_in_place, ["changed its input `z_r`"], id="codes-in-place"),
    pytest.param(_backward_inside, ["ran backward()"], id="backward-inside"),
    pytest.param(_no_return, ["none"], id="no-return"),
]


@pytest.mark.parametrize("candidate, words", WRONG_attribute_regularization)
def test_attribute_regularization_rejects_wrong(candidate, words):
    error = rejects(check_attribute_regularization, candidate, words=words)
    assert str(error).startswith("✗ check_attribute_regularization: On batch")


def test_attribute_regularization_has_a_mutant_suite():
    assert len(WRONG_attribute_regularization) >= 8 and len(CORRECT_attribute_regularization) >= 2


@pytest.mark.parametrize("seed", [1, 2])
def test_no_verdict_hangs_on_the_seed(seed, monkeypatch, capsys):
    """The same verdicts and hints when the hidden batches come from other seeds."""
    seeded = vae_checks._seeded
    monkeypatch.setattr(vae_checks, "_seeded", lambda s=0: seeded(s + 1000 * seed))
    for case in WRONG_attribute_regularization:
        candidate, words = case.values
        rejects(check_attribute_regularization, candidate, words=words)
    for case in CORRECT_attribute_regularization:
        check_attribute_regularization(case.values[0])
    assert capsys.readouterr().out.count("✓") == len(CORRECT_attribute_regularization)


def test_missing_delta_passes_the_delta_one_batch_and_fails_on_delta_ten():
    error = rejects(check_attribute_regularization, _no_delta, words=["δ = 10"])
    assert "On batch 2" in str(error)  # batch 1 (δ = 1) cannot tell the difference


def test_an_error_inside_the_student_code_names_the_call():
    def broken(z, a, delta):
        return attribute_regularization(z, a, delta) + torch.ones(3) @ z  # shapes (3,) and (B,) do not match

    rejects(check_attribute_regularization, broken, words=["raised RuntimeError"])


def test_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="without calling it"):
        check_attribute_regularization(attribute_regularization(torch.zeros(2), torch.zeros(2)))


def test_blank_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        check_attribute_regularization(blank)


def test_pass_line_is_unchanged(capsys):
    check_attribute_regularization(_solution)
    assert capsys.readouterr().out == (
        "✓ check_attribute_regularization passed: 4 hidden batches (odd sizes, ties, negative attributes, δ = 1 and "
        "10) agree with the reference in value and in the gradient reaching z_r.\n")


def test_check_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    check_attribute_regularization(attribute_regularization)
    assert torch.equal(torch.get_rng_state(), before)
