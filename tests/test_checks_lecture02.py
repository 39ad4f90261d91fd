"""Lecture 02's self-checks accept the reference and reject plausible mistakes with a useful hint."""

import pytest
import torch

from course_lib.autoencoders import reconstruction_loss
from course_lib.corruptions import masking_noise, salt_and_pepper
from course_lib.multimodal import modality_dropout
from course_lib.checks import check_masking_noise, check_modality_dropout, check_pretrain_stage, check_salt_and_pepper
from tests.check_helpers import blank, rejects


# --- masking noise -----------------------------------------------------------------------------

def test_masking_accepts_the_reference(capsys):
    check_masking_noise(masking_noise)
    assert "✓ check_masking_noise passed" in capsys.readouterr().out


def _bernoulli_mask(x, nu, generator):
    return x * (torch.rand(x.shape, generator=generator) >= nu)


def _same_mask_for_the_batch(x, nu, generator):
    d = x[0].numel()
    chosen = torch.randperm(d, generator=generator)[: round(nu * d)]
    flat = x.flatten(1).clone()
    flat[:, chosen] = 0
    return flat.view_as(x)


def _in_place(x, nu, generator):
    out = masking_noise(x, nu, generator)
    x.copy_(out)
    return x


def _global_rng(x, nu, generator):
    return masking_noise(x, nu)


def _first_pixels(x, nu, generator):
    flat = x.flatten(1).clone()
    flat[:, : round(nu * flat.shape[1])] = 0
    return flat.view_as(x)


def _noise_instead_of_zero(x, nu, generator):
    mask = masking_noise(torch.ones_like(x), nu, generator) == 0
    return torch.where(mask, torch.rand(x.shape, generator=generator), x)


@pytest.mark.parametrize("wrong, words", [
    (_bernoulli_mask, ["exactly", "random subset"]),
    (_same_mask_for_the_batch, ["same inputs", "each sample"]),
    (_in_place, ["in place"]),
    (_global_rng, ["generator"]),
    (_first_pixels, ["same inputs"]),
    (_noise_instead_of_zero, ["other than 0"]),
    (lambda x, nu, g: x.clone(), ["zeroes"]),
])
def test_masking_rejects(wrong, words):
    rejects(check_masking_noise, wrong, words=words)


def test_masking_blank_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        check_masking_noise(blank)


# --- salt and pepper ---------------------------------------------------------------------------

def test_salt_and_pepper_accepts_the_reference(capsys):
    check_salt_and_pepper(salt_and_pepper)
    assert "✓ check_salt_and_pepper passed" in capsys.readouterr().out


def _all_salt(x, nu, generator):
    return torch.where(masking_noise(torch.ones_like(x), nu, generator) == 0, torch.ones_like(x), x)


def _independent_salt_and_pepper(x, nu, generator):
    u = torch.rand(x.shape, generator=generator)
    return torch.where(u < nu / 2, 0.0, torch.where(u < nu, 1.0, x))


def _salt_plus_noise(x, nu, generator):
    chosen = masking_noise(torch.ones_like(x), nu, generator) == 0
    return torch.where(chosen, torch.rand(x.shape, generator=generator), x)


@pytest.mark.parametrize("wrong, words", [
    (_all_salt, ["mostly salt"]),
    (_independent_salt_and_pepper, ["exactly", "random subset"]),
    (_salt_plus_noise, ["other than 0 or 1"]),
    (lambda x, nu, g: salt_and_pepper(x, nu), ["generator"]),
    (lambda x, nu, g: masking_noise(x, nu, g), ["mostly pepper"]),
])
def test_salt_and_pepper_rejects(wrong, words):
    rejects(check_salt_and_pepper, wrong, words=words)


# --- one greedy pretraining stage --------------------------------------------------------------

def _make_stage(*, frozen_grad=False, target_noisy=False, corrupt_images=False, whole_stack=False,
                step=True, all_parameters=False):
    """The reference written by hand, with one switch per plausible mistake."""
    def pretrain(stack, level, x, corrupt, epochs=5, lr=3e-3, batch_size=16):
        encoder, decoder = stack.encoders[level], stack.decoders[level]
        params = list(stack.parameters()) if all_parameters or whole_stack else [*encoder.parameters(), *decoder.parameters()]
        optimizer = torch.optim.Adam(params, lr=lr)
        for _ in range(epochs):
            for batch in x[torch.randperm(len(x))].split(batch_size):
                if whole_stack:
                    loss = reconstruction_loss(stack(corrupt(batch)), batch)
                else:
                    if corrupt_images:
                        noisy, clean = stack.encode(corrupt(batch), depth=level), stack.encode(batch, depth=level)
                    elif frozen_grad:
                        clean = stack.encode(batch, depth=level)
                        noisy = corrupt(clean)
                    else:
                        with torch.no_grad():
                            clean = stack.encode(batch, depth=level)
                        noisy = corrupt(clean)
                    target = noisy if target_noisy else clean
                    loss = reconstruction_loss(decoder(encoder(noisy)), target.detach() if not frozen_grad else target)
                optimizer.zero_grad()
                loss.backward()
                if step:
                    optimizer.step()
    return pretrain


def test_pretrain_stage_accepts_the_reference(capsys):
    check_pretrain_stage(_make_stage())
    # Giving the optimizer every parameter is harmless when no gradient reaches the frozen stages.
    check_pretrain_stage(_make_stage(all_parameters=True))
    assert capsys.readouterr().out.count("✓ check_pretrain_stage passed") == 2


@pytest.mark.parametrize("mistake, words", [
    (dict(frozen_grad=True, all_parameters=True), ["frozen", "no_grad"]),
    (dict(whole_stack=True), ["frozen"]),
    (dict(corrupt_images=True), ["codes h", "shape"]),
    (dict(target_noisy=True), ["clean"]),
    (dict(step=False), ["did not change"]),
])
def test_pretrain_stage_rejects(mistake, words):
    rejects(check_pretrain_stage, _make_stage(**mistake), words=words)


def test_pretrain_stage_rejects_a_stage_that_skips_the_corruption():
    def no_corruption(stack, level, x, corrupt, epochs=5, lr=3e-3):
        _make_stage()(stack, level, x, lambda h: h, epochs=epochs, lr=lr)
    rejects(check_pretrain_stage, no_corruption, words=["never called"])


# --- the modality-dropout batch ----------------------------------------------------------------

def _reference_dropout(t1, t2, generator):
    inputs, targets, _ = modality_dropout(t1, t2, generator)
    return inputs, targets


def test_modality_dropout_accepts_the_reference(capsys):
    check_modality_dropout(_reference_dropout)
    assert "✓ check_modality_dropout passed" in capsys.readouterr().out


def _independent_thirds(t1, t2, generator):
    group = torch.randint(3, (len(t1),), generator=generator).view(-1, 1, 1, 1)
    return torch.cat([t1 * (group != 1), t2 * (group != 0)], 1), torch.cat([t1, t2], 1)


def _by_position(t1, t2, generator):
    b = len(t1)
    group = torch.full((b,), 2)
    group[: b // 3], group[b // 3 : 2 * (b // 3)] = 0, 1
    group = group.view(-1, 1, 1, 1)
    return torch.cat([t1 * (group != 1), t2 * (group != 0)], 1), torch.cat([t1, t2], 1)


def _dropped_targets(t1, t2, generator):
    inputs, _ = _reference_dropout(t1, t2, generator)
    return inputs, inputs.clone()


def _swapped_channels(t1, t2, generator):
    inputs, targets = _reference_dropout(t1, t2, generator)
    return inputs.flip(1), targets


def _sometimes_nothing(t1, t2, generator):
    inputs, targets = _reference_dropout(t1, t2, generator)
    inputs[0] = 0
    return inputs, targets


@pytest.mark.parametrize("wrong, words", [
    (_independent_thirds, ["exact thirds", "permutation"]),
    (_by_position, ["at random"]),
    (_dropped_targets, ["full pair"]),
    (_swapped_channels, ["channel 0 is T1"]),
    (_sometimes_nothing, ["neither modality"]),
    (lambda t1, t2, g: _reference_dropout(t1, t2, None), ["generator"]),
    (lambda t1, t2, g: _reference_dropout(t1, t2, g)[0], ["tuple (inputs, targets)"]),
])
def test_modality_dropout_rejects(wrong, words):
    rejects(check_modality_dropout, wrong, words=words)


@pytest.mark.parametrize("check", [check_masking_noise, check_salt_and_pepper, check_pretrain_stage,
                                   check_modality_dropout])
def test_blank_raises_not_implemented(check):
    with pytest.raises(NotImplementedError):
        check(blank)
