"""Lecture 05's self-checks accept the reference and reject plausible mistakes with a useful hint."""

import pytest
import torch

from course_lib.checks import (
    check_cycle_consistency_loss, check_cyclegan_generator_step, check_identity_loss, check_lsgan_losses,
)
from course_lib.cyclegan import (
    GeneratorStep, cycle_consistency_loss, cyclegan_generator_step, identity_loss, lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from tests.check_helpers import blank, rejects


# --- the cycle-consistency loss ----------------------------------------------------------------

def test_cycle_loss_accepts_the_reference_and_torch_l1(capsys):
    l1 = torch.nn.functional.l1_loss
    check_cycle_consistency_loss(cycle_consistency_loss)
    check_cycle_consistency_loss(lambda x, xc, y, yc: l1(xc, x) + l1(yc, y))
    assert capsys.readouterr().out.count("✓ check_cycle_consistency_loss passed") == 2


@pytest.mark.parametrize("wrong, words", [
    (lambda x, xc, y, yc: (xc - x).abs().mean(), ["Y → X → Y"]),
    (lambda x, xc, y, yc: (yc - y).abs().mean(), ["X → Y → X"]),
    (lambda x, xc, y, yc: (xc - x).pow(2).mean() + (yc - y).pow(2).mean(), ["L1"]),
    (lambda x, xc, y, yc: (xc - x).abs().sum() + (yc - y).abs().sum(), ["mean"]),
    (lambda x, xc, y, yc: ((xc - x).abs().mean() + (yc - y).abs().mean()) / 2, ["sum"]),
    (lambda x, xc, y, yc: (xc - y).abs().mean() + (yc - x).abs().mean(), ["its own input"]),
    (lambda x, xc, y, yc: cycle_consistency_loss(x, xc, y, yc).detach(), ["autograd"]),
    (lambda x, xc, y, yc: cycle_consistency_loss(x, xc.detach(), y, yc), ["gradient"]),
])
def test_cycle_loss_rejects(wrong, words):
    rejects(check_cycle_consistency_loss, wrong, words=words)


# --- the least-squares losses ------------------------------------------------------------------

def test_lsgan_losses_accept_the_reference(capsys):
    mse = torch.nn.functional.mse_loss
    check_lsgan_losses(lsgan_discriminator_loss, lsgan_generator_loss)
    check_lsgan_losses(lambda r, f: 0.5 * mse(r, torch.ones_like(r)) + 0.5 * mse(f, torch.zeros_like(f)),
                       lambda f: mse(f, torch.ones_like(f)))
    assert capsys.readouterr().out.count("✓ check_lsgan_losses passed") == 2


@pytest.mark.parametrize("d_wrong, g_wrong, words", [
    (lambda r, f: 0.5 * r.pow(2).mean() + 0.5 * (f - 1).pow(2).mean(), lsgan_generator_loss, ["swapped"]),
    (lambda r, f: (r - 1).pow(2).mean() + f.pow(2).mean(), lsgan_generator_loss, ["½"]),
    (lambda r, f: 0.5 * (r - 1).pow(2).mean(), lsgan_generator_loss, ["generated samples' term"]),
    (lambda r, f: 0.5 * (r - 1).pow(2).sum() + 0.5 * f.pow(2).sum(), lsgan_generator_loss, ["mean"]),
    # BCE from lecture 04 on the scores: not the least-squares form.
    (lambda r, f: 0.5 * (torch.nn.functional.softplus(-r).mean() + torch.nn.functional.softplus(f).mean()),
     lsgan_generator_loss, ["squared distance"]),
    (lsgan_discriminator_loss, lambda f: f.pow(2).mean(), ["target 1"]),
    (lsgan_discriminator_loss, lambda f: 0.5 * (f - 1).pow(2).mean(), ["no factor ½"]),
    (lsgan_discriminator_loss, lambda f: (f - 1).abs().mean(), ["square"]),
    (lsgan_discriminator_loss, lambda f: lsgan_generator_loss(f).detach(), ["autograd"]),
])
def test_lsgan_losses_reject(d_wrong, g_wrong, words):
    rejects(check_lsgan_losses, d_wrong, g_wrong, words=words)


# --- the identity loss -------------------------------------------------------------------------

def test_identity_loss_accepts_the_reference(capsys):
    check_identity_loss(identity_loss)
    assert "✓ check_identity_loss passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda x, fx, y, gy: (fx - x).abs().mean(), ["G(y) − y"]),
    (lambda x, fx, y, gy: (gy - y).abs().mean(), ["F(x) − x"]),
    (lambda x, fx, y, gy: (gy - x).abs().mean() + (fx - y).abs().mean(), ["went in"]),
    (lambda x, fx, y, gy: (fx - x).pow(2).mean() + (gy - y).pow(2).mean(), ["L1"]),
    (lambda x, fx, y, gy: (fx - x).abs().sum() + (gy - y).abs().sum(), ["mean"]),
])
def test_identity_loss_rejects(wrong, words):
    rejects(check_identity_loss, wrong, words=words)


# --- one generator update ----------------------------------------------------------------------

def test_generator_step_accepts_the_reference(capsys):
    check_cyclegan_generator_step(cyclegan_generator_step)
    assert "✓ check_cyclegan_generator_step passed" in capsys.readouterr().out


def _step_with(total_of):
    """A generator step whose total loss is ``total_of(adversarial, cycle, identity, λ_cyc, λ_id)``."""
    def step(model, opt, x, y, lambda_cyc, lambda_id):
        fake_y, fake_x = model.G(x), model.F(y)
        adversarial = lsgan_generator_loss(model.D_Y(fake_y)) + lsgan_generator_loss(model.D_X(fake_x))
        cycle = cycle_consistency_loss(x, model.F(fake_y), y, model.G(fake_x))
        identity = identity_loss(x, model.F(x), y, model.G(y))
        opt.zero_grad()
        total_of(adversarial, cycle, identity, lambda_cyc, lambda_id).backward()
        opt.step()
        return GeneratorStep({}, fake_x.detach(), fake_y.detach())
    return step


def _no_zero_grad(model, opt, x, y, lambda_cyc, lambda_id):
    fake_y, fake_x = model.G(x), model.F(y)
    total = (lsgan_generator_loss(model.D_Y(fake_y)) + lsgan_generator_loss(model.D_X(fake_x))
             + lambda_cyc * cycle_consistency_loss(x, model.F(fake_y), y, model.G(fake_x))
             + lambda_id * identity_loss(x, model.F(x), y, model.G(y)))
    total.backward()
    opt.step()
    return GeneratorStep({}, fake_x.detach(), fake_y.detach())


def _moves_discriminators(model, opt, x, y, lambda_cyc, lambda_id):
    out = cyclegan_generator_step(model, opt, x, y, lambda_cyc, lambda_id)
    torch.optim.SGD([*model.D_X.parameters(), *model.D_Y.parameters()], lr=0.1).step()
    return out


def _undetached(model, opt, x, y, lambda_cyc, lambda_id):
    out = cyclegan_generator_step(model, opt, x, y, lambda_cyc, lambda_id)
    return GeneratorStep(out.losses, out.fake_x.requires_grad_(), out.fake_y)


def _swapped_fakes(model, opt, x, y, lambda_cyc, lambda_id):
    out = cyclegan_generator_step(model, opt, x, y, lambda_cyc, lambda_id)
    return GeneratorStep(out.losses, out.fake_y, out.fake_x)


@pytest.mark.parametrize("wrong, words", [
    (_step_with(lambda a, c, i, lc, li: a + c + i), ["λ_cyc"]),  # forgot the weights
    (_step_with(lambda a, c, i, lc, li: a + li * c + lc * i), ["λ_cyc"]),  # weights swapped
    (_step_with(lambda a, c, i, lc, li: lc * c + li * i), ["adversarial"]),  # no GAN terms
    (_step_with(lambda a, c, i, lc, li: a + lc * c), ["identity"]),  # no identity term
    (_no_zero_grad, ["zeroed"]),
    (_moves_discriminators, ["discriminators moved"]),
    (_undetached, ["detached"]),
    (_swapped_fakes, ["fake_x = F(y)"]),
    (lambda *args: None, ["return (losses, fake_x, fake_y)"]),
])
def test_generator_step_rejects(wrong, words):
    rejects(check_cyclegan_generator_step, wrong, words=words)


@pytest.mark.parametrize("check, n_args", [(check_cycle_consistency_loss, 1), (check_lsgan_losses, 2),
                                           (check_identity_loss, 1), (check_cyclegan_generator_step, 1)])
def test_blanks_pass_through_as_not_implemented(check, n_args):
    with pytest.raises(NotImplementedError):
        check(*[blank] * n_args)
