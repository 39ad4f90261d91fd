"""Lecture 05's self-checks accept the reference and equivalent answers, and reject plausible
mistakes with a hint that names the mistake.

For every check there are two written-down lists: ``WRONG_<name>`` (each a mistake a student
could make, with the words its hint must contain) and ``CORRECT_<name>`` (unusual but correct
answers, and the solution notebook's own, copied here).
"""

import time
from typing import NamedTuple

import pytest
import torch
from torch.nn.functional import l1_loss, mse_loss, softplus

from course_lib.checks import (
    check_cycle_consistency_loss, check_cyclegan_generator_step, check_identity_loss, check_lsgan_losses,
)
from course_lib.cyclegan import (
    GeneratorStep, cycle_consistency_loss, cyclegan_generator_step, identity_loss, lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from tests.check_helpers import blank, rejects


def _args(candidate):
    return candidate if isinstance(candidate, tuple) else (candidate,)


def _accepts(check, candidate, capsys):
    check(*_args(candidate))
    assert f"✓ {check.__name__} passed" in capsys.readouterr().out


# --- the cycle-consistency loss ----------------------------------------------------------------

def _solution_cycle_loss(x, x_cycled, y, y_cycled):  # solutions/05_cyclegan.py
    return (x_cycled - x).abs().mean() + (y_cycled - y).abs().mean()


def _cycle_in_place(x, xc, y, yc):
    return xc.sub_(x).abs().mean() + yc.sub_(y).abs().mean()


WRONG_cycle_consistency_loss = [
    pytest.param(lambda x, xc, y, yc: (xc - x).abs().mean(), ["Y → X → Y"], id="only-x-direction"),
    pytest.param(lambda x, xc, y, yc: (yc - y).abs().mean(), ["X → Y → X"], id="only-y-direction"),
    pytest.param(lambda x, xc, y, yc: (xc - x).pow(2).mean() + (yc - y).pow(2).mean(), ["L1"], id="squared-error"),
    pytest.param(lambda x, xc, y, yc: (xc - x).abs().sum() + (yc - y).abs().sum(), ["mean"], id="summed"),
    pytest.param(lambda x, xc, y, yc: (xc - x).abs().flatten(1).sum(1).mean() + (yc - y).abs().flatten(1).sum(1).mean(),
                 ["summed over the pixels of each image"], id="summed-per-image"),
    pytest.param(lambda x, xc, y, yc: ((xc - x).abs().mean() + (yc - y).abs().mean()) / 2, ["sum"], id="averaged"),
    pytest.param(lambda x, xc, y, yc: (xc - y).abs().mean() + (yc - x).abs().mean(), ["its own input"],
                 id="compared-with-other-input"),
    pytest.param(lambda x, xc, y, yc: ((xc - x) + (yc - y)).abs().mean(), ["separately"], id="sum-inside-abs"),
    pytest.param(lambda x, xc, y, yc: cycle_consistency_loss(x, xc, y, yc).detach(), ["autograd"], id="detached"),
    pytest.param(lambda x, xc, y, yc: cycle_consistency_loss(x, xc.detach(), y, yc), ["no gradient reaches x_cycled"],
                 id="x-cycled-detached"),
    pytest.param(lambda x, xc, y, yc: (xc - x).abs().mean() + (yc.detach() - y).abs().mean(),
                 ["no gradient reaches y_cycled"], id="y-cycled-detached"),
    pytest.param(lambda x, xc, y, yc: (xc - x).abs().mean(dim=(1, 2, 3)) + (yc - y).abs().mean(dim=(1, 2, 3)),
                 ["one number"], id="per-image-not-averaged"),
    pytest.param(_cycle_in_place, ["in place"], id="subtracts-in-place"),
]

CORRECT_cycle_consistency_loss = [
    pytest.param(cycle_consistency_loss, id="library-reference"),
    pytest.param(_solution_cycle_loss, id="solution-notebook"),
    pytest.param(lambda x, xc, y, yc: l1_loss(xc, x) + l1_loss(yc, y), id="torch-l1"),
    pytest.param(lambda x, xc, y, yc: torch.nn.L1Loss()(xc, x.detach()) + torch.nn.L1Loss()(yc, y.detach()),
                 id="l1-module-targets-detached"),
    pytest.param(lambda x, xc, y, yc: (xc - x).abs().mean((1, 2, 3)).mean() + (yc - y).abs().mean((1, 2, 3)).mean(),
                 id="mean-of-per-image-means"),
]


@pytest.mark.parametrize("candidate, words", WRONG_cycle_consistency_loss)
def test_cycle_consistency_loss_rejects_wrong(candidate, words):
    rejects(check_cycle_consistency_loss, *_args(candidate), words=words)


@pytest.mark.parametrize("candidate", CORRECT_cycle_consistency_loss)
def test_cycle_consistency_loss_accepts_correct(candidate, capsys):
    _accepts(check_cycle_consistency_loss, candidate, capsys)


# --- the least-squares losses ------------------------------------------------------------------

def _solution_lsgan_d(real_scores, fake_scores):  # solutions/05_cyclegan.py
    return 0.5 * (real_scores - 1).pow(2).mean() + 0.5 * fake_scores.pow(2).mean()


def _solution_lsgan_g(fake_scores):  # solutions/05_cyclegan.py
    return (fake_scores - 1).pow(2).mean()


def _d_in_place(r, f):
    r.sub_(1)
    return 0.5 * r.pow(2).mean() + 0.5 * f.pow(2).mean()


def _g_in_place(f):
    return f.sub_(1).pow(2).mean()


_ref_g = lsgan_generator_loss

WRONG_lsgan_losses = [
    pytest.param((lambda r, f: 0.5 * r.pow(2).mean() + 0.5 * (f - 1).pow(2).mean(), _ref_g), ["swapped"],
                 id="d-targets-swapped"),
    pytest.param((lambda r, f: (r - 1).pow(2).mean() + f.pow(2).mean(), _ref_g), ["½"], id="d-no-half"),
    pytest.param((lambda r, f: 0.5 * (r - 1).pow(2).mean(), _ref_g), ["generated samples' term"], id="d-only-real"),
    pytest.param((lambda r, f: 0.5 * f.pow(2).mean(), _ref_g), ["real samples' term"], id="d-only-fake"),
    pytest.param((lambda r, f: 0.5 * (r - 1).pow(2).sum() + 0.5 * f.pow(2).sum(), _ref_g), ["mean"], id="d-summed"),
    pytest.param((lambda r, f: 0.5 * (r - 1).abs().mean() + 0.5 * f.abs().mean(), _ref_g), ["squares"], id="d-absolute"),
    # BCE from lecture 04 on the scores: not the least-squares form.
    pytest.param((lambda r, f: 0.5 * (softplus(-r).mean() + softplus(f).mean()), _ref_g), ["squared distance"],
                 id="d-bce-of-lecture-04"),
    pytest.param((lambda r, f: torch.cat([(r - 1).pow(2), f.pow(2)]).mean(), _ref_g), ["combined batch", "unequally"],
                 id="d-mean-over-combined-batch"),
    pytest.param((lambda r, f: 0.5 * (r - 1).pow(2).mean() + 0.5 * f.detach().pow(2).mean(), _ref_g),
                 ["no gradient reaches the generated images' scores"], id="d-fake-term-detached"),
    pytest.param((lambda r, f: 0.5 * (r.detach() - 1).pow(2).mean() + 0.5 * f.pow(2).mean(), _ref_g),
                 ["no gradient reaches the real images' scores"], id="d-real-term-detached"),
    pytest.param((_d_in_place, _ref_g), ["in place"], id="d-subtracts-in-place"),
    pytest.param((lsgan_discriminator_loss, lambda f: f.pow(2).mean()), ["target 1"], id="g-target-0"),
    pytest.param((lsgan_discriminator_loss, lambda f: -f.pow(2).mean()), ["least-squares form"], id="g-minus-square"),
    pytest.param((lsgan_discriminator_loss, lambda f: 0.5 * (f - 1).pow(2).mean()), ["no factor ½"], id="g-half"),
    pytest.param((lsgan_discriminator_loss, lambda f: (f - 1).abs().mean()), ["square"], id="g-absolute"),
    pytest.param((lsgan_discriminator_loss, lambda f: (f - 1).pow(2).sum()), ["summed"], id="g-summed"),
    pytest.param((lsgan_discriminator_loss, lambda f: (f.mean() - 1).pow(2)), ["squared the mean"],
                 id="g-square-of-mean"),
    pytest.param((lsgan_discriminator_loss, lambda f: lsgan_generator_loss(f).detach()), ["autograd"], id="g-detached"),
    pytest.param((lsgan_discriminator_loss, lambda f: torch.tensor(lsgan_generator_loss(f).item(), requires_grad=True) * 1),
                 ["generator loss", "no gradient reaches"], id="g-rebuilt-from-float"),
    pytest.param((lsgan_discriminator_loss, _g_in_place), ["in place"], id="g-subtracts-in-place"),
]

CORRECT_lsgan_losses = [
    pytest.param((lsgan_discriminator_loss, lsgan_generator_loss), id="library-reference"),
    pytest.param((_solution_lsgan_d, _solution_lsgan_g), id="solution-notebook"),
    pytest.param((lambda r, f: 0.5 * mse_loss(r, torch.ones_like(r)) + 0.5 * mse_loss(f, torch.zeros_like(f)),
                  lambda f: mse_loss(f, torch.ones_like(f))), id="torch-mse"),
    pytest.param((lambda r, f: ((r - 1) ** 2).mean((1, 2, 3)).mean() / 2 + (f ** 2).mean((1, 2, 3)).mean() / 2,
                  lambda f: torch.mean(torch.square(f - 1))), id="per-map-means"),
]


@pytest.mark.parametrize("candidate, words", WRONG_lsgan_losses)
def test_lsgan_losses_rejects_wrong(candidate, words):
    rejects(check_lsgan_losses, *_args(candidate), words=words)


@pytest.mark.parametrize("candidate", CORRECT_lsgan_losses)
def test_lsgan_losses_accepts_correct(candidate, capsys):
    _accepts(check_lsgan_losses, candidate, capsys)


# --- the identity loss -------------------------------------------------------------------------

def _solution_identity_loss(x, f_of_x, y, g_of_y):  # solutions/05_cyclegan.py
    return (g_of_y - y).abs().mean() + (f_of_x - x).abs().mean()


def _identity_in_place(x, fx, y, gy):
    return gy.sub_(y).abs().mean() + fx.sub_(x).abs().mean()


WRONG_identity_loss = [
    pytest.param(lambda x, fx, y, gy: (fx - x).abs().mean(), ["G(y) − y"], id="only-f-term"),
    pytest.param(lambda x, fx, y, gy: (gy - y).abs().mean(), ["F(x) − x"], id="only-g-term"),
    pytest.param(lambda x, fx, y, gy: (gy - x).abs().mean() + (fx - y).abs().mean(), ["went in"], id="wrong-targets"),
    pytest.param(lambda x, fx, y, gy: (fx - x).pow(2).mean() + (gy - y).pow(2).mean(), ["L1"], id="squared-error"),
    pytest.param(lambda x, fx, y, gy: (fx - x).abs().sum() + (gy - y).abs().sum(), ["mean"], id="summed"),
    pytest.param(lambda x, fx, y, gy: ((fx - x).abs().mean() + (gy - y).abs().mean()) / 2, ["their sum"], id="averaged"),
    pytest.param(lambda x, fx, y, gy: ((fx - x) + (gy - y)).abs().mean(), ["separately"], id="sum-inside-abs"),
    pytest.param(lambda x, fx, y, gy: identity_loss(x, fx, y, gy.detach()), ["no gradient reaches g_of_y"],
                 id="g-of-y-detached"),
    pytest.param(lambda x, fx, y, gy: identity_loss(x, fx.detach(), y, gy), ["no gradient reaches f_of_x"],
                 id="f-of-x-detached"),
    pytest.param(lambda x, fx, y, gy: identity_loss(x, fx, y, gy).detach(), ["autograd"], id="detached"),
    pytest.param(_identity_in_place, ["in place"], id="subtracts-in-place"),
]

CORRECT_identity_loss = [
    pytest.param(identity_loss, id="library-reference"),
    pytest.param(_solution_identity_loss, id="solution-notebook"),
    pytest.param(lambda x, fx, y, gy: l1_loss(gy, y.detach()) + l1_loss(fx, x.detach()), id="torch-l1-targets-detached"),
]


@pytest.mark.parametrize("candidate, words", WRONG_identity_loss)
def test_identity_loss_rejects_wrong(candidate, words):
    rejects(check_identity_loss, *_args(candidate), words=words)


@pytest.mark.parametrize("candidate", CORRECT_identity_loss)
def test_identity_loss_accepts_correct(candidate, capsys):
    _accepts(check_identity_loss, candidate, capsys)


# --- one generator update ----------------------------------------------------------------------

def _solution_generator_step(model, g_optimizer, x, y, lambda_cyc=10.0, lambda_id=5.0):  # solutions/05_cyclegan.py
    fake_y, fake_x = model.G(x), model.F(y)
    adversarial = _solution_lsgan_g(model.D_Y(fake_y)) + _solution_lsgan_g(model.D_X(fake_x))
    cycle = _solution_cycle_loss(x, model.F(fake_y), y, model.G(fake_x))
    total = adversarial + lambda_cyc * cycle
    losses = {"adversarial": adversarial.item(), "cycle": cycle.item()}
    if lambda_id:  # a term of weight 0 is skipped: its two generator passes would only add exact zeros
        identity = _solution_identity_loss(x, model.F(x), y, model.G(y))
        total = total + lambda_id * identity
        losses["identity"] = identity.item()
    g_optimizer.zero_grad()
    total.backward()
    g_optimizer.step()
    return GeneratorStep(losses, fake_x.detach(), fake_y.detach())


def _step(*, total_of=None, zero_grad=True, returns="step", translate=None, score=None, cycle_of=None,
          cycle_value=None, zero_after=False):
    """A generator step with one mistake (or one harmless variation) switched on.

    ``total_of(adversarial, cycle, identity, λ_cyc, λ_id)`` is the total; ``translate(model, x, y)``
    gives (fake_y, fake_x); ``score(model, fake_y, fake_x)`` the adversarial term; ``cycle_of``
    the two cycle terms' sum from (x, F(G(x)), y, G(F(y)))."""
    total_of = total_of or (lambda a, c, i, lc, li: a + lc * c + li * i)
    translate = translate or (lambda model, x, y: (model.G(x), model.F(y)))
    score = score or (lambda model, fy, fx: lsgan_generator_loss(model.D_Y(fy)) + lsgan_generator_loss(model.D_X(fx)))
    cycle_of = cycle_of or cycle_consistency_loss

    def step(model, opt, x, y, lambda_cyc, lambda_id):
        fake_y, fake_x = translate(model, x, y)
        adversarial = score(model, fake_y, fake_x)
        cycle = cycle_of(x, model.F(fake_y), y, model.G(fake_x))
        identity = identity_loss(x, model.F(x), y, model.G(y))
        if zero_grad and not zero_after:
            opt.zero_grad()
        total_of(adversarial, cycle, identity, lambda_cyc, lambda_id).backward()
        opt.step()
        if zero_after:
            model.zero_grad()
        value = cycle_value(cycle, lambda_cyc) if cycle_value else cycle.item()
        losses = {"adversarial": adversarial.item(), "cycle": value, "identity": identity.item()}
        if returns == "step":
            return GeneratorStep(losses, fake_x.detach(), fake_y.detach())
        if returns == "tuple":
            return losses, fake_x.detach(), fake_y.detach()
        if returns == "none":
            return None
        if returns == "no-cycle-key":
            return GeneratorStep({"adversarial": adversarial.item(), "total": 0.0}, fake_x.detach(), fake_y.detach())
        if returns == "tensor-losses":
            return GeneratorStep({"adversarial": adversarial, "cycle": cycle}, fake_x.detach(), fake_y.detach())
        if returns == "undetached":
            return GeneratorStep(losses, fake_x, fake_y.detach())
        if returns == "swapped":
            return GeneratorStep(losses, fake_y.detach(), fake_x.detach())
        if returns == "after-update":
            with torch.no_grad():
                return GeneratorStep(losses, model.F(y), model.G(x))
        raise AssertionError(returns)
    return step


def _moves_discriminators(model, opt, x, y, lambda_cyc, lambda_id):
    out = cyclegan_generator_step(model, opt, x, y, lambda_cyc, lambda_id)
    torch.optim.SGD([*model.D_X.parameters(), *model.D_Y.parameters()], lr=0.1).step()
    return out


def _own_optimizer(model, opt, x, y, lambda_cyc, lambda_id):
    return cyclegan_generator_step(model, torch.optim.SGD(model.generator_parameters(), lr=0.5), x, y, lambda_cyc,
                                   lambda_id)


def _rescales_input_in_place(model, opt, x, y, lambda_cyc, lambda_id):
    x.mul_(1.0).clamp_(0.05, 0.95)  # "keep the slices away from the sigmoid's ends", on the caller's batch
    return cyclegan_generator_step(model, opt, x, y, lambda_cyc, lambda_id)


def _recompute_round_trips(model, opt, x, y, lambda_cyc, lambda_id):
    fake_y, fake_x = model.G(x), model.F(y)
    adversarial = lsgan_generator_loss(model.D_Y(fake_y)) + lsgan_generator_loss(model.D_X(fake_x))
    cycle = cycle_consistency_loss(x, model.F(model.G(x)), y, model.G(model.F(y)))  # G(x), F(y) computed again
    total = adversarial + lambda_cyc * cycle + lambda_id * identity_loss(x, model.F(x), y, model.G(y))
    opt.zero_grad()
    total.backward()
    opt.step()
    return GeneratorStep({"cycle": cycle.item()}, fake_x.detach(), fake_y.detach())


def _one_batched_pass(model, opt, x, y, lambda_cyc, lambda_id):
    n = len(x)
    g_out, f_out = model.G(torch.cat([x, y])), model.F(torch.cat([y, x]))  # G(x), G(y) and F(y), F(x) at once
    fake_y, g_y, fake_x, f_x = g_out[:n], g_out[n:], f_out[:n], f_out[n:]
    adversarial = lsgan_generator_loss(model.D_Y(fake_y)) + lsgan_generator_loss(model.D_X(fake_x))
    cycle = cycle_consistency_loss(x, model.F(fake_y), y, model.G(fake_x))
    total = adversarial + lambda_cyc * cycle + lambda_id * identity_loss(x, f_x, y, g_y)
    opt.zero_grad()
    total.backward()
    opt.step()
    return GeneratorStep({"cycle": cycle.item(), "g_total": total.item()}, fake_x.detach(), fake_y.detach())


def _separate_backwards(model, opt, x, y, lambda_cyc, lambda_id):
    opt.zero_grad()
    fake_y, fake_x = model.G(x), model.F(y)
    lsgan_generator_loss(model.D_Y(fake_y)).backward(retain_graph=True)
    lsgan_generator_loss(model.D_X(fake_x)).backward(retain_graph=True)
    cycle = cycle_consistency_loss(x, model.F(fake_y), y, model.G(fake_x))
    (lambda_cyc * cycle).backward()
    if lambda_id:
        (lambda_id * identity_loss(x, model.F(x), y, model.G(y))).backward()
    opt.step()
    return GeneratorStep({"cycle": cycle.item()}, fake_x.detach(), fake_y.detach())


def _freezes_discriminators(restore):
    def step(model, opt, x, y, lambda_cyc, lambda_id):
        model.D_X.requires_grad_(False)  # the discriminators frozen for the generators' step
        model.D_Y.requires_grad_(False)
        out = cyclegan_generator_step(model, opt, x, y, lambda_cyc, lambda_id)
        if restore:
            model.D_X.requires_grad_(True)
            model.D_Y.requires_grad_(True)
        return out
    return step


class _MyStep(NamedTuple):
    losses: dict
    fake_x: torch.Tensor
    fake_y: torch.Tensor


def _own_named_tuple(model, opt, x, y, lambda_cyc, lambda_id):
    out = _step(zero_after=True)(model, opt, x, y, lambda_cyc, lambda_id)
    return _MyStep(out.losses, out.fake_x, out.fake_y)


def _l2_cycle(x, xc, y, yc):
    return (xc - x).pow(2).mean() + (yc - y).pow(2).mean()


WRONG_cyclegan_generator_step = [
    pytest.param(_step(total_of=lambda a, c, i, lc, li: a + c + i), ["not multiplied by λ_cyc"], id="forgot-weights"),
    pytest.param(_step(total_of=lambda a, c, i, lc, li: a + li * c + lc * i), ["swapped"], id="weights-swapped"),
    pytest.param(_step(total_of=lambda a, c, i, lc, li: lc * c + li * i), ["adversarial", "missing"],
                 id="no-adversarial-terms"),
    pytest.param(_step(total_of=lambda a, c, i, lc, li: a + lc * c), ["identity loss is missing"], id="no-identity-term"),
    pytest.param(_step(total_of=lambda a, c, i, lc, li: a + li * i), ["cycle loss is missing"], id="no-cycle-term"),
    pytest.param(_step(total_of=lambda a, c, i, lc, li: a + lc * c + 0.5 * lc * i), ["λ_id = 0", "identity"],
                 id="identity-at-paper-weight-when-lambda-id-is-0"),
    pytest.param(_step(total_of=lambda a, c, i, lc, li: a + (lc or 10.0) * c + li * i), ["λ_cyc = 0", "cycle"],
                 id="cycle-default-weight-when-lambda-cyc-is-0"),
    pytest.param(_step(cycle_of=lambda x, xc, y, yc: (xc - x).abs().mean()), ["lacks", "G(F(y))"],
                 id="one-cycle-direction"),
    pytest.param(_step(total_of=lambda a, c, i, lc, li: -(a + lc * c + li * i)), ["up", "sign"], id="gradient-ascent"),
    pytest.param(_step(score=lambda m, fy, fx: lsgan_generator_loss(m.D_X(fy)) + lsgan_generator_loss(m.D_Y(fx))),
                 ["wrong discriminator"], id="fakes-scored-by-wrong-discriminators"),
    pytest.param(_step(cycle_of=_l2_cycle), ["check the total loss"], id="l2-cycle"),
    pytest.param(_step(zero_grad=False), ["previous call", "zero_grad"], id="missing-zero-grad"),
    pytest.param(_moves_discriminators, ["discriminators moved"], id="moves-discriminators"),
    pytest.param(_own_optimizer, ["ran 0 times", "optimiser passed in"], id="own-optimizer"),
    pytest.param(_step(translate=lambda m, x, y: (m.G(y), m.F(x))), ["fake_x = F(y)", "F(x)"],
                 id="translates-the-wrong-images"),
    pytest.param(_step(returns="undetached"), ["detached"], id="fake-x-not-detached"),
    pytest.param(_step(returns="swapped"), ["swapped"], id="fakes-swapped"),
    pytest.param(_step(returns="after-update"), ["after the update"], id="fakes-after-update"),
    pytest.param(_step(returns="none"), ["returned None", "GeneratorStep"], id="returns-none"),
    pytest.param(_step(returns="tuple"), ["plain tuple", "by name"], id="returns-plain-tuple"),
    pytest.param(_step(returns="no-cycle-key"), ["no key 'cycle'"], id="losses-without-cycle"),
    pytest.param(_step(returns="tensor-losses"), ["tensor", ".item()"], id="losses-are-tensors"),
    pytest.param(_step(cycle_value=lambda c, lc: lc * c.item()), ["unweighted"], id="cycle-value-weighted"),
    pytest.param(_rescales_input_in_place, ["in place"], id="modifies-x-in-place"),
    pytest.param(_freezes_discriminators(restore=False), ["requires_grad=False", "D_X"], id="discriminators-left-frozen"),
]

CORRECT_cyclegan_generator_step = [
    pytest.param(cyclegan_generator_step, id="library-reference"),
    pytest.param(_solution_generator_step, id="solution-notebook"),
    pytest.param(_recompute_round_trips, id="recomputes-F-of-G-of-x"),
    pytest.param(_one_batched_pass, id="one-batched-pass-through-G-and-F"),
    pytest.param(_separate_backwards, id="one-backward-per-term"),
    pytest.param(_step(), id="zero-weight-terms-multiplied-by-0"),
    pytest.param(_own_named_tuple, id="own-named-tuple-zero-grad-after-step"),
    pytest.param(_freezes_discriminators(restore=True), id="discriminators-frozen-then-unfrozen"),
]


@pytest.mark.parametrize("candidate, words", WRONG_cyclegan_generator_step)
def test_cyclegan_generator_step_rejects_wrong(candidate, words):
    rejects(check_cyclegan_generator_step, *_args(candidate), words=words)


@pytest.mark.parametrize("candidate", CORRECT_cyclegan_generator_step)
def test_cyclegan_generator_step_accepts_correct(candidate, capsys):
    _accepts(check_cyclegan_generator_step, candidate, capsys)


# --- the suite itself --------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, correct", [
    (WRONG_cycle_consistency_loss, CORRECT_cycle_consistency_loss), (WRONG_lsgan_losses, CORRECT_lsgan_losses),
    (WRONG_identity_loss, CORRECT_identity_loss), (WRONG_cyclegan_generator_step, CORRECT_cyclegan_generator_step),
])
def test_each_check_has_a_written_down_mutant_suite(wrong, correct):
    assert len(wrong) >= 8 and len(correct) >= 2


_REFERENCES = [(check_cycle_consistency_loss, (cycle_consistency_loss,)),
               (check_lsgan_losses, (lsgan_discriminator_loss, lsgan_generator_loss)),
               (check_identity_loss, (identity_loss,)), (check_cyclegan_generator_step, (_solution_generator_step,))]


@pytest.mark.parametrize("check, candidate", _REFERENCES)
def test_checks_leave_the_global_rng_and_threads_alone(check, candidate, capsys):
    torch.manual_seed(123)
    before, threads = torch.get_rng_state(), torch.get_num_threads()
    check(*candidate)
    assert torch.equal(torch.get_rng_state(), before) and torch.get_num_threads() == threads


@pytest.mark.parametrize("check, candidate", _REFERENCES)
def test_checks_are_fast(check, candidate, capsys):
    check(*candidate)  # warm up (first calls of torch kernels)
    start = time.perf_counter()
    check(*candidate)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("check, n_args", [(check_cycle_consistency_loss, 1), (check_lsgan_losses, 2),
                                           (check_identity_loss, 1), (check_cyclegan_generator_step, 1)])
def test_blanks_pass_through_as_not_implemented(check, n_args):
    with pytest.raises(NotImplementedError):
        check(*[blank] * n_args)
