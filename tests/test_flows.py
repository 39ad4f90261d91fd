"""Normalizing flows: the toy map against its closed forms, every layer's inverse and log-det
against autograd, MADE's autoregressive property, training and the KL estimate, bad input."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.data.toys import banana
from course_lib.flows import (
    MADE,
    AffineCoupling,
    Flow,
    MAFLayer,
    MaskedLinear,
    Reverse,
    autograd_log_det,
    change_of_variables_log_prob,
    density_grid,
    kl_to_truth,
    made_masks,
    maf,
    realnvp,
    standard_normal_log_prob,
    toy_density_integral,
    toy_log_prob,
    toy_map,
    toy_map_inverse,
    toy_map_log_det_inverse,
    train_flow,
)
from course_lib.training import NonFiniteLossError

SIGMAS = [1.0, 0.5, 2.0]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomised(module: nn.Module) -> nn.Module:
    """Layers start as the identity (zero last layer); perturb every weight so they do real work."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return module.double()


# --- the toy map -------------------------------------------------------------------------------

def test_toy_map_is_the_data_modules_banana():
    u = torch.from_numpy(np.random.default_rng(3).standard_normal((500, 2)))
    assert torch.allclose(toy_map(u).float(), banana(500, seed=3))
    x = toy_map(u, sigma=2.0)
    assert torch.allclose(x[:, 0], 2 * u[:, 0]) and torch.allclose(x[:, 1], u[:, 1] - x[:, 0] ** 2 - 1)


@pytest.mark.parametrize("sigma", SIGMAS)
def test_toy_map_inverts_both_ways(sigma):
    u = torch.randn(200, 2, dtype=torch.float64)
    x = torch.randn(200, 2, dtype=torch.float64) * 3
    assert torch.allclose(toy_map_inverse(toy_map(u, sigma), sigma), u)
    assert torch.allclose(toy_map(toy_map_inverse(x, sigma), sigma), x)


@pytest.mark.parametrize("sigma", SIGMAS)
def test_toy_map_log_det_matches_autograd(sigma):
    x = torch.randn(50, 2, dtype=torch.float64) * 2
    by_autograd = autograd_log_det(lambda x: toy_map_inverse(x, sigma), x)
    assert torch.allclose(toy_map_log_det_inverse(x, sigma).double(), by_autograd)
    assert torch.allclose(by_autograd, torch.full((50,), -math.log(sigma), dtype=torch.float64))


def test_toy_log_prob_closed_form():
    # p_x(x) = N(x₁; 0, σ²) · N(x₂; −x₁² − 1, 1): the map shifts u₂ by a function of x₁ only.
    x = torch.randn(100, 2, dtype=torch.float64) * 2
    for sigma in SIGMAS:
        n1 = torch.distributions.Normal(0.0, sigma).log_prob(x[:, 0])
        n2 = torch.distributions.Normal(-x[:, 0] ** 2 - 1, 1.0).log_prob(x[:, 1])
        assert torch.allclose(toy_log_prob(x, sigma), n1 + n2)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_toy_density_integrates_to_one(sigma):
    value, error = toy_density_integral(sigma)
    assert abs(value - 1) < 1e-6 and error < 1e-6


def test_standard_normal_and_change_of_variables_against_torch():
    u = torch.randn(40, 5, dtype=torch.float64)
    reference = torch.distributions.MultivariateNormal(torch.zeros(5, dtype=torch.float64),
                                                       torch.eye(5, dtype=torch.float64))
    assert torch.allclose(standard_normal_log_prob(u), reference.log_prob(u))
    # x = A u + b is N(b, A Aᵀ): the change of variables must give exactly that density.
    a = torch.tril(torch.randn(5, 5, dtype=torch.float64), -1) + torch.diag(torch.rand(5, dtype=torch.float64) + 0.5)
    b = torch.randn(5, dtype=torch.float64)
    x = u @ a.T + b
    log_p = change_of_variables_log_prob(
        x, lambda x: torch.linalg.solve_triangular(a, (x - b).T, upper=False).T,
        lambda x: torch.full((len(x),), -a.diagonal().log().sum().item(), dtype=torch.float64))
    assert torch.allclose(log_p, torch.distributions.MultivariateNormal(b, a @ a.T).log_prob(x))


def test_autograd_log_det_of_a_linear_map():
    a = torch.tensor([[2.0, 0.5], [-1.0, 3.0]], dtype=torch.float64)
    x = torch.randn(7, 2, dtype=torch.float64)
    assert torch.allclose(autograd_log_det(lambda x: x @ a.T, x), torch.full((7,), math.log(6.5), dtype=torch.float64))


# --- every layer: inverse and log-det ---------------------------------------------------------

LAYERS = {
    "coupling-keep-first": lambda: AffineCoupling([1.0, 0.0], hidden=16),
    "coupling-keep-second": lambda: AffineCoupling([0.0, 1.0], hidden=16),
    "coupling-5d": lambda: AffineCoupling([1.0, 0.0, 1.0, 0.0, 0.0], hidden=16),
    "coupling-unbounded": lambda: AffineCoupling([1.0, 0.0], hidden=16, scale_bound=None),
    "maf-layer-2d": lambda: MAFLayer(2, (16, 16)),
    "maf-layer-4d": lambda: MAFLayer(4, (16, 16)),
    "reverse": lambda: Reverse(),
    "realnvp": lambda: realnvp(2, n_couplings=4, hidden=16),
    "maf": lambda: maf(2, n_layers=3, hidden=16),
    "maf-3d": lambda: maf(3, n_layers=2, hidden=16),
}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_layer_inverts_and_log_dets_match_autograd(make):
    layer = _randomised(make())
    dim = layer.dim if hasattr(layer, "dim") else 2
    u = torch.randn(30, dim, dtype=torch.float64)
    x, log_det_forward = layer(u)
    u_back, log_det_inverse = layer.inverse(x)
    assert torch.allclose(u_back, u, atol=1e-10)
    x_any = torch.randn(30, dim, dtype=torch.float64) * 2
    assert torch.allclose(layer(layer.inverse(x_any)[0])[0], x_any, atol=1e-10)
    assert torch.allclose(log_det_forward, autograd_log_det(lambda u: layer(u)[0], u))
    assert torch.allclose(log_det_inverse, autograd_log_det(lambda x: layer.inverse(x)[0], x))
    assert torch.allclose(log_det_forward, -log_det_inverse)


@pytest.mark.parametrize("make", [realnvp, maf])
def test_flow_log_prob_is_a_normalised_density(make):
    flow = _randomised(make(hidden=16)).float()
    x1, x2, p = density_grid(flow.log_prob, xlim=(-12, 12), ylim=(-12, 12), n=400)
    cell = (x1[0, 1] - x1[0, 0]) * (x2[1, 0] - x2[0, 0])
    assert abs(p.sum() * cell - 1) < 0.02


def test_made_masks_make_the_jacobian_strictly_lower_triangular():
    for dim, hidden in [(2, [4]), (3, [8, 8]), (5, [4, 16]), (6, [5])]:
        masks = made_masks(dim, hidden)
        assert [tuple(m.shape) for m in masks] == list(zip([*hidden, dim], [dim, *hidden]))
        made = _randomised(MADE(dim, hidden))
        x = torch.randn(dim, dtype=torch.float64)
        for head in (0, 1):
            jac = torch.autograd.functional.jacobian(lambda x: made(x[None])[head][0], x)
            assert (torch.triu(jac) == 0).all()  # output d sees only x_{<d}
            assert (torch.tril(jac, -1) != 0).sum() == dim * (dim - 1) // 2  # …and all of them


def test_maf_samples_in_d_passes_and_evaluates_in_one():
    layer = MAFLayer(4, (8, 8))
    calls = []
    layer.made.register_forward_hook(lambda *args: calls.append(1))
    layer(torch.randn(3, 4))
    assert len(calls) == 4
    calls.clear()
    layer.inverse(torch.randn(3, 4))
    assert len(calls) == 1


def test_scales_are_bounded():
    layer = AffineCoupling([1.0, 0.0], hidden=8, scale_bound=2.0)
    with torch.no_grad():
        layer.net[-1].bias.fill_(100.0)
    _, log_det = layer(torch.randn(10, 2))
    assert torch.allclose(log_det, torch.full((10,), 2.0))


def test_stages_follow_the_layers():
    flow = _randomised(realnvp(hidden=8)).float()
    u = torch.randn(20, 2)
    stages = flow.stages(u)
    assert len(stages) == len(flow.layers) + 1 and stages[0] is not None
    assert torch.equal(stages[0], u) and torch.allclose(stages[-1], flow(u)[0])


# --- training and the distance to the truth ---------------------------------------------------

def test_training_gets_close_to_the_truth():
    torch.manual_seed(0)
    flow = maf(hidden=32, n_layers=2)
    data = banana(4000, seed=1)
    before = kl_to_truth(flow.log_prob, banana(20_000, seed=2)).kl
    history = train_flow(flow, data, epochs=6, batch_size=128, lr=5e-3, progress=False)
    after = kl_to_truth(flow.log_prob, banana(20_000, seed=2))
    assert history["nll"][-1] < history["nll"][0] and after.kl < 0.05 < before


def test_kl_estimate_against_a_closed_form():
    # p = toy map with σ = 1, q = the same with σ = 2: they differ only in x₁ ~ N(0, σ²), so
    # KL(p ‖ q) = KL(N(0, 1) ‖ N(0, 4)) = log 2 + 1/8 − 1/2.
    estimate = kl_to_truth(lambda x: toy_log_prob(x, 2.0), banana(200_000, seed=5))
    exact = math.log(2) + 1 / 8 - 1 / 2
    assert abs(estimate.kl - exact) < 4 * estimate.stderr + 1e-4
    assert kl_to_truth(toy_log_prob, banana(1000, seed=5)) == (0.0, 0.0)


def test_divergence_stops_with_a_clear_error():
    torch.manual_seed(0)
    flow = realnvp(scale_bound=None)
    with pytest.raises(NonFiniteLossError, match=r"'nll' is nan at .*epoch 1, step \d"):
        train_flow(flow, banana(4000, seed=1), epochs=3, batch_size=256, lr=0.3, progress=False)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    toy_map, toy_map_inverse, toy_map_log_det_inverse, toy_log_prob,
    lambda x: realnvp().log_prob(x), lambda x: maf().log_prob(x), lambda x: realnvp().inverse(x),
], ids=["map", "inverse", "log-det", "log-prob", "realnvp", "maf", "flow-inverse"])
def test_bad_points_are_refused(fn):
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        fn(torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        fn(torch.zeros(2))
    with pytest.raises(ValueError, match="NaN or ±inf"):
        fn(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="NaN or ±inf"):
        fn(torch.tensor([[float("inf"), 0.0]]))
    with pytest.raises(TypeError, match="floating-point"):
        fn(torch.zeros(4, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="torch.Tensor"):
        fn(np.zeros((4, 2)))


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="sigma"):
        toy_map(torch.zeros(3, 2), sigma=0.0)
    with pytest.raises(ValueError, match="sigma"):
        toy_density_integral(-1.0)
    with pytest.raises(ValueError, match="mask"):
        AffineCoupling([1.0, 1.0])
    with pytest.raises(ValueError, match="mask"):
        AffineCoupling([0.5, 0.0])
    with pytest.raises(ValueError, match="dim must be an int ≥ 2"):
        made_masks(1, [4])
    with pytest.raises(ValueError, match="hidden_sizes"):
        made_masks(5, [3])
    with pytest.raises(ValueError, match="n must be an int from 1"):
        realnvp().sample(0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        train_flow(maf(), torch.zeros(10, 3), epochs=1)


def test_flow_of_any_layers():
    flow = Flow([Reverse(), Reverse()], dim=2)
    x = torch.randn(4, 2)
    assert torch.equal(flow(x)[0], x) and torch.allclose(flow.log_prob(x), standard_normal_log_prob(x))
    assert flow.sample(3, generator=torch.Generator().manual_seed(0)).shape == (3, 2)


# Issue 27: every argument is checked before any work starts.

def test_layer_and_flow_constructors_refuse_bad_sizes():
    with pytest.raises(ValueError, match="depth must be an int from 0 to 1,000"):
        AffineCoupling([1.0, 0.0], hidden=8, depth=10**9)
    with pytest.raises(TypeError, match="hidden must be an int"):
        AffineCoupling([1.0, 0.0], hidden=True)
    with pytest.raises(ValueError, match="hidden is too large"):
        AffineCoupling([1.0, 0.0], hidden=10**6)
    with pytest.raises(TypeError, match="mask must be a 1-D 0/1 vector"):
        AffineCoupling(None)
    for bound in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="scale_bound must be a finite number > 0"):
            realnvp(scale_bound=bound)
    with pytest.raises(TypeError, match="scale_bound"):
        MADE(3, (4, 4), scale_bound="3")
    with pytest.raises(ValueError, match="n_couplings must be an int from 1"):
        realnvp(n_couplings=0)
    with pytest.raises(ValueError, match="a bound against typos"):
        maf(n_layers=10**9)
    with pytest.raises(TypeError, match="dim must be an int ≥ 2"):
        realnvp(dim=2.5)
    with pytest.raises(TypeError, match="hidden_sizes must be"):
        made_masks(3, None)
    with pytest.raises(TypeError, match="hidden_sizes must be"):
        MAFLayer(3, (4, 2.5))
    with pytest.raises(ValueError, match="0s and 1s"):
        MaskedLinear(torch.tensor([[0.5, 1.0]]))
    with pytest.raises(TypeError, match="layers must be a sequence of flow layers"):
        Flow(None, dim=2)
    with pytest.raises(TypeError, match=r"layers\[0\] must be a flow layer"):
        Flow([nn.Linear(2, 2)], dim=2)
    with pytest.raises(ValueError, match="dim must be an int from 1"):
        Flow([Reverse()], dim=0)


def test_layers_check_their_input():
    coupling = AffineCoupling([1.0, 0.0], hidden=8)
    u = torch.randn(4, 2)
    with pytest.raises(TypeError, match="convert it with"):
        coupling(u.double())
    with pytest.raises(TypeError, match="floating-point"):
        coupling.inverse(u.long())
    with pytest.raises(ValueError, match="at least one sample"):
        MAFLayer(2, (4, 4))(u[:0])
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        MADE(3, (4, 4))(u)
    with pytest.raises(TypeError, match="torch.Tensor"):
        Reverse()(u.tolist())
    with pytest.raises(ValueError, match="must be on cpu"):
        coupling(u.to("meta"))
    with pytest.raises(ValueError, match="u must be on cpu, where the flow's parameters are"):
        realnvp(2, 1, 8)(u.to("meta"))
    # NaN in a layer's forward is not refused: NaN in, NaN out like every torch layer.
    assert torch.isnan(coupling(torch.full((1, 2), float("nan")))[0]).all()


def test_train_flow_refuses_bad_data_and_settings_before_training():
    flow = realnvp(2, 2, 8)
    before = [p.detach().clone() for p in flow.parameters()]
    data = banana(64, seed=0)
    bad = data.clone()
    bad[5, 1] = float("nan")
    with pytest.raises(ValueError, match="data must be finite"):
        train_flow(flow, bad, epochs=1, progress=False)
    with pytest.raises(TypeError, match="data must be float32"):
        train_flow(flow, data.double(), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be an int from 1 to 100,000"):
        train_flow(flow, data, epochs=10**9, progress=False)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        train_flow(flow, data, epochs=1, lr=float("inf"), progress=False)
    with pytest.raises(ValueError, match="seed must be an int from 0"):
        train_flow(flow, data, epochs=1, seed=-1, progress=False)
    with pytest.raises(TypeError, match="flow must be a torch.nn.Module"):
        train_flow(None, data, epochs=1, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, flow.parameters()))


def test_estimators_and_grids_check_their_arguments():
    x = banana(8, seed=0)
    with pytest.raises(ValueError, match="at least 2 points"):
        kl_to_truth(toy_log_prob, x[:1])
    with pytest.raises(ValueError, match="x must hold values"):
        kl_to_truth(toy_log_prob, x.to("meta"))
    with pytest.raises(TypeError, match="log_q must be"):
        kl_to_truth(None, x)
    with pytest.raises(ValueError, match="log_q must return one log-density per point"):
        kl_to_truth(lambda x: torch.zeros(3), x)
    with pytest.raises(ValueError, match="log_det_inverse must return one value per point"):
        change_of_variables_log_prob(x, toy_map_inverse, lambda x: torch.zeros(()))
    with pytest.raises(TypeError, match="fn must be"):
        autograd_log_det(None, x)
    with pytest.raises(ValueError, match="at least one sample"):
        standard_normal_log_prob(x[:0])
    with pytest.raises(ValueError, match="n must be an int from 1 to 10,000"):
        density_grid(toy_log_prob, n=10**9)
    with pytest.raises(ValueError, match="xlim must be a pair"):
        density_grid(toy_log_prob, xlim=())
    with pytest.raises(ValueError, match="low < high"):
        density_grid(toy_log_prob, ylim=(2.0, -2.0))
    with pytest.raises(ValueError, match=r"xlim\[1\] must be a finite number"):
        density_grid(toy_log_prob, xlim=(0.0, float("nan")))
    with pytest.raises(ValueError, match="n must be an int from 1"):
        realnvp(2, 1, 8).sample(0)
