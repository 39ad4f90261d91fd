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
    with pytest.raises(ValueError, match="decay must be a number in"):
        train_toy_gan(sampler, steps=2, ema_decay=1.5)


def test_divergence_is_a_clear_error():
    def sampler(n, g):
        return torch.full((n, 2), float("nan"))

    with pytest.raises(NonFiniteLossError, match="d_loss"):
        train_toy_gan(sampler, steps=3, batch_size=8, hidden=8)


@pytest.mark.parametrize("call, match", [
    (lambda: discriminator_loss(torch.zeros(4), torch.zeros(5)), "same shape"),
    (lambda: discriminator_loss(torch.zeros(4, 2), torch.zeros(4, 2)), "logits, one per sample"),
    (lambda: generator_loss(torch.zeros(4), "wasserstein"), "unknown generator loss"),
    (lambda: generator_logit_gradient(torch.tensor([0.5]), "hinge"), "unknown generator loss"),
    (lambda: generator_logit_gradient(torch.tensor([1.0]), "minimax"), "strictly between 0 and 1"),
    (lambda: sample_latent(4, 2, "cauchy"), "unknown latent kind"),
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
    (lambda: DCGANGenerator(latent_dim=0), "positive ints"),
    (lambda: DCGANGenerator(latent_dim=8)(torch.randn(2, 4)), r"noise of shape \(B, 8\)"),
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
    with pytest.raises(ValueError, match="r1_every ≥ 1"):
        train_toy_gan(sampler, steps=2, r1_every=0)
    with pytest.raises(ValueError, match="hold < 1"):
        train_toy_gan(sampler, steps=2, hold=1.0)
