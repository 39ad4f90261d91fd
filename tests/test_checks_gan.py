"""Lecture 04's self-checks accept the reference and equivalent answers, and reject plausible
mistakes with a hint that names the mistake.

For every check there are two written-down lists: ``WRONG_<name>`` (each a mistake a student
could make, with the words its hint must contain) and ``CORRECT_<name>`` (unusual but correct
answers, and the solution notebook's own, copied here).
"""

import time

import pytest
import torch
from torch.nn.functional import binary_cross_entropy, logsigmoid, softplus
from torch.nn.functional import binary_cross_entropy_with_logits as bce

from course_lib.checks import check_discriminator_loss, check_gan_step, check_generator_loss, check_mode_coverage
from course_lib.evaluation import mode_coverage
from course_lib.gan import discriminator_loss, gan_training_step, generator_loss
from tests.check_helpers import blank, rejects


def _call(check, candidate):
    return check(*candidate) if isinstance(candidate, tuple) else check(candidate)


def _rejects(check, candidate, words):
    return rejects(check, *(candidate if isinstance(candidate, tuple) else (candidate,)), words=words)


def _accepts(check, candidate, capsys):
    _call(check, candidate)
    assert f"✓ {check.__name__} passed" in capsys.readouterr().out


# --- the discriminator loss --------------------------------------------------------------------

def _solution_discriminator_loss(real_logits, fake_logits):  # solutions/04_gan_minimax.py
    return 0.5 * (softplus(-real_logits).mean() + softplus(fake_logits).mean())


def _d_in_place(r, f):
    f.neg_()  # "softplus(-(-f))": right value and gradient, but D's output is overwritten
    return 0.5 * (softplus(-r).mean() + softplus(-f).mean())


WRONG_discriminator_loss = [
    pytest.param(lambda r, f: 0.5 * (softplus(r).mean() + softplus(-f).mean()), ["labels are swapped"],
                 id="labels-swapped"),
    pytest.param(lambda r, f: -discriminator_loss(r, f), ["sign is flipped"], id="sign-flipped"),
    pytest.param(lambda r, f: softplus(-r).mean() + softplus(f).mean(), ["combined", "halve"], id="sum-of-halves"),
    pytest.param(lambda r, f: 0.5 * softplus(-r).mean(), ["generated samples' term"], id="only-real-half"),
    pytest.param(lambda r, f: 0.5 * softplus(f).mean(), ["real samples' term"], id="only-fake-half"),
    pytest.param(lambda r, f: 0.5 * (softplus(-r).sum() + softplus(f).sum()), ["summed"], id="summed-over-batch"),
    pytest.param(lambda r, f: 0.5 * (-torch.log(torch.sigmoid(r)).mean() - torch.log(1 - torch.sigmoid(f)).mean()),
                 ["softplus", "log(0)"], id="naive-log"),
    pytest.param(lambda r, f: 0.5 * (-torch.log(torch.sigmoid(r) + 1e-8).mean()
                                     - torch.log(1 - torch.sigmoid(f) + 1e-8).mean()),
                 ["capped", "σ(l)", "softplus"], id="epsilon-in-log"),
    pytest.param(lambda r, f: binary_cross_entropy(torch.sigmoid(torch.cat([r, f])),
                                                   torch.cat([torch.ones_like(r), torch.zeros_like(f)])),
                 ["capped", "binary_cross_entropy on σ(l)", "with_logits"], id="bce-on-probabilities"),
    pytest.param(lambda r, f: discriminator_loss(r, f).detach(), ["autograd graph"], id="detached-result"),
    pytest.param(lambda r, f: 0.5 * (softplus(-r).mean() + softplus(f.detach()).mean()),
                 ["no gradient reaches the generated samples' logits"], id="fake-term-detached"),
    pytest.param(lambda r, f: 0.5 * (softplus(-r.detach()).mean() + softplus(f).mean()),
                 ["no gradient reaches the real samples' logits"], id="real-term-detached"),
    pytest.param(lambda r, f: torch.tensor(discriminator_loss(r, f).item(), requires_grad=True) * 1.0,
                 ["no gradient reaches"], id="rebuilt-from-float"),
    pytest.param(lambda r, f: 0.5 * (softplus(-r) + softplus(f)), ["one number"], id="not-averaged"),
    pytest.param(_d_in_place, ["in place"], id="negates-logits-in-place"),
]

CORRECT_discriminator_loss = [
    pytest.param(discriminator_loss, id="library-reference"),
    pytest.param(_solution_discriminator_loss, id="solution-notebook"),
    pytest.param(lambda r, f: bce(torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])),
                 id="torch-bce-on-combined-batch"),
    pytest.param(lambda r, f: 0.5 * (bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))), id="two-torch-bces"),
    pytest.param(lambda r, f: -0.5 * (logsigmoid(r).mean() + logsigmoid(-f).mean()), id="logsigmoid"),
    pytest.param(lambda r, f: (torch.logaddexp(torch.zeros_like(r), -r).sum()
                               + torch.logaddexp(torch.zeros_like(f), f).sum()) / (len(r) + len(f)),
                 id="logaddexp-sum-over-2m"),
]


@pytest.mark.parametrize("candidate, words", WRONG_discriminator_loss)
def test_discriminator_loss_rejects_wrong(candidate, words):
    _rejects(check_discriminator_loss, candidate, words)


@pytest.mark.parametrize("candidate", CORRECT_discriminator_loss)
def test_discriminator_loss_accepts_correct(candidate, capsys):
    _accepts(check_discriminator_loss, candidate, capsys)


# --- the generator losses ----------------------------------------------------------------------

def _solution_generator_loss(fake_logits, kind="non_saturating"):  # solutions/04_gan_minimax.py
    if kind == "minimax":
        return -softplus(fake_logits).mean()
    if kind == "non_saturating":
        return softplus(-fake_logits).mean()
    raise ValueError(f"unknown generator loss {kind!r}; expected 'minimax' or 'non_saturating'")


def _per_kind(minimax, non_saturating):
    def loss(f, kind="non_saturating"):
        if kind == "minimax":
            return minimax(f)
        if kind == "non_saturating":
            return non_saturating(f)
        raise ValueError(kind)
    return loss


def _no_error_for_unknown(f, kind="non_saturating"):
    return generator_loss(f, "minimax") if kind == "minimax" else generator_loss(f, "non_saturating")


def _falls_through(f, kind="non_saturating"):
    if kind == "minimax":
        return generator_loss(f, "minimax")
    if kind == "non_saturating":
        return generator_loss(f, "non_saturating")


def _key_error(f, kind="non_saturating"):
    return {"minimax": lambda: generator_loss(f, "minimax"), "non_saturating": lambda: generator_loss(f)}[kind]()


def _g_in_place(f, kind="non_saturating"):
    f.neg_()
    return softplus(-f).mean().neg() if kind == "minimax" else softplus(f).mean()


_ns, _mm = (lambda f: generator_loss(f, "non_saturating")), (lambda f: generator_loss(f, "minimax"))

WRONG_generator_loss = [
    pytest.param(_per_kind(_ns, _mm), ["swapped"], id="kinds-swapped"),
    pytest.param(_per_kind(_mm, lambda f: softplus(f).mean()), ["label 0", "real"], id="ns-against-label-0"),
    pytest.param(_per_kind(lambda f: softplus(f).mean(), _ns), ["sign is flipped"], id="minimax-sign-flipped"),
    pytest.param(_per_kind(lambda f: torch.log(1 - torch.sigmoid(f)).mean(), lambda f: -torch.log(torch.sigmoid(f)).mean()),
                 ["softplus"], id="naive-log"),
    pytest.param(_per_kind(lambda f: torch.log(1 - torch.sigmoid(f) + 1e-8).mean(),
                           lambda f: -torch.log(torch.sigmoid(f) + 1e-8).mean()), ["cap", "softplus"], id="epsilon-in-log"),
    pytest.param(_per_kind(_mm, lambda f: binary_cross_entropy(torch.sigmoid(f), torch.ones_like(f))),
                 ["cap", "softplus"], id="bce-on-probabilities"),
    pytest.param(_no_error_for_unknown, ["ValueError", "returned a tensor"], id="no-error-for-unknown-kind"),
    pytest.param(_falls_through, ["ValueError", "returned None"], id="unknown-kind-falls-through"),
    pytest.param(_key_error, ["raised KeyError", "ValueError"], id="unknown-kind-key-error"),
    pytest.param(lambda f, kind="non_saturating": generator_loss(f, kind) * len(f), ["summed"], id="summed"),
    pytest.param(lambda f, kind="non_saturating": generator_loss(f.detach(), kind), ["autograd graph"], id="detached"),
    pytest.param(lambda f, kind="non_saturating": torch.tensor(generator_loss(f, kind).item(), requires_grad=True) + 0,
                 ["no gradient reaches the logits"], id="rebuilt-from-float"),
    pytest.param(_g_in_place, ["in place"], id="negates-logits-in-place"),
]

CORRECT_generator_loss = [
    pytest.param(generator_loss, id="library-reference"),
    pytest.param(_solution_generator_loss, id="solution-notebook"),
    pytest.param(_per_kind(lambda f: logsigmoid(-f).mean(), lambda f: -logsigmoid(f).mean()), id="logsigmoid"),
    pytest.param(_per_kind(lambda f: -bce(f, torch.zeros_like(f)), lambda f: bce(f, torch.ones_like(f))),
                 id="torch-bce-with-logits"),
]


@pytest.mark.parametrize("candidate, words", WRONG_generator_loss)
def test_generator_loss_rejects_wrong(candidate, words):
    _rejects(check_generator_loss, candidate, words)


@pytest.mark.parametrize("candidate", CORRECT_generator_loss)
def test_generator_loss_accepts_correct(candidate, capsys):
    _accepts(check_generator_loss, candidate, capsys)


# --- one alternating step ----------------------------------------------------------------------

def _solution_gan_step(generator, discriminator, g_optimizer, d_optimizer, real, latent):  # solutions/04
    m = len(real)
    fake = generator(latent(m)).detach()
    d_loss = _solution_discriminator_loss(discriminator(real), discriminator(fake))
    d_optimizer.zero_grad()
    d_loss.backward()
    d_optimizer.step()
    g_loss = _solution_generator_loss(discriminator(generator(latent(m))), "non_saturating")
    g_optimizer.zero_grad()
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()


def _make_step(*, detach=True, zero_g=True, zero_d=True, fresh_noise=True, kind="non_saturating", g_first=False,
               step_d_again=False, old_d=False, d_loss_fn=discriminator_loss, returns="floats", zero_after=False,
               zero_between=False, noise=None, g_noise_from_d=False):
    """The reference step with one mistake (or one harmless variation) switched on."""
    def step(generator, discriminator, g_opt, d_opt, real, latent):
        m = len(real)
        draw = noise or latent
        z_first = None

        def d_update():
            nonlocal z_first
            z_first = draw(m)
            fake = generator(z_first)
            d_loss = d_loss_fn(discriminator(real), discriminator(fake.detach() if detach else fake))
            if zero_d and not zero_after:
                d_opt.zero_grad()
            d_loss.backward()
            if zero_between:
                d_opt.zero_grad()
            d_opt.step()
            if zero_after:
                d_opt.zero_grad()
            return fake, d_loss

        def g_update(reused):
            z = draw(m) if fresh_noise or reused is None else None
            if g_noise_from_d:
                z = z_first
            fake = generator(z) if z is not None else reused
            g_loss = generator_loss(discriminator(fake), kind)
            if zero_g and not zero_after:
                g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            if zero_after:
                g_opt.zero_grad()
            if step_d_again:
                d_opt.step()
            return g_loss

        if g_first:
            g_loss = g_update(None)
            _, d_loss = d_update()
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
            fake, d_loss = d_update()
            g_loss = g_update(fake)
        if returns == "floats":
            return d_loss.item(), g_loss.item()
        if returns == "none":
            return None
        if returns == "tensors":
            return d_loss, g_loss
        if returns == "swapped":
            return g_loss.item(), d_loss.item()
        if returns == "dict-without-g":
            return {"d_loss": d_loss.item()}
        if returns == "three":
            return d_loss.item(), g_loss.item(), 0.0
        if returns == "list":
            return [d_loss.item(), g_loss.item()]
        raise AssertionError(returns)
    return step


def _library_dict(G, D, go, do, real, latent):
    return gan_training_step(G, D, go, do, [real], latent)


def _library_pair(G, D, go, do, real, latent):
    out = gan_training_step(G, D, go, do, [real], latent)
    return out["d_loss"], out["g_loss"]


def _normalises_real_in_place(G, D, go, do, real, latent):
    real -= real.mean(0)  # "centre the data", on the caller's tensor
    return _library_pair(G, D, go, do, real, latent)


def _global_randn(G, D, go, do, real, latent):
    return _make_step(noise=lambda n: torch.randn(n, 2))(G, D, go, do, real, latent)


def _fixed_batch_size(G, D, go, do, real, latent):
    return _make_step(noise=lambda n: latent(16))(G, D, go, do, real, latent)


def _d_loss_after_update(G, D, go, do, real, latent):
    d, g = _library_pair(G, D, go, do, real, latent)
    return discriminator_loss(D(real), D(G(latent(len(real))))).item(), g


def _reverse_noise_order(G, D, go, do, real, latent):
    m = len(real)
    z_g, z_d = latent(m), latent(m)  # both drawn up front, G's first
    d_loss = discriminator_loss(D(real), D(G(z_d).detach()))
    do.zero_grad()
    d_loss.backward()
    do.step()
    g_loss = generator_loss(D(G(z_g)))
    go.zero_grad()
    g_loss.backward()
    go.step()
    return d_loss.item(), g_loss.item()


def _one_draw_split(G, D, go, do, real, latent):
    m = len(real)
    z = latent(2 * m)
    d_loss = discriminator_loss(D(real), D(G(z[:m]).detach()))
    D.zero_grad()
    d_loss.backward()
    do.step()
    g_loss = generator_loss(D(G(z[m:])))
    G.zero_grad()
    g_loss.backward()
    go.step()
    return float(d_loss.detach()), float(g_loss.detach())


def _batched_d_pass(G, D, go, do, real, latent):
    m = len(real)
    logits = D(torch.cat([real, G(latent(m)).detach()]))
    d_loss = bce(logits, torch.cat([torch.ones(m), torch.zeros(m)]))
    do.zero_grad()
    d_loss.backward()
    do.step()
    g_logits = D(G(latent(m)))
    g_loss = bce(g_logits, torch.ones_like(g_logits))
    go.zero_grad()
    g_loss.backward()
    go.step()
    return d_loss.item(), g_loss.item()


def _no_grad_fakes(G, D, go, do, real, latent):
    m = len(real)
    with torch.no_grad():
        fake = G(latent(m))  # no graph at all instead of .detach()
    d_loss = discriminator_loss(D(real), D(fake))
    do.zero_grad()
    d_loss.backward()
    do.step()
    for p in D.parameters():  # D frozen during G's step, and unfrozen after it
        p.requires_grad_(False)
    g_loss = generator_loss(D(G(latent(m))))
    go.zero_grad()
    g_loss.backward()
    go.step()
    for p in D.parameters():
        p.requires_grad_(True)
    return d_loss.item(), g_loss.item()


def _freezes_d(G, D, go, do, real, latent):
    m = len(real)
    d_loss = discriminator_loss(D(real), D(G(latent(m)).detach()))
    do.zero_grad()
    d_loss.backward()
    do.step()
    D.requires_grad_(False)  # frozen for G's step, never unfrozen
    g_loss = generator_loss(D(G(latent(m))))
    go.zero_grad()
    g_loss.backward()
    go.step()
    return d_loss.item(), g_loss.item()


def _swapped_labels(r, f):
    return 0.5 * (softplus(r).mean() + softplus(-f).mean())


WRONG_gan_step = [
    pytest.param(_make_step(zero_g=False), ["previous call", "g_optimizer.zero_grad()"], id="missing-g-zero-grad"),
    pytest.param(_make_step(zero_d=False), ["previous call", "d_optimizer.zero_grad()"], id="missing-d-zero-grad"),
    pytest.param(_make_step(zero_after=True, zero_g=True, zero_d=True, detach=True) and
                 (lambda *a: _make_step(zero_after=True)(*a)), ["D's step", "previous call"],
                 id="zero-grad-after-each-step-leaks-G-backward-into-D"),
    pytest.param(_make_step(detach=False, zero_g=False), ["gradient of D's loss", "detach"],
                 id="no-detach-no-g-zero-grad"),
    pytest.param(_make_step(fresh_noise=False), ["fresh", "called once"], id="reuses-d-noise"),
    pytest.param(_make_step(g_noise_from_d=True), ["noise of D's step"], id="draws-twice-uses-first"),
    pytest.param(_make_step(kind="minimax"), ["minimax", "flipped-label"], id="minimax-g-loss"),
    pytest.param(_make_step(d_loss_fn=_swapped_labels), ["labels", "swapped"], id="d-labels-swapped"),
    pytest.param(_make_step(g_first=True), ["D's step comes first"], id="g-step-first"),
    pytest.param(_make_step(step_d_again=True), ["d_optimizer.step() ran 2 time(s)"], id="steps-d-again"),
    pytest.param(_make_step(old_d=True), ["raised RuntimeError", "inplace", "after D's step"], id="g-loss-through-old-d"),
    pytest.param(_freezes_d, ["requires_grad=False", "unfreeze"], id="freezes-d-and-forgets-it"),
    pytest.param(_make_step(zero_between=True), ["D did not change", "between backward and step"],
                 id="zero-grad-between-backward-and-step"),
    pytest.param(_global_randn, ["latent was never called"], id="ignores-latent"),
    pytest.param(_fixed_batch_size, ["latent was called with n = 16"], id="hard-coded-batch-size"),
    pytest.param(_normalises_real_in_place, ["in place"], id="modifies-real-in-place"),
    pytest.param(_make_step(returns="none"), ["returned None"], id="returns-none"),
    pytest.param(_library_dict, ["dict", "tuple"], id="returns-library-dict"),
    pytest.param(_make_step(returns="dict-without-g"), ["dict", "tuple"], id="returns-dict-without-g"),
    pytest.param(_make_step(returns="tensors"), ["tensor", ".item()"], id="returns-tensors"),
    pytest.param(_make_step(returns="swapped"), ["wrong order"], id="returns-swapped"),
    pytest.param(_make_step(returns="three"), ["exactly two"], id="returns-three-values"),
    pytest.param(_d_loss_after_update, ["d_loss", "before d_optimizer.step()"], id="d-loss-recomputed-after-update"),
]

CORRECT_gan_step = [
    pytest.param(_solution_gan_step, id="solution-notebook"),
    pytest.param(_make_step(), id="reference-order"),
    pytest.param(_library_pair, id="library-step-as-pair"),
    pytest.param(_reverse_noise_order, id="noise-drawn-up-front-in-reverse"),
    pytest.param(_one_draw_split, id="one-draw-of-2m-split-module-zero-grad"),
    pytest.param(_batched_d_pass, id="one-batched-d-pass-torch-bce"),
    pytest.param(_make_step(detach=False), id="no-detach-but-g-zeroed-before-backward"),
    pytest.param(_make_step(returns="list"), id="returns-a-list"),
    pytest.param(_no_grad_fakes, id="fakes-under-no-grad-d-frozen-and-unfrozen"),
]


@pytest.mark.parametrize("candidate, words", WRONG_gan_step)
def test_gan_step_rejects_wrong(candidate, words):
    _rejects(check_gan_step, candidate, words)


@pytest.mark.parametrize("candidate", CORRECT_gan_step)
def test_gan_step_accepts_correct(candidate, capsys):
    _accepts(check_gan_step, candidate, capsys)


def test_gan_step_clears_at_the_end_of_the_round_passes(capsys):
    """Zeroing both optimisers after the whole round (instead of before each backward) is correct."""
    def step(G, D, go, do, real, latent):
        m = len(real)
        d_loss = discriminator_loss(D(real), D(G(latent(m)).detach()))
        d_loss.backward()
        do.step()
        do.zero_grad()
        g_loss = generator_loss(D(G(latent(m))))
        g_loss.backward()
        go.step()
        go.zero_grad()
        do.zero_grad()
        return d_loss.item(), g_loss.item()
    _accepts(check_gan_step, step, capsys)


# --- the mode-coverage count -------------------------------------------------------------------

def _solution_mode_coverage(samples, modes, std):  # solutions/04_gan_minimax.py
    nearest_distance, nearest_mode = torch.cdist(samples, modes).min(dim=1)
    good = nearest_distance <= 3 * std
    return int(nearest_mode[good].unique().numel()), good.float().mean().item()


def _reference_coverage(samples, modes, std):
    c = mode_coverage(samples, modes, std)
    return c.modes, c.high_quality


def _rule(count, fraction):
    """A coverage function from the distance matrix: ``count(d, std)`` and ``fraction(d, std)``."""
    def coverage(samples, modes, std):
        d = torch.cdist(samples, modes)
        return count(d, std), fraction(d, std)
    return coverage


def _good(d, std):
    return d.min(1).values <= 3 * std


def _captured(d, std):
    return int(d.min(1).indices[_good(d, std)].unique().numel())


def _hq(d, std):
    return _good(d, std).float().mean().item()


def _in_place(samples, modes, std):
    samples.sub_(modes.mean(0))  # "centre" the samples, on the caller's tensor
    return _reference_coverage(samples + modes.mean(0), modes, std)


WRONG_mode_coverage = [
    pytest.param(_rule(lambda d, s: int(d.min(1).indices.unique().numel()), _hq), ["capture nothing"],
                 id="low-quality-samples-capture"),
    pytest.param(_rule(_captured, lambda d, s: (d.min(1).values ** 2 <= 3 * s).float().mean().item()), ["squared"],
                 id="squared-distance-vs-3-sigma"),
    pytest.param(_rule(_captured, lambda d, s: 100 * _hq(d, s)), ["percentage"], id="percentage"),
    pytest.param(_rule(lambda d, s: _captured(d, s / 3), lambda d, s: _hq(d, s / 3)), ["not within σ"], id="one-sigma"),
    pytest.param(_rule(_captured, lambda d, s: 1 - _hq(d, s)), ["low"], id="low-quality-fraction"),
    pytest.param(_rule(_captured, lambda d, s: int(_good(d, s).sum())), ["number of high-quality samples"],
                 id="hq-count-not-fraction"),
    pytest.param(_rule(lambda d, s: int(_good(d, s).sum()), _hq), ["counted high-quality samples"],
                 id="counts-hq-samples-not-modes"),
    pytest.param(_rule(lambda d, s: d.shape[1], _hq), ["number of modes there are"], id="returns-number-of-modes"),
    pytest.param(_rule(lambda d, s: int((d.min(0).values <= 3 * s).sum()),
                       lambda d, s: (d.min(0).values <= 3 * s).float().mean().item()),
                 ["fraction", "over all samples"], id="fraction-over-modes"),
    pytest.param(lambda s, m, std: _reference_coverage(s, m, std)[::-1], ["wrong order"], id="swapped-order"),
    pytest.param(lambda s, m, std: mode_coverage(s, m, std), ["tuple", "3 values"], id="returns-coverage-triple"),
    pytest.param(_rule(lambda d, s: torch.bincount(d.min(1).indices[_good(d, s)], minlength=d.shape[1]) > 0, _hq),
                 ["two numbers"], id="returns-per-mode-flags"),
    pytest.param(lambda s, m, std: None, ["tuple", "NoneType"], id="returns-none"),
    pytest.param(_in_place, ["in place"], id="centres-samples-in-place"),
]

CORRECT_mode_coverage = [
    pytest.param(_reference_coverage, id="library-reference"),
    pytest.param(_solution_mode_coverage, id="solution-notebook"),
    pytest.param(_rule(lambda d, s: int((d <= 3 * s).any(0).sum()), lambda d, s: (d <= 3 * s).any(1).double().mean()),
                 id="any-sample-within-3-sigma-tensor-fraction"),  # the same when modes are > 6σ apart
    pytest.param(lambda s, m, std: list(_rule(_captured, lambda d, s_: (d.min(1).values ** 2 <= (3 * s_) ** 2)
                                              .float().mean().item())(s, m, std)), id="squared-vs-squared-as-list"),
]


@pytest.mark.parametrize("candidate, words", WRONG_mode_coverage)
def test_mode_coverage_rejects_wrong(candidate, words):
    _rejects(check_mode_coverage, candidate, words)


@pytest.mark.parametrize("candidate", CORRECT_mode_coverage)
def test_mode_coverage_accepts_correct(candidate, capsys):
    _accepts(check_mode_coverage, candidate, capsys)


# --- the suite itself --------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, correct", [
    (WRONG_discriminator_loss, CORRECT_discriminator_loss), (WRONG_generator_loss, CORRECT_generator_loss),
    (WRONG_gan_step, CORRECT_gan_step), (WRONG_mode_coverage, CORRECT_mode_coverage),
])
def test_each_check_has_a_written_down_mutant_suite(wrong, correct):
    assert len(wrong) >= 8 and len(correct) >= 2


@pytest.mark.parametrize("check, candidate", [
    (check_discriminator_loss, discriminator_loss), (check_generator_loss, generator_loss),
    (check_gan_step, _solution_gan_step), (check_mode_coverage, _solution_mode_coverage),
])
def test_checks_leave_the_global_rng_and_threads_alone(check, candidate, capsys):
    torch.manual_seed(123)
    before, threads = torch.get_rng_state(), torch.get_num_threads()
    check(candidate)
    assert torch.equal(torch.get_rng_state(), before) and torch.get_num_threads() == threads


@pytest.mark.parametrize("check, candidate", [
    (check_discriminator_loss, discriminator_loss), (check_generator_loss, generator_loss),
    (check_gan_step, _solution_gan_step), (check_mode_coverage, _solution_mode_coverage),
])
def test_checks_are_fast(check, candidate, capsys):
    check(candidate)  # warm up (first calls of torch kernels)
    start = time.perf_counter()
    check(candidate)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("check", [check_discriminator_loss, check_generator_loss, check_gan_step, check_mode_coverage])
def test_blank_raises_not_implemented(check):
    with pytest.raises(NotImplementedError):
        check(blank)
