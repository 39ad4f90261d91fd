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


def _accepts(check, candidate, capsys) -> None:
    check(candidate)
    out = capsys.readouterr().out
    assert out.startswith(f"✓ {check.__name__} passed"), out


# --- the solution notebook's answers (solutions/07_diffusion_models.py, copied verbatim) ---------

def forward_noising(x0: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    a = alpha_bar[t].to(x0.dtype).view(-1, *([1] * (x0.ndim - 1)))
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


def epsilon_loss(eps_pred: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    return ((eps - eps_pred) ** 2).mean()


def ddpm_step(x_t: torch.Tensor, eps_pred: torch.Tensor, t: int, s: int, alpha_bar: torch.Tensor,
              noise: torch.Tensor) -> torch.Tensor:
    a_t, a_s = alpha_bar[t].item(), alpha_bar[s].item()
    sigma2_t, sigma2_s = 1 - a_t, 1 - a_s
    x0_hat = (x_t - math.sqrt(sigma2_t) * eps_pred) / math.sqrt(a_t)
    alpha_ts = math.sqrt(a_t / a_s)
    beta_ts = 1 - a_t / a_s
    mean = (math.sqrt(a_s) * beta_ts / sigma2_t) * x0_hat + (alpha_ts * sigma2_s / sigma2_t) * x_t
    return mean + math.sqrt(sigma2_s * beta_ts / sigma2_t) * noise


def ddim_step(x_t: torch.Tensor, eps_pred: torch.Tensor, t: int, s: int, alpha_bar: torch.Tensor) -> torch.Tensor:
    a_t, a_s = alpha_bar[t].item(), alpha_bar[s].item()
    x0_hat = (x_t - math.sqrt(1 - a_t) * eps_pred) / math.sqrt(a_t)
    return math.sqrt(a_s) * x0_hat + math.sqrt(1 - a_s) * eps_pred


def guided_epsilon(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, w: float) -> torch.Tensor:
    return (1 + w) * eps_cond - w * eps_uncond


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


def _noising_loop(x0, t, alpha_bar, noise):
    """Sample by sample, with Python floats."""
    rows = []
    for x, n, step in zip(x0, noise, t.tolist()):
        ab = alpha_bar[step].item()
        rows.append(math.sqrt(ab) * x + math.sqrt(1 - ab) * n)
    return torch.stack(rows)


CORRECT_forward_noising = [
    pytest.param(forward_noising, id="solution-notebook"),
    pytest.param(_noising, id="view"),
    pytest.param(_noising_gather, id="gather-float64"),
    pytest.param(_noising_addcmul, id="addcmul"),
    pytest.param(_noising_loop, id="python-loop"),
]


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


_kept_noise = {}


def _noising_kept_noise(x0, t, alpha_bar, noise):
    noise = _kept_noise.setdefault(tuple(x0.shape), noise.clone())  # the first noise of each shape, kept
    return _noising(x0, t, alpha_bar, noise)


def _noising_noise_in_place(x0, t, alpha_bar, noise):
    ab = _per_sample(alpha_bar[t], x0)
    return ab.sqrt() * x0 + noise.mul_((1 - ab).sqrt())


def _noising_sqrt_in_place(x0, t, alpha_bar, noise):
    root = alpha_bar.sqrt_()  # overwrites the caller's schedule
    ab = _per_sample(root[t], x0) ** 2
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


WRONG_forward_noising = [
    pytest.param(_noising_with(lambda a: a, lambda a: 1 - a), ["variances", "square roots"], id="variances"),
    pytest.param(_noising_with(lambda a: a.sqrt(), lambda a: 1 - a), ["ε is scaled by 1 − ᾱ_t"], id="noise-variance"),
    pytest.param(_noising_with(lambda a: a, lambda a: (1 - a).sqrt()), ["x0 is scaled by ᾱ_t"], id="signal-variance"),
    pytest.param(_noising_with(lambda a: (1 - a).sqrt(), lambda a: a.sqrt()), ["swapped"], id="swapped"),
    pytest.param(_noising_with(lambda a: a.sqrt(), lambda a: (1 - a).sqrt(), index=lambda t, a: a[t - 1]),
                 ["off by one"], id="off-by-one"),
    pytest.param(_noising_with(lambda a: a.sqrt(), lambda a: (1 - a).sqrt(), index=lambda t, a: a[-1].expand(len(t))),
                 ["last step t"], id="alpha-bar-T"),
    pytest.param(_noising_with(lambda a: 1, lambda a: (1 - a).sqrt()), ["x0 is not scaled"], id="no-signal-scale"),
    pytest.param(_noising_with(lambda a: a.sqrt(), lambda a: -(1 - a).sqrt()), ["subtracted"], id="minus-noise"),
    pytest.param(_noising_with(lambda a: a.sqrt(), lambda a: (1 - a).sqrt(), cast=False), ["float64", "dtype"],
                 id="float64"),
    pytest.param(_beta, ["β_t", "cumulative"], id="beta"),
    pytest.param(_no_reshape, ["raised RuntimeError", "(B, 1, …, 1)"], id="no-reshape"),
    pytest.param(_reshape_for_points, ["raised RuntimeError", "(B, 1, …, 1)"], id="points-only-reshape"),
    pytest.param(_in_place, ["changed its input x0 in place"], id="in-place"),
    pytest.param(_noising_noise_in_place, ["changed its input noise in place"], id="noise-in-place"),
    pytest.param(_noising_sqrt_in_place, ["changed its input alpha_bar in place"], id="alpha-bar-in-place"),
    pytest.param(_own_noise, ["two calls with the same `noise`", "do not draw your own"], id="own-noise"),
    pytest.param(lambda x0, t, a, noise: _noising(x0, t, a, torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))),
                 ["does not change when the `noise` argument changes"], id="fixed-seed-noise"),
    pytest.param(_noising_kept_noise, ["does not change when the `noise` argument changes", "called again"],
                 id="noise-kept-from-first-call"),
    pytest.param(lambda x0, t, a, noise: (_noising(x0, t, a, noise), noise), ["returned a tuple"], id="tuple"),
    pytest.param(lambda x0, t, a, noise: _noising(x0, t, a, noise).flatten(1), ["expected (7, 1, 8, 8)"],
                 id="flattened"),
]


@pytest.mark.parametrize("candidate, words", WRONG_forward_noising)
def test_forward_noising_rejects_wrong(candidate, words):
    rejects(check_forward_noising, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_forward_noising)
def test_forward_noising_accepts_correct(candidate, capsys):
    _accepts(check_forward_noising, candidate, capsys)


def test_broadcast_crash_keeps_its_cause():
    error = rejects(check_forward_noising, _no_reshape, words=["raised RuntimeError"])
    assert isinstance(error.__cause__, RuntimeError)


# --- the ε-loss ----------------------------------------------------------------------------------

def _loss(eps_pred, eps):
    return ((eps - eps_pred) ** 2).mean()


def _loss_backward_inside(p, e):
    loss = ((e - p) ** 2).mean()
    loss.backward()
    return loss


CORRECT_epsilon_loss = [
    pytest.param(epsilon_loss, id="solution-notebook"),
    pytest.param(_loss, id="mean"),
    pytest.param(lambda p, e: F.mse_loss(p, e), id="mse-loss"),
    pytest.param(lambda p, e: torch.nn.MSELoss()(e, p), id="mse-module-swapped-arguments"),
    pytest.param(lambda p, e: (p - e).pow(2).sum() / e.numel(), id="sum-over-numel"),
    pytest.param(lambda p, e: torch.square(p - e).flatten(1).mean(1).mean(), id="mean-of-means"),
]

WRONG_epsilon_loss = [
    pytest.param(lambda p, e: ((e - p) ** 2).sum(), ["summed over every element"], id="sum"),
    pytest.param(lambda p, e: ((e - p) ** 2).flatten(1).sum(1).mean(), ["summed over each sample",
                 "averaged over the batch only"], id="per-sample-sum"),
    pytest.param(lambda p, e: F.mse_loss(p, e, reduction="sum") / p.shape[0], ["summed over each sample"],
                 id="sum-over-batch-size"),
    pytest.param(lambda p, e: ((e - p) ** 2).flatten(1).mean(1).sum(), ["summed over the batch"], id="batch-sum"),
    pytest.param(lambda p, e: (e - p).abs().mean(), ["absolute error"], id="l1"),
    pytest.param(lambda p, e: ((e - p) ** 2).mean().sqrt(), ["square root"], id="rmse"),
    pytest.param(lambda p, e: 0.5 * ((e - p) ** 2).mean(), ["factor ½"], id="half"),
    pytest.param(lambda p, e: (e - p).mean() ** 2, ["squared the mean error"], id="square-of-mean"),
    pytest.param(lambda p, e: (e - p).flatten(1).norm(dim=1).mean(), ["per-sample norms"], id="norm"),
    pytest.param(lambda p, e: ((e - p.detach()) ** 2).mean(), ["cut off", "detached"], id="detached"),
    pytest.param(lambda p, e: torch.tensor(((e - p) ** 2).mean().item(), requires_grad=True), ["cut off"],
                 id="rebuilt-leaf"),
    pytest.param(lambda p, e: ((e - p) ** 2).mean().item(), ["returned a float"], id="item"),
    pytest.param(lambda p, e: (e - p) ** 2, ["returned shape", "one number"], id="unreduced"),
    pytest.param(lambda p, e: ((e - p) ** 2).flatten(1).mean(1), ["one value per sample"], id="per-sample"),
    pytest.param(lambda p, e: e.sub_(p).pow_(2).mean(), ["changed its input eps in place"], id="in-place-eps"),
    pytest.param(lambda p, e: p.sub_(e).pow(2).mean(), ["changed its input eps_pred in place"], id="in-place-eps-pred"),
    pytest.param(_loss_backward_inside, ["called .backward() itself"], id="backward-inside"),
    pytest.param(lambda p, e: ((e - p.detach()) ** 2).mean() + 0 * p.sum(), ["gradient", "2(ε̂ − ε)/N"],
                 id="no-gradient"),
]


@pytest.mark.parametrize("candidate, words", WRONG_epsilon_loss)
def test_epsilon_loss_rejects_wrong(candidate, words):
    rejects(check_epsilon_loss, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_epsilon_loss)
def test_epsilon_loss_accepts_correct(candidate, capsys):
    _accepts(check_epsilon_loss, candidate, capsys)


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


CORRECT_ddpm_step = [
    pytest.param(ddpm_step, id="solution-notebook"),
    pytest.param(_ddpm, id="posterior"),
    pytest.param(_ddpm_as_ddim_eta_1, id="ddim-eta-1"),
    pytest.param(_ddpm_floats, id="floats"),
]


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


_kept_z = {}


def _ddpm_kept_noise(x_t, eps_pred, t, s, alpha_bar, noise):
    return _ddpm(x_t, eps_pred, t, s, alpha_bar, _kept_z.setdefault(tuple(x_t.shape), noise.clone()))


def _ddpm_clipped(x_t, eps_pred, t, s, alpha_bar, noise):
    ab_t, ab_s = alpha_bar[t], alpha_bar[s]
    x0 = _x0_hat(x_t, eps_pred, ab_t).clamp(-1, 1)  # as image DDPM code does
    beta = 1 - ab_t / ab_s
    mean = ab_s.sqrt() * beta / (1 - ab_t) * x0 + (ab_t / ab_s).sqrt() * (1 - ab_s) / (1 - ab_t) * x_t
    return mean + ((1 - ab_s) / (1 - ab_t) * beta).sqrt() * noise


def _ddpm_noise_in_place(x_t, eps_pred, t, s, alpha_bar, noise):
    mean = _ddpm(x_t, eps_pred, t, s, alpha_bar, torch.zeros_like(noise))
    ab_t, ab_s = alpha_bar[t], alpha_bar[s]
    return mean + noise.mul_(_posterior_var(ab_t, ab_s).sqrt().item())


WRONG_ddpm_step = [
    pytest.param(_ddpm_with(std=lambda ab_t, ab_s, s: 0), ["no noise was added"], id="no-noise"),
    pytest.param(_ddpm_with(std=lambda ab_t, ab_s, s: (1 - ab_t / ab_s).sqrt()), ["forward step's variance", "posterior"],
                 id="beta-noise"),
    pytest.param(_ddpm_with(std=lambda ab_t, ab_s, s: _posterior_var(ab_t, ab_s)), ["variance β̃", "standard deviation"],
                 id="variance-as-std"),
    pytest.param(_ddpm_with(std=lambda ab_t, ab_s, s: _posterior_var(ab_t, ab_s).sqrt() if s > 0 else (1 - ab_t).sqrt()),
                 ["noise was added at s = 0"], id="noise-at-0"),
    pytest.param(_ddpm_with(std=lambda ab_t, ab_s, s: 0.5 * _posterior_var(ab_t, ab_s).sqrt()), ["noise term's scale"],
                 id="half-noise"),
    pytest.param(_ddpm_with(std=lambda ab_t, ab_s, s: -_posterior_var(ab_t, ab_s).sqrt()), ["noise is subtracted"],
                 id="minus-noise"),
    pytest.param(_ddpm_with(mean=_eq11), ["any s < t"], id="eq11-mean"),
    pytest.param(_ddpm_eq11_one_step_variance, ["any s < t"], id="eq11-one-step"),
    pytest.param(_ddpm_with(x0_hat=lambda x_t, e, ab_t: (x_t + (1 - ab_t).sqrt() * e) / ab_t.sqrt()), ["sign of ε_θ"],
                 id="eps-sign"),
    pytest.param(_ddpm_with(x0_hat=lambda x_t, e, ab_t: x_t - (1 - ab_t).sqrt() * e), ["not divided by α_t"],
                 id="x0-not-divided"),
    pytest.param(_ddpm_with(x0_hat=lambda x_t, e, ab_t: (x_t - (1 - ab_t) * e) / ab_t), ["variances"],
                 id="x0-variances"),
    pytest.param(_ddpm_clipped, ["clipped"], id="x0-clipped"),
    pytest.param(_ddpm_with(index=lambda a, t, s: (a[t - 1], a[s - 1])), ["off by one"], id="off-by-one"),
    pytest.param(_ddpm_with(mean=lambda x0, x_t, e, ab_t, ab_s, _: ab_s.sqrt() * x0 + (1 - ab_s).sqrt() * e),
                 ["DDIM update"], id="ddim-mean"),
    pytest.param(lambda x_t, e, t, s, a, noise: _ddpm(x_t, e, t, s, a, torch.randn_like(x_t)),
                 ["two calls with the same `noise`"], id="own-noise"),
    pytest.param(lambda x_t, e, t, s, a, noise: _ddpm(x_t, e, t, s, a, torch.randn(
        x_t.shape, generator=torch.Generator().manual_seed(0))), ["does not change when the `noise` argument changes"],
                 id="fixed-seed-noise"),
    pytest.param(_ddpm_kept_noise, ["does not change when the `noise` argument changes"],
                 id="noise-kept-from-first-call"),
    pytest.param(_ddpm_promoting, ["float64", "dtype"], id="float64"),
    pytest.param(_ddpm_in_place, ["changed its input x_t in place"], id="in-place"),
    pytest.param(_ddpm_noise_in_place, ["changed its input noise in place"], id="noise-in-place"),
    pytest.param(lambda x_t, e, t, s, a, noise: (_ddpm(x_t, e, t, s, a, noise), _x0_hat(x_t, e, a[t])),
                 ["returned a tuple"], id="returns-x0-too"),
]


@pytest.mark.parametrize("candidate, words", WRONG_ddpm_step)
def test_ddpm_step_rejects_wrong(candidate, words):
    rejects(check_ddpm_step, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_ddpm_step)
def test_ddpm_step_accepts_correct(candidate, capsys):
    _accepts(check_ddpm_step, candidate, capsys)


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


CORRECT_ddim_step = [
    pytest.param(ddim_step, id="solution-notebook"),
    pytest.param(_ddim, id="x0-hat"),
    pytest.param(_ddim_ratio, id="ratio"),
    pytest.param(_ddim_over_alpha, id="over-alpha"),
]


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


def _ddim_eps_in_place(x_t, eps_pred, t, s, alpha_bar):
    ab_t, ab_s = alpha_bar[t], alpha_bar[s]
    x0 = _x0_hat(x_t, eps_pred, ab_t)
    return ab_s.sqrt() * x0 + eps_pred.mul_((1 - ab_s).sqrt())


WRONG_ddim_step = [
    pytest.param(_ddim_with(lambda ab_t, ab_s: 1, lambda ab_t, ab_s: (1 - ab_s).sqrt()), ["not rescaled by α_s"],
                 id="no-alpha-s"),
    pytest.param(_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_t).sqrt()), ["uses σ_t"],
                 id="sigma-t"),
    pytest.param(_ddim_with(lambda ab_t, ab_s: 1, lambda ab_t, ab_s: 0), ["returned x̂_0"], id="x0-hat"),
    pytest.param(_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_s).sqrt(),
                            index=lambda a, t, s: (a[t - 1], a[s - 1])), ["off by one"], id="off-by-one"),
    pytest.param(_ddim_with(lambda ab_t, ab_s: ab_s, lambda ab_t, ab_s: 1 - ab_s), ["variances"], id="variances"),
    pytest.param(_ddim_with(lambda ab_t, ab_s: (1 - ab_s).sqrt(), lambda ab_t, ab_s: ab_s.sqrt()), ["swapped"],
                 id="swapped"),
    pytest.param(_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_s).sqrt(),
                            x0_hat=lambda x_t, e, ab_t: (x_t + (1 - ab_t).sqrt() * e) / ab_t.sqrt()), ["sign of ε_θ"],
                 id="eps-sign"),
    pytest.param(_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_s).sqrt(),
                            x0_hat=lambda x_t, e, ab_t: x_t - (1 - ab_t).sqrt() * e), ["not divided by α_t"],
                 id="x0-not-divided"),
    pytest.param(_ddim_with(lambda ab_t, ab_s: ab_s.sqrt(), lambda ab_t, ab_s: (1 - ab_s).sqrt(),
                            x0_hat=lambda x_t, e, ab_t: _x0_hat(x_t, e, ab_t).clamp(-1, 1)), ["clipped"],
                 id="x0-clipped"),
    pytest.param(_ddim_ddpm_mean, ["mean of ddpm"], id="ddpm-mean"),
    pytest.param(lambda x_t, e, t, s, a: _ddim(x_t, e, t, s, a) + 0.01 * torch.randn_like(x_t),
                 ["deterministic", "two calls"], id="stochastic"),
    pytest.param(lambda x_t, e, t, s, a: _ddim(x_t, e, t, s, a) + 0 * torch.randn_like(x_t), ["draws random numbers"],
                 id="consumes-rng"),
    pytest.param(_ddim_in_place, ["changed its input x_t in place"], id="in-place"),
    pytest.param(_ddim_eps_in_place, ["changed its input eps_pred in place"], id="eps-pred-in-place"),
    pytest.param(lambda x_t, e, t, s, a: _ddim(x_t, e, t, s, a)[..., :1], ["returned shape"], id="shape"),
]


@pytest.mark.parametrize("candidate, words", WRONG_ddim_step)
def test_ddim_step_rejects_wrong(candidate, words):
    rejects(check_ddim_step, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_ddim_step)
def test_ddim_step_accepts_correct(candidate, capsys):
    _accepts(check_ddim_step, candidate, capsys)


# --- classifier-free guidance --------------------------------------------------------------------

def _guidance_uncond_in_place(c, u, w):
    return (1 + w) * c - u.mul_(w)


def _guidance_uncond_at_zero(c, u, w):
    return u if w == 0 else (1 + w) * c - w * u


CORRECT_guidance = [
    pytest.param(guided_epsilon, id="solution-notebook"),
    pytest.param(lambda c, u, w: (1 + w) * c - w * u, id="formula"),
    pytest.param(lambda c, u, w: c + w * (c - u), id="push"),
    pytest.param(lambda c, u, w: torch.lerp(u, c, 1 + w), id="lerp"),
    pytest.param(lambda c, u, w: torch.add(c, c - u, alpha=w), id="add-alpha"),
    pytest.param(lambda c, u, w: c if w == 0 else (1 + w) * c - w * u, id="returns-eps-cond-itself-at-0"),
]


def _guidance_in_place(c, u, w):
    return c.mul_(1 + w).sub_(w * u)


WRONG_guidance = [
    pytest.param(lambda c, u, w: w * c + (1 - w) * u, ["w = 0 gives the conditional prediction", "ho & salimans"],
                 id="w-prime"),
    pytest.param(lambda c, u, w: torch.lerp(u, c, w), ["w = 0 gives the conditional prediction"], id="lerp-w"),
    pytest.param(lambda c, u, w: (1 + w) * u - w * c, ["swapped"], id="swapped"),
    pytest.param(lambda c, u, w: c + w * (u - c), ["wrong sign"], id="push-sign"),
    pytest.param(lambda c, u, w: (1 + w) * c, ["ε_u is missing"], id="no-uncond"),
    pytest.param(lambda c, u, w: (1 + w) * c + w * u, ["subtracted, not added"], id="plus-uncond"),
    pytest.param(lambda c, u, w: c - w * u, ["weighted by 1 + w"], id="no-1-plus-w"),
    pytest.param(lambda c, u, w: w * (c - u), ["conditional prediction itself is missing"], id="no-cond"),
    pytest.param(lambda c, u, w: ((1 + w) * c - w * u) / (1 + w), ["divided by 1 + w"], id="normalised"),
    pytest.param(_guidance_uncond_at_zero, ["at w = 0", "conditional prediction"], id="uncond-at-zero"),
    pytest.param(_guidance_in_place, ["changed its input eps_cond in place"], id="in-place"),
    pytest.param(_guidance_uncond_in_place, ["changed its input eps_uncond in place"], id="uncond-in-place"),
    pytest.param(lambda c, u, w: (1 + torch.tensor([w], dtype=torch.float64)) * c - w * u, ["float64", "dtype"],
                 id="float64-weight"),
    pytest.param(lambda c, u, w: torch.stack([c, u]).mean(0), ["differs"], id="average"),
    pytest.param(lambda c, u, w: torch.cat([(1 + w) * c, -w * u]), ["returned shape"], id="concatenated"),
]


@pytest.mark.parametrize("candidate, words", WRONG_guidance)
def test_guidance_rejects_wrong(candidate, words):
    rejects(check_guidance, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_guidance)
def test_guidance_accepts_correct(candidate, capsys):
    _accepts(check_guidance, candidate, capsys)


# --- every check: enough cases, the notebook's pass lines, blanks, the global generator ----------

@pytest.mark.parametrize("wrong, correct", [
    (WRONG_forward_noising, CORRECT_forward_noising),
    (WRONG_epsilon_loss, CORRECT_epsilon_loss),
    (WRONG_ddpm_step, CORRECT_ddpm_step),
    (WRONG_ddim_step, CORRECT_ddim_step),
    (WRONG_guidance, CORRECT_guidance),
], ids=["forward_noising", "epsilon_loss", "ddpm_step", "ddim_step", "guidance"])
def test_enough_cases(wrong, correct):
    assert len(wrong) >= 8 and len(correct) >= 2


def test_pass_lines_are_the_notebooks(capsys):
    check_forward_noising(forward_noising)
    check_epsilon_loss(epsilon_loss)
    check_ddpm_step(ddpm_step)
    check_ddim_step(ddim_step)
    check_guidance(guided_epsilon)
    assert capsys.readouterr().out.splitlines() == [
        "✓ check_forward_noising passed: 3 hidden batches (points and images, linear and cosine schedules, t from 0 "
        "to T) agree with √ᾱ_t x0 + √(1 − ᾱ_t) ε.",
        "✓ check_epsilon_loss passed: 3 hidden batches agree with the mean of (ε − ε̂)² over every element, and its "
        "gradient reaches eps_pred.",
        "✓ check_ddpm_step passed: 7 hidden steps (s = t − 1, jumps, and s = 0 returning x̂_0) agree with the "
        "posterior mean plus √β̃ · noise.",
        "✓ check_ddim_step passed: 7 hidden steps (s = t − 1, jumps, and s = 0 returning x̂_0) agree with "
        "α_s x̂_0 + σ_s ε_θ, deterministically.",
        "✓ check_guidance passed: 4 hidden cases (w ∈ [2.0, 0.0, 7.5, 0.5]) agree with (1 + w) ε_c − w ε_u.",
    ]



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
