"""Self-checks for lecture 02 (denoising, stacked and multimodal autoencoders): masking noise,
salt-and-pepper noise, one stage of greedy layer-wise pretraining, the modality-dropout batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from course_lib.checks._framework import _expect_callable, _expect_tensor, _fail, _passed, _seeded, _student_code
from course_lib.checks.autoencoders import _params, _same  # a stage's parameters, compared as check_train_step does
from course_lib.denoising import FullyConvolutionalAutoencoder
from course_lib.stacked import stage_loss

__all__ = ["check_masking_noise", "check_salt_and_pepper", "check_pretrain_stage", "check_modality_dropout"]


# ---------------------------------------------------------------------------------------------
# Lecture 02: masking noise and salt-and-pepper noise
# ---------------------------------------------------------------------------------------------

# (shape, ν): every ν·D is a whole number, so "exactly the fraction" has one meaning.
_NOISE_CASES = [((6, 1, 16, 16), 0.5), ((4, 1, 8, 8), 0.25), ((5, 40), 0.1), ((3, 1, 8, 8), 0.0),
                ((3, 1, 8, 8), 1.0), ((8, 1, 16, 16), 0.75)]


def _run_noise(name: str, fn: Callable, x: torch.Tensor, nu: float, seed: int) -> torch.Tensor:
    before = x.clone()
    with _student_code(name, f"your function on a batch of shape {tuple(x.shape)} with ν = {nu}"):
        out = fn(x, nu, torch.Generator().manual_seed(seed))
    out = _expect_tensor(name, f"Your function (ν = {nu})", out, tuple(x.shape))
    if not torch.equal(x, before):
        _fail(name, "Your function changed its input x in place; return a new tensor and leave x as it was "
              "(the clean x is still needed as the target).")
    return out


def _check_noise_common(name: str, fn: Callable, changed_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                        what: str) -> None:
    """Shared by both noise checks: the exact count per sample, a fresh subset per sample, the generator."""
    with _seeded() as g:
        for shape, nu in _NOISE_CASES:
            x = 0.1 + 0.8 * torch.rand(shape, generator=g)  # no pixel is 0 or 1 before the corruption
            out = _run_noise(name, fn, x, nu, seed=1)
            changed = changed_of(out, x).flatten(1).sum(dim=1)
            d, want = x[0].numel(), round(nu * x[0].numel())
            if not (changed == want).all():
                counts = sorted(set(changed.tolist()))
                hint = (" The counts vary from image to image: choosing each input independently with probability ν "
                        "gives ν·D only on average; choose a random subset of exactly round(ν·D) inputs instead."
                        if len(counts) > 1 else "")
                _fail(name, f"With ν = {nu} and D = {d} inputs per sample, exactly {want} inputs per sample should be "
                      f"{what}, but your function {what} {counts} per sample.{hint}")
            if 0 < nu < 1 and len(x) > 1:
                patterns = {tuple(row.tolist()) for row in changed_of(out, x).flatten(1)}
                if len(patterns) == 1:
                    _fail(name, f"Every image in the batch had the same inputs {what}: draw a new random subset "
                          "for each sample.")
            again = _run_noise(name, fn, x, nu, seed=1)
            if not torch.equal(out, again):
                _fail(name, "Two calls with generators seeded alike gave different results: draw all random "
                      "numbers from the `generator` argument (e.g. torch.rand(..., generator=generator)).")
        x = 0.1 + 0.8 * torch.rand(1, 1, 8, 8, generator=g)
        hits = sum(changed_of(_run_noise(name, fn, x, 0.25, seed=s), x).float() for s in range(200)) / 200
        if hits.min() < 0.1 or hits.max() > 0.4:
            _fail(name, f"Over 200 draws with ν = 0.25 some inputs were {what} {hits.max():.0%} of the time and some "
                  f"{hits.min():.0%}: every input should be equally likely to be chosen (about 25 %).")


def check_masking_noise(fn: Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]) -> None:
    """Check ``fn(x, nu, generator)``: exactly round(ν·D) of each sample's D inputs set to 0, the rest unchanged.

    Hidden batches of images and of flat vectors, ν from 0 to 1; the subset must differ between
    samples, every input must be equally likely, and all randomness must come from ``generator``.
    """
    name = "check_masking_noise"
    _expect_callable(name, fn, "your masking function")
    with _seeded() as g:
        x = 0.1 + 0.8 * torch.rand(4, 1, 8, 8, generator=g)
        out = _run_noise(name, fn, x, 0.5, seed=0)
        kept = out != 0
        if not torch.equal(out[kept], x[kept]):
            if (out != x).sum() > (out == 0).sum():
                _fail(name, "Inputs were changed to values other than 0: masking noise sets the chosen inputs to "
                      "zero and leaves all the others exactly as they were.")
        if not (out == 0).any():
            _fail(name, "No input was set to 0 with ν = 0.5: masking noise *zeroes* the chosen inputs.")
    _check_noise_common(name, fn, lambda out, x: out == 0, "set to 0")
    _passed(name, f"{len(_NOISE_CASES)} hidden cases: the exact fraction per sample, a fresh subset per sample, "
            "uniform over the inputs, reproducible with the generator.")


def check_salt_and_pepper(fn: Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]) -> None:
    """Check ``fn(x, nu, generator)``: exactly round(ν·D) inputs per sample set to 0 or 1 by a fair coin.

    Besides the counts (as for masking noise), the corrupted values must be 0 or 1 only, and
    about half of them each.
    """
    name = "check_salt_and_pepper"
    _expect_callable(name, fn, "your salt-and-pepper function")
    with _seeded() as g:
        x = 0.1 + 0.8 * torch.rand(16, 1, 16, 16, generator=g)
        out = _run_noise(name, fn, x, 0.5, seed=0)
        changed = out != x
        values = out[changed]
        if not ((values == 0) | (values == 1)).all():
            _fail(name, "Some inputs were changed to values other than 0 or 1: salt is the maximum 1, pepper the "
                  "minimum 0, and every other input stays as it was.")
        salt = (values == 1).float().mean().item() if len(values) else 0.0
        if not 0.45 <= salt <= 0.55:
            kind = "salt (1)" if salt > 0.5 else "pepper (0)"
            _fail(name, f"{salt:.0%} of the corrupted inputs are salt (1) and {1 - salt:.0%} pepper (0): mostly "
                  f"{kind}. Each chosen input should become 0 or 1 with equal probability, independently.")
    _check_noise_common(name, fn, lambda out, x: out != x, "set to 0 or 1")
    _passed(name, f"{len(_NOISE_CASES)} hidden cases: the exact fraction per sample, salt and pepper half each, "
            "a fresh subset per sample, reproducible with the generator.")


# ---------------------------------------------------------------------------------------------
# Lecture 02: one stage of greedy layer-wise pretraining
# ---------------------------------------------------------------------------------------------

_STACK = (1, 4, 8, 8)


def _stage_state(stack: FullyConvolutionalAutoencoder, level: int) -> list[torch.Tensor]:
    return _params(nn.ModuleList([stack.encoders[level], stack.decoders[level]]))


def _run_pretrain(name: str, fn: Callable, level: int, corrupt: Callable, x: torch.Tensor) -> FullyConvolutionalAutoencoder:
    stack = FullyConvolutionalAutoencoder(_STACK)
    with _student_code(name, f"your function with level={level}"):
        fn(stack, level, x, corrupt, epochs=8, lr=1e-2)
    return stack


def check_pretrain_stage(fn: Callable[..., object]) -> None:
    """Check ``fn(stack, level, x, corrupt, epochs=…, lr=…)``: one stage of greedy pretraining.

    On a small stack (channels 1, 4, 8, 8) and 64 random 16 px images, for level 0 and 1:
    the stages below ``level`` (frozen) and above it must keep every parameter; the new stage
    must change; ``corrupt`` must be applied to the codes h of the frozen stages; the stage's
    reconstruction of its clean codes must improve; and the target must be the clean codes h
    (tested with a corruption that erases everything: the best the stage can then do is the
    mean code, not zero).
    """
    name = "check_pretrain_stage"
    _expect_callable(name, fn, "your pretraining function")
    with _seeded() as g:
        x = torch.rand(64, 1, 16, 16, generator=g)
        for level in (1, 0):
            seen: list[tuple[int, ...]] = []

            def masking(h: torch.Tensor) -> torch.Tensor:
                seen.append(tuple(h.shape[1:]))
                return h * (torch.rand(h.shape) >= 0.25)

            torch.manual_seed(level)
            reference = FullyConvolutionalAutoencoder(_STACK)
            with torch.no_grad():
                h = reference.encode(x, depth=level)
                loss_before = stage_loss(reference, level, h).item()
            torch.manual_seed(level)
            stack = _run_pretrain(name, fn, level, masking, x)
            at = f"With level={level}: "
            for other in range(stack.depth):
                if other == level:
                    continue
                if not _same(_stage_state(stack, other), _stage_state(reference, other)):
                    if other < level:
                        _fail(name, at + f"stage {other} (frozen, below the new one) changed. Compute the codes of the "
                              "frozen stages without gradients (torch.no_grad()) and give the optimizer only the new "
                              "stage's parameters.")
                    _fail(name, at + f"stage {other}, above the new one, changed: greedy pretraining trains one stage "
                          "at a time, bottom up; only stack.encoders[level] and stack.decoders[level] may change.")
            if _same(_stage_state(stack, level), _stage_state(reference, level)):
                _fail(name, at + "the new stage's parameters did not change: did the optimizer get them, and did it step?")
            code_shape = tuple(h.shape[1:])
            if not seen:
                _fail(name, at + "`corrupt` was never called: a denoising stage reconstructs h from corrupt(h).")
            if any(shape != code_shape for shape in seen):
                _fail(name, at + f"`corrupt` was applied to tensors of shape {sorted(set(seen))[0]} per sample; it "
                      f"must corrupt the codes h of the frozen stages, shape {code_shape} per sample.")
            with torch.no_grad():
                loss_after = stage_loss(stack, level, h).item()
            if not loss_after < 0.8 * loss_before:
                _fail(name, at + f"the stage's reconstruction error of its clean codes went from {loss_before:.4g} to "
                      f"{loss_after:.4g}: it should fall clearly. Is the loss the error between the stage's output "
                      "and its input codes h?")

        # The target: with every code erased, a stage trained on the clean h predicts the mean code;
        # trained on the corrupted codes instead, it predicts zeros.
        torch.manual_seed(3)
        stack = _run_pretrain(name, fn, 1, torch.zeros_like, x)
        with torch.no_grad():
            h = stack.encode(x, depth=1)
            guess = stack.decoders[1](stack.encoders[1](torch.zeros_like(h)))
        mean_code = h.mean(dim=0)
        if (guess.mean(dim=0) - mean_code).abs().mean() > 0.5 * mean_code.abs().mean():
            _fail(name, "With a corruption that erases all of h, your stage learned to output "
                  f"{guess.abs().mean():.3g} on average instead of the mean code ({mean_code.abs().mean():.3g}): the "
                  "loss must compare the stage's output with the *clean* codes h, not with the corrupted ones.")
    _passed(name, "the frozen and later stages did not move, the new stage learned to reconstruct its clean "
            "input codes from corrupted ones (levels 0 and 1).")


# ---------------------------------------------------------------------------------------------
# Lecture 02: the modality-dropout batch
# ---------------------------------------------------------------------------------------------


def _groups_of(name: str, inputs: torch.Tensor, t1: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
    """0 = only T1, 1 = only T2, 2 = both, for each sample; fails on anything else."""
    has_t1 = inputs[:, 0].flatten(1).ne(0).any(dim=1)
    has_t2 = inputs[:, 1].flatten(1).ne(0).any(dim=1)
    if (~has_t1 & ~has_t2).any():
        _fail(name, "Some samples have neither modality: every sample keeps T1, T2 or both.")
    for channel, (present, ref, what) in enumerate(((has_t1, t1, "T1"), (has_t2, t2, "T2"))):
        if not torch.equal(inputs[present, channel], ref[present, 0]):
            _fail(name, f"Where {what} is present, input channel {channel} must be the {what} image unchanged "
                  "(channel 0 is T1, channel 1 is T2; a missing modality is a channel of zeros).")
    return torch.where(has_t1 & has_t2, 2, torch.where(has_t1, 0, 1))


def check_modality_dropout(fn: Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple]) -> None:
    """Check ``fn(t1, t2, generator) -> (inputs, targets)`` on hidden batches of pairs.

    Inputs (B, 2, H, W): per sample only T1 (T2's channel zero), only T2, or both, in exact
    thirds (⌊B/3⌋ only T1, ⌊B/3⌋ only T2, the rest both) dealt at random; targets: the full
    pair (B, 2, H, W) for every sample. Randomness from ``generator``; inputs not modified.
    """
    name = "check_modality_dropout"
    _expect_callable(name, fn, "your modality-dropout function")
    with _seeded() as g:
        for b in (30, 12, 7, 64, 3):
            t1, t2 = 0.1 + 0.8 * torch.rand(b, 1, 6, 6, generator=g), 0.1 + 0.8 * torch.rand(b, 1, 6, 6, generator=g)
            copies = t1.clone(), t2.clone()
            results = []
            for _ in range(2):
                with _student_code(name, f"your function on a batch of {b} pairs"):
                    out = fn(t1, t2, torch.Generator().manual_seed(b))
                if not isinstance(out, tuple) or len(out) != 2:
                    _fail(name, f"Return a tuple (inputs, targets), got {type(out).__name__}"
                          + (f" of length {len(out)}" if isinstance(out, tuple) else "") + ".")
                results.append(out)
            inputs = _expect_tensor(name, "inputs", results[0][0], (b, 2, 6, 6), " (T1 and T2 as two channels)")
            targets = _expect_tensor(name, "targets", results[0][1], (b, 2, 6, 6), " (the full pair as two channels)")
            if not (torch.equal(t1, copies[0]) and torch.equal(t2, copies[1])):
                _fail(name, "Your function changed t1 or t2 in place; build new tensors (the full pair is the target).")
            if not torch.equal(targets, torch.cat([t1, t2], dim=1)):
                _fail(name, "The targets must be the full pair (t1, t2) for every sample, whatever the input "
                      "shows: the network learns to fill in the missing modality.")
            if not torch.equal(results[1][0], inputs):
                _fail(name, "Two calls with generators seeded alike gave different inputs: draw all random numbers "
                      "from the `generator` argument.")
            groups = _groups_of(name, inputs, t1, t2)
            counts = torch.bincount(groups, minlength=3).tolist()
            want = [b // 3, b // 3, b - 2 * (b // 3)]
            if counts != want:
                _fail(name, f"In a batch of {b}: {counts[0]} samples show only T1, {counts[1]} only T2, {counts[2]} "
                      f"both; expected exact thirds {want} (⌊B/3⌋, ⌊B/3⌋ and the rest). Deal the groups with a "
                      "random permutation instead of an independent draw per sample.")
        x = 0.1 + 0.8 * torch.rand(30, 1, 2, 2, generator=g)
        with _student_code(name, "your function with different generator seeds"):
            dealt = {tuple(_groups_of(name, fn(x, x, torch.Generator().manual_seed(s))[0], x, x).tolist())
                     for s in range(5)}
        if len(dealt) == 1:
            _fail(name, "Every seed gave the same samples the same groups: deal the thirds to the samples at random "
                  "(a random permutation drawn from the generator), not by position.")
    _passed(name, "exact thirds only-T1 / only-T2 / both, dealt at random, with the full pair as the target.")
