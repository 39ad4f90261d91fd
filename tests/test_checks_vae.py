"""Lecture 03's self-checks accept the references, reject the common mistakes by name, and let blanks through."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.checks import (
    CheckFailed,
    check_cvae_condition,
    check_kl_divergence,
    check_negative_elbo,
    check_reparametrize,
)
from course_lib.vae import kl_to_standard_normal, negative_elbo, one_hot, reparametrize

from check_helpers import blank as _blank, rejects


def _rejects(check, candidate, *words: str) -> CheckFailed:
    return rejects(check, candidate, words=words)


# --- reparametrize -------------------------------------------------------------------------------

def test_reparametrize_accepts_reference(capsys):
    check_reparametrize(lambda mu, logvar: reparametrize(mu, logvar))
    assert capsys.readouterr().out.startswith("✓ check_reparametrize passed")


@pytest.mark.parametrize("wrong, words", [
    (lambda mu, lv: mu + lv.exp() * torch.randn_like(mu), ["σ⁴", "exp(½ log σ²)"]),
    (lambda mu, lv: mu + lv * torch.randn_like(mu), ["(log σ²)²"]),
    (lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.rand_like(mu), ["uniform"]),
    (lambda mu, lv: mu + 0 * lv, ["do not vary"]),
    (lambda mu, lv: torch.normal(mu, torch.exp(0.5 * lv)), ["gradient reaching μ is 0", "torch.normal"]),
    (lambda mu, lv: torch.distributions.Normal(mu, torch.exp(0.5 * lv)).sample(), ["cut off"]),
    (lambda mu, lv: (mu + torch.exp(0.5 * lv) * torch.randn_like(mu)).detach(), ["cut off"]),
    (lambda mu, lv: mu + torch.exp(0.5 * lv.detach()) * torch.randn_like(mu), ["½ σ ε"]),
    (lambda mu, lv: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(0)),
     ["same z"]),
    (lambda mu, lv: mu[:, :1] + torch.exp(0.5 * lv) * torch.randn_like(mu), ["sample mean"]),
], ids=["variance", "logvar-as-std", "uniform", "no-noise", "torch-normal", "sample", "detached", "logvar-detached",
        "fixed-seed", "broadcast-mean"])
def test_reparametrize_names_the_mistake(wrong, words):
    _rejects(check_reparametrize, wrong, *words)


# --- KL ------------------------------------------------------------------------------------------

def test_kl_accepts_reference(capsys):
    check_kl_divergence(kl_to_standard_normal)
    assert "✓ check_kl_divergence passed" in capsys.readouterr().out


def _terms(mu, lv):
    return mu.pow(2) + lv.exp() - lv - 1


@pytest.mark.parametrize("wrong, words", [
    (lambda mu, lv: -0.5 * _terms(mu, lv).sum(1), ["sign is flipped"]),
    (lambda mu, lv: 0.5 * _terms(mu, lv).mean(1), ["averaged over the latent"]),
    (lambda mu, lv: _terms(mu, lv).sum(1), ["½"]),
    (lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() - lv).sum(1), ["−1"]),
    (lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp().sqrt() - 0.5 * lv - 1).sum(1), ["σ and σ² are mixed up"]),
    (lambda mu, lv: 0.5 * (mu.pow(2) + lv.exp() + lv - 1).sum(1), ["sign of the log σ²"]),
    (lambda mu, lv: 0.5 * _terms(mu, lv).sum(), ["single number"]),
    (lambda mu, lv: 0.5 * _terms(mu, lv), ["expected"]),
    (lambda mu, lv: 0.5 * _terms(mu, lv).sum(1) + 0.1, ["differ"]),
], ids=["sign", "mean", "half", "minus-one", "sigma", "logvar-sign", "scalar", "unreduced", "other"])
def test_kl_names_the_mistake(wrong, words):
    _rejects(check_kl_divergence, wrong, *words)


# --- negative ELBO -------------------------------------------------------------------------------

def _reference_elbo(x_hat, x, mu, logvar, sigma_x):
    return negative_elbo(x_hat, x, mu, logvar, sigma_x=sigma_x).loss


def test_negative_elbo_accepts_reference(capsys):
    check_negative_elbo(_reference_elbo)
    assert "✓ check_negative_elbo passed" in capsys.readouterr().out


def _parts(x_hat, x, mu, logvar, sigma_x):
    squared = (x - x_hat).pow(2).flatten(1).sum(1)
    constant = 0.5 * x[0].numel() * math.log(2 * math.pi * sigma_x**2)
    return squared, constant, kl_to_standard_normal(mu, logvar)


def _elbo_variant(combine):
    def fn(x_hat, x, mu, logvar, sigma_x):
        squared, constant, kl = _parts(x_hat, x, mu, logvar, sigma_x)
        return combine(squared, constant, kl, sigma_x, x, mu)
    return fn


@pytest.mark.parametrize("wrong, words", [
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c).mean()), ["KL term is missing"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c - k).mean()), ["KL enters with the wrong sign"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: -(s / (2 * sx**2) + c + k).mean()), ["sign is flipped"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + k).mean()), ["constant"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s / sx**2 + c + k).mean()), ["2σ_x², not σ_x²"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s + c + k).mean()), ["not scaled"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c + k).sum()), ["summed over the batch"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c).mean() / x[0].numel() + k.mean()),
     ["averaged over the pixels"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c).mean() + k.mean() / mu.shape[1]),
     ["averaged over the latent"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: s / (2 * sx**2) + c + k), ["scalar tensor"]),
    (_elbo_variant(lambda s, c, k, sx, x, mu: (s / (2 * sx**2) + c + k).mean().detach()), ["autograd graph"]),
], ids=["no-kl", "minus-kl", "sign", "no-constant", "sigma-squared", "unscaled", "sum-batch", "mean-pixels",
        "mean-latent", "per-image", "detached"])
def test_negative_elbo_names_the_mistake(wrong, words):
    _rejects(check_negative_elbo, wrong, *words)


# --- CVAE conditioning ---------------------------------------------------------------------------

def test_cvae_condition_accepts_reference(capsys):
    check_cvae_condition(lambda h, labels, n: torch.cat([h, one_hot(labels, n)], dim=1))
    assert "✓ check_cvae_condition passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda h, y, n: torch.cat([h, y[:, None].float()], 1), ["one-hot"]),
    (lambda h, y, n: torch.cat([one_hot(y, n), h], 1), ["came first"]),
    (lambda h, y, n: torch.cat([h, one_hot((y + 1) % n, n)], 1), ["wrong column"]),
    (lambda h, y, n: torch.cat([h, one_hot(y, n) * 2], 1), ["not one-hot"]),
    (lambda h, y, n: torch.cat([h.detach(), one_hot(y, n)], 1), ["cut off"]),
    (lambda h, y, n: torch.cat([torch.tanh(h), one_hot(y, n)], 1), ["unchanged"]),
    (lambda h, y, n: torch.cat([h, one_hot(y, n + 1)], 1), ["expected"]),
], ids=["index-column", "prepended", "off-by-one", "scaled", "detached", "transformed", "extra-class"])
def test_cvae_condition_names_the_mistake(wrong, words):
    _rejects(check_cvae_condition, wrong, *words)


@pytest.mark.parametrize("check", [check_reparametrize, check_kl_divergence, check_negative_elbo, check_cvae_condition])
def test_blanks_pass_through(check):
    with pytest.raises(NotImplementedError):
        check(_blank)
