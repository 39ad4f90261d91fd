"""Lecture 03's AR-VAE self-check accepts the reference and correct variants, and rejects plausible
mistakes in the attribute regularization with a hint that names them."""

import pytest
import torch
from torch.nn import functional as F

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


@pytest.mark.parametrize("correct", [
    attribute_regularization, _both_reversed, _l1_loss, _double_loop, _comparisons_as_sign, _unsqueeze_float64,
], ids=["reference", "both-reversed", "l1-loss", "double-loop", "comparisons", "float64-sum-over-b2"])
def test_accepts_correct_answers(correct, capsys):
    check_attribute_regularization(correct)
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


@pytest.mark.parametrize("wrong, words", [
    (_code_order_swapped, ["opposite orders"]),
    (_attribute_order_swapped, ["opposite orders"]),
    (_off_diagonal_mean, ["i ≠ j", "diagonal"]),
    (_summed, ["summed over the pairs", "average"]),
    (_sum_over_j_mean_over_i, ["summed over one index"]),
    (_no_delta, ["δ is missing"]),
    (_delta_outside, ["δ multiplies the tanh"]),
    (_no_tanh, ["tanh is missing"]),
    (_squared, ["squared", "absolute"]),
    (_raw_attribute_differences, ["attribute differences themselves", "sign"]),
    (_tanh_on_attribute, ["tanh of the attribute"]),
    (_sign_of_codes, ["sign of the code differences", "zero gradient"]),
    (_detached, ["autograd graph", "z_r"]),
    (_python_float, ["python float", "0-d tensor"]),
    (_per_sample, ["one number per sample"]),
    (_per_pair, ["one number per pair"]),
    (_half_detached, ["value is right", "gradient"]),
    (_centres_attribute_in_place, ["changed its input `attribute`"]),
    (_no_return, ["none"]),
])
def test_rejects_mistakes(wrong, words):
    error = rejects(check_attribute_regularization, wrong, words=words)
    assert str(error).startswith("✗ check_attribute_regularization: On batch")


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


def test_check_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    check_attribute_regularization(attribute_regularization)
    assert torch.equal(torch.get_rng_state(), before)
