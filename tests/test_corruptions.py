"""Lecture 02's corruptions q(x̃ | x): exact fractions, fresh draws per sample, seeded repeats, bad input."""

import math

import pytest
import torch

from course_lib.corruptions import (CORRUPTIONS, corrupt, gaussian_noise, masking_noise, random_level_corruption,
                                    salt_and_pepper)


def _images(shape=(6, 1, 8, 8), seed=0):
    """Values strictly inside (0.1, 0.9), so a pixel set to 0 or 1 is always a changed pixel."""
    return 0.1 + 0.8 * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", [(6, 1, 8, 8), (4, 2, 5, 7), (5, 30)])
@pytest.mark.parametrize("nu", [0.0, 0.1, 0.25, 0.5, 0.77, 1.0])
def test_masking_noise_zeroes_exactly_the_requested_fraction_of_every_sample(shape, nu):
    x = _images(shape)
    before = x.clone()
    x_tilde = masking_noise(x, nu, torch.Generator().manual_seed(1))
    d = x[0].numel()
    zeroed = (x_tilde == 0).flatten(1).sum(dim=1)
    assert zeroed.tolist() == [round(nu * d)] * shape[0]
    kept = x_tilde != 0
    assert torch.equal(x_tilde[kept], x[kept])  # everything else untouched
    assert torch.equal(x, before)  # the input is not modified in place


def test_masking_noise_draws_a_new_subset_per_sample_and_repeats_with_a_seed():
    x = _images((8, 1, 16, 16))
    a = masking_noise(x, 0.5, torch.Generator().manual_seed(3))
    b = masking_noise(x, 0.5, torch.Generator().manual_seed(3))
    c = masking_noise(x, 0.5, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    masks = (a == 0).flatten(1)
    assert len({tuple(m.tolist()) for m in masks}) == len(masks)
    # Every pixel is equally likely to be masked: over many draws each is hit about half the time.
    hits = sum((masking_noise(x[:1], 0.5) == 0).float() for _ in range(400)) / 400
    assert hits.min() > 0.35 and hits.max() < 0.65


@pytest.mark.parametrize("nu", [0.05, 0.3, 1.0])
def test_salt_and_pepper_sets_exactly_the_fraction_to_zero_or_one_by_a_fair_coin(nu):
    x = _images((20, 1, 16, 16))
    x_tilde = salt_and_pepper(x, nu, torch.Generator().manual_seed(2))
    changed = x_tilde != x
    assert changed.flatten(1).sum(dim=1).tolist() == [round(nu * 256)] * 20
    assert set(x_tilde[changed].unique().tolist()) <= {0.0, 1.0}
    salt = (x_tilde[changed] == 1).float().mean().item()
    n = changed.sum().item()
    assert abs(salt - 0.5) < 4 * math.sqrt(0.25 / n)  # a fair coin, within 4 standard errors


def test_gaussian_noise_is_additive_unclipped_with_the_requested_sigma():
    x = _images((50, 1, 32, 32))
    x_tilde = gaussian_noise(x, 0.2, torch.Generator().manual_seed(0))
    noise = x_tilde - x
    assert abs(noise.mean().item()) < 0.005 and abs(noise.std().item() - 0.2) < 0.005
    assert x_tilde.min() < 0 and x_tilde.max() > 1  # not clipped
    assert torch.equal(gaussian_noise(x, 0.0), x)


def test_corrupt_dispatches_to_each_corruption():
    x = _images()
    for kind, fn in CORRUPTIONS.items():
        assert torch.equal(corrupt(x, kind, 0.2, torch.Generator().manual_seed(5)),
                           fn(x, 0.2, torch.Generator().manual_seed(5)))


def test_random_level_corruption_varies_the_level_between_batches():
    noise = random_level_corruption("masking", 0.5, torch.Generator().manual_seed(0))
    x = _images((1, 1, 32, 32))
    fractions = {(noise(x) == 0).float().mean().item() for _ in range(20)}
    assert len(fractions) > 10 and max(fractions) <= 0.5


@pytest.mark.parametrize("call, error, match", [
    (lambda x: masking_noise(x, -0.1), ValueError, r"nu must be a finite number in \[0, 1\] \(the fraction ν"),
    (lambda x: masking_noise(x, 1.5), ValueError, r"\[0, 1\]"),
    (lambda x: masking_noise(x, True), TypeError, r"\[0, 1\]"),
    (lambda x: salt_and_pepper(x, 2), ValueError, r"\[0, 1\]"),
    (lambda x: gaussian_noise(x, -0.1), ValueError, "sigma must be a finite number ≥ 0"),
    (lambda x: gaussian_noise(x, float("inf")), ValueError, "sigma must be a finite number"),
    (lambda x: gaussian_noise(x, float("nan")), ValueError, "sigma must be a finite number"),
    (lambda x: masking_noise(x[0, 0, 0], 0.1), ValueError, r"batch of inputs \(B, …\)"),
    (lambda x: salt_and_pepper(x.flatten()[:5], 0.1), ValueError, r"got a float32 tensor of shape \(5,\)"),
    (lambda x: gaussian_noise((x * 10).long(), 0.1), TypeError, "floating-point"),
    (lambda x: corrupt(x, "speckle", 0.1), ValueError, "kind must be one of .*got 'speckle'"),
    (lambda x: random_level_corruption("masking", 0.9 + 0.2), ValueError, r"\[0, 1\]"),
])
def test_corruptions_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(_images())


@pytest.mark.parametrize("call, error, match", [
    (lambda: masking_noise(torch.full((2, 1, 4, 4), math.nan), 0.3), ValueError, "x must be finite"),
    (lambda: gaussian_noise(torch.ones(2, 3).masked_fill(torch.eye(2, 3) > 0, math.inf), 0.1), ValueError,
     "x must be finite"),
    (lambda: salt_and_pepper(torch.zeros(0, 1, 4, 4), 0.2), ValueError, "B ≥ 1"),
    (lambda: masking_noise(torch.ones(2, 4, dtype=torch.long), 0.3), TypeError, "floating-point"),
    (lambda: masking_noise(torch.rand(2, 4), 0.3, generator=0), TypeError, "generator must be a torch.Generator"),
    (lambda: random_level_corruption("masking", 1.5), ValueError, r"max_level must be a finite number in \[0, 1\]"),
    (lambda: random_level_corruption("gaussian", -0.1), ValueError, "max_level must be a finite number ≥ 0"),
    (lambda: random_level_corruption("gaussian", "0.1"), TypeError, "max_level must be a finite number"),
    (lambda: random_level_corruption("blur", 0.1), ValueError, "kind must be one of"),
])
def test_corruptions_refuse_bad_input_with_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_random_level_corruption_still_draws_once_from_the_global_state_when_built():
    """The lecture's outputs depend on that draw: the checks must not remove it."""
    torch.manual_seed(0)
    random_level_corruption("gaussian", 0.1)
    after_build = torch.rand(1)
    torch.manual_seed(0)
    torch.randn(1, 1)
    assert torch.equal(torch.rand(1), after_build)
