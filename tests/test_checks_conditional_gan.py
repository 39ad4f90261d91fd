"""Lecture 04's conditional-GAN self-check accepts the reference and correct variants, and rejects
plausible mistakes with a hint that names them."""

import pytest
import torch
from torch.nn import functional as F
from torch.nn.functional import softplus

import course_lib.checks.conditional_gan as cgan_checks
from course_lib.checks import CheckFailed, check_conditional_discriminator_loss
from course_lib.conditional_gan import conditional_discriminator_loss
from tests.check_helpers import blank, rejects


# --- correct answers -----------------------------------------------------------------------------

def _softplus_form(D, real, fake, labels):
    fake = fake.detach()
    return 0.5 * (softplus(-D(real, labels)).mean() + softplus(D(fake, labels)).mean())


def _torch_bce_on_both_halves(D, real, fake, labels):
    logits = D(torch.cat([real, fake.detach()]), torch.cat([labels, labels]))
    targets = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))])
    return F.binary_cross_entropy_with_logits(logits, targets)


def _bce_per_half(D, real, fake, labels):
    real_logits, fake_logits = D(real, labels), D(fake.detach(), labels)
    return 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                  + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def _probabilities_bce(D, real, fake, labels):
    # BCE on σ(logit): not the stable form, but equal for the moderate logits of the hidden cases.
    with torch.no_grad():
        fake = fake.clone()
    d_real, d_fake = torch.sigmoid(D(real, labels)), torch.sigmoid(D(fake, labels))
    return 0.5 * (F.binary_cross_entropy(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))


def _textbook_value(D, real, fake, labels):
    d_real, d_fake = torch.sigmoid(D(real, labels)), torch.sigmoid(D(fake.detach(), labels))
    return -0.5 * (torch.log(d_real).mean() + torch.log(1 - d_fake).mean())


def _permuted_together(D, real, fake, labels):
    # Shuffling samples *with* their labels changes nothing.
    order = torch.randperm(len(real))
    return conditional_discriminator_loss(D, real[order], fake[order], labels[order])


def _solution_discriminator_loss(real_logits, fake_logits):
    # solutions/04_gan_minimax.py, Exercise 1 (the student's own loss, called by Exercise 5)
    return 0.5 * (softplus(-real_logits).mean() + softplus(fake_logits).mean())


def _solution(discriminator, real, fake, labels):
    # solutions/04_gan_minimax.py, Exercise 5
    return _solution_discriminator_loss(discriminator(real, labels), discriminator(fake.detach(), labels))


def _concatenated_labels_repeated(D, real, fake, labels):
    logits = D(torch.cat([real, fake.detach()]), labels.repeat(2))
    n = len(real)
    return 0.5 * (softplus(-logits[:n]).mean() + softplus(logits[n:]).mean())


def _fake_data(D, real, fake, labels):
    return 0.5 * (softplus(-D(real, labels)).mean() + softplus(D(fake.data, labels)).mean())


CORRECT_conditional_discriminator_loss = [
    pytest.param(_solution, id="solution-notebook"),
    pytest.param(conditional_discriminator_loss, id="library-reference"),
    pytest.param(_softplus_form, id="softplus"),
    pytest.param(_torch_bce_on_both_halves, id="bce-concatenated"),
    pytest.param(_bce_per_half, id="bce-per-half"),
    pytest.param(_probabilities_bce, id="probabilities-bce"),
    pytest.param(_textbook_value, id="textbook"),
    pytest.param(_permuted_together, id="permuted-together"),
    pytest.param(_concatenated_labels_repeated, id="concatenated-labels-repeat"),
    pytest.param(_fake_data, id="fake-data"),
]


@pytest.mark.parametrize("candidate", CORRECT_conditional_discriminator_loss)
def test_conditional_discriminator_loss_accepts_correct(candidate, capsys):
    check_conditional_discriminator_loss(candidate)
    assert capsys.readouterr().out.startswith("✓ check_conditional_discriminator_loss passed")


# --- mistakes ------------------------------------------------------------------------------------

def _terms(D, real, fake, labels):
    return softplus(-D(real, labels)), softplus(D(fake.detach(), labels))


def _sign_flipped(D, real, fake, labels):
    return -conditional_discriminator_loss(D, real, fake, labels)


def _summed(D, real, fake, labels):
    r, f = _terms(D, real, fake, labels)
    return 0.5 * (r.sum() + f.sum())


def _no_half(D, real, fake, labels):
    r, f = _terms(D, real, fake, labels)
    return r.mean() + f.mean()


def _targets_swapped(D, real, fake, labels):
    return 0.5 * (softplus(D(real, labels)).mean() + softplus(-D(fake.detach(), labels)).mean())


def _targets_swapped_bce(D, real, fake, labels):
    logits = D(torch.cat([real, fake.detach()]), torch.cat([labels, labels]))
    return F.binary_cross_entropy_with_logits(logits, torch.cat([torch.zeros(len(real)), torch.ones(len(fake))]))


def _real_only(D, real, fake, labels):
    return 0.5 * softplus(-D(real, labels)).mean()


def _shuffled_labels(D, real, fake, labels):
    return conditional_discriminator_loss(D, real, fake, labels[torch.randperm(len(labels))])


def _constant_labels(D, real, fake, labels):
    return conditional_discriminator_loss(D, real, fake, torch.zeros_like(labels))


def _fake_with_other_labels(D, real, fake, labels):
    r = softplus(-D(real, labels)).mean()
    f = softplus(D(fake.detach(), labels.flip(0))).mean()
    return 0.5 * (r + f)


def _not_detached(D, real, fake, labels):
    return 0.5 * (softplus(-D(real, labels)).mean() + softplus(D(fake, labels)).mean())


def _detached_output(D, real, fake, labels):
    return 0.5 * (softplus(-D(real, labels)).mean() + softplus(D(fake, labels)).detach().mean())


def _detach_in_place(D, real, fake, labels):
    fake.detach_()
    return conditional_discriminator_loss(D, real, fake, labels)


def _real_changed_in_place(D, real, fake, labels):
    real.clamp_(-1, 1)
    return conditional_discriminator_loss(D, real, fake, labels)


def _labels_changed_in_place(D, real, fake, labels):
    loss = conditional_discriminator_loss(D, real, fake, labels)
    labels.zero_()
    return loss


def _per_sample(D, real, fake, labels):
    r, f = _terms(D, real, fake, labels)
    return 0.5 * (r + f)


def _one_hot_labels(D, real, fake, labels):
    y = F.one_hot(labels, 4).float()
    return 0.5 * (softplus(-D(real, y)).mean() + softplus(D(fake.detach(), y)).mean())


def _backward_inside(D, real, fake, labels):
    loss = conditional_discriminator_loss(D, real, fake, labels)
    loss.backward(retain_graph=True)
    return loss


def _double_sigmoid(D, real, fake, labels):
    real_p, fake_p = torch.sigmoid(D(real, labels)), torch.sigmoid(D(fake.detach(), labels))
    return 0.5 * (F.binary_cross_entropy_with_logits(real_p, torch.ones_like(real_p))
                  + F.binary_cross_entropy_with_logits(fake_p, torch.zeros_like(fake_p)))


def _logits_as_probabilities(D, real, fake, labels):
    return -0.5 * (torch.log(D(real, labels)).mean() + torch.log(1 - D(fake.detach(), labels)).mean())


def _random_labels_for_fake(D, real, fake, labels):
    r = softplus(-D(real, labels)).mean()
    f = softplus(D(fake.detach(), torch.randint(4, labels.shape))).mean()
    return 0.5 * (r + f)


def _labels_interleaved(D, real, fake, labels):
    logits = D(torch.cat([real, fake.detach()]), labels.repeat_interleave(2))
    n = len(real)
    return 0.5 * (softplus(-logits[:n]).mean() + softplus(logits[n:]).mean())


def _fake_pass_under_no_grad(D, real, fake, labels):
    with torch.no_grad():
        f = softplus(D(fake, labels)).mean()
    return 0.5 * (softplus(-D(real, labels)).mean() + f)


WRONG_conditional_discriminator_loss = [
    pytest.param(_sign_flipped, ["sign is flipped"], id="sign"),
    pytest.param(_summed, ["summed over the batch"], id="sum"),
    pytest.param(_no_half, ["halve"], id="no-half"),
    pytest.param(_targets_swapped, ["swapped", "label 1"], id="swapped"),
    pytest.param(_targets_swapped_bce, ["swapped"], id="swapped-bce"),
    pytest.param(_real_only, ["generated pairs' term"], id="real-only"),
    pytest.param(_shuffled_labels, ["not their own", "condition"], id="shuffled-labels"),
    pytest.param(_constant_labels, ["not their own", "constant"], id="constant-labels"),
    pytest.param(_fake_with_other_labels, ["not their own"], id="fake-other-labels"),
    pytest.param(_random_labels_for_fake, ["not their own"], id="fake-random-labels"),
    pytest.param(_labels_interleaved, ["not their own"], id="labels-interleaved"),
    pytest.param(_not_detached, ["reaches the generator", "detach"], id="not-detached"),
    pytest.param(_detached_output, ["D's output"], id="detached-output"),
    pytest.param(_fake_pass_under_no_grad, ["only the real pairs' term reaches"], id="fake-pass-under-no-grad"),
    pytest.param(_detach_in_place, ["detach_()", "in place"], id="detach-in-place"),
    pytest.param(_real_changed_in_place, ["`real` in place"], id="real-in-place"),
    pytest.param(_labels_changed_in_place, ["`labels` in place"], id="labels-in-place"),
    pytest.param(_per_sample, ["one number"], id="per-sample"),
    pytest.param(lambda D, r, f, y: conditional_discriminator_loss(D, r, f, y).item(), ["float", "0-d tensor"],
                 id="float"),
    pytest.param(lambda D, r, f, y: None, ["returned None", "return"], id="none"),
    pytest.param(lambda D, r, f, y: conditional_discriminator_loss(D, r, f, y).detach(), ["autograd graph"],
                 id="detached-loss"),
    pytest.param(_one_hot_labels, ["raised ValueError", "integer class labels"], id="one-hot-labels"),
    pytest.param(_backward_inside, ["ran backward()"], id="backward-inside"),
    pytest.param(_double_sigmoid, ["sigmoid was applied twice"], id="double-sigmoid"),
    pytest.param(_logits_as_probabilities, ["not probabilities"], id="logits-as-probabilities"),
]


@pytest.mark.parametrize("candidate, words", WRONG_conditional_discriminator_loss)
def test_conditional_discriminator_loss_rejects_wrong(candidate, words):
    rejects(check_conditional_discriminator_loss, candidate, words=words)


def test_conditional_discriminator_loss_has_a_mutant_suite():
    assert len(WRONG_conditional_discriminator_loss) >= 8 and len(CORRECT_conditional_discriminator_loss) >= 2


def test_pass_line_is_unchanged(capsys):
    check_conditional_discriminator_loss(_solution)
    assert capsys.readouterr().out == (
        "✓ check_conditional_discriminator_loss passed: 4 hidden batches (odd sizes, absent classes) agree with the "
        "reference; D saw every sample with its own label, and only D gets the gradient.\n")


@pytest.mark.parametrize("seed", [1, 2, 10])
def test_no_verdict_hangs_on_the_seed(seed, monkeypatch, capsys):
    """The same verdicts and hints when the hidden D and batches come from other seeds (seed 10 gave a logit
    near 8 before the hidden D's logits were bounded, and the textbook form on probabilities drifted by 1e-4)."""
    seeded = cgan_checks._seeded
    monkeypatch.setattr(cgan_checks, "_seeded", lambda s=0: seeded(s + 1000 * seed))
    for case in WRONG_conditional_discriminator_loss:
        candidate, words = case.values
        rejects(check_conditional_discriminator_loss, candidate, words=words)
    for case in CORRECT_conditional_discriminator_loss:
        check_conditional_discriminator_loss(case.values[0])
    assert capsys.readouterr().out.count("✓") == len(CORRECT_conditional_discriminator_loss)


def test_hints_never_show_the_answer():
    for wrong in (_sign_flipped, _no_half, _targets_swapped, _not_detached, _shuffled_labels):
        with pytest.raises(CheckFailed) as info:
            check_conditional_discriminator_loss(wrong)
        message = str(info.value)
        assert "conditional_discriminator_loss(" not in message and "softplus(-" not in message


def test_blank_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        check_conditional_discriminator_loss(blank)


def test_not_callable_is_a_type_error():
    with pytest.raises(TypeError, match="pass it without calling it"):
        check_conditional_discriminator_loss(conditional_discriminator_loss(  # called, not passed
            lambda x, y: x.sum(1), torch.zeros(2, 2), torch.zeros(2, 2), torch.zeros(2, dtype=torch.long)))


def test_check_leaves_the_global_random_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    check_conditional_discriminator_loss(_permuted_together)  # draws from the global generator inside
    assert torch.equal(torch.rand(3), expected)
