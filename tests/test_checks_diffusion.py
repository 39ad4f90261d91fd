"""Lecture 07's self-checks accept the references, reject the common mistakes by name, and let blanks through.

The references here are written as a student would write them, in plain torch, not by calling
course_lib.diffusion: the checks compare them with the library's implementations.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from course_lib.checks import (
    check_ddim_step,
    check_ddpm_step,
    check_epsilon_loss,
    check_forward_noising,
    check_guidance,
)

from check_helpers import blank as _blank, rejects


def _per_sample(values, like):
    return values.to(like.dtype).view(-1, *([1] * (like.ndim - 1)))


# --- the forward process -------------------------------------------------------------------------

def _noising(x0, t, alpha_bar, noise):
    ab = _per_sample(alpha_bar[t], x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def _noising_gather(x0, t, alpha_bar, noise):
    ab = torch.gather(alpha_bar, 0, t).reshape(len(t), *([1] * (x0.ndim - 1)))
    return (torch.sqrt(ab) * x0.double() + torch.sqrt(1 - ab) * noise.double()).to(x0.dtype)


def _noising_addcmul(x0, t, alpha_bar, noise):
    scale, spread = alpha_bar.sqrt()[t].float(), (1 - alpha_bar).sqrt()[t].float()
    while scale.ndim < x0.ndim:
        scale, spread = scale.unsqueeze(-1), spread.unsqueeze(-1)
    return torch.addcmul(scale * x0, spread, noise)


@pytest.mark.parametrize("correct", [_noising, _noising_gather, _noising_addcmul], ids=["view", "gather", "addcmul"])
def test_forward_noising_accepts_correct_answers(correct, capsys):
    check_forward_noising(correct)
    assert capsys.readouterr().out.startswith("✓ check_forward_noising passed")


def _noising_with(signal, spread, index=lambda t, a: a[t], cast=True):
    def fn(x0, t, alpha_bar, noise):
        ab = index(t, alpha_bar).view(-1, *([1] * (x0.ndim - 1)))
        ab = ab.to(x0.dtype) if cast else ab
        return signal(ab) * x0 + spread(ab) * noise
    return fn


def _beta(x0, t, alpha_bar, noise):
    beta = _per_sample(1 - alpha_bar[t] / alpha_bar[t - 1], x0)
    return (1 - beta).sqrt() * x0 + beta.sqrt() * noise


def _no_reshape(x0, t, alpha_bar, noise):
    ab = alpha_bar[t].float()
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def _reshape_for_points(x0, t, alpha_bar, noise):
    ab = alpha_bar[t].float()[:, None]
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def _in_place(x0, t, alpha_bar, noise):
    ab = _per_sample(alpha_bar[t], x0)
    return x0.mul_(ab.sqrt()).add_((1 - ab).sqrt() * noise)


def _own_noise(x0, t, alpha_bar, noise):
    return _noising(x0, t, alpha_bar, torch.randn_like(x0))


@pytest.mark.parametrize("wrong, words", [
    (_noising_with(lambda a: a, lambda a: 1 - a), ["variances", "square roots"]),
    (_noising_with(lambda a: a.sqrt(), lambda a: 1 - a), ["ε is scaled by 1 − ᾱ_t"]),
    (_noising_with(lambda a: a, lambda a: (1 - a).sqrt()), ["x0 is scaled by ᾱ_t"]),
    (_noising_with(lambda a: (1 - a).sqrt(), lambda a: a.sqrt()), ["swapped"]),
    (_noising_with(lambda a: a.sqrt(), lambda a: (1 - a).sqrt(), index=lambda t, a: a[t - 1]), ["off by one"]),
    (_noising_with(lambda a: a.sqrt(), lambda a: (1 - a).sqrt(), index=lambda t, a: a[-1].expand(len(t))),
     ["last step t"]),
    (_noising_with(lambda a: 1, lambda a: (1 - a).sqrt()), ["x0 is not scaled"]),
    (_noising_with(lambda a: a.sqrt(), lambda a: -(1 - a).sqrt()), ["subtracted"]),
    (_noising_with(lambda a: a.sqrt(), lambda a: (1 - a).sqrt(), cast=False), ["float64", "dtype"]),
    (_beta, ["β_t", "cumulative"]),
    (_no_reshape, ["raised RuntimeError", "(B, 1, …, 1)"]),
    (_reshape_for_points, ["raised RuntimeError", "(B, 1, …, 1)"]),
    (_in_place, ["changed its input x0 in place"]),
    (_own_noise, ["`noise` argument"]),
    (lambda x0, t, a, noise: _noising(x0, t, a, noise).flatten(1), ["expected (6, 1, 8, 8)"]),
], ids=["variances", "noise-variance", "signal-variance", "swapped", "off-by-one", "alpha-bar-T", "no-signal-scale",
        "minus-noise", "float64", "beta", "no-reshape", "points-only-reshape", "in-place", "own-noise", "flattened"])
def test_forward_noising_names_the_mistake(wrong, words):
    rejects(check_forward_noising, wrong, words=words)


def test_broadcast_crash_keeps_its_cause():
    error = rejects(check_forward_noising, _no_reshape, words=["raised RuntimeError"])
    assert isinstance(error.__cause__, RuntimeError)


# --- the ε-loss ----------------------------------------------------------------------------------

def _loss(eps_pred, eps):
    return ((eps - eps_pred) ** 2).mean()


@pytest.mark.parametrize("correct", [
    _loss,
    lambda p, e: F.mse_loss(p, e),
    lambda p, e: (p - e).pow(2).sum() / e.numel(),
    lambda p, e: torch.square(p - e).flatten(1).mean(1).mean(),
], ids=["mean", "mse-loss", "sum-over-numel", "mean-of-means"])
def test_epsilon_loss_accepts_correct_answers(correct, capsys):
    check_epsilon_loss(correct)
    assert capsys.readouterr().out.startswith("✓ check_epsilon_loss passed")


@pytest.mark.parametrize("wrong, words", [
    (lambda p, e: ((e - p) ** 2).sum(), ["summed over every element"]),
    (lambda p, e: ((e - p) ** 2).flatten(1).sum(1).mean(), ["summed over each sample", "averaged over the batch only"]),
    (lambda p, e: ((e - p) ** 2).flatten(1).mean(1).sum(), ["summed over the batch"]),
    (lambda p, e: (e - p).abs().mean(), ["absolute error"]),
    (lambda p, e: ((e - p) ** 2).mean().sqrt(), ["square root"]),
    (lambda p, e: 0.5 * ((e - p) ** 2).mean(), ["factor ½"]),
    (lambda p, e: (e - p).mean() ** 2, ["squared the mean error"]),
    (lambda p, e: (e - p).flatten(1).norm(dim=1).mean(), ["per-sample norms"]),
    (lambda p, e: ((e - p.detach()) ** 2).mean(), ["cut off", "detached"]),
    (lambda p, e: ((e - p) ** 2).mean().item(), ["returned a float"]),
    (lambda p, e: (e - p) ** 2, ["returned shape", "one number"]),
    (lambda p, e: ((e - p) ** 2).flatten(1).mean(1), ["one value per sample"]),
    (lambda p, e: e.sub_(p).pow_(2).mean(), ["changed its input eps in place"]),
    (lambda p, e: ((e - p.detach()) ** 2).mean() + 0 * p.sum(), ["gradient", "2(ε̂ − ε)/N"]),
], ids=["sum", "per-sample-sum", "batch-sum", "l1", "rmse", "half", "square-of-mean", "norm", "detached", "item",
        "unreduced", "per-sample", "in-place", "no-gradient"])
def test_epsilon_loss_names_the_mistake(wrong, words):
    rejects(check_epsilon_loss, wrong, words=words)


# --- one DDPM step -------------------------------------------------------------------------------

def _x0_hat(x_t, eps_pred, ab_t):
    return (x_t - (1 - ab_t).sqrt() * eps_pred) / ab_t.sqrt()


def _ddpm(x_t, eps_pred, t, s, alpha_bar, noise):
    ab_t, ab_s = alpha_bar[t], alpha_bar[s]
    x0 = _x0_hat(x_t, eps_pred, ab_t)
    beta = 1 - ab_t / ab_s
    mean = ab_s.sqrt() * beta / (1 - ab_t) * x0 + (ab_t / ab_s).sqrt() * (1 - ab_s) / (1 - ab_t) * x_t
    return mean + ((1 - ab_s) / (1 - ab_t) * beta).sqrt() * noise


def _ddpm_as_ddim_eta_1(x_t, eps_pred, t, s, alpha_bar, noise):
    """DDIM's eq. 12 with η = 1 is DDPM's ancestral step: α_s x̂_0 + √(σ_s² − β̃) ε_θ + √β̃ z."""
    ab_t, ab_s = alpha_bar[t].item(), alpha_bar[s].item()
    var = (1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)
    x0 = (x_t - math.sqrt(1 - ab_t) * eps_pred) / math.sqrt(ab_t)
    return math.sqrt(ab_s) * x0 + math.sqrt(max(1 - ab_s - var, 0.0)) * eps_pred + math.sqrt(var) * noise


def _ddpm_floats(x_t, eps_pred, t, s, alpha_bar, noise):
    """The lecture's notation with Python floats: α_{t|s} = α_t/α_s, β_{t|s} = 1 − α_{t|s}²."""
    a_t, a_s = math.sqrt(alpha_bar[t]), math.sqrt(alpha_bar[s])
    s_t2, s_s2 = 1 - a_t**2, 1 - a_s**2
    a_ts = a_t / a_s
    b_ts = 1 - a_ts**2
    x0 = (x_t - math.sqrt(s_t2) * eps_pred) / a_t
    return (a_s * b_ts / s_t2) * x0 + (a_ts * s_s2 / s_t2) * x_t + math.sqrt(s_s2 * b_ts / s_t2) * noise


@pytest.mark.parametrize("correct", [_ddpm, _ddpm_as_ddim_eta_1, _ddpm_floats], ids=["posterior", "ddim-eta-1", "floats"])
def test_ddpm_step_accepts_correct_answers(correct, capsys):
    check_ddpm_step(correct)
    assert capsys.readouterr().out.startswith("✓ check_ddpm_step passed")


def _ddpm_with(std=None, mean=None, x0_hat=_x0_hat, index=lambda a, t, s: (a[t], a[s])):
    """The reference, with one piece replaced: std(ab_t, ab_s, t, s) or mean(x0, x_t, eps_pred, ab_t, ab_s)."""
    def fn(x_t, eps_pred, t, s, alpha_bar, noise):
        ab_t, ab_s = index(alpha_bar, t, s)
        x0 = x0_hat(x_t, eps_pred, ab_t)
        beta = 1 - ab_t / ab_s
        if mean is None:
            mu = ab_s.sqrt() * beta / (1 - ab_t) * x0 + (ab_t / ab_s).sqrt() * (1 - ab_s) / (1 - ab_t) * x_t
        else:
            mu = mean(x0, x_t, eps_pred, ab_t, ab_s, alpha_bar[t - 1])
        sd = ((1 - ab_s) / (1 - ab_t) * beta).sqrt() if std is None else std(ab_t, ab_s, s)
        return mu + sd * noise
    return fn


def _posterior_var(ab_t, ab_s):
    return (1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s)


def _eq11(x0, x_t, eps_pred, ab_t, ab_s, ab_prev):
    beta_t = 1 - ab_t / ab_prev
    return (x_t - beta_t / (1 - ab_t).sqrt() * eps_pred) / (1 - beta_t).sqrt()


def _ddpm_eq11_one_step_variance(x_t, eps_pred, t, s, alpha_bar, noise):
    ab_t, ab_prev = alpha_bar[t], alpha_bar[t - 1]
    beta_t = 1 - ab_t / ab_prev
    mean = (x_t - beta_t / (1 - ab_t).sqrt() * eps_pred) / (1 - beta_t).sqrt()
    return mean + ((1 - ab_prev) / (1 - ab_t) * beta_t).sqrt() * noise


def _ddpm_promoting(x_t, eps_pred, t, s, alpha_bar, noise):
    ab_t, ab_s = alpha_bar[[t]], alpha_bar[[s]]  # shape (1,): float64 tensors that promote the result
    x0 = _x0_hat(x_t, eps_pred, ab_t)
    beta = 1 - ab_t / ab_s
    mean = ab_s.sqrt() * beta / (1 - ab_t) * x0 + (ab_t / ab_s).sqrt() * (1 - ab_s) / (1 - ab_t) * x_t
    return mean + ((1 - ab_s) / (1 - ab_t) * beta).sqrt() * noise


def _ddpm_in_place(x_t, eps_pred, t, s, alpha_bar, noise):
    out = _ddpm(x_t, eps_pred, t, s, alpha_bar, noise)
    x_t.copy_(out)
    return x_t


@pytest.mark.parametrize("wrong, words", [
    (_ddpm_with(std=lambda ab_t, ab_s, s: 0), ["no noise was added"]),
    (_ddpm_with(std=lambda ab_t, ab_s, s: (1 - ab_t / ab_s).sqrt()), ["forward step's variance", "posterior"]),
    (_ddpm_with(std=lambda ab_t, ab_s, s: _posterior_var(ab_t, ab_s)), ["variance β̃", "standard deviation"]),
    (_ddpm_with(std=lambda ab_t, ab_s, s: _posterior_var(ab_t, ab_s).sqrt() if s > 0 else (1 - ab_t).sqrt()),
     ["noise was added at s = 0"]),
    (_ddpm_with(std=lambda ab_t, ab_s, s: 0.5 * _posterior_var(ab_t, ab_s).sqrt()), ["noise term's scale"]),
    (_ddpm_with(mean=_eq11), ["any s < t"]),
    (_ddpm_eq11_one_step_variance, ["any s < t"]),
    (_ddpm_with(x0_hat=lambda x_t, e, ab_t: (x_t + (1 - ab_t).sqrt() * e) / ab_t.sqrt()), ["sign of ε_θ"]),
    (_ddpm_with(x0_hat=lambda x_t, e, ab_t: x_t - (1 - ab_t).sqrt() * e), ["not divided by α_t"]),
    (_ddpm_with(x0_hat=lambda x_t, e, ab_t: (x_t - (1 - ab_t) * e) / ab_t), ["variances"]),
    (_ddpm_with(index=lambda a, t, s: (a[t - 1], a[s - 1])), ["off by one"]),
    (_ddpm_with(mean=lambda x0, x_t, e, ab_t, ab_s, _: ab_s.sqrt() * x0 + (1 - ab_s).sqrt() * e), ["DDIM update"]),
    (lambda x_t, e, t, s, a, noise: _ddpm(x_t, e, t, s, a, torch.randn_like(x_t)), ["`noise` argument"]),
    (_ddpm_promoting, ["float64", "dtype"]),
    (_ddpm_in_place, ["changed its input x_t in place"]),
], ids=["no-noise", "beta-noise", "variance-as-std", "noise-at-0", "half-noise", "eq11-mean", "eq11-one-step",
        "eps-sign", "x0-not-divided", "x0-variances", "off-by-one", "ddim-mean", "own-noise", "float64", "in-place"])
def test_ddpm_step_names_the_mistake(wrong, words):
    rejects(check_ddpm_step, wrong, words=words)


# --- one DDIM step -------------------------------------------------------------------------------

def _ddim(x_t, eps_pred, t, s, alpha_bar):
    ab_t, ab_s = alpha_bar[t], alpha_bar[s]
    x0 = _x0_hat(x_t, eps_pred, ab_t)
    return ab_s.sqrt() * x0 + (1 - ab_s).sqrt() * eps_pred


def _ddim_ratio(x_t, eps_pred, t, s, alpha_bar):
    """x_s = (α_s/α_t) x_t + (σ_s − α_s σ_t/α_t) ε_θ: the same step, written as the ODE's Euler step."""
    a_t, a_s = math.sqrt(alpha_bar[t]), math.sqrt(alpha_bar[s])
    s_t, s_s = math.sqrt(1 - a_t**2), math.sqrt(1 - a_s**2)
    return torch.add(a_s / a_t * x_t, eps_pred, alpha=s_s - a_s * s_t / a_t)


def _ddim_over_alpha(x_t, eps_pred, t, s, alpha_bar):
    """In the variables x/α and σ/α the step is x_s/α_s = x_t/α_t + (σ_s/α_s − σ_t/α_t) ε_θ."""
    snr_t, snr_s = ((1 - alpha_bar[[t, s]]) / alpha_bar[[t, s]]).sqrt().tolist()
    a_s = alpha_bar[s].sqrt().item()
    return a_s * (x_t / alpha_bar[t].sqrt().item() + (snr_s - snr_t) * eps_pred)


@pytest.mark.parametrize("correct", [_ddim, _ddim_ratio, _ddim_over_alpha], ids=["x0-hat", "ratio", "over-alpha"])
def test_ddim_step_accepts_correct_answers(correct, capsys):
    check_ddim_step(correct)
    assert capsys.readouterr().out.startswith("✓ check_ddim_step passed")


def _ddim_with(x0_coef, eps_coef, x0_hat=_x0_hat, index=lambda a, t, s: (a[t], a[s])):
    def fn(x_t, eps_pred, t, s, alpha_bar):
        ab_t, ab_s = index(alpha_bar, t, s)
        return x0_coef(ab_t, ab_s) * x0_hat(x_t, eps_pred, ab_t) + eps_coef(ab_t, ab_s) * eps_pred
    return fn


def _ddim_ddpm_mean(x_t, eps_pred, t, s, alpha_bar):
    return _ddpm(x_t, eps_pred, t, s, alpha_bar, torch.zeros_like(x_t))


def _ddim_in_place(x_t, eps_pred, t, s, alpha_bar):
    ab_t, ab_s = alpha_bar[t], alpha_bar[s]
    x_t.sub_((1 - ab_t).sqrt() * eps_pred).div_(ab_t.sqrt())
    return ab_s.sqrt() * x_t + (1 - ab_s).sqrt() * eps_pred


@pytest.mark.parametrize("wrong, words", [
    (_ddim_with(lambda ab_t, ab_s: 1, lambda ab_t, ab_s: (1 - ab_s).sqrt()), ["not rescaled by α_s"]),
    (_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_t).sqrt()), ["uses σ_t"]),
    (_ddim_with(lambda ab_t, ab_s: 1, lambda ab_t, ab_s: 0), ["returned x̂_0"]),
    (_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_s).sqrt(),
                index=lambda a, t, s: (a[t - 1], a[s - 1])), ["off by one"]),
    (_ddim_with(lambda ab_t, ab_s: ab_s, lambda ab_t, ab_s: 1 - ab_s), ["variances"]),
    (_ddim_with(lambda ab_t, ab_s: (1 - ab_s).sqrt(), lambda ab_t, ab_s: ab_s.sqrt()), ["swapped"]),
    (_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_s).sqrt(),
                x0_hat=lambda x_t, e, ab_t: (x_t + (1 - ab_t).sqrt() * e) / ab_t.sqrt()), ["sign of ε_θ"]),
    (_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_s).sqrt(),
                x0_hat=lambda x_t, e, ab_t: x_t - (1 - ab_t).sqrt() * e), ["not divided by α_t"]),
    (_ddim_ddpm_mean, ["mean of ddpm"]),
    (lambda x_t, e, t, s, a: _ddim(x_t, e, t, s, a) + 0.01 * torch.randn_like(x_t), ["deterministic", "two calls"]),
    (lambda x_t, e, t, s, a: _ddim(x_t, e, t, s, a) + 0 * torch.randn_like(x_t), ["draws random numbers"]),
    (_ddim_in_place, ["changed its input x_t in place"]),
    (lambda x_t, e, t, s, a: _ddim(x_t, e, t, s, a)[..., :1], ["returned shape"]),
], ids=["no-alpha-s", "sigma-t", "x0-hat", "off-by-one", "variances", "swapped", "eps-sign", "x0-not-divided",
        "ddpm-mean", "stochastic", "consumes-rng", "in-place", "shape"])
def test_ddim_step_names_the_mistake(wrong, words):
    rejects(check_ddim_step, wrong, words=words)


# --- classifier-free guidance --------------------------------------------------------------------

@pytest.mark.parametrize("correct", [
    lambda c, u, w: (1 + w) * c - w * u,
    lambda c, u, w: c + w * (c - u),
    lambda c, u, w: torch.lerp(u, c, 1 + w),
    lambda c, u, w: torch.add(c, c - u, alpha=w),
], ids=["formula", "push", "lerp", "add-alpha"])
def test_guidance_accepts_correct_answers(correct, capsys):
    check_guidance(correct)
    assert capsys.readouterr().out.startswith("✓ check_guidance passed")


def _guidance_in_place(c, u, w):
    return c.mul_(1 + w).sub_(w * u)


@pytest.mark.parametrize("wrong, words", [
    (lambda c, u, w: w * c + (1 - w) * u, ["w = 0 gives the conditional prediction", "ho & salimans"]),
    (lambda c, u, w: torch.lerp(u, c, w), ["w = 0 gives the conditional prediction"]),
    (lambda c, u, w: (1 + w) * u - w * c, ["swapped"]),
    (lambda c, u, w: c + w * (u - c), ["wrong sign"]),
    (lambda c, u, w: (1 + w) * c, ["ε_u is missing"]),
    (lambda c, u, w: (1 + w) * c + w * u, ["subtracted, not added"]),
    (lambda c, u, w: c - w * u, ["weighted by 1 + w"]),
    (lambda c, u, w: w * (c - u), ["conditional prediction itself is missing"]),
    (lambda c, u, w: ((1 + w) * c - w * u) / (1 + w), ["divided by 1 + w"]),
    (_guidance_in_place, ["changed its input eps_cond in place"]),
    (lambda c, u, w: torch.stack([c, u]).mean(0), ["differs"]),
    (lambda c, u, w: torch.cat([(1 + w) * c, -w * u]), ["returned shape"]),
], ids=["w-prime", "lerp-w", "swapped", "push-sign", "no-uncond", "plus-uncond", "no-1-plus-w", "no-cond",
        "normalised", "in-place", "average", "concatenated"])
def test_guidance_names_the_mistake(wrong, words):
    rejects(check_guidance, wrong, words=words)


def test_guidance_at_zero_names_the_convention():
    def uncond_at_zero(c, u, w):
        return u if w == 0 else (1 + w) * c - w * u

    rejects(check_guidance, uncond_at_zero, words=["at w = 0", "conditional prediction"])


# --- blanks and the global state -----------------------------------------------------------------

@pytest.mark.parametrize("check", [check_forward_noising, check_epsilon_loss, check_ddpm_step, check_ddim_step,
                                   check_guidance])
def test_blanks_pass_through(check):
    with pytest.raises(NotImplementedError):
        check(_blank)


def test_checks_leave_the_global_generator_alone(capsys):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_ddpm_step(_ddpm)
    check_forward_noising(_noising)
    assert torch.equal(torch.rand(3), expected)
