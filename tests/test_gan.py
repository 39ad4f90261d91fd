"""The GAN library: stable losses against their textbook forms, the saturation of the minimax
generator loss, mode coverage as in VEEGAN/PacGAN, the alternating step, bad input."""

import math

import pytest
import torch
from torch import nn

from course_lib.gan import (
    DCGANDiscriminator, DCGANGenerator, train_dcgan,
    MLPDiscriminator,
    MLPGenerator,
    discriminator_loss,
    gan_training_step,
    generator_logit_gradient,
    generator_loss,
    sample_latent,
    train_toy_gan,
)
from course_lib.training import NonFiniteLossError


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_losses_match_the_textbook_forms():
    real, fake = torch.randn(6, dtype=torch.float64), torch.randn(6, dtype=torch.float64)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    value = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()  # V(D, G) on the batch
    assert torch.allclose(discriminator_loss(real, fake), -0.5 * value)
    bce = nn.functional.binary_cross_entropy_with_logits(torch.cat([real, fake]), torch.cat([torch.ones(6), torch.zeros(6)]).double())
    assert torch.allclose(discriminator_loss(real, fake), bce)
    assert torch.allclose(generator_loss(fake, "minimax"), torch.log(1 - d_fake).mean())
    assert torch.allclose(generator_loss(fake, "non_saturating"), -torch.log(d_fake).mean())


def test_losses_are_stable_for_extreme_logits():
    extreme = torch.tensor([-200.0, 200.0])
    for value in (discriminator_loss(extreme, extreme), generator_loss(extreme, "minimax"),
                  generator_loss(extreme, "non_saturating")):
        assert torch.isfinite(value)
    assert torch.isclose(generator_loss(torch.tensor([-200.0]), "non_saturating"), torch.tensor(200.0))


def test_minimax_saturates_where_the_flipped_label_loss_does_not():
    for kind in ("minimax", "non_saturating"):
        logits = torch.tensor([-6.0, 0.0, 6.0], requires_grad=True)
        generator_loss(logits, kind).backward()
        per_sample = logits.grad.abs() * 3  # undo the batch mean
        assert torch.allclose(per_sample, generator_logit_gradient(torch.sigmoid(logits.detach()), kind).float(), atol=1e-6)
    confident = torch.tensor([1e-3])  # D(G(z)) ≈ 0: D rejects the fakes
    assert generator_logit_gradient(confident, "minimax").item() == pytest.approx(1e-3)
    assert generator_logit_gradient(confident, "non_saturating").item() == pytest.approx(0.999)


def test_sample_latent_kinds():
    g = torch.Generator().manual_seed(0)
    uniform = sample_latent(10_000, 2, "uniform", g)
    assert uniform.min() >= -1 and uniform.max() <= 1 and abs(uniform.mean()) < 0.03
    assert abs(sample_latent(10_000, 2, "gaussian", g).std() - 1) < 0.03


def test_alternating_step_moves_each_player_only_in_its_own_turn():
    generator, discriminator = MLPGenerator(2, 16), MLPDiscriminator(2, 16)
    g_opt = torch.optim.SGD(generator.parameters(), lr=0.1)
    d_opt = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    g_before = [p.detach().clone() for p in generator.parameters()]
    d_before = [p.detach().clone() for p in discriminator.parameters()]
    # With a zero generator learning rate, only D can move; with a zero D rate, only G.
    for group in g_opt.param_groups:
        group["lr"] = 0.0
    gan_training_step(generator, discriminator, g_opt, d_opt, [torch.randn(8, 2)], lambda n: torch.randn(n, 2))
    assert all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))
    for group in g_opt.param_groups:
        group["lr"] = 0.1
    for group in d_opt.param_groups:
        group["lr"] = 0.0
    d_now = [p.detach().clone() for p in discriminator.parameters()]
    gan_training_step(generator, discriminator, g_opt, d_opt, [torch.randn(8, 2)], lambda n: torch.randn(n, 2))
    assert all(torch.equal(a, b) for a, b in zip(d_now, discriminator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))


def test_short_toy_training_moves_samples_onto_the_ring():
    modes = torch.stack([torch.tensor([math.cos(a), math.sin(a)]) for a in torch.arange(8) * 2 * math.pi / 8])

    def sampler(n, g):
        return modes[torch.randint(8, (n,), generator=g)] + 0.01 * torch.randn(n, 2, generator=g)

    def mean_distance_to_modes(samples):
        return torch.cdist(samples, modes).min(dim=1).values.mean().item()

    untrained = MLPGenerator(2, 64)
    with torch.no_grad():
        before = mean_distance_to_modes(untrained(torch.randn(2500, 2)))
    out = train_toy_gan(sampler, steps=1500, batch_size=128, hidden=64, seed=0)
    with torch.no_grad():
        after = mean_distance_to_modes(out["generator"](out["latent"](2500)))
    assert after < 0.4 * before and len(out["history"]["d_loss"]) == 1500  # clearly nearer the modes


def test_toy_gan_ema_averages_the_generator_after_hold_without_changing_training():
    def sampler(n, g):
        return torch.randn(n, 2, generator=g) * 0.1 + 1.0

    common = dict(steps=20, batch_size=8, hidden=8, hold=0.5, seed=3)
    plain, averaged = train_toy_gan(sampler, **common), train_toy_gan(sampler, ema_decay=0.5, **common)
    assert plain["history"] == averaged["history"]  # the same game was played
    assert all(torch.equal(a, b) for a, b in zip(plain["discriminator"].parameters(), averaged["discriminator"].parameters()))
    assert isinstance(averaged["generator"], MLPGenerator)
    z = torch.randn(16, 2)
    assert not torch.allclose(plain["generator"](z), averaged["generator"](z))
    with pytest.raises(ValueError, match="ema_decay must be a finite number in"):
        train_toy_gan(sampler, steps=2, ema_decay=1.5)


def test_divergence_is_a_clear_error():
    def sampler(n, g):
        return torch.full((n, 2), float("nan"))

    with pytest.raises(NonFiniteLossError, match="d_loss"):
        train_toy_gan(sampler, steps=3, batch_size=8, hidden=8)


@pytest.mark.parametrize("call, match", [
    (lambda: discriminator_loss(torch.zeros(4), torch.zeros(5)), "same shape"),
    (lambda: discriminator_loss(torch.zeros(4, 2), torch.zeros(4, 2)), "logits, one per sample"),
    (lambda: generator_loss(torch.zeros(4), "wasserstein"), "kind must be one of"),
    (lambda: generator_logit_gradient(torch.tensor([0.5]), "hinge"), "kind must be one of"),
    (lambda: generator_logit_gradient(torch.tensor([1.0]), "minimax"), "d_of_g must hold values of D\\(G\\(z\\)\\) strictly between 0 and 1"),
    (lambda: sample_latent(4, 2, "cauchy"), "kind must be one of"),
], ids=["shapes", "logit-shape", "g-kind", "grad-kind", "grad-range", "latent"])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
    with pytest.raises(TypeError, match="floating-point"):
        discriminator_loss(torch.zeros(3, dtype=torch.long), torch.zeros(3))


def test_dcgan_shapes_range_and_one_epoch_of_training():
    torch.manual_seed(0)
    generator, discriminator = DCGANGenerator(latent_dim=8, width=4), DCGANDiscriminator(width=4)
    z = torch.randn(5, 8)
    x = generator(z)
    assert x.shape == (5, 1, 64, 64) and x.min() >= 0 and x.max() <= 1
    assert discriminator(x).shape == (5,)
    before = [p.clone() for p in generator.parameters()]
    result = train_dcgan(generator, discriminator, torch.rand(32, 1, 64, 64), epochs=2, batch_size=16,
                         snapshot_noise=z, progress=False)
    assert set(result["snapshots"]) == {0, 1, 2} and result["snapshots"][2].shape == (5, 1, 64, 64)
    assert len(result["history"]["d_loss"]) == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, generator.parameters()))


@pytest.mark.parametrize("call, match", [
    (lambda: DCGANGenerator(latent_dim=0), "latent_dim must be an int from 1"),
    (lambda: DCGANGenerator(latent_dim=8)(torch.randn(2, 4)), r"z must be a floating-point batch of noise vectors of shape \(B, 8\)"),
    (lambda: DCGANDiscriminator()(torch.rand(2, 1, 32, 32)), r"\(B, 1, 64, 64\)"),
])
def test_dcgan_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_r1_penalty_adds_gamma_times_the_input_gradient_to_d_step():
    """For a linear D, l(x) = w·x + b, ∇_x l = w, so R1 adds γ/2 ‖w‖² and its gradient γ w."""
    real = torch.randn(8, 2)
    moved = {}
    for gamma in (0.0, 0.5):
        torch.manual_seed(0)
        generator = nn.Linear(2, 2)
        discriminator = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
        g_opt = torch.optim.SGD(generator.parameters(), lr=0.0)
        d_opt = torch.optim.SGD(discriminator.parameters(), lr=0.1)
        w = discriminator[0].weight.detach().clone()
        noise = torch.Generator().manual_seed(1)
        gan_training_step(generator, discriminator, g_opt, d_opt, [real], lambda n: torch.randn(n, 2, generator=noise),
                          r1_gamma=gamma)
        moved[gamma] = discriminator[0].weight.detach() - w
    assert torch.allclose(moved[0.5] - moved[0.0], -0.1 * 0.5 * w, atol=1e-6)


def test_toy_gan_snapshots_schedule_and_bad_arguments():
    def sampler(n, g):
        return torch.randn(n, 2, generator=g) * 0.1 + 1.0

    out = train_toy_gan(sampler, steps=20, batch_size=8, late_batch_size=16, hold=0.5, r1_gamma=0.1, r1_every=4,
                        hidden=8, snapshot_steps=(1, 10, 20), snapshot_size=5)
    assert sorted(out["snapshots"]) == [1, 10, 20] and out["snapshots"][20].shape == (5, 2)
    assert len(out["history"]["g_grad_norm"]) == 20
    with pytest.raises(ValueError, match="r1_every must be an int from 1"):
        train_toy_gan(sampler, steps=2, r1_every=0)
    with pytest.raises(ValueError, match=r"hold must be a finite number in \[0, 1\)"):
        train_toy_gan(sampler, steps=2, hold=1.0)


# --- argument checks (issue 27): every public function refuses bad input before any work ---------

from course_lib.gan import DCGAN, ToyGAN, mixture_sampler  # noqa: E402

NAN4 = torch.tensor([0.0, float("nan"), 1.0, 2.0])


def _players():
    g, d = MLPGenerator(2, 8, 1), MLPDiscriminator(2, 8, 1)
    return g, d, torch.optim.Adam(g.parameters(), 1e-3), torch.optim.Adam(d.parameters(), 1e-3)


@pytest.mark.parametrize("call, error, match", [
    (lambda: discriminator_loss(NAN4, torch.zeros(4)), ValueError, "real_logits must be finite"),
    (lambda: discriminator_loss(torch.zeros(4), torch.full((4,), float("inf"))), ValueError, "fake_logits must be finite"),
    (lambda: discriminator_loss(torch.zeros(0), torch.zeros(0)), ValueError, "at least one sample"),
    (lambda: discriminator_loss(torch.zeros(4, device="meta"), torch.zeros(4)), ValueError,
     "fake_logits must be on meta like real_logits"),
    (lambda: generator_loss(NAN4), ValueError, "fake_logits must be finite"),
    (lambda: generator_loss([0.0, 1.0]), TypeError, "fake_logits must be"),
    (lambda: generator_logit_gradient(torch.tensor([0.5, float("nan")]), "minimax"), ValueError, "strictly between"),
    (lambda: generator_logit_gradient(torch.zeros(0), "minimax"), ValueError, "at least one value"),
    (lambda: generator_logit_gradient(None, "minimax"), TypeError, "d_of_g must be"),
], ids=["d-nan", "d-inf", "d-empty", "d-meta", "g-nan", "g-list", "grad-nan", "grad-empty", "grad-none"])
def test_losses_refuse_bad_logits(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: sample_latent(0, 2), ValueError, "n must be an int from 1"),
    (lambda: sample_latent(True, 2), TypeError, "n must be an int"),
    (lambda: sample_latent(4, 10**9), ValueError, "dim must be .*a bound against typos"),
    (lambda: sample_latent(10**8, 10**6), ValueError, "n is too large"),
    (lambda: sample_latent(4, 2, generator=3), TypeError, "generator must be a torch.Generator"),
    (lambda: sample_latent(4, 2, device="tpu"), ValueError, "device"),
    (lambda: mixture_sampler(torch.zeros(3, 2, dtype=torch.long), 0.1), TypeError, "modes must be a floating-point"),
    (lambda: mixture_sampler(torch.tensor([[0.0, float("nan")]]), 0.1), ValueError, "modes must be finite"),
    (lambda: mixture_sampler(torch.zeros(0, 2), 0.1), ValueError, "at least one sample"),
    (lambda: mixture_sampler(torch.zeros(3, 2), 0.0), ValueError, "std must be a finite number > 0"),
], ids=["n-0", "n-bool", "dim-huge", "memory", "generator", "device", "modes-int", "modes-nan", "modes-empty",
        "std-0"])
def test_noise_and_samplers_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: MLPGenerator(hidden=10**9), ValueError, "hidden must be .*a bound against typos"),
    (lambda: MLPGenerator(hidden=10**6, depth=3), ValueError, "hidden is too large"),
    (lambda: MLPGenerator(depth=-1), ValueError, "depth must be an int from 0"),
    (lambda: MLPDiscriminator(in_dim=2.5), TypeError, "in_dim must be an int"),
    (lambda: MLPGenerator(2, 8, 1)(torch.randn(4, 2, dtype=torch.float64)), TypeError, r"\.to\(torch\.float32\)"),
    (lambda: MLPGenerator(2, 8, 1)(torch.randn(4, 3)), ValueError, r"z must be .*\(B, 2\)"),
    (lambda: MLPDiscriminator(2, 8, 1)(torch.zeros(0, 2)), ValueError, "at least one sample"),
    (lambda: MLPDiscriminator(2, 8, 1)(torch.zeros(4, 2, device="meta")), ValueError, "x must be on cpu"),
    (lambda: DCGANGenerator(latent_dim=True), TypeError, "latent_dim"),
    (lambda: DCGANDiscriminator(width=10**5), ValueError, "width is too large"),
    (lambda: ToyGAN(snapshot_steps=(0, 5)), ValueError, r"snapshot_steps\[0\] must be an int from 1"),
    (lambda: ToyGAN(snapshot_steps=None), TypeError, "snapshot_steps must be a tuple or list"),
    (lambda: DCGAN(n_snapshots=-1), ValueError, "n_snapshots must be an int from 0"),
], ids=["hidden-huge", "memory", "depth-negative", "in-dim-float", "float64", "z-shape", "x-empty", "x-meta",
        "dcgan-latent-bool", "dcgan-memory", "snapshot-0", "snapshot-none", "n-snapshots"])
def test_networks_refuse_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_gan_training_step_refuses_bad_arguments_before_any_step():
    g, d, g_opt, d_opt = _players()
    before = [p.detach().clone() for p in [*g.parameters(), *d.parameters()]]
    latent = lambda n: torch.randn(n, 2)  # noqa: E731
    cases = [
        (dict(real_batches=[torch.tensor([[0.0, float("nan")]])]), ValueError, r"real_batches\[0\] must be finite"),
        (dict(real_batches=[]), ValueError, "at least one real minibatch"),
        (dict(real_batches=[torch.zeros(0, 2)]), ValueError, "at least one sample"),
        (dict(r1_gamma=-1.0), ValueError, "r1_gamma must be a finite number ≥ 0"),
        (dict(g_optimizer=None), TypeError, "g_optimizer must be a torch.optim.Optimizer"),
        (dict(latent=None), TypeError, "latent must be"),
        (dict(kind="hinge"), ValueError, "kind must be one of"),
    ]
    for change, error, match in cases:
        args = dict(generator=g, discriminator=d, g_optimizer=g_opt, d_optimizer=d_opt, real_batches=[torch.randn(4, 2)],
                    latent=latent)
        args.update(change)
        with pytest.raises(error, match=match):
            gan_training_step(**args)
    assert all(torch.equal(a, b) for a, b in zip(before, [*g.parameters(), *d.parameters()]))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(steps=10**9), ValueError, "steps must be .*a bound against typos"),
    (dict(steps=True), TypeError, "steps must be an int"),
    (dict(lr=0.0), ValueError, "lr must be a finite number > 0"),
    (dict(seed=-1), ValueError, "seed must be an int from 0"),
    (dict(batch_size=0), ValueError, "batch_size must be an int from 1"),
    (dict(k_disc=10**9), ValueError, "k_disc must be"),
    (dict(late_fraction=2.0), ValueError, "late_fraction must be a finite number in"),
    (dict(snapshot_steps=(2.5,)), TypeError, r"snapshot_steps\[0\] must be an int"),
    (dict(latent_kind="cauchy"), ValueError, "latent_kind must be one of"),
], ids=["steps-huge", "steps-bool", "lr-0", "seed-negative", "batch-0", "k-disc-huge", "late-fraction", "snapshot",
        "latent-kind"])
def test_train_toy_gan_refuses_bad_arguments(kwargs, error, match):
    args = dict(steps=2, batch_size=8, hidden=8) | kwargs
    with pytest.raises(error, match=match):
        train_toy_gan(lambda n, g: torch.randn(n, 2, generator=g), **args)
    with pytest.raises(TypeError, match="sampler must be"):
        train_toy_gan(None, steps=2)


def test_train_dcgan_refuses_bad_data_before_training():
    generator, discriminator = DCGANGenerator(latent_dim=4, width=2), DCGANDiscriminator(width=2)
    before = [p.detach().clone() for p in generator.parameters()]
    x = torch.rand(4, 1, 64, 64)
    x[1, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match="x_train must be finite"):  # not NonFiniteLossError mid-training
        train_dcgan(generator, discriminator, x, epochs=1, batch_size=2, progress=False)
    with pytest.raises(TypeError, match=r"x_train must be float32 .*\.to\(torch\.float32\)"):
        train_dcgan(generator, discriminator, torch.rand(4, 1, 64, 64, dtype=torch.float64), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be .*a bound against typos"):
        train_dcgan(generator, discriminator, torch.rand(4, 1, 64, 64), epochs=10**9, progress=False)
    with pytest.raises(ValueError, match=r"snapshot_noise must be .*\(N, 4\)"):
        train_dcgan(generator, discriminator, torch.rand(4, 1, 64, 64), epochs=1, snapshot_noise=torch.randn(2, 3),
                    progress=False)
    with pytest.raises(TypeError, match="generator must be"):
        train_dcgan(None, discriminator, torch.rand(4, 1, 64, 64), epochs=1, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters()))
