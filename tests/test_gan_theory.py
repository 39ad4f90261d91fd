"""The optimal discriminator and the Jensen–Shannon divergence of lecture 04, against closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from course_lib.gan import discriminator_loss, generator_loss
from course_lib.gan_theory import jensen_shannon_divergence, mixture_log_density, optimal_discriminator_logit
from course_lib.recipes.gan import toy_modes

RING = toy_modes("ring").double()
STD = 0.01
HALF = torch.tensor([0.25, 0.0] * 4, dtype=torch.float64)  # a generator collapsed onto every other mode


def _stratified(modes: torch.Tensor, per_mode: int, seed: int) -> torch.Tensor:
    rng = torch.Generator().manual_seed(seed)
    return modes.repeat_interleave(per_mode, 0) + STD * torch.randn(len(modes) * per_mode, 2, generator=rng,
                                                                    dtype=torch.float64)


def test_mixture_log_density_matches_torch_distributions():
    x = torch.randn(50, 2, dtype=torch.float64)
    modes = torch.randn(3, 2, dtype=torch.float64)
    weights = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    mix = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(weights),
        torch.distributions.Independent(torch.distributions.Normal(modes, 0.7), 1))
    assert torch.allclose(mixture_log_density(x, modes, 0.7, weights), mix.log_prob(x), atol=1e-12)


def test_mixture_log_density_integrates_to_one_on_a_grid():
    modes = torch.tensor([[0.0, 0.0], [1.0, 0.5]], dtype=torch.float64)
    g = torch.linspace(-4, 5, 301, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    density = mixture_log_density(torch.stack([xx.ravel(), yy.ravel()], 1), modes, 0.5).exp()
    assert abs(density.sum().item() * (g[1] - g[0]).item() ** 2 - 1) < 1e-6


def test_optimal_discriminator_beats_every_other_on_the_collapsed_ring():
    real, fake = _stratified(RING, 500, 0), _stratified(RING[::2], 1000, 1)

    def value(d):  # V(D, G) = −2 L_D
        return (-2 * discriminator_loss(d(real), d(fake))).item()

    def d_star(x):
        return optimal_discriminator_logit(mixture_log_density(x, RING, STD), mixture_log_density(x, RING, STD, HALF))

    closed = math.log(2) - 1.5 * math.log(3)
    assert value(d_star) == pytest.approx(closed, abs=1e-9)
    for other in (lambda x: 0.9 * d_star(x), lambda x: d_star(x) - 0.2, lambda x: torch.zeros(len(x), dtype=x.dtype)):
        assert value(other) < value(d_star)
    assert generator_loss(d_star(fake), "non_saturating").item() == pytest.approx(math.log(3), abs=1e-9)


def test_value_at_optimum_is_minus_log_4_plus_twice_jsd():
    real, fake = _stratified(RING, 500, 0), _stratified(RING[::2], 1000, 1)
    lp, lq = (lambda x: mixture_log_density(x, RING, STD)), (lambda x: mixture_log_density(x, RING, STD, HALF))
    jsd = jensen_shannon_divergence(lp(real), lq(real), lp(fake), lq(fake)).item()
    closed = 0.5 * (0.5 * math.log(2 / 3) + 0.5 * math.log(2) + math.log(4 / 3))
    assert jsd == pytest.approx(closed, abs=1e-9)
    v = (-2 * discriminator_loss(optimal_discriminator_logit(lp(real), lq(real)),
                                 optimal_discriminator_logit(lp(fake), lq(fake)))).item()
    assert v == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-9)


def test_jsd_bounds_equal_and_disjoint():
    a, b = torch.zeros(100, 2, dtype=torch.float64), torch.full((100, 2), 50.0, dtype=torch.float64)
    modes_a, modes_b = torch.zeros(1, 2, dtype=torch.float64), torch.full((1, 2), 50.0, dtype=torch.float64)
    la, lb = (lambda x: mixture_log_density(x, modes_a, 1.0)), (lambda x: mixture_log_density(x, modes_b, 1.0))
    assert jensen_shannon_divergence(la(a), la(a), la(a), la(a)).item() == pytest.approx(0.0, abs=1e-12)
    assert jensen_shannon_divergence(la(a), lb(a), la(b), lb(b)).item() == pytest.approx(math.log(2), abs=1e-9)


def test_bad_input_is_named():
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="std must be > 0"):
        mixture_log_density(x, RING.float(), 0.0)
    with pytest.raises(ValueError, match="x must be"):
        mixture_log_density(torch.zeros(4, 3), RING.float(), 0.1)
    with pytest.raises(ValueError, match="weights must be ≥ 0 and sum to 1"):
        mixture_log_density(x, RING.float(), 0.1, torch.full((8,), 0.2))
    with pytest.raises(TypeError, match="log_p_data"):
        optimal_discriminator_logit([0.0], torch.zeros(1))
    with pytest.raises(ValueError, match="log_p_g"):
        optimal_discriminator_logit(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        optimal_discriminator_logit(torch.tensor([float("nan")]), torch.zeros(1))
    with pytest.raises(ValueError, match="log_q_on_p"):
        jensen_shannon_divergence(torch.zeros(3), torch.zeros(2), torch.zeros(2), torch.zeros(2))


def test_refusals_of_the_validation_layer():
    """Issue 27: empty or meta input, NaN and +inf log-densities, and 0/0 ratios are refused by name."""
    modes = RING.float()
    with pytest.raises(ValueError, match="x must hold at least one sample"):
        mixture_log_density(torch.zeros(0, 2), modes, 0.1)
    with pytest.raises(ValueError, match="x must hold values"):
        mixture_log_density(torch.zeros(3, 2, device="meta"), modes, 0.1)
    with pytest.raises(ValueError, match="weights must hold values"):
        mixture_log_density(torch.zeros(3, 2), modes, 0.1, torch.full((8,), 1 / 8, device="meta"))
    with pytest.raises(ValueError, match="x must be finite"):
        mixture_log_density(torch.tensor([[math.nan, 0.0]]), modes, 0.1)
    inf = math.inf
    with pytest.raises(ValueError, match=r"log_p_g must be log-densities \(finite or −inf\)"):
        optimal_discriminator_logit(torch.zeros(2), torch.tensor([0.0, inf]))
    with pytest.raises(ValueError, match="must not both be −inf"):
        optimal_discriminator_logit(torch.tensor([0.0, -inf]), torch.tensor([0.0, -inf]))
    assert optimal_discriminator_logit(torch.tensor([0.0, -inf]), torch.tensor([-inf, 0.0])).tolist() == [inf, -inf]
    with pytest.raises(ValueError, match="log_p_data must hold values"):
        optimal_discriminator_logit(torch.zeros(2, device="meta"), torch.zeros(2))
    with pytest.raises(ValueError, match=r"log_p_on_p must be finite \(a sample's own density is > 0"):
        jensen_shannon_divergence(torch.tensor([-inf, 0.0]), torch.zeros(2), torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match="log_q_on_q must be"):
        jensen_shannon_divergence(torch.zeros(2), torch.zeros(2), torch.zeros(2), torch.tensor([inf, 0.0]))
    with pytest.raises(ValueError, match="log_p_on_q must hold values"):
        jensen_shannon_divergence(torch.zeros(2), torch.zeros(2), torch.zeros(2, device="meta"), torch.zeros(2))
    # q = 0 at a sample of p is legitimate: that sample contributes log 2
    jsd = jensen_shannon_divergence(torch.zeros(2), torch.full((2,), -inf), torch.full((2,), -inf), torch.zeros(2))
    assert jsd.item() == pytest.approx(math.log(2))
