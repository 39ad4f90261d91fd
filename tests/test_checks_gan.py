"""Lecture 04's self-checks accept the reference and reject plausible mistakes with a useful hint."""

import pytest
import torch
from torch.nn.functional import binary_cross_entropy_with_logits as bce
from torch.nn.functional import softplus

from course_lib.checks import check_discriminator_loss, check_gan_step, check_generator_loss, check_mode_coverage
from course_lib.evaluation import mode_coverage
from course_lib.gan import discriminator_loss, gan_training_step, generator_loss
from tests.check_helpers import blank, rejects


# --- the discriminator loss --------------------------------------------------------------------

def test_discriminator_loss_accepts_the_reference_and_torch_bce(capsys):
    check_discriminator_loss(discriminator_loss)
    check_discriminator_loss(lambda r, f: bce(torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])))
    assert capsys.readouterr().out.count("✓ check_discriminator_loss passed") == 2


@pytest.mark.parametrize("wrong, words", [
    (lambda r, f: 0.5 * (softplus(r).mean() + softplus(-f).mean()), ["labels are swapped"]),
    (lambda r, f: -discriminator_loss(r, f), ["sign is flipped"]),
    (lambda r, f: softplus(-r).mean() + softplus(f).mean(), ["combined", "halve"]),
    (lambda r, f: 0.5 * softplus(-r).mean(), ["generated samples' term"]),
    (lambda r, f: 0.5 * (-torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean()),
     ["softplus", "log(0)"]),
    (lambda r, f: discriminator_loss(r, f).detach(), ["autograd graph"]),
    (lambda r, f: 0.5 * (softplus(-r) + softplus(f)), ["one number"]),
])
def test_discriminator_loss_rejects(wrong, words):
    rejects(check_discriminator_loss, wrong, words=words)


# --- the generator losses ----------------------------------------------------------------------

def _swapped(f, kind):
    return generator_loss(f, "minimax" if kind == "non_saturating" else "non_saturating")


def _label_zero(f, kind):
    return softplus(f).mean() if kind == "non_saturating" else generator_loss(f, kind)


def _minimax_plus(f, kind):
    return softplus(f).mean() if kind == "minimax" else generator_loss(f, kind)


def _naive_log(f, kind):
    if kind == "minimax":
        return torch.log(1 - torch.sigmoid(f)).mean()
    return -torch.log(torch.sigmoid(f)).mean()


def _no_error_for_unknown(f, kind):
    return generator_loss(f, "minimax") if kind == "minimax" else generator_loss(f, "non_saturating")


def _summed(f, kind):
    return generator_loss(f, kind) * len(f)


def test_generator_loss_accepts_the_reference(capsys):
    check_generator_loss(generator_loss)
    assert "✓ check_generator_loss passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (_swapped, ["swapped"]),
    (_label_zero, ["label 0", "real"]),
    (_minimax_plus, ["sign is flipped"]),
    (_naive_log, ["softplus"]),
    (_no_error_for_unknown, ["ValueError"]),
    (_summed, ["summed"]),
    (lambda f, kind: generator_loss(f.detach(), kind), ["autograd graph"]),
])
def test_generator_loss_rejects(wrong, words):
    rejects(check_generator_loss, wrong, words=words)


# --- one alternating step ----------------------------------------------------------------------

def _make_step(*, detach=True, zero_g=True, fresh_noise=True, kind="non_saturating", g_first=False,
               step_d_again=False, old_d=False):
    def step(generator, discriminator, g_opt, d_opt, real, latent):
        m = len(real)

        def d_update():
            fake = generator(latent(m))
            d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach() if detach else fake))
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            return fake

        def g_update(reused):
            fake = generator(latent(m)) if fresh_noise or reused is None else reused
            g_loss = generator_loss(discriminator(fake), kind)
            if zero_g:
                g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            if step_d_again:
                d_opt.step()

        if g_first:
            g_update(None)
            d_update()
        elif old_d:
            # G's loss through the discriminator *before* its update (both graphs built first).
            fake_d = generator(latent(m))
            d_loss = discriminator_loss(discriminator(real), discriminator(fake_d.detach()))
            g_loss = generator_loss(discriminator(generator(latent(m))), kind)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
        else:
            fake = d_update()
            g_update(fake)
    return step


def test_gan_step_accepts_the_reference(capsys):
    check_gan_step(_make_step())
    check_gan_step(lambda G, D, go, do, real, latent: gan_training_step(G, D, go, do, [real], latent))
    assert capsys.readouterr().out.count("✓ check_gan_step passed") == 2


@pytest.mark.parametrize("mistake, words", [
    (dict(detach=False, zero_g=False), ["G's step differs", "detached"]),
    (dict(fresh_noise=False), ["fresh"]),
    (dict(kind="minimax"), ["flipped-label"]),
    (dict(g_first=True), ["D's step comes first"]),
    (dict(step_d_again=True), ["d_optimizer.step() ran 2 time(s)"]),
])
def test_gan_step_rejects(mistake, words):
    rejects(check_gan_step, _make_step(**mistake), words=words)


def test_gan_step_rejects_a_generator_step_through_the_old_discriminator():
    # G's graph was built through D before D's step changed D's weights in place: autograd refuses.
    rejects(check_gan_step, _make_step(old_d=True), words=["raised RuntimeError", "inplace"])


# --- the mode-coverage count -------------------------------------------------------------------

def _reference_coverage(samples, modes, std):
    c = mode_coverage(samples, modes, std)
    return c.modes, c.high_quality


def _any_nearest(samples, modes, std):
    d = torch.cdist(samples, modes)
    nearest_distance, nearest = d.min(1)
    return int(nearest.unique().numel()), (nearest_distance <= 3 * std).float().mean().item()


def _squared(samples, modes, std):
    d = torch.cdist(samples, modes) ** 2
    nearest_distance, nearest = d.min(1)
    good = nearest_distance <= 3 * std
    return int(nearest[good].unique().numel()), good.float().mean().item()


def _percent(samples, modes, std):
    m, hq = _reference_coverage(samples, modes, std)
    return m, 100 * hq


def _one_sigma(samples, modes, std):
    return _reference_coverage(samples, modes, std / 3)


def test_mode_coverage_accepts_the_reference(capsys):
    check_mode_coverage(_reference_coverage)
    assert "✓ check_mode_coverage passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (_any_nearest, ["high-quality", "capture nothing"]),
    (_squared, ["not squared"]),
    (_percent, ["percentage"]),
    (_one_sigma, []),
    (lambda s, m, std: mode_coverage(s, m, std), ["tuple"]),
])
def test_mode_coverage_rejects(wrong, words):
    rejects(check_mode_coverage, wrong, words=words)


@pytest.mark.parametrize("check", [check_discriminator_loss, check_generator_loss, check_gan_step, check_mode_coverage])
def test_blank_raises_not_implemented(check):
    with pytest.raises(NotImplementedError):
        check(blank)
