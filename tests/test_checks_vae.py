"""Lecture 03's self-checks accept the references and other correct answers, reject the common mistakes by
name, and let blanks through.

For every check, ``WRONG_<name>`` lists plausible wrong answers with the words their hint must contain, and
``CORRECT_<name>`` unusual-but-correct answers (the solution notebook's answer among them) that must pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import course_lib.checks.vae as vae_checks
from course_lib.checks import (
    check_cvae_condition,
    check_kl_divergence,
    check_negative_elbo,
    check_reparametrize,
)
from course_lib.vae import kl_to_standard_normal, negative_elbo, one_hot, reparametrize

from check_helpers import blank as _blank, rejects


def _accepts(check, candidate, capsys) -> None:
    check(candidate)
    name = check.__name__
    assert capsys.readouterr().out.startswith(f"✓ {name} passed: "), f"{name} should accept this answer"


# =================================================================================================
# reparametrize
# =================================================================================================

def _solution_reparametrize(mu, logvar):
    # solutions/03_vae_reparametrization.py, Exercise 1
    eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


_OWN_GENERATOR = torch.Generator().manual_seed(1234)  # seeded once, then drawn from: fresh noise every call


def _own_generator(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=_OWN_GENERATOR)


def _in_place_on_new_noise(mu, logvar):
    eps = torch.randn_like(mu)  # a new tensor: changing it in place is fine
    return eps.mul_(torch.exp(0.5 * logvar)).add_(mu)


def _mu_add_(mu, logvar):
    return mu.add_(torch.exp(0.5 * logvar) * torch.randn_like(mu))


def _alias_plus_equals(mu, logvar):
    z = mu  # not a copy
    z += torch.exp(0.5 * logvar) * torch.randn_like(mu)
    return z


def _logvar_in_place(mu, logvar):
    std = logvar.mul_(0.5).exp_()
    return mu + std * torch.randn_like(mu)


def _one_eps_per_batch(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape[1])


def _one_eps_per_row(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape[0], 1)


_CACHE: dict = {}


def _cached_eps(mu, logvar):
    eps = _CACHE.setdefault(tuple(mu.shape), torch.randn_like(mu))
    return mu + torch.exp(0.5 * logvar) * eps


def _numpy_noise(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.from_numpy(np.random.default_rng().standard_normal(tuple(mu.shape)))


def _global_seed_inside(mu, logvar):
    torch.manual_seed(0)
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def _under_no_grad(mu, logvar):
    with torch.no_grad():
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


WRONG_reparametrize = [
    pytest.param(lambda mu, lv: mu + lv.exp() * torch.randn_like(mu), ["σ⁴", "exp(½ log σ²)"], id="variance-as-std"),
    pytest.param(lambda mu, lv: mu + lv * torch.randn_like(mu), ["(log σ²)²"], id="logvar-as-std"),
    pytest.param(lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.rand_like(mu), ["uniform"], id="uniform"),
    pytest.param(lambda mu, lv: mu + 0 * lv, ["do not vary"], id="no-noise"),
    pytest.param(lambda mu, lv: torch.normal(mu, torch.exp(0.5 * lv)), ["gradient reaching μ is 0", "torch.normal"],
                 id="torch-normal"),
    pytest.param(lambda mu, lv: torch.distributions.Normal(mu, torch.exp(0.5 * lv)).sample(), ["cut off"],
                 id="normal-sample"),
    pytest.param(lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu)).detach(), ["cut off"],
                 id="detached"),
    pytest.param(_under_no_grad, ["cut off"], id="under-no-grad"),
    pytest.param(lambda mu, lv: mu.detach() + torch.exp(0.5 * lv) * torch.randn_like(mu), ["no gradient reaches μ"],
                 id="mu-detached"),
    pytest.param(lambda mu, lv: mu + torch.exp(0.5 * lv.detach()) * torch.randn_like(mu),
                 ["no gradient reaches log σ²"], id="logvar-detached"),
    pytest.param(lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape,
                                                                       generator=torch.Generator().manual_seed(0)),
                 ["same z", "fresh noise"], id="fixed-seed-generator"),
    pytest.param(_global_seed_inside, ["same z"], id="global-seed-inside"),
    pytest.param(_cached_eps, ["same z"], id="cached-eps"),
    pytest.param(lambda mu, lv: mu[:, :1] + torch.exp(0.5 * lv) * torch.randn_like(mu), ["sample mean"],
                 id="broadcast-mean"),
    pytest.param(_mu_add_, ["changed its input `mu` in place"], id="mu-add_"),
    pytest.param(_alias_plus_equals, ["changed its input `mu` in place", "does not copy"], id="alias-plus-equals"),
    pytest.param(_logvar_in_place, ["changed its input `logvar` in place"], id="logvar-in-place"),
    pytest.param(_one_eps_per_batch, ["same noise", "(B, k)"], id="one-eps-per-batch"),
    pytest.param(_one_eps_per_row, ["correlated", "(B, k)"], id="one-eps-per-row"),
    pytest.param(_numpy_noise, ["float64", "dtype"], id="numpy-float64-noise"),
    pytest.param(lambda mu, lv: mu + torch.exp(-0.5 * lv) * torch.randn_like(mu), ["1/σ²", "sign"],
                 id="exponent-sign"),
    pytest.param(lambda mu, lv: mu + torch.exp(0.5 * lv) + torch.randn_like(mu), ["μ + σ", "product"],
                 id="sum-not-product"),
    pytest.param(lambda mu, lv: mu + torch.randn_like(mu), ["variance is 1"], id="unscaled-noise"),
    pytest.param(lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu), torch.randn_like(mu)),
                 ["tuple"], id="returns-tuple"),
    pytest.param(lambda mu, lv: None, ["NoneType"], id="returns-none"),
]

CORRECT_reparametrize = [
    pytest.param(_solution_reparametrize, id="solution-notebook"),
    pytest.param(lambda mu, lv: reparametrize(mu, lv), id="library-reference"),
    pytest.param(lambda mu, lv: torch.distributions.Normal(mu, torch.exp(0.5 * lv)).rsample(), id="normal-rsample"),
    pytest.param(_in_place_on_new_noise, id="in-place-on-new-noise"),
    pytest.param(lambda mu, lv: mu + torch.sqrt(torch.exp(lv)) * torch.randn(mu.shape), id="sqrt-exp"),
    pytest.param(_own_generator, id="own-generator-seeded-once"),
    pytest.param(lambda mu, lv: torch.addcmul(mu, torch.exp(lv / 2), torch.empty_like(lv).normal_()), id="addcmul"),
]


@pytest.mark.parametrize("candidate, words", WRONG_reparametrize)
def test_reparametrize_rejects_wrong(candidate, words):
    rejects(check_reparametrize, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_reparametrize)
def test_reparametrize_accepts_correct(candidate, capsys):
    _accepts(check_reparametrize, candidate, capsys)


def test_reparametrize_in_place_is_named_before_the_noise():
    """The in-place answer used to be told to 'draw fresh noise': the hint must name the input instead."""
    error = rejects(check_reparametrize, _mu_add_, words=["in place"])
    assert "fresh noise" not in str(error) and "same z" not in str(error)


# =================================================================================================
# The closed-form KL
# =================================================================================================

def _solution_kl(mu, logvar):
    # solutions/03_vae_reparametrization.py, Exercise 2
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)


def _terms(mu, lv):
    return mu.pow(2) + lv.exp() - lv - 1


def _kl_exp_in_place(mu, lv):
    var = lv.exp_()  # overwrites the caller's logvar
    return 0.5 * (mu.pow(2) + var - var.log() - 1).sum(1)


def _kl_square_in_place(mu, lv):
    return 0.5 * (mu.pow_(2) + lv.exp() - lv - 1).sum(1)


def _kl_numpy(mu, lv):
    m, v = mu.detach().numpy(), lv.detach().numpy()
    return torch.from_numpy(0.5 * (m**2 + np.exp(v) - v - 1).sum(1))


def _kl_backward_inside(mu, lv):
    kl = _terms(mu, lv).sum(1) * 0.5
    kl.sum().backward(retain_graph=True)
    return kl


WRONG_kl_divergence = [
    pytest.param(lambda mu, lv: -0.5 * _terms(mu, lv).sum(1), ["sign is flipped"], id="sign"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu, lv).mean(1), ["averaged over the latent"], id="mean-over-latent"),
    pytest.param(lambda mu, lv: _terms(mu, lv).sum(1), ["½"], id="no-half"),
    pytest.param(lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv).sum(1), ["−1"], id="no-minus-one"),
    pytest.param(lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp().sqrt() - 0.5 * lv - 1).sum(1), ["σ and σ² are mixed up"],
                 id="sigma-for-variance"),
    pytest.param(lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp().pow(2) - lv - 1).sum(1), ["σ⁴"], id="variance-squared"),
    pytest.param(lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - 0.5 * lv - 1).sum(1), ["log σ = ½ log σ²"],
                 id="log-sigma"),
    pytest.param(lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() + lv - 1).sum(1), ["sign of the log σ²"],
                 id="logvar-sign"),
    pytest.param(lambda mu, lv: 0.5 * (mu + lv.exp() - lv - 1).sum(1), ["μ_j²"], id="mu-not-squared"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu, lv).sum(), ["single number"], id="scalar"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu, lv), ["sum over the latent"], id="unreduced"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu, lv).sum(1, keepdim=True), ["keepdim"], id="keepdim"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu, lv).sum(0), ["summed over the batch", "dim 1"], id="sum-over-batch"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu, lv).sum(1) + 0.1, ["differ"], id="other-value"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu, lv).sum(1).detach(), ["cut off"], id="detached"),
    pytest.param(_kl_numpy, ["cut off", "numpy"], id="numpy"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu.detach(), lv).sum(1), ["no gradient reaches μ"], id="mu-detached"),
    pytest.param(lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp().detach() - lv - 1).sum(1),
                 ["gradient with respect to log σ² is not"], id="variance-term-detached"),
    pytest.param(_kl_exp_in_place, ["changed its input `logvar` in place"], id="logvar-exp_"),
    pytest.param(_kl_square_in_place, ["changed its input `mu` in place"], id="mu-pow_"),
    pytest.param(_kl_backward_inside, ["ran backward()"], id="backward-inside"),
    pytest.param(lambda mu, lv: None, ["NoneType"], id="returns-none"),
]

CORRECT_kl_divergence = [
    pytest.param(_solution_kl, id="solution-notebook"),
    pytest.param(kl_to_standard_normal, id="library-reference"),
    pytest.param(lambda mu, lv: -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp(), dim=-1), id="kingma-welling-form"),
    pytest.param(lambda mu, lv: torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, torch.exp(0.5 * lv)), torch.distributions.Normal(0.0, 1.0)).sum(1),
        id="torch-distributions"),
    pytest.param(lambda mu, lv: 0.5 * (mu**2 + torch.exp(0.5 * lv) ** 2 - 2 * torch.log(torch.exp(0.5 * lv)) - 1).sum(-1),
                 id="via-std"),
    pytest.param(lambda mu, lv: 0.5 * _terms(mu.double(), lv.double()).sum(1), id="float64"),
    pytest.param(lambda mu, lv: 0.5 * torch.einsum("bk->b", _terms(mu, lv)), id="einsum"),
]


@pytest.mark.parametrize("candidate, words", WRONG_kl_divergence)
def test_kl_divergence_rejects_wrong(candidate, words):
    rejects(check_kl_divergence, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_kl_divergence)
def test_kl_divergence_accepts_correct(candidate, capsys):
    _accepts(check_kl_divergence, candidate, capsys)


# =================================================================================================
# The negative ELBO
# =================================================================================================

def _solution_negative_elbo(x_hat, x, mu, logvar, sigma_x: float) -> torch.Tensor:
    # solutions/03_vae_reparametrization.py, Exercise 3 (with the solution's kl_divergence)
    d = x[0].numel()
    reconstruction = (x - x_hat).pow(2).flatten(1).sum(dim=1) / (2 * sigma_x**2) + 0.5 * d * math.log(2 * math.pi * sigma_x**2)
    return (reconstruction + _solution_kl(mu, logvar)).mean()


def _reference_elbo(x_hat, x, mu, logvar, sigma_x):
    return negative_elbo(x_hat, x, mu, logvar, sigma_x=sigma_x).loss


def _parts(x_hat, x, mu, logvar, sigma_x):
    squared = (x - x_hat).pow(2).flatten(1).sum(1)
    constant = 0.5 * x[0].numel() * math.log(2 * math.pi * sigma_x**2)
    return squared, constant, kl_to_standard_normal(mu, logvar)


def _elbo_variant(combine):
    def fn(x_hat, x, mu, logvar, sigma_x):
        squared, constant, kl = _parts(x_hat, x, mu, logvar, sigma_x)
        return combine(squared, constant, kl, sigma_x, x, mu)
    return fn


def _elbo_mse_sum(x_hat, x, mu, logvar, sigma_x):
    b, d = len(x), x[0].numel()
    reconstruction = F.mse_loss(x_hat, x, reduction="sum") / (2 * sigma_x**2) / b
    return reconstruction + 0.5 * d * math.log(2 * math.pi * sigma_x**2) + kl_to_standard_normal(mu, logvar).mean()


def _elbo_gaussian_nll_loss(x_hat, x, mu, logvar, sigma_x):
    nll = F.gaussian_nll_loss(x_hat, x, torch.full_like(x, sigma_x**2), full=True, reduction="sum") / len(x)
    return nll + (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)).mean()


def _elbo_per_image_loop(x_hat, x, mu, logvar, sigma_x):
    total = 0
    for b in range(len(x)):
        squared = ((x[b] - x_hat[b]) ** 2).sum()
        nll = squared / (2 * sigma_x**2) + x[b].numel() / 2 * math.log(2 * math.pi * sigma_x**2)
        total = total + nll + 0.5 * (mu[b] ** 2 + logvar[b].exp() - logvar[b] - 1).sum()
    return total / len(x)


def _elbo_sub_in_place(x_hat, x, mu, logvar, sigma_x):
    diff = x_hat.sub_(x)  # overwrites the decoder's output
    squared = diff.pow(2).flatten(1).sum(1)
    return (squared / (2 * sigma_x**2) + 0.5 * x[0].numel() * math.log(2 * math.pi * sigma_x**2)
            + kl_to_standard_normal(mu, logvar)).mean()


def _elbo_x_in_place(x_hat, x, mu, logvar, sigma_x):
    squared = x.sub_(x_hat).pow(2).flatten(1).sum(1)  # overwrites the data
    return (squared / (2 * sigma_x**2) + 0.5 * x[0].numel() * math.log(2 * math.pi * sigma_x**2)
            + kl_to_standard_normal(mu, logvar)).mean()


def _elbo_backward_inside(x_hat, x, mu, logvar, sigma_x):
    loss = _reference_elbo(x_hat, x, mu, logvar, sigma_x)
    loss.backward(retain_graph=True)
    return loss


WRONG_negative_elbo = [
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c).mean()), ["KL term is missing"],
                 id="no-kl"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c - k).mean()),
                 ["KL enters with the wrong sign"], id="minus-kl"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: -(s / (2 * sx**2) + c + k).mean()), ["sign is flipped"],
                 id="sign"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + k).mean()), ["constant"],
                 id="no-constant"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / sx**2 + c + k).mean()), ["2σ_x², not σ_x²"],
                 id="sigma-squared"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s + c + k).mean()), ["not scaled"], id="unscaled"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx) + 0.5 * x[0].numel()
                                                          * math.log(2 * math.pi * sx) + k).mean()),
                 ["σ_x was used as the variance"], id="sigma-as-variance"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + 0.5 * x[0].numel()
                                                          * math.log(2 * math.pi * sx) + k).mean()),
                 ["*squared* inside the log"], id="log-sigma-in-constant"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + 0.5 * x[0].numel()
                                                          * math.log(sx**2) + k).mean()),
                 ["2π"], id="constant-without-2pi"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c + k).sum()), ["summed over the batch"],
                 id="sum-over-batch"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c).sum() + k.mean()),
                 ["reconstruction term is summed over the batch but the kl averaged"], id="mixed-reductions"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c).mean() / x[0].numel() + k.mean()),
                 ["averaged over the pixels"], id="mean-over-pixels"),
    pytest.param(lambda xh, x, mu, lv, sx: F.mse_loss(xh, x) / (2 * sx**2)
                 + 0.5 * x[0].numel() * math.log(2 * math.pi * sx**2) + kl_to_standard_normal(mu, lv).mean(),
                 ["averaged over the pixels", "F.mse_loss"], id="mse-loss-default-mean"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c).mean() + k.mean() / mu.shape[1]),
                 ["averaged over the latent"], id="mean-over-latent"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: s / (2 * sx**2) + c + k), ["scalar tensor"], id="per-image"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c + k).mean().detach()),
                 ["autograd graph"], id="detached"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c + k.detach()).mean()),
                 ["no gradient reaches μ and log σ²", "KL term"], id="kl-detached"),
    pytest.param(_elbo_variant(lambda s, c, k, sx, x, mu: (s.detach() / (2 * sx**2) + c + k).mean()),
                 ["no gradient reaches x̂", "reconstruction"], id="reconstruction-detached"),
    pytest.param(lambda xh, x, mu, lv, sx: _reference_elbo(xh, x, mu, lv.detach(), sx), ["no gradient reaches log σ²"],
                 id="logvar-detached"),
    pytest.param(lambda xh, x, mu, lv, sx: _reference_elbo(xh.detach(), x, mu, lv, sx) * 0
                 + _reference_elbo(xh, x, mu, lv, sx).detach() + kl_to_standard_normal(mu, lv).mean() * 0,
                 ["no gradient reaches x̂, μ or log σ²"], id="graph-to-nowhere"),
    pytest.param(_elbo_sub_in_place, ["changed its input `x_hat` in place"], id="x-hat-sub_"),
    pytest.param(_elbo_x_in_place, ["changed its input `x` in place"], id="x-sub_"),
    pytest.param(_elbo_backward_inside, ["ran backward()"], id="backward-inside"),
    pytest.param(lambda xh, x, mu, lv, sx: _reference_elbo(xh, x, mu, lv, sx).item(), ["float"], id="item"),
    pytest.param(lambda xh, x, mu, lv, sx: negative_elbo(xh, x, mu, lv, sigma_x=sx), ["ELBOTerms"],
                 id="returns-named-tuple"),
]

CORRECT_negative_elbo = [
    pytest.param(_solution_negative_elbo, id="solution-notebook"),
    pytest.param(_reference_elbo, id="library-reference"),
    pytest.param(_elbo_mse_sum, id="mse-loss-sum"),
    pytest.param(_elbo_gaussian_nll_loss, id="gaussian-nll-loss"),
    pytest.param(_elbo_per_image_loop, id="per-image-loop"),
    pytest.param(lambda xh, x, mu, lv, sx: _reference_elbo(xh.double(), x.double(), mu.double(), lv.double(), sx),
                 id="float64"),
]


@pytest.mark.parametrize("candidate, words", WRONG_negative_elbo)
def test_negative_elbo_rejects_wrong(candidate, words):
    rejects(check_negative_elbo, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_negative_elbo)
def test_negative_elbo_accepts_correct(candidate, capsys):
    _accepts(check_negative_elbo, candidate, capsys)


# =================================================================================================
# Conditioning a CVAE
# =================================================================================================

def _solution_condition(h: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    # solutions/03_vae_reparametrization.py, Exercise 4
    code = torch.zeros(len(labels), n_classes, dtype=h.dtype)
    code[torch.arange(len(labels)), labels] = 1.0
    return torch.cat([h, code], dim=1)


def _columns_for_labels(h, y, n):
    code = torch.zeros(len(y), n)
    code[:, y] = 1  # sets every label's column in every row
    return torch.cat([h, code], 1)


def _labels_unsqueezed_in_place(h, y, n):
    code = torch.zeros(len(y), n, dtype=h.dtype).scatter_(1, y.unsqueeze_(1), 1.0)
    return torch.cat([h, code], 1)


WRONG_cvae_condition = [
    pytest.param(lambda h, y, n: torch.cat([h, y[:, None].float()], 1), ["one-hot"], id="index-column"),
    pytest.param(lambda h, y, n: torch.cat([one_hot(y, n), h], 1), ["came first"], id="prepended"),
    pytest.param(lambda h, y, n: torch.cat([h, one_hot((y + 1) % n, n)], 1), ["wrong column"], id="off-by-one"),
    pytest.param(lambda h, y, n: torch.cat([h, one_hot(y, n) * 2], 1), ["not one-hot"], id="scaled"),
    pytest.param(_columns_for_labels, ["not one-hot"], id="columns-for-all-labels"),
    pytest.param(lambda h, y, n: torch.cat([h.detach(), one_hot(y, n)], 1), ["cut off"], id="detached"),
    pytest.param(lambda h, y, n: torch.cat([h, one_hot(y, n).to(h)], 1).detach().requires_grad_(), ["cut off from h"],
                 id="detached-then-requires-grad"),
    pytest.param(lambda h, y, n: torch.cat([torch.tanh(h), one_hot(y, n)], 1), ["unchanged"], id="transformed"),
    pytest.param(lambda h, y, n: torch.cat([h, one_hot(y, n + 1)], 1), ["expected"], id="extra-class"),
    pytest.param(lambda h, y, n: torch.cat([h, F.one_hot(y)], 1), ["one_hot without the number of classes"],
                 id="one-hot-without-num-classes"),
    pytest.param(lambda h, y, n: torch.cat([h, F.one_hot(y, int(y.max()) + 1).to(h)], 1),
                 ["reads the width off the largest label"], id="width-from-batch"),
    pytest.param(lambda h, y, n: torch.cat([h, torch.from_numpy(np.eye(n)[y.numpy()])], 1), ["float64", "dtype"],
                 id="numpy-eye-float64"),
    pytest.param(lambda h, y, n: torch.cat([h, one_hot(y, n).double()], 1), ["dtype"], id="double-code"),
    pytest.param(lambda h, y, n: torch.cat([h.float(), one_hot(y, n)], 1), ["keep h's dtype"], id="h-cast-to-float32"),
    pytest.param(_labels_unsqueezed_in_place, ["changed its input `labels` in place"], id="labels-unsqueeze_"),
    pytest.param(lambda h, y, n: (torch.cat([h, one_hot(y, n).to(h)], 1), one_hot(y, n)), ["tuple"],
                 id="returns-tuple"),
    pytest.param(lambda h, y, n: torch.tensor(torch.cat([h, one_hot(y, n).to(h)], 1).tolist(), dtype=h.dtype),
                 ["cut off"], id="rebuilt-from-numbers"),
]

CORRECT_cvae_condition = [
    pytest.param(_solution_condition, id="solution-notebook"),
    pytest.param(lambda h, y, n: torch.cat([h, one_hot(y, n).to(h)], dim=1), id="library-one-hot"),
    pytest.param(lambda h, y, n: torch.cat([h, F.one_hot(y, n)], 1), id="integer-one-hot-promoted"),
    pytest.param(lambda h, y, n: torch.hstack([h, torch.eye(n, dtype=h.dtype)[y]]), id="eye-rows"),
    pytest.param(lambda h, y, n: torch.cat([h, torch.zeros(len(y), n, dtype=h.dtype).scatter_(1, y[:, None], 1.0)],
                                           -1), id="scatter"),
    pytest.param(lambda h, y, n: torch.cat([h, y[:, None] == torch.arange(n)], 1), id="boolean-comparison"),
]


@pytest.mark.parametrize("candidate, words", WRONG_cvae_condition)
def test_cvae_condition_rejects_wrong(candidate, words):
    rejects(check_cvae_condition, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_cvae_condition)
def test_cvae_condition_accepts_correct(candidate, capsys):
    _accepts(check_cvae_condition, candidate, capsys)


def test_one_hot_without_num_classes_fails_on_the_batch_without_the_last_class():
    error = rejects(check_cvae_condition, lambda h, y, n: torch.cat([h, F.one_hot(y)], 1), words=["classes 7–9 absent"])
    assert "7 columns, not 10" in str(error)


# =================================================================================================
# Shared
# =================================================================================================

_LISTS = {
    "reparametrize": (WRONG_reparametrize, CORRECT_reparametrize),
    "kl_divergence": (WRONG_kl_divergence, CORRECT_kl_divergence),
    "negative_elbo": (WRONG_negative_elbo, CORRECT_negative_elbo),
    "cvae_condition": (WRONG_cvae_condition, CORRECT_cvae_condition),
}


@pytest.mark.parametrize("name", list(_LISTS))
def test_every_check_has_a_mutant_suite(name):
    wrong, correct = _LISTS[name]
    assert len(wrong) >= 8 and len(correct) >= 2


@pytest.mark.parametrize("seed", [1, 2])
def test_no_verdict_hangs_on_the_seed(seed, monkeypatch, capsys):
    """Every wrong answer is still rejected with its hint, every correct one accepted, when the hidden data
    come from other seeds: no verdict is a coincidence of seed 0."""
    seeded = vae_checks._seeded
    monkeypatch.setattr(vae_checks, "_seeded", lambda s=0: seeded(s + 1000 * seed))
    checks = {"reparametrize": check_reparametrize, "kl_divergence": check_kl_divergence,
              "negative_elbo": check_negative_elbo, "cvae_condition": check_cvae_condition}
    for name, (wrong, correct) in _LISTS.items():
        for case in wrong:
            candidate, words = case.values
            rejects(checks[name], candidate, words=words)
        for case in correct:
            checks[name](case.values[0])
    assert capsys.readouterr().out.count("passed") == sum(len(correct) for _, correct in _LISTS.values())


@pytest.mark.parametrize("check", [check_reparametrize, check_kl_divergence, check_negative_elbo, check_cvae_condition])
def test_blanks_pass_through(check):
    with pytest.raises(NotImplementedError):
        check(_blank)


@pytest.mark.parametrize("check, candidate", [
    (check_reparametrize, _solution_reparametrize), (check_kl_divergence, _solution_kl),
    (check_negative_elbo, _solution_negative_elbo), (check_cvae_condition, _solution_condition),
])
def test_checks_leave_the_global_random_state_alone(check, candidate):
    torch.manual_seed(7)
    before = torch.get_rng_state()
    check(candidate)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("check, candidate, line", [
    (check_reparametrize, _solution_reparametrize, "✓ check_reparametrize passed: mean, variance and fresh noise are "
     "right, and gradients reach μ (= 1) and log σ² (= ½ σ ε).\n"),
    (check_kl_divergence, _solution_kl, "✓ check_kl_divergence passed: 3 hidden batches agree with "
     "½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), and KL[N(0, I) ‖ N(0, I)] = 0.\n"),
    (check_negative_elbo, _solution_negative_elbo, "✓ check_negative_elbo passed: 3 hidden batches agree: per-image "
     "Gaussian NLL + KL, averaged over the batch, in nats.\n"),
    (check_cvae_condition, _solution_condition, "✓ check_cvae_condition passed: 3 hidden batches give "
     "[h, one-hot(c)], with gradients flowing to h.\n"),
])
def test_pass_lines_are_unchanged(check, candidate, line, capsys):
    check(candidate)
    assert capsys.readouterr().out == line
