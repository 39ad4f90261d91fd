"""Lecture 04's conditional-GAN self-check accepts the reference and correct variants, and rejects
plausible mistakes with a hint that names them."""

import pytest
import torch
from torch.nn import functional as F
from torch.nn.functional import softplus

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


@pytest.mark.parametrize("correct", [
    conditional_discriminator_loss, _softplus_form, _torch_bce_on_both_halves, _bce_per_half, _probabilities_bce,
    _textbook_value, _permuted_together,
], ids=["reference", "softplus", "bce-concatenated", "bce-per-half", "probabilities-bce", "textbook", "permuted"])
def test_accepts_correct_answers(correct, capsys):
    check_conditional_discriminator_loss(correct)
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


@pytest.mark.parametrize("wrong, words", [
    (_sign_flipped, ["sign is flipped"]),
    (_summed, ["summed over the batch"]),
    (_no_half, ["halve"]),
    (_targets_swapped, ["swapped", "label 1"]),
    (_targets_swapped_bce, ["swapped"]),
    (_real_only, ["generated pairs' term"]),
    (_shuffled_labels, ["not their own", "condition"]),
    (_constant_labels, ["not their own", "constant"]),
    (_fake_with_other_labels, ["not their own"]),
    (_not_detached, ["reaches the generator", "detach"]),
    (_detached_output, ["D's output"]),
    (_detach_in_place, ["detach_()", "in place"]),
    (_real_changed_in_place, ["`real` in place"]),
    (_labels_changed_in_place, ["`labels` in place"]),
    (_per_sample, ["one number"]),
    (lambda D, r, f, y: conditional_discriminator_loss(D, r, f, y).item(), ["float", "0-d tensor"]),
    (lambda D, r, f, y: None, ["returned None", "return"]),
    (lambda D, r, f, y: conditional_discriminator_loss(D, r, f, y).detach(), ["autograd graph"]),
    (_one_hot_labels, ["raised ValueError", "integer class labels"]),
], ids=["sign", "sum", "no-half", "swapped", "swapped-bce", "real-only", "shuffled-labels", "constant-labels",
        "fake-other-labels", "not-detached", "detached-output", "detach-in-place", "real-in-place",
        "labels-in-place", "per-sample", "float", "none", "detached-loss", "one-hot-labels"])
def test_rejects(wrong, words):
    rejects(check_conditional_discriminator_loss, wrong, words=words)


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
