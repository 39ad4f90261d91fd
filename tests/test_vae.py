"""The VAE library: reparametrization, the closed-form KL against Monte Carlo and torch, the ELBO's
reduction, the (conditional) conv VAE, the two gradient estimators against their exact variances,
the score function's leave-one-out baseline, and the encoder-gradient variance table."""

import math

import pytest
import torch

from course_lib.data import brain_slices
from course_lib.recipes import vae as recipes03
from course_lib.vae import (
    DEFAULT_SIGMA_X,
    ENCODER_GRADIENT_ROWS,
    ConvVAE,
    encoder_gradient_variances,
    evaluate_elbo,
    exact_estimator_variances,
    gaussian_nll,
    interpolate,
    kl_to_standard_normal,
    negative_elbo,
    one_hot,
    pathwise_gradients,
    reparametrize,
    sample_prior,
    score_function_gradients,
    train_vae,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# --- reparametrize -------------------------------------------------------------------------------

def test_reparametrize_samples_the_right_gaussian():
    mu = torch.tensor([[1.0, -2.0, 0.5]]).expand(200_000, 3)
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.25)]]).expand(200_000, 3)
    z = reparametrize(mu, logvar, torch.Generator().manual_seed(1))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -2.0, 0.5]), atol=0.01)
    assert torch.allclose(z.var(0), torch.tensor([1.0, 4.0, 0.25]), rtol=0.02)


def test_reparametrize_lets_gradients_through():
    mu = torch.randn(4, 3, requires_grad=True)
    logvar = torch.randn(4, 3, requires_grad=True)
    generator = torch.Generator().manual_seed(2)
    z = reparametrize(mu, logvar, generator)
    z.sum().backward()
    eps = torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(mu.grad, torch.ones(4, 3))  # ∂z/∂μ = 1
    assert torch.allclose(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)  # ∂z/∂log σ² = ½σε


# --- KL and the ELBO -------------------------------------------------------------------------------

def test_kl_closed_form_against_torch_and_monte_carlo():
    mu, logvar = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(kl_to_standard_normal(mu, logvar), expected)
    z = q.sample((400_000,))  # KL = E_q[log q(z) − log p(z)]
    monte_carlo = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    assert torch.allclose(monte_carlo, expected, rtol=0.02, atol=0.01)
    assert torch.equal(kl_to_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))


def test_gaussian_nll_is_the_normal_log_density():
    x, x_hat = torch.rand(3, 1, 4, 4, dtype=torch.float64), torch.rand(3, 1, 4, 4, dtype=torch.float64)
    expected = -torch.distributions.Normal(x_hat, 0.2).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(gaussian_nll(x_hat, x, 0.2), expected)


def test_negative_elbo_reduction_and_beta():
    x, x_hat = torch.rand(6, 1, 8, 8), torch.rand(6, 1, 8, 8)
    mu, logvar = torch.randn(6, 5), torch.randn(6, 5)
    terms = negative_elbo(x_hat, x, mu, logvar, sigma_x=0.1)
    assert torch.allclose(terms.reconstruction, gaussian_nll(x_hat, x, 0.1).mean())  # per-image sum, batch mean
    assert torch.allclose(terms.kl, kl_to_standard_normal(mu, logvar).mean())
    assert torch.allclose(terms.loss, terms.reconstruction + terms.kl)
    beta4 = negative_elbo(x_hat, x, mu, logvar, sigma_x=0.1, beta=4.0)
    assert torch.allclose(beta4.loss, terms.reconstruction + 4 * terms.kl)
    # The "α‖x − f(z)‖² + KL" form: α = 1/(2σ_x²), up to a constant that does not depend on θ or φ.
    alpha = 1 / (2 * 0.1**2)
    squared = (x - x_hat).pow(2).flatten(1).sum(1).mean()
    constant = 0.5 * 64 * math.log(2 * math.pi * 0.1**2)
    assert torch.allclose(terms.loss, alpha * squared + terms.kl + constant)


# --- gradient estimators ---------------------------------------------------------------------------

def test_both_estimators_are_unbiased_with_the_exact_variances():
    eps = torch.randn(400_000, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    for a in (-2.0, 0.0, 1.5):
        mu, k = torch.tensor(a + 0.3, dtype=torch.float64), 0.3
        def f(z):
            return (z - k) ** 2
        pathwise = pathwise_gradients(f, mu, torch.tensor(1.0, dtype=torch.float64), eps)
        score = score_function_gradients(f, mu, torch.tensor(1.0, dtype=torch.float64), eps)
        exact_path, exact_score = exact_estimator_variances(a)
        assert abs(pathwise.mean() - 2 * a) < 0.02 and abs(score.mean() - 2 * a) < 0.1
        assert abs(pathwise.var() / exact_path - 1) < 0.02
        assert abs(score.var() / exact_score - 1) < 0.05


def test_exact_variances_closed_form():
    path, score = exact_estimator_variances(torch.tensor([0.0, 1.0, 3.0]))
    assert torch.equal(path, torch.full((3,), 4.0, dtype=torch.float64))
    assert torch.equal(score, torch.tensor([15.0, 30.0, 81 + 126 + 15], dtype=torch.float64))


def _square(k: float):
    def f(z):
        return (z - k) ** 2
    return f


def test_leave_one_out_baseline_is_unbiased_with_less_variance():
    one = torch.tensor(1.0, dtype=torch.float64)
    eps = torch.randn(400_000, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    for a in (-2.0, 0.0, 1.5):
        mu, f = torch.tensor(a + 0.3, dtype=torch.float64), _square(0.3)
        pathwise = pathwise_gradients(f, mu, one, eps)
        plain = score_function_gradients(f, mu, one, eps)
        loo = score_function_gradients(f, mu, one, eps, baseline="leave_one_out")
        assert abs(loo.mean() - 2 * a) < 0.05 and abs(loo.mean() - pathwise.mean()) < 0.05
        # (f − E f) ε = 2aε² + ε³ − ε: variance 8a² + 10, against a⁴ + 14a² + 15 without the baseline
        assert abs(loo.var() / (8 * a**2 + 10) - 1) < 0.05
        assert loo.var() < plain.var()


def test_leave_one_out_baseline_is_unbiased_with_few_samples():
    # n = 4 samples along dim 0, 200,000 independent replicates along dim 1: b_i is the mean of only
    # three other values. Subtracting the plain mean f̄ (z_i included) would give (1 − 1/n) · 2a.
    one, a, n = torch.tensor(1.0, dtype=torch.float64), 1.5, 4
    eps = torch.randn(n, 200_000, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    mu, f = torch.tensor(a + 0.3, dtype=torch.float64), _square(0.3)
    loo = score_function_gradients(f, mu, one, eps, baseline="leave_one_out")
    assert loo.shape == eps.shape
    standard_error = (loo.var() / loo.numel()).sqrt()
    assert abs(loo.mean() - 2 * a) < 4 * standard_error < 0.1 * (2 * a / n)
    assert loo.var() < score_function_gradients(f, mu, one, eps).var()


def test_a_constant_in_f_costs_variance_only_without_a_baseline():
    one = torch.tensor(1.0, dtype=torch.float64)
    eps = torch.randn(100_000, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    mu, f = torch.tensor(0.5, dtype=torch.float64), _square(0.0)
    def shifted(z):
        return f(z) - 1000.0
    plain, plain_shifted = (score_function_gradients(g, mu, one, eps) for g in (f, shifted))
    assert plain_shifted.var() > 1e4 * plain.var()  # + c² Var[ε] = 10⁶ on top of a⁴ + 14a² + 15
    assert abs(plain_shifted.mean() - 2 * 0.5) < 0.1 * plain_shifted.std()  # ... but still unbiased
    loo, loo_shifted = (score_function_gradients(g, mu, one, eps, baseline="leave_one_out") for g in (f, shifted))
    assert torch.allclose(loo, loo_shifted, rtol=1e-9, atol=1e-9)


def test_score_function_baseline_is_validated():
    mu, sigma, eps = torch.tensor(0.0), torch.tensor(1.0), torch.randn(8)
    with pytest.raises(ValueError, match=r"baseline must be one of \(None, 'leave_one_out'\).*'mean'"):
        score_function_gradients(_square(0.0), mu, sigma, eps, baseline="mean")
    with pytest.raises(ValueError, match="at least 2 samples"):
        score_function_gradients(_square(0.0), mu, sigma, torch.randn(1, 3), baseline="leave_one_out")
    with pytest.raises(ValueError, match="at least 2 samples"):
        score_function_gradients(_square(0.0), mu, sigma, torch.tensor(0.3), baseline="leave_one_out")


def test_encoder_gradient_variances_table():
    vae = ConvVAE(4, size=32).eval()
    x = brain_slices(3, size=32, seed=2)
    variances = encoder_gradient_variances(vae, x, n_samples=64, sigma_x=1.0)
    assert tuple(variances) == ENCODER_GRADIENT_ROWS == (
        "pathwise",
        "score function, log-likelihood with its constant",
        "score function, constant dropped",
        "score function, leave-one-out baseline",
    )
    for row, value in variances.items():
        assert value.shape == (3, 4), row
        assert torch.isfinite(value).all() and (value > 0).all(), row
    ratio = {row: (variances[row] / variances["pathwise"]).median().item() for row in ENCODER_GRADIENT_ROWS[1:]}
    # the constant (D/2) log 2π ≈ 941 nats for D = 32² dwarfs the untrained decoder's squared error
    # (≈ 70 nats), so dropping it divides the variance by ≈ ((941 + 70) / 70)² ≈ 200 (30 asserted)
    assert 30 * ratio["score function, constant dropped"] < ratio["score function, log-likelihood with its constant"]
    assert ratio["score function, leave-one-out baseline"] < ratio["score function, constant dropped"]
    again = encoder_gradient_variances(vae, x, n_samples=64, sigma_x=1.0)
    assert all(torch.equal(variances[row], again[row]) for row in ENCODER_GRADIENT_ROWS)  # seeded
    with pytest.raises(ValueError, match="n_samples"):
        encoder_gradient_variances(vae, x, n_samples=1)


def test_default_sigma_x_is_the_lectures_main_model():
    assert DEFAULT_SIGMA_X == recipes03.VAE03_SIGMA_X == 1.0  # α = 1/(2σ_x²) = 0.5


# --- the conv VAE --------------------------------------------------------------------------------

def test_conv_vae_shapes_and_conditioning():
    vae = ConvVAE(6, size=32)
    x = torch.rand(5, 1, 32, 32)
    x_hat, mu, logvar = vae(x)
    assert x_hat.shape == x.shape and mu.shape == logvar.shape == (5, 6)
    assert ((x_hat >= 0) & (x_hat <= 1)).all()
    cvae = ConvVAE(6, size=32, n_classes=4)
    labels = torch.tensor([0, 1, 2, 3, 3])
    assert cvae(x, labels)[0].shape == x.shape
    z = torch.randn(1, 6).expand(4, 6)
    per_condition = cvae.decode(z, torch.arange(4))
    assert not torch.allclose(per_condition[0], per_condition[3])  # the label changes the decode
    assert sample_prior(cvae, 4, torch.arange(4)).shape == (4, 1, 32, 32)


def test_conv_vae_bad_input():
    vae, cvae = ConvVAE(6, size=32), ConvVAE(6, size=32, n_classes=3)
    x = torch.rand(2, 1, 32, 32)
    with pytest.raises(ValueError, match=r"\(B, 1, 32, 32\)"):
        vae(torch.rand(2, 32, 32))
    with pytest.raises(ValueError, match="needs labels"):
        cvae(x)
    with pytest.raises(ValueError, match="not conditional"):
        vae(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"labels must be in 0…2"):
        cvae(x, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="one label per sample"):
        cvae(x, torch.tensor([0]))
    with pytest.raises(ValueError, match="integer tensor"):
        one_hot(torch.tensor([0.5]), 3)
    with pytest.raises(ValueError, match=r"\(B, 6\)"):
        vae.decode(torch.randn(2, 5))
    with pytest.raises(ValueError, match="latent_dim"):
        ConvVAE(0)


@pytest.mark.parametrize("mu, logvar, error, match", [
    (torch.zeros(2, 3), torch.zeros(2, 4), ValueError, "same shape"),
    (torch.zeros(3), torch.zeros(3), ValueError, r"\(B, latent_dim\)"),
    (torch.tensor([[float("nan"), 0.0]]), torch.zeros(1, 2), ValueError, "NaN or ±inf"),
    (torch.zeros(1, 2), torch.tensor([[0.0, float("inf")]]), ValueError, "NaN or ±inf"),
    (torch.zeros(1, 2, dtype=torch.long), torch.zeros(1, 2), TypeError, "floating-point"),
], ids=["shapes", "not-batched", "nan-mu", "inf-logvar", "int"])
def test_gaussian_parameters_are_validated(mu, logvar, error, match):
    with pytest.raises(error, match=match):
        reparametrize(mu, logvar)
    with pytest.raises(error, match=match):
        kl_to_standard_normal(mu, logvar)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="same shape"):
        gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="sigma_x"):
        gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 3), sigma_x=0.0)
    with pytest.raises(ValueError, match="beta"):
        negative_elbo(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 1), torch.zeros(2, 1), beta=-1.0)
    with pytest.raises(ValueError, match="single code"):
        interpolate(lambda z: z, torch.zeros(2, 3), torch.zeros(2, 3))


def test_interpolation_runs_from_z0_to_z1():
    vae = ConvVAE(4, size=32).eval()
    z0, z1 = torch.randn(4), torch.randn(4)
    frames = interpolate(vae.decode, z0, z1, steps=5)
    with torch.no_grad():
        assert torch.allclose(frames[0], vae.decode(z0[None])[0]) and torch.allclose(frames[-1], vae.decode(z1[None])[0])
    assert frames.shape == (5, 1, 32, 32)


def test_short_training_lowers_the_negative_elbo():
    x = torch.rand(64, 1, 32, 32) * 0.2 + torch.linspace(0, 0.8, 32)[None, None, None, :]
    vae = ConvVAE(4, size=32, width=8)
    before = evaluate_elbo(vae, x, sigma_x=0.1)
    history = train_vae(vae, x, epochs=8, batch_size=16, lr=5e-3, sigma_x=0.1, progress=False)
    after = evaluate_elbo(vae, x, sigma_x=0.1)
    assert set(history) == {"loss", "reconstruction", "kl"}
    assert after["negative_elbo"] < before["negative_elbo"]
    assert math.isclose(after["negative_elbo"], after["reconstruction"] + after["kl"], rel_tol=1e-6)


# --- the validation layer (issue 27): refused before any work, with the argument's name -------------

NAN = float("nan")


def _with_nan(t: torch.Tensor) -> torch.Tensor:
    t = t.clone()
    t.view(-1)[0] = NAN
    return t


@pytest.mark.parametrize("call, error, match", [
    (lambda: gaussian_nll(_with_nan(torch.rand(2, 4)), torch.rand(2, 4)), ValueError, "x_hat must be finite"),
    (lambda: gaussian_nll(torch.rand(2, 4), torch.rand(2, 4).long()), TypeError, "x must be a floating-point"),
    (lambda: gaussian_nll(torch.rand(0, 4), torch.rand(0, 4)), ValueError, "x_hat must be .* B ≥ 1"),
    (lambda: gaussian_nll(torch.rand(2, 4).tolist(), torch.rand(2, 4)), TypeError, "x_hat must be .*torch.Tensor"),
    (lambda: gaussian_nll(torch.rand(2, 4, device="meta"), torch.rand(2, 4)), ValueError, "x must be on meta like x_hat"),
    (lambda: gaussian_nll(torch.rand(2, 4), torch.rand(2, 4), sigma_x="0.1"), TypeError, "sigma_x must be a finite"),
    (lambda: gaussian_nll(torch.rand(2, 4), torch.rand(2, 4), sigma_x=math.inf), ValueError, "sigma_x must be"),
    (lambda: negative_elbo(torch.rand(2, 4), torch.rand(2, 4), torch.zeros(3, 2), torch.zeros(3, 2)), ValueError,
     r"mu must hold one row per image \(2\), got 3"),
    (lambda: negative_elbo(torch.rand(2, 4), torch.rand(2, 4), torch.zeros(2, 2), torch.zeros(2, 2), beta=None),
     TypeError, "beta must be a finite number"),
    (lambda: negative_elbo(torch.rand(2, 4), torch.rand(2, 4), torch.zeros(2, 2), torch.zeros(2, 2), beta=math.inf),
     ValueError, "beta must be"),
    (lambda: kl_to_standard_normal(torch.zeros(2, 2, device="meta"), torch.zeros(2, 2)), ValueError,
     "logvar must be on meta like mu"),
    (lambda: reparametrize(torch.zeros(2, 2), torch.zeros(2, 2), generator=0), TypeError, "generator must be"),
], ids=["nll-nan", "nll-int", "nll-empty", "nll-list", "nll-meta", "nll-sigma-str", "nll-sigma-inf", "elbo-rows",
        "elbo-beta-none", "elbo-beta-inf", "kl-meta", "reparametrize-generator"])
def test_losses_refuse_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_reparametrize_keeps_meta_tensors_for_a_meta_model():
    z = reparametrize(torch.zeros(2, 3, device="meta"), torch.zeros(2, 3, device="meta"))
    assert z.device.type == "meta" and z.shape == (2, 3)
    with pytest.raises(ValueError, match="logvar must be on meta"):
        reparametrize(torch.zeros(2, 3, device="meta"), torch.zeros(2, 3))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"latent_dim": True}, TypeError, "latent_dim must be an int"),
    ({"latent_dim": 10**9}, ValueError, "latent_dim must be an int from 1 to 1,000,000 .*typos"),
    ({"size": 48}, ValueError, r"size must be one of \(32, 64\)"),
    ({"size": 32.0}, TypeError, "size must be an int"),
    ({"width": 1}, ValueError, "width must be an int from 2"),
    ({"width": 100_000}, ValueError, "too large"),
    ({"n_classes": True}, TypeError, "n_classes must be an int"),
    ({"n_classes": -1}, ValueError, "n_classes must be an int from 0"),
], ids=["latent-bool", "latent-huge", "size", "size-float", "width-1", "width-memory", "classes-bool", "classes-neg"])
def test_conv_vae_constructor_refuses_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        ConvVAE(**{"latent_dim": 3, "size": 32, "width": 4, **kwargs})


def test_conv_vae_forward_refuses_what_it_cannot_take():
    cvae = ConvVAE(3, size=32, width=4, n_classes=2)
    x, y = torch.rand(2, 1, 32, 32), torch.tensor([0, 1])
    with pytest.raises(TypeError, match=r"x must be float32 like the model's parameters.*\.to\(torch.float32\)"):
        cvae(x.double(), y)
    with pytest.raises(TypeError, match="x must be .*torch.Tensor"):
        cvae(x.numpy(), y)
    with pytest.raises(ValueError, match="x must hold at least one sample"):
        cvae(x[:0], y[:0])
    with pytest.raises(ValueError, match="labels must be on cpu, where the model's parameters are"):
        cvae(x, y.to("meta"))
    with pytest.raises(ValueError, match="labels must be an integer tensor of class labels of shape"):
        cvae(x, y[0])
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        cvae(x, y.bool())
    with pytest.raises(TypeError, match="generator must be"):
        cvae(x, y, generator=3)
    with pytest.raises(ValueError, match=r"z must be .*\(B, 3\)"):
        cvae.decode(torch.randn(2, 4), y)
    assert torch.isnan(cvae.encode(_with_nan(x), y)[0]).any()  # encode lets NaN through, like any torch layer
    with pytest.raises(ValueError, match="mu and logvar must be finite"):  # ... the sampling step does not
        cvae(_with_nan(x), y)


def test_train_vae_refuses_bad_data_before_training():
    model = ConvVAE(3, size=32, width=4, n_classes=2)
    before = [p.detach().clone() for p in model.parameters()]
    x, y = torch.rand(4, 1, 32, 32), torch.tensor([0, 1, 0, 1])
    cases = [
        (dict(x_train=_with_nan(x)), ValueError, "x_train must be finite"),
        (dict(x_train=x.double()), TypeError, r"x_train must be float32 like the model's parameters"),
        (dict(x_train=x[:0], labels=y[:0]), ValueError, "x_train must hold at least one sample"),
        (dict(x_train=torch.rand(4, 1, 64, 64)), ValueError, r"x_train must be .*\(B, 1, 32, 32\)"),
        (dict(labels=None), ValueError, "labels must be given"),
        (dict(labels=y.tolist()), TypeError, "labels must be an integer tensor"),
        (dict(labels=torch.tensor([0, 1, 2, 1])), ValueError, "labels must be in 0…1"),
        (dict(epochs=10**9), ValueError, "epochs must be an int from 1 to 100,000 .*typos"),
        (dict(epochs=True), TypeError, "epochs must be an int"),
        (dict(batch_size=0), ValueError, "batch_size must be an int ≥ 1"),
        (dict(lr=0.0), ValueError, "lr must be a finite number > 0"),
        (dict(sigma_x=math.inf), ValueError, "sigma_x must be"),
        (dict(seed=-1), ValueError, "seed must be an int from 0"),
        (dict(device="no_such_device"), ValueError, "device must be"),
    ]
    for change, error, match in cases:
        kwargs = {**dict(x_train=x, labels=y, epochs=1, batch_size=2, progress=False), **change}
        with pytest.raises(error, match=match):
            train_vae(model, kwargs.pop("x_train"), kwargs.pop("labels"), **kwargs)
    with pytest.raises(TypeError, match="model must be a ConvVAE"):
        train_vae(None, x, y, epochs=1)
    with pytest.raises(ValueError, match="labels must be None: this VAE is not conditional"):
        train_vae(ConvVAE(3, size=32, width=4), x, y, epochs=1)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # nothing trained


def test_evaluate_elbo_and_sample_prior_refuse_bad_input():
    cvae = ConvVAE(3, size=32, width=4, n_classes=2)
    x, y = torch.rand(3, 1, 32, 32), torch.tensor([0, 1, 1])
    with pytest.raises(ValueError, match="x must hold at least one sample"):
        evaluate_elbo(cvae, x[:0], y[:0])
    with pytest.raises(ValueError, match="x must be finite"):
        evaluate_elbo(cvae, _with_nan(x), y)
    with pytest.raises(ValueError, match="seed must be"):
        evaluate_elbo(cvae, x, y, seed=-1)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        evaluate_elbo(cvae, x, y, batch_size=True)
    with pytest.raises(TypeError, match="model must be a ConvVAE"):
        evaluate_elbo(None, x, y)
    with pytest.raises(ValueError, match="n must be an int from 1"):
        sample_prior(cvae, 0, y[:0])
    with pytest.raises(ValueError, match="n must be an int from 1 to 100,000,000"):
        sample_prior(cvae, 10**9, y)
    with pytest.raises(TypeError, match="n must be an int"):
        sample_prior(cvae, True, y[:1])
    with pytest.raises(ValueError, match=r"labels must hold one label per sample \(2\), got 3"):
        sample_prior(cvae, 2, y)
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        sample_prior(cvae, 3, y.numpy())


def test_interpolate_refuses_bad_input():
    vae = ConvVAE(3, size=32, width=4).eval()
    z0, z1 = torch.randn(3), torch.randn(3)
    with pytest.raises(TypeError, match="decode must be a decoder"):
        interpolate(None, z0, z1)
    with pytest.raises(TypeError, match="z0 must be a floating-point single code"):
        interpolate(vae.decode, z0.long(), z1)
    with pytest.raises(ValueError, match="z1 must be finite"):
        interpolate(vae.decode, z0, _with_nan(z1))
    with pytest.raises(ValueError, match="z0 and z1 must have the same shape"):
        interpolate(vae.decode, z0, z1[:2])
    with pytest.raises(ValueError, match="steps must be an int from 2"):
        interpolate(vae.decode, z0, z1, steps=1)
    with pytest.raises(ValueError, match="steps must be an int from 2 to 100,000,000"):
        interpolate(vae.decode, z0, z1, steps=10**9)
    with pytest.raises(TypeError, match="z must be float32 like the model's parameters"):  # the decoder's own check
        interpolate(vae.decode, z0.double(), z1.double())


def test_gradient_estimators_refuse_bad_input():
    mu, sigma, eps = torch.zeros(2), torch.ones(2), torch.randn(5, 2)
    f = _square(0.0)
    for estimator in (pathwise_gradients, score_function_gradients):
        with pytest.raises(TypeError, match="f must be a function"):
            estimator(None, mu, sigma, eps)
        with pytest.raises(ValueError, match="mu must be finite"):
            estimator(f, _with_nan(mu), sigma, eps)
        with pytest.raises(ValueError, match="mu and sigma must have the same shape"):
            estimator(f, mu, sigma[:1], eps)
        with pytest.raises(ValueError, match=r"eps must be .*last dimensions are mu's shape \(2,\)"):
            estimator(f, mu, sigma, eps[:, :1])
        with pytest.raises(ValueError, match="eps must hold at least one draw"):
            estimator(f, mu, sigma, eps[:0])
        with pytest.raises(TypeError, match="eps must be a floating-point"):
            estimator(f, mu, sigma, eps.long())
        with pytest.raises(ValueError, match="sigma must be"):
            estimator(f, mu, -sigma, eps)
        with pytest.raises(ValueError, match="eps must hold values"):
            estimator(f, mu, sigma, eps.to("meta"))
    with pytest.raises(ValueError, match=r"sigma must be > 0 \(the score divides by σ²\)"):
        score_function_gradients(f, mu, torch.zeros(2), eps)
    assert pathwise_gradients(f, mu, torch.zeros(2), eps).shape == (5, 2)  # σ = 0: f′(μ) for every ε


def test_exact_variances_and_encoder_table_refuse_bad_input():
    with pytest.raises(TypeError, match="a must be a number"):
        exact_estimator_variances(None)
    with pytest.raises(TypeError, match="a must be a floating-point"):
        exact_estimator_variances(torch.tensor([True, False]))
    with pytest.raises(ValueError, match="a must be finite"):
        exact_estimator_variances([0.0, NAN])
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        exact_estimator_variances(1.0, sigma=0)
    assert exact_estimator_variances([0.0, 1.0])[1].tolist() == [15.0, 30.0]  # a list is still fine
    vae, x = ConvVAE(3, size=32, width=4), torch.rand(2, 1, 32, 32)
    with pytest.raises(ValueError, match="model must be an unconditional VAE"):
        encoder_gradient_variances(ConvVAE(3, size=32, width=4, n_classes=2), x)
    with pytest.raises(ValueError, match="n_samples must be an int from 2 to 100,000,000"):
        encoder_gradient_variances(vae, x, n_samples=10**9)
    with pytest.raises(ValueError, match="x must be finite"):
        encoder_gradient_variances(vae, _with_nan(x), n_samples=4)
    with pytest.raises(TypeError, match="x must be float32 like the model's parameters"):
        encoder_gradient_variances(vae, x.double(), n_samples=4)
    with pytest.raises(ValueError, match="seed must be"):
        encoder_gradient_variances(vae, x, n_samples=4, seed=-1)


def test_one_hot_refuses_bad_labels():
    assert one_hot(torch.tensor([1, 0], dtype=torch.int32), 2).tolist() == [[0.0, 1.0], [1.0, 0.0]]  # any int dtype
    with pytest.raises(ValueError, match="labels must hold at least one label"):
        one_hot(torch.zeros(0, dtype=torch.long), 3)
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        one_hot(torch.tensor([True, False]), 3)
    with pytest.raises(ValueError, match="n_classes must be an int from 1 to 100,000"):
        one_hot(torch.tensor([0, 1]), 10**9)
    with pytest.raises(TypeError, match="n_classes must be an int"):
        one_hot(torch.tensor([0, 1]), 2.5)
    assert one_hot(torch.tensor([0, 1], device="meta"), 2).shape == (2, 2)  # shapes only: legitimate
