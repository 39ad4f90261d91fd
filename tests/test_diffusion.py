"""Diffusion models: schedules, the forward process and the reverse steps against their closed forms;
samplers, scores, reconstruction and the probability-flow likelihood with networks that return the
exact ε of a Gaussian (or mixture) data distribution; the networks, training and bad input."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course_lib.diffusion import (
    DiffusionModel,
    NoiseSchedule,
    ToyDenoiser,
    UNet,
    anomaly_map,
    cosine_schedule,
    ddim_step,
    ddpm_step,
    epsilon_loss,
    epsilon_to_score,
    guided_epsilon,
    linear_schedule,
    mixture_score,
    model_score,
    noise_embedding,
    probability_flow_log_prob,
    q_sample,
    reconstruct,
    sample,
    sampling_steps,
    score_error,
    step_at_noise,
    train_toy_diffusion,
)
from course_lib.gan import mixture_sampler


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _scales(log_snr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """α and σ from λ = log(α²/σ²): α² = sigmoid(λ), σ² = sigmoid(−λ)."""
    return torch.sigmoid(log_snr).sqrt(), torch.sigmoid(-log_snr).sqrt()


class ExactGaussianEps(nn.Module):
    """The exact ε of data N(0, var·I) in model space: E[ε | x_t] = σ x_t / (α² var + σ²)."""

    def __init__(self, var: float = 1.0):
        super().__init__()
        self.var = var

    def forward(self, x_t, log_snr, y=None):
        alpha, sigma = _scales(log_snr)
        factor = sigma / (alpha**2 * self.var + sigma**2)
        return factor.view(-1, *([1] * (x_t.ndim - 1))) * x_t


class ExactMixtureEps(nn.Module):
    """The exact ε = −σ ∇ log p_t of a Gaussian mixture (every sample at one noise level)."""

    def __init__(self, modes: torch.Tensor, std: float):
        super().__init__()
        self.modes, self.std = modes, std

    def forward(self, x_t, log_snr):
        alpha, sigma = (v[0].item() for v in _scales(log_snr))
        return -sigma * mixture_score(x_t, self.modes, self.std, alpha, sigma)


class ZeroEps(nn.Module):
    def forward(self, x_t, log_snr):
        return torch.zeros_like(x_t)


def _randomised(module: nn.Module) -> nn.Module:
    """Perturb every weight, so a zero-initialised last layer does real work."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return module


def _chain_variance(schedule: NoiseSchedule, steps: list[int], sampler: str) -> float:
    """Var of the samples for N(0, 1) data and the exact ε, in closed form.

    With ε = σ_t x_t (so x̂_0 = α_t x_t), DDIM maps x_t to (α_s α_t + σ_s σ_t) x_t and DDPM to
    α_{t|s} x_t + √β̃ z: both only reach unit variance as the steps get small.
    """
    ab = schedule.alpha_bar
    v = 1.0
    for t, s in zip(steps[:-1], steps[1:]):
        a_t, a_s = ab[t].item(), ab[s].item()
        if sampler == "ddim":
            v *= (math.sqrt(a_s * a_t) + math.sqrt((1 - a_s) * (1 - a_t))) ** 2
        else:
            v = (a_t / a_s) * v + (1 - a_s) * (1 - a_t / a_s) / (1 - a_t)
    return v


# --- schedules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("schedule", [linear_schedule(), cosine_schedule(), linear_schedule(5), cosine_schedule(7)],
                         ids=["linear", "cosine", "linear5", "cosine7"])
def test_schedules_start_at_one_and_decrease(schedule):
    a = schedule.alpha_bar
    assert a.dtype == torch.float64 and a[0] == 1 and torch.all(a[1:] < a[:-1]) and torch.all(a > 0)
    lam = schedule.log_snr(torch.arange(schedule.T + 1))
    assert lam[0] == math.inf and torch.all(lam[1:] < lam[:-1])  # λ_t falls with t
    t = torch.arange(1, schedule.T + 1)
    assert torch.allclose(schedule.alpha(t) ** 2 + schedule.sigma(t) ** 2, torch.ones(schedule.T))


def test_linear_schedule_betas():
    s = linear_schedule(1000, 1e-4, 0.02)
    betas = 1 - s.alpha_bar[1:] / s.alpha_bar[:-1]  # β_t = 1 − ᾱ_t/ᾱ_{t−1}
    assert torch.allclose(betas, torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), atol=1e-12)
    assert s.sigma(torch.tensor(1)).item() == pytest.approx(0.01, rel=1e-5)  # σ_1 = √β_1


def test_cosine_schedule_end_points():
    s = cosine_schedule(500, sigma_min=2e-3, sigma_max=0.99)
    sigma = (1 - s.alpha_bar).sqrt()
    assert sigma[1].item() == pytest.approx(2e-3, rel=1e-9) and sigma[-1].item() == pytest.approx(0.99, rel=1e-12)


@pytest.mark.parametrize("make, error, match", [
    (lambda: linear_schedule(T=0), ValueError, "T must"),
    (lambda: linear_schedule(T=2.5), TypeError, "T must"),
    (lambda: linear_schedule(beta_start=0.02, beta_end=0.01), ValueError, "beta_start"),
    (lambda: linear_schedule(beta_end=1.0), ValueError, "beta_end"),
    (lambda: cosine_schedule(sigma_min=0.5, sigma_max=0.5), ValueError, "sigma_min"),
    (lambda: cosine_schedule(sigma_min=0.9, sigma_max=0.1), ValueError, "sigma_min"),
    (lambda: NoiseSchedule(torch.tensor([1.0, 0.5])), TypeError, "alpha_bar must be float64"),
    (lambda: NoiseSchedule(torch.tensor([1.0, 0.5, 0.5], dtype=torch.float64)), ValueError, "alpha_bar must"),
    (lambda: NoiseSchedule(torch.tensor([0.9, 0.5], dtype=torch.float64)), ValueError, "alpha_bar must"),
    (lambda: NoiseSchedule(torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)), ValueError, "alpha_bar must"),
])
def test_schedules_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_step_at_noise_inverts_sigma():
    s = cosine_schedule(1000)
    for t in (1, 17, 500, 1000):
        assert step_at_noise(s, (1 - s.alpha_bar[t]).sqrt().item()) == t
    assert step_at_noise(s, 0.0) == 1 and step_at_noise(s, 1.0) == 1000
    with pytest.raises(ValueError, match="sigma must"):
        step_at_noise(s, 1.5)


# --- the forward process -----------------------------------------------------------------------

def test_q_sample_moments():
    """x_t ~ N(α_t x_0, σ_t² I), per sample's own t."""
    s = cosine_schedule(100)
    n = 50_000
    x0 = torch.tensor([1.0, -2.0]).repeat(2 * n, 1)
    t = torch.tensor([20, 80]).repeat_interleave(n)
    x_t = q_sample(x0, t, s, torch.randn(x0.shape, generator=_gen()))
    for k, step in enumerate((20, 80)):
        part = x_t[k * n:(k + 1) * n]
        alpha, sigma = s.alpha(torch.tensor(step)).item(), s.sigma(torch.tensor(step)).item()
        assert torch.allclose(part.mean(0), alpha * x0[0], atol=0.02)
        assert torch.allclose(part.var(0), torch.full((2,), sigma**2), rtol=0.03)


def test_q_sample_per_sample_steps_on_images():
    s = linear_schedule(100)
    x0, noise = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    t = torch.tensor([0, 50, 100])
    x_t = q_sample(x0, t, s, noise)
    for i in range(3):
        a = s.alpha_bar[t[i]].item()
        assert torch.allclose(x_t[i], math.sqrt(a) * x0[i] + math.sqrt(1 - a) * noise[i], atol=1e-6)
    assert torch.equal(x_t[0], x0[0])  # t = 0 is the data itself


@pytest.mark.parametrize("t, error, match", [
    (torch.tensor([1, 101, 5]), ValueError, "t must hold steps in 0 … 100"),
    (torch.tensor([1, -1, 5]), ValueError, "t must hold steps in 0 … 100"),
    (torch.tensor([1.0, 2.0, 3.0]), TypeError, "t must hold integer steps"),
    (torch.tensor([1, 2]), ValueError, "one step per sample"),
    (torch.tensor(3), ValueError, "one step per sample"),
])
def test_q_sample_bad_steps(t, error, match):
    x0 = torch.randn(3, 2)
    with pytest.raises(error, match=match):
        q_sample(x0, t, linear_schedule(100), torch.randn(3, 2))


def test_q_sample_noise_shape():
    with pytest.raises(ValueError, match="same shape"):
        q_sample(torch.randn(3, 2), torch.tensor([1, 2, 3]), linear_schedule(10), torch.randn(3, 3))


def test_epsilon_loss_is_mse():
    a, b = torch.randn(4, 1, 5, 5), torch.randn(4, 1, 5, 5)
    assert torch.allclose(epsilon_loss(a, b), F.mse_loss(a, b))
    with pytest.raises(ValueError, match="same shape"):
        epsilon_loss(a, b[:3])


# --- reverse steps -----------------------------------------------------------------------------

@pytest.mark.parametrize("t", [2, 3, 500, 1000])
def test_ddpm_consecutive_step_is_ho_eq_11(t):
    """x_{t−1} = (x_t − β_t/√(1−ᾱ_t) ε)/√(1−β_t) + √β̃_t z, β̃_t = (1−ᾱ_{t−1})/(1−ᾱ_t) β_t."""
    s = linear_schedule(1000)
    x_t, eps, z = (torch.randn(6, 2, dtype=torch.float64) for _ in range(3))
    a_t, a_prev = s.alpha_bar[t].item(), s.alpha_bar[t - 1].item()
    beta = 1 - a_t / a_prev
    expected = (x_t - beta / math.sqrt(1 - a_t) * eps) / math.sqrt(1 - beta) + math.sqrt((1 - a_prev) / (1 - a_t) * beta) * z
    assert torch.allclose(ddpm_step(x_t, eps, t, t - 1, s, z), expected, atol=1e-10)


@pytest.mark.parametrize("t", [1, 700])
def test_ddpm_step_to_zero_returns_x0_hat(t):
    s = cosine_schedule(1000)
    x_t, eps = torch.randn(5, 2, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    a = s.alpha_bar[t].item()
    x0_hat = (x_t - math.sqrt(1 - a) * eps) / math.sqrt(a)
    for z in (torch.zeros_like(x_t), torch.randn_like(x_t)):  # β̃ = 0: the noise is not used
        assert torch.allclose(ddpm_step(x_t, eps, t, 0, s, z), x0_hat, atol=1e-10)


def test_ddpm_step_on_gaussian_data():
    """For N(0, I) data and the exact ε = σ_t x_t: x_s = α_{t|s} x_t + √β̃ z, so Var x_s = α_{t|s}² + β̃.

    This is 1 only for small steps: the ancestral step's β̃ treats x̂_0 as certain, so a large jump
    loses the variance of x_0 given x_t.
    """
    s = cosine_schedule(1000)
    t, u = 600, 200
    x_t = torch.randn(100_000, 1, generator=_gen(1), dtype=torch.float64)
    z = torch.randn(100_000, 1, generator=_gen(2), dtype=torch.float64)
    eps = math.sqrt(1 - s.alpha_bar[t].item()) * x_t
    x_s = ddpm_step(x_t, eps, t, u, s, z)
    a_t, a_s = s.alpha_bar[t].item(), s.alpha_bar[u].item()
    b_tilde = (1 - a_s) * (1 - a_t / a_s) / (1 - a_t)
    assert torch.allclose(x_s, math.sqrt(a_t / a_s) * x_t + math.sqrt(b_tilde) * z, atol=1e-10)
    assert x_s.mean().item() == pytest.approx(0, abs=0.015)
    assert x_s.var().item() == pytest.approx(a_t / a_s + b_tilde, rel=0.02)
    small = ddpm_step(x_t, eps, t, t - 1, s, z)  # a single step keeps unit variance (to O(β²))
    assert small.var().item() == pytest.approx(1, rel=0.02) and _chain_variance(s, [t, t - 1], "ddpm") == pytest.approx(1, abs=1e-5)


def test_ddim_is_exact_for_a_point_mass():
    """With x_0 fixed the exact ε is the noise itself, and t → u → s lands on α_s x_0 + σ_s ε."""
    s = cosine_schedule(1000)
    x0, eps = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)

    def at(t):
        a = s.alpha_bar[t].item()
        return math.sqrt(a) * x0 + math.sqrt(1 - a) * eps

    def exact_eps(x, t):
        a = s.alpha_bar[t].item()
        return (x - math.sqrt(a) * x0) / math.sqrt(1 - a)

    x_u = ddim_step(at(900), exact_eps(at(900), 900), 900, 400, s)
    x_s = ddim_step(x_u, exact_eps(x_u, 400), 400, 37, s)
    assert torch.allclose(x_u, at(400), atol=1e-10) and torch.allclose(x_s, at(37), atol=1e-10)
    assert torch.allclose(ddim_step(x_s, exact_eps(x_s, 37), 37, 0, s), x0, atol=1e-10)  # s = 0: x̂_0


def test_ddim_step_is_deterministic_and_rescales_gaussian_data():
    """For N(0, I) data and ε = σ_t x_t, DDIM maps x_t to (α_s α_t + σ_s σ_t) x_t."""
    s = cosine_schedule(1000)
    x_t = torch.randn(10, 2, dtype=torch.float64)
    a_t, a_s = s.alpha_bar[800].item(), s.alpha_bar[300].item()
    eps = math.sqrt(1 - a_t) * x_t
    out = ddim_step(x_t, eps, 800, 300, s)
    assert torch.equal(out, ddim_step(x_t, eps, 800, 300, s))
    factor = math.sqrt(a_s * a_t) + math.sqrt((1 - a_s) * (1 - a_t))
    assert torch.allclose(out, factor * x_t, atol=1e-12)


@pytest.mark.parametrize("t, s, error, match", [
    (5, 5, ValueError, "s must"),
    (5, 7, ValueError, "s must"),
    (5, -1, ValueError, "s must"),
    (0, 0, ValueError, "t must"),
    (11, 0, ValueError, "t must"),
    (5.0, 0, TypeError, "t must"),
])
def test_reverse_steps_bad_steps(t, s, error, match):
    x = torch.randn(2, 2)
    with pytest.raises(error, match=match):
        ddim_step(x, x, t, s, linear_schedule(10))
    with pytest.raises(error, match=match):
        ddpm_step(x, x, t, s, linear_schedule(10), x)


def test_guided_epsilon():
    """ε̃(w) = ε_c + w (ε_c − ε_u): ε_c at w = 0, affine in w."""
    cond, uncond = torch.randn(3, 2), torch.randn(3, 2)
    assert torch.equal(guided_epsilon(cond, uncond, 0), cond)
    g1, g3 = guided_epsilon(cond, uncond, 1.0), guided_epsilon(cond, uncond, 3.0)
    assert torch.allclose(g1, 2 * cond - uncond, atol=1e-6) and torch.allclose(g3 - cond, 3 * (g1 - cond), atol=1e-5)
    with pytest.raises(ValueError, match="w must"):
        guided_epsilon(cond, uncond, -0.5)
    with pytest.raises(ValueError, match="same shape"):
        guided_epsilon(cond, uncond[:2], 1.0)


# --- the exact mixture score -------------------------------------------------------------------

def test_mixture_score_is_the_gradient_of_the_noised_log_density():
    modes = torch.tensor([[0.0, 0.0], [2.0, 1.0], [-1.0, 3.0]], dtype=torch.float64)
    std, alpha, sigma = 0.3, 0.8, 0.6
    v = alpha**2 * std**2 + sigma**2
    x = (2 * torch.randn(50, 2, dtype=torch.float64)).requires_grad_(True)
    # log p_t(x) = log (1/K) Σ_k N(x; α μ_k, v I)
    log_p = torch.logsumexp(-((x[:, None] - alpha * modes[None]) ** 2).sum(-1) / (2 * v), dim=1)
    log_p = log_p - math.log(3) - math.log(2 * math.pi * v)
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    assert torch.allclose(mixture_score(x.detach(), modes, std, alpha, sigma), grad, atol=1e-10)


def test_mixture_score_of_one_mode():
    mu = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    x = torch.randn(20, 2, dtype=torch.float64)
    v = 0.5**2 * 0.2**2 + 0.7**2
    assert torch.allclose(mixture_score(x, mu, 0.2, 0.5, 0.7), (0.5 * mu - x) / v, atol=1e-12)
    with pytest.raises(ValueError, match="variance"):
        mixture_score(x, mu, 0.0)  # a point mass at σ = 0 has no score
    with pytest.raises(ValueError, match="modes must"):
        mixture_score(x, torch.zeros(2, 3, dtype=torch.float64), 0.2)


# --- sampling ----------------------------------------------------------------------------------

@pytest.mark.parametrize("T", [2, 10, 37, 1000])
def test_sampling_steps(T):
    schedule = linear_schedule(T)
    for n in sorted({1, 2, 3, T // 3, T - 1, T} & set(range(1, T + 1))):
        for t_last in (None, *sorted({1, 2, T - n + 1} - {0})):
            if t_last is not None and (t_last > T - n + 1 or (n == 1 and t_last != T)):
                continue  # more moves than fit, or one move that cannot stop at t_last (tested below)
            steps = sampling_steps(schedule, n, t_last)
            assert steps[0] == T and steps[-1] == 0 and len(steps) == n + 1
            assert all(a > b for a, b in zip(steps[:-1], steps[1:]))
            if t_last is not None and n > 1:
                assert steps[-2] == t_last


def test_sampling_steps_bad_input():
    schedule = linear_schedule(100)
    with pytest.raises(ValueError, match="n_steps must"):
        sampling_steps(schedule, 0)
    with pytest.raises(ValueError, match="n_steps must"):
        sampling_steps(schedule, 101)
    with pytest.raises(TypeError, match="n_steps must"):
        sampling_steps(schedule, 10.0)
    with pytest.raises(ValueError, match="t_last must"):
        sampling_steps(schedule, 10, t_last=0)
    with pytest.raises(ValueError, match="t_last must"):
        sampling_steps(schedule, 10, t_last=92)  # 10 moves no longer fit between T and 0
    assert sampling_steps(schedule, 10, t_last=91)[-2] == 91


def test_sampling_steps_one_move_rejects_a_t_last_it_cannot_honour():
    schedule = linear_schedule(100)
    assert sampling_steps(schedule, 1, t_last=100) == [100, 0]
    with pytest.raises(ValueError, match="t_last must be T"):
        sampling_steps(schedule, 1, t_last=5)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_sample_gaussian_data_with_the_exact_epsilon(sampler):
    """Samples of N(0, I) data: mean 0, variance the closed form of the chain (→ 1 as steps shrink)."""
    schedule = cosine_schedule(1000)
    model = DiffusionModel(ExactGaussianEps(), schedule, (2,))
    x = sample(model, 4000, n_steps=60, sampler=sampler, generator=_gen())
    expected = _chain_variance(schedule, sampling_steps(schedule, 60), sampler)
    assert x.shape == (4000, 2) and expected == pytest.approx(1, abs=0.1)
    assert torch.allclose(x.mean(0), torch.zeros(2), atol=0.06)
    assert torch.allclose(x.var(0), torch.full((2,), expected), rtol=0.07)
    again = sample(model, 4000, n_steps=60, sampler=sampler, generator=_gen())
    assert torch.equal(x, again)  # a seed gives the same samples


def test_sample_data_space_shift_and_scale():
    """A model of N(0, I) in model space samples N(shift, scale²) in data space."""
    model = DiffusionModel(ExactGaussianEps(), cosine_schedule(1000), (2,), shift=3.0, scale=2.0)
    x = sample(model, 4000, n_steps=40, sampler="ddim", generator=_gen())
    assert torch.allclose(x.mean(0), torch.full((2,), 3.0), atol=0.12) and torch.allclose(x.std(0), torch.full((2,), 2.0), rtol=0.08)


def test_sample_with_labels_and_guidance():
    torch.manual_seed(1)
    unet = _randomised(UNet(channels=(8, 8), n_classes=2))
    model = DiffusionModel(unet, cosine_schedule(100), (1, 8, 8), parametrisation="v", shift=0.5, scale=0.5)
    labels = torch.tensor([0, 1, 1])
    x = sample(model, 3, n_steps=3, labels=labels, guidance=1.5, generator=_gen(), clip=(0, 1))
    assert x.shape == (3, 1, 8, 8) and x.min() >= 0 and x.max() <= 1
    ddpm = sample(model, 3, n_steps=3, sampler="ddpm", labels=labels, generator=_gen())
    assert ddpm.shape == (3, 1, 8, 8) and torch.isfinite(ddpm).all()
    with pytest.raises(ValueError, match="guidance needs labels"):
        sample(model, 3, n_steps=3, guidance=1.0)
    with pytest.raises(ValueError, match="sampler must"):
        sample(model, 3, n_steps=3, sampler="euler")
    with pytest.raises(ValueError, match="guidance must"):
        sample(model, 3, n_steps=3, labels=labels, guidance=-1.0)


# --- the model and its networks ---------------------------------------------------------------

class ExactPointMassV(nn.Module):
    """The exact v = α ε − σ x_0 for data x_0 = m (a point mass): ε = (x_t − α m)/σ."""

    def __init__(self, m: torch.Tensor):
        super().__init__()
        self.m = m

    def forward(self, x_t, log_snr):
        alpha, sigma = (v[:, None] for v in _scales(log_snr))
        return alpha * (x_t - alpha * self.m) / sigma - sigma * self.m


def test_v_parametrisation_round_trip():
    schedule = cosine_schedule(1000)
    m = torch.tensor([0.7, -1.2])
    model = DiffusionModel(ExactPointMassV(m), schedule, (2,), parametrisation="v")
    t = torch.tensor([100, 300, 500, 700, 900])
    x0, eps = m.repeat(5, 1), torch.randn(5, 2)
    x_t = q_sample(x0, t, schedule, eps)
    alpha, sigma = schedule.alpha(t)[:, None], schedule.sigma(t)[:, None]
    assert torch.allclose(model.target(x0, eps, t), alpha * eps - sigma * x0)  # v = α ε − σ x_0
    assert torch.allclose(model.raw(x_t, t), model.target(x0, eps, t), atol=1e-4)
    assert torch.allclose(model.epsilon(x_t, t), eps, atol=1e-4)  # ε = σ x_t + α v


def test_epsilon_parametrisation_passes_the_network_through():
    model = DiffusionModel(ExactGaussianEps(), linear_schedule(100), (2,))
    x, t = torch.randn(4, 2), torch.tensor([1, 20, 50, 100])
    assert torch.equal(model.epsilon(x, t), model.raw(x, t))
    assert torch.equal(model.target(x, x + 1, t), x + 1)


def test_diffusion_model_keeps_its_float64_schedule():
    schedule = cosine_schedule(1000)
    model = DiffusionModel(ToyDenoiser(hidden=8, depth=1), schedule, (2,), shift=1.0, scale=2.0)
    assert {"alpha_bar", "shift", "scale"} <= set(model.state_dict())
    for cast in (model.float, model.double, model.half):
        cast()
        assert model.schedule is schedule and model.schedule.alpha_bar.dtype == torch.float64
    assert torch.equal(model.schedule.alpha_bar, cosine_schedule(1000).alpha_bar)
    x = torch.randn(3, 2, dtype=torch.float64)
    model.double()
    assert torch.allclose(model.to_data_space(model.to_model_space(x)), x)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"parametrisation": "x0"}, ValueError, "parametrisation must"),
    ({"scale": 0.0}, ValueError, "scale must"),
    ({"scale": -1.0}, ValueError, "scale must"),
    ({"schedule": torch.ones(3)}, TypeError, "schedule must"),
])
def test_diffusion_model_bad_input(kwargs, error, match):
    args = {"network": ToyDenoiser(hidden=8, depth=1), "schedule": linear_schedule(10), "data_shape": (2,)} | kwargs
    with pytest.raises(error, match=match):
        DiffusionModel(**args)


def test_toy_denoiser_shapes():
    for fourier in (0, 3):
        net = ToyDenoiser(dim=2, hidden=16, depth=2, fourier=fourier)
        assert net(torch.randn(5, 2), torch.linspace(-10, 10, 5)).shape == (5, 2)


@pytest.mark.parametrize("channels, size", [((16, 32, 64, 64), 32), ((8, 8), 8), ((8, 16, 16), 8)])
def test_unet_shapes_and_zero_init(channels, size):
    net = UNet(channels)
    x = torch.randn(2, 1, size, size)
    out = net(x, torch.tensor([-5.0, 5.0]))
    assert out.shape == x.shape and torch.equal(out, torch.zeros_like(out))  # zero last layer: ε_θ = 0 at init


def test_unet_class_conditioning_changes_the_output():
    net = _randomised(UNet((8, 8), n_classes=2)).eval()
    x, lam = torch.randn(2, 1, 8, 8), torch.zeros(2)
    a, b = net(x, lam, torch.tensor([0, 0])), net(x, lam, torch.tensor([1, 1]))
    null = net(x, lam, torch.tensor([2, 2]))
    assert not torch.allclose(a, b) and torch.equal(net(x, lam), null)  # y = None is the null class ∅


# --- training and the scores ------------------------------------------------------------------

MODES = torch.tensor([[-2.0, 0.0], [2.0, 0.0]])


def test_train_toy_diffusion_lowers_the_loss():
    result = train_toy_diffusion(mixture_sampler(MODES, 0.3), cosine_schedule(100), steps=200, hidden=32, depth=2,
                                 batch_size=128, lr=3e-3)
    loss = torch.tensor(result["history"]["loss"])
    assert len(loss) == 200 and torch.isfinite(loss).all()
    assert loss[-20:].mean() < 0.9 * loss[:20].mean()
    assert not result["model"].training
    with pytest.raises(ValueError, match="steps must"):
        train_toy_diffusion(mixture_sampler(MODES, 0.3), cosine_schedule(100), steps=0)


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_score_error_of_the_exact_and_the_zero_score(scale):
    std, schedule = 0.3, cosine_schedule(1000)
    exact = DiffusionModel(ExactMixtureEps(MODES / scale, std / scale), schedule, (2,), scale=scale)
    for t in (50, 400):
        assert score_error(exact, MODES, std, t, n=1000, generator=_gen()) < 1e-3
    zero = DiffusionModel(ZeroEps(), schedule, (2,), scale=scale)
    assert score_error(zero, MODES, std, 400, n=1000, generator=_gen()) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="t must"):
        score_error(exact, MODES, std, 0)


# --- reconstruction and anomaly maps ------------------------------------------------------------

def _gaussian_image_model(**kwargs) -> DiffusionModel:
    return DiffusionModel(ExactGaussianEps(), cosine_schedule(1000), (1, 4, 4), **kwargs)


def test_reconstruct_in_one_move_is_the_tweedie_estimate():
    """One DDIM move from t to 0 with ε = σ_t x_t returns α_t x_t = ᾱ_t x' + α_t σ_t z (in model space)."""
    model = _gaussian_image_model(shift=0.5, scale=0.5)
    x = torch.rand(3, 1, 4, 4)
    out = reconstruct(model, x, 300, n_steps=1, generator=_gen(4))
    z = torch.randn(3, 1, 4, 4, generator=_gen(4))
    a = model.schedule.alpha_bar[300].item()
    expected = 0.5 * (a * (x - 0.5) / 0.5 + math.sqrt(a * (1 - a)) * z) + 0.5
    assert out.shape == x.shape and torch.allclose(out, expected, atol=1e-5)


def test_reconstruct_from_little_noise_stays_close():
    model = _gaussian_image_model()
    x = torch.randn(4, 1, 4, 4)
    out = reconstruct(model, x, 5, n_steps=5, generator=_gen())
    assert (out - x).abs().max() < 0.05  # σ_5 ≈ 0.007


def test_anomaly_map_averages_reconstruction_residuals():
    model = _gaussian_image_model()
    x = torch.randn(2, 1, 4, 4)
    heat = anomaly_map(model, x, 200, n_steps=2, n_draws=3, generator=_gen(7))
    g = _gen(7)
    by_hand = sum((x - reconstruct(model, x, 200, n_steps=2, generator=g)).abs() for _ in range(3)) / 3
    assert heat.shape == x.shape and torch.allclose(heat, by_hand)


def test_reconstruct_and_anomaly_map_bad_input():
    model = _gaussian_image_model()
    x = torch.randn(2, 1, 4, 4)
    for t_start in (0, 1001):
        with pytest.raises(ValueError, match="t_start must"):
            reconstruct(model, x, t_start, n_steps=1)
        with pytest.raises(ValueError, match="t_start must"):
            anomaly_map(model, x, t_start, n_steps=1)
    with pytest.raises(ValueError, match="n_steps must"):
        reconstruct(model, x, 5, n_steps=6)
    with pytest.raises(ValueError, match="x must"):
        reconstruct(model, torch.randn(2, 1, 8, 8), 5, n_steps=1)
    with pytest.raises(ValueError, match="n_draws must"):
        anomaly_map(model, x, 5, n_steps=1, n_draws=0)


# --- the probability-flow likelihood ------------------------------------------------------------

def _normal_log_prob(x: torch.Tensor, std: float) -> torch.Tensor:
    return torch.distributions.Normal(0.0, std).log_prob(x.double()).sum(1)


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_probability_flow_log_prob_of_gaussian_data(scale):
    """Data N(0, c² I) and a model of scale c with the exact ε: log q(x) = log N(x; 0, c² I)."""
    model = DiffusionModel(ExactGaussianEps(), cosine_schedule(1000), (2,), scale=scale)
    x = scale * torch.randn(5, 2, generator=_gen(3))
    log_q = probability_flow_log_prob(model, x)
    assert log_q.dtype == torch.float64 and log_q.shape == (5,)
    assert torch.allclose(log_q, _normal_log_prob(x, scale), atol=1e-3)


def test_probability_flow_log_prob_along_a_curved_path():
    """Data N(0, s² I) in model space (s = 0.5): the flow contracts the prior, and log q = log N(x; 0, s² I)."""
    model = DiffusionModel(ExactGaussianEps(var=0.25), cosine_schedule(1000), (2,))
    x = 0.5 * torch.randn(5, 2, generator=_gen(3))
    log_q = probability_flow_log_prob(model, x, rtol=1e-6, atol=1e-6)
    assert torch.allclose(log_q, _normal_log_prob(x, 0.5), atol=2e-3)


def test_probability_flow_log_prob_rejects_images_and_wrong_points():
    points = DiffusionModel(ExactGaussianEps(), cosine_schedule(100), (2,))
    with pytest.raises(ValueError, match="model of points"):
        probability_flow_log_prob(_gaussian_image_model(), torch.randn(3, 16))
    with pytest.raises(ValueError, match="x must"):
        probability_flow_log_prob(points, torch.randn(3, 3))
    with pytest.raises(ValueError, match="x must"):
        probability_flow_log_prob(points, torch.randn(3, 1, 2))
    with pytest.raises(TypeError, match="x must"):
        probability_flow_log_prob(points, torch.zeros(3, 2, dtype=torch.long))


# --- the validation layer (issue 27): bad input is refused before any work, naming the argument ----

def _toy() -> DiffusionModel:
    return DiffusionModel(ToyDenoiser(hidden=8, depth=1), cosine_schedule(10), (2,))


def _nan_at_first(x: torch.Tensor) -> torch.Tensor:
    x = x.clone()
    x.view(-1)[0] = math.nan
    return x


@pytest.mark.parametrize("make, error, match", [
    (lambda: q_sample(torch.randn(3, 2), torch.tensor([1, 2, 3]), None, torch.randn(3, 2)), TypeError,
     "schedule must be a NoiseSchedule"),
    (lambda: q_sample(torch.randn(3, 2), torch.tensor([1, 2, 3]), cosine_schedule(10), _nan_at_first(torch.randn(3, 2))),
     ValueError, "noise must be finite"),
    (lambda: q_sample(torch.randn(3, 2), torch.tensor([1, 2, 3]), cosine_schedule(10), torch.ones(3, 2, dtype=torch.long)),
     TypeError, "noise must be a floating-point"),
    (lambda: epsilon_loss(torch.randn(3, 2), _nan_at_first(torch.randn(3, 2))), ValueError, "eps must be finite"),
    (lambda: epsilon_loss(torch.randn(3, 2, device="meta"), torch.randn(3, 2, device="meta")), ValueError,
     "eps_pred must hold values"),
    (lambda: epsilon_to_score(torch.randn(3, 2), torch.tensor([0.1, 0.0, 0.5])), ValueError, "sigma must be > 0"),
    (lambda: epsilon_to_score(torch.randn(3, 2), torch.tensor([0.1, 0.5])), ValueError, "sigma must be"),
    (lambda: epsilon_to_score(torch.randn(3), torch.tensor([0.1, 0.2, 0.5])), ValueError, "eps_pred must"),
    (lambda: ddpm_step(torch.randn(3, 2), _nan_at_first(torch.randn(3, 2)), 5, 3, cosine_schedule(10),
                       torch.randn(3, 2)), ValueError, "eps_pred must be finite"),
    (lambda: ddpm_step(torch.randn(3, 2), torch.randn(3, 2), 5, 3, cosine_schedule(10), torch.randn(3, 2).numpy()),
     TypeError, "noise must"),
    (lambda: ddim_step(torch.ones(3, 2, dtype=torch.long), torch.randn(3, 2), 5, 0, cosine_schedule(10)), TypeError,
     "x_t must be a floating-point"),
    (lambda: ddim_step(torch.randn(3, 2), torch.randn(3, 2), 5, 0, None), TypeError, "schedule must"),
    (lambda: guided_epsilon(torch.randn(3, 2), torch.randn(3, 2) * math.inf, 1.0), ValueError,
     "eps_uncond must be finite"),
    (lambda: guided_epsilon(torch.randn(3, 2).tolist(), torch.randn(3, 2), 1.0), TypeError, "eps_cond must"),
    (lambda: mixture_score(torch.randn(0, 2), torch.randn(3, 2), 0.1), ValueError, "x must hold at least one"),
    (lambda: mixture_score(torch.randn(4, 2), torch.randn(3, 2), 0.1, alpha=-1.0), ValueError, "alpha must"),
    (lambda: mixture_score(torch.randn(4, 2), torch.randn(3, 2), 0.1, sigma=math.inf), ValueError, "sigma must"),
])
def test_functions_refuse_bad_tensors_and_numbers(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_noise_embedding_refuses_bad_levels_and_dims():
    assert noise_embedding(torch.tensor([-3.0, 0.0, 4.0]), 8).shape == (3, 8)
    with pytest.raises(ValueError, match="log_snr must be finite"):
        noise_embedding(torch.tensor([math.inf, 0.0]), 8)  # λ_0 = +∞ at t = 0 has no features
    with pytest.raises(TypeError, match="log_snr must be a floating-point"):
        noise_embedding(torch.tensor([1, 2]), 8)
    with pytest.raises(ValueError, match="dim must be an int"):
        noise_embedding(torch.tensor([1.0]), 0)
    with pytest.raises(ValueError, match="dim must be even"):
        noise_embedding(torch.tensor([1.0]), 7)


@pytest.mark.parametrize("make, error, match", [
    (lambda: ToyDenoiser(hidden=0), ValueError, "hidden must be an int"),
    (lambda: ToyDenoiser(depth=10**9), ValueError, "depth must be an int from 0 to 1,000"),
    (lambda: ToyDenoiser(depth=True), TypeError, "depth must"),
    (lambda: ToyDenoiser(fourier=10**9), ValueError, "fourier must"),
    (lambda: ToyDenoiser(embed=7), ValueError, "embed must be even"),
    (lambda: ToyDenoiser(hidden=1_000_000, depth=3), ValueError, "hidden is too large"),
    (lambda: UNet(()), ValueError, "len\\(channels\\) must"),
    (lambda: UNet((8, 12)), ValueError, "channels\\[1\\] must be a multiple of 8"),
    (lambda: UNet((8, 8), n_classes=-1), ValueError, "n_classes must"),
    (lambda: UNet((8, 8), embed=0), ValueError, "embed must"),
    (lambda: DiffusionModel(None, cosine_schedule(10), (2,)), TypeError, "network must be a torch.nn.Module"),
    (lambda: DiffusionModel(ToyDenoiser(hidden=8, depth=1), cosine_schedule(10), ()), ValueError, "data_shape must"),
    (lambda: DiffusionModel(ToyDenoiser(hidden=8, depth=1), cosine_schedule(10), (2.5,)), TypeError,
     "data_shape\\[0\\] must"),
])
def test_networks_refuse_bad_sizes(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_slice_diffusion_refuses_bad_sizes():
    from course_lib.diffusion import SliceDiffusion

    with pytest.raises(ValueError, match="size must"):
        SliceDiffusion((8, 8), size=0)
    with pytest.raises(ValueError, match="n_samples must"):
        SliceDiffusion((8, 8), n_samples=-1)
    with pytest.raises(ValueError, match="n_samples is too large"):
        SliceDiffusion((8, 8), n_samples=10**8, size=10**6)
    with pytest.raises(ValueError, match="guidance_weights\\[0\\] must"):
        SliceDiffusion((8, 8), guidance_weights=(math.nan,))
    with pytest.raises(TypeError, match="schedule must"):
        SliceDiffusion((8, 8), schedule="cosine")


def test_forward_passes_check_shapes_devices_and_labels_but_let_nan_through():
    net = ToyDenoiser(2, 8, 1, 4, 2)
    x = torch.randn(3, 2)
    x[0, 0] = math.nan
    assert torch.isnan(net(x, torch.zeros(3))).any()  # NaN in, NaN out: no finiteness check in a forward
    with pytest.raises(ValueError, match="x_t must"):
        net(torch.randn(3, 3), torch.zeros(3))
    with pytest.raises(TypeError, match="x_t must be float32"):
        net(torch.randn(3, 2, dtype=torch.float64), torch.zeros(3))
    with pytest.raises(ValueError, match="log_snr must"):
        net(torch.randn(3, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="x_t must be on cpu"):
        net(torch.randn(3, 2, device="meta"), torch.zeros(3))
    unet = UNet((8, 8), n_classes=2, embed=4)
    images = torch.randn(2, 1, 8, 8)
    assert unet(images, torch.zeros(2), torch.tensor([0, 2])).shape == images.shape  # 2 = ∅
    with pytest.raises(ValueError, match="y must hold class labels from 0 to 2"):
        unet(images, torch.zeros(2), torch.tensor([0, 3]))
    with pytest.raises(TypeError, match="y must be a 1-D int64"):
        unet(images, torch.zeros(2), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="y must be None for an unconditional UNet"):
        UNet((8, 8), embed=4)(images, torch.zeros(2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="x_t must"):
        unet(torch.randn(2, 8, 8), torch.zeros(2))


def test_training_refuses_bad_settings_and_bad_data_before_a_step():
    from course_lib.diffusion import train_diffusion

    model = _toy()
    draw = lambda n, g: (torch.randn(n, 2, generator=g), None)  # noqa: E731
    for kwargs, error, match in [({"lr": 0.0}, ValueError, "lr must"), ({"seed": -1}, ValueError, "seed must"),
                                 ({"ema_decay": 1.0}, ValueError, "ema_decay must"),
                                 ({"steps": 10**9}, ValueError, "steps must"),
                                 ({"batch_size": True}, TypeError, "batch_size must")]:
        with pytest.raises(error, match=match):
            train_diffusion(model, draw, **{"steps": 2, "batch_size": 8, **kwargs})
    with pytest.raises(TypeError, match="model must be a DiffusionModel"):
        train_diffusion(ToyDenoiser(), draw, steps=2)
    with pytest.raises(TypeError, match="draw must be a function"):
        train_diffusion(model, None, steps=2)
    with pytest.raises(ValueError, match="draw\\(batch_size, generator\\) returned must be finite"):
        train_diffusion(model, lambda n, g: (_nan_at_first(torch.randn(n, 2)), None), steps=2, batch_size=8)
    with pytest.raises(ValueError, match="draw\\(batch_size, generator\\) returned must be"):
        train_diffusion(model, lambda n, g: (torch.randn(n, 3), None), steps=2, batch_size=8)
    with pytest.raises(TypeError, match="sampler must be"):
        train_toy_diffusion(None, cosine_schedule(10), steps=2)
    with pytest.raises(TypeError, match="schedule must be a NoiseSchedule"):
        train_toy_diffusion(draw, "cosine", steps=2)


def test_sampling_and_scores_refuse_bad_input():
    model = _toy()
    with pytest.raises(TypeError, match="model must be a DiffusionModel"):
        sample(None, 3, n_steps=2)
    with pytest.raises(ValueError, match="labels must be None for an unconditional"):
        sample(DiffusionModel(UNet((8, 8), embed=4), cosine_schedule(10), (1, 8, 8)), 2, n_steps=2,
               labels=torch.tensor([0, 1]))
    unet_model = DiffusionModel(UNet((8, 8), n_classes=2, embed=4), cosine_schedule(10), (1, 8, 8))
    with pytest.raises(ValueError, match="labels must hold class labels from 0 to 2"):
        sample(unet_model, 2, n_steps=2, labels=torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="clip\\[0\\] must"):
        sample(model, 3, n_steps=2, clip=(math.nan, 1.0))
    with pytest.raises(TypeError, match="clip must"):
        sample(model, 3, n_steps=2, clip=())
    with pytest.raises(ValueError, match="batch_size must"):
        sample(model, 3, n_steps=2, batch_size=0)
    with pytest.raises(TypeError, match="generator must"):
        sample(model, 3, n_steps=2, generator=0)
    with pytest.raises(TypeError, match="schedule must"):
        sampling_steps(None, 3)
    with pytest.raises(ValueError, match="t must be an int from 1"):
        model_score(model, torch.randn(3, 2), 0)  # σ_0 = 0: no score
    with pytest.raises(ValueError, match="x must be finite"):
        model_score(model, _nan_at_first(torch.randn(3, 2)), 2)
    with pytest.raises(TypeError, match="x must be float32"):
        model_score(model, torch.randn(3, 2, dtype=torch.float64), 2)
    with pytest.raises(ValueError, match="n must"):
        score_error(model, MODES, 0.1, 2, n=0)
    with pytest.raises(ValueError, match="modes must hold at least one"):
        score_error(model, torch.zeros(0, 2), 0.1, 2)
    with pytest.raises(ValueError, match="x must be finite"):
        anomaly_map(model, _nan_at_first(torch.randn(2, 2)), 4, n_steps=2)
    with pytest.raises(ValueError, match="labels must hold class labels"):
        reconstruct(unet_model, torch.rand(2, 1, 8, 8), 4, n_steps=2, labels=torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match="rtol must"):
        probability_flow_log_prob(model, torch.randn(3, 2), rtol=0.0)


def test_slice_resampling_refuses_bad_images():
    from course_lib.recipes.diffusion import to_32px, to_64px

    assert to_32px(torch.rand(2, 1, 8, 8)).shape == (2, 1, 4, 4)
    assert to_64px(torch.rand(2, 1, 4, 3)).shape == (2, 1, 8, 6)
    with pytest.raises(ValueError, match="even height and width"):
        to_32px(torch.rand(2, 1, 8, 7))
    with pytest.raises(ValueError, match="x must be finite"):
        to_64px(_nan_at_first(torch.rand(2, 1, 4, 4)))
    with pytest.raises(ValueError, match="x must hold at least one"):
        to_32px(torch.rand(0, 1, 8, 8))
    with pytest.raises(TypeError, match="x must"):
        to_32px(torch.rand(2, 1, 8, 8).numpy())
