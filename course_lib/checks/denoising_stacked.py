"""Self-checks for lecture 02 (denoising, stacked and multimodal autoencoders): masking noise,
salt-and-pepper noise, one stage of greedy layer-wise pretraining, the modality-dropout batch.

Besides hidden cases against the reference, the checks follow what the notebook's next cells rely
on: the noise functions are called without a generator there (the global random numbers must then
be used, fresh on every call), the pretraining function's list of per-epoch losses is read, and
the modality-dropout batch is unpacked as ``inputs, targets``. Probes on the student's code (which
tensors reached which layer, whether gradients were left over, how far one Adam step moved the
parameters) name a mistake before any generic message.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from course_lib.checks._framework import (
    CheckFailed, _expect_callable, _expect_tensor, _fail, _passed, _seeded, _student_code,
)
from course_lib.checks.autoencoders import _params, _same  # a stage's parameters, compared as check_train_step does
from course_lib.denoising import FullyConvolutionalAutoencoder
from course_lib.stacked import stage_loss

__all__ = ["check_masking_noise", "check_salt_and_pepper", "check_pretrain_stage", "check_modality_dropout"]


# ---------------------------------------------------------------------------------------------
# Lecture 02: masking noise and salt-and-pepper noise
# ---------------------------------------------------------------------------------------------

# (shape, ν). No ν·D is a tie (x.5), so "round" has one meaning; 0.35 · 105 = 36.75 and
# 0.75 · 225 = 168.75 catch a truncated count (int, floor), 0.25 · 13 = 3.25 a ceiling; the
# (4, 3, 5, 7) batch has three channels, so D counts every input of a sample, channels included.
_NOISE_CASES = [((6, 1, 16, 16), 0.5), ((4, 3, 5, 7), 0.35), ((7, 13), 0.25), ((3, 1, 8, 8), 0.0),
                ((3, 1, 8, 8), 1.0), ((8, 1, 15, 15), 0.75)]
_DEFAULT = object()  # call the student's function without a generator, as the notebook's next cells do


def _run_noise(name: str, fn: Callable, x: torch.Tensor, nu: float, generator: object = _DEFAULT) -> torch.Tensor:
    before = x.clone()
    if generator is _DEFAULT:
        call = f"your function called as fn(x, {nu}) (no generator: the default None, as the notebook calls it)"
    else:
        call = f"your function on a batch of shape {tuple(x.shape)} with ν = {nu}"
    with _student_code(name, call):
        out = fn(x, nu) if generator is _DEFAULT else fn(x, nu, generator)
    out = _expect_tensor(name, f"Your function (ν = {nu})", out, tuple(x.shape))
    if not torch.equal(x, before):
        _fail(name, "Your function changed its input x in place; return a new tensor and leave x as it was "
              "(the clean x is still needed as the target).")
    return out


def _count_hint(chosen: torch.Tensor, nu: float, what: str) -> str:
    """Why every sample did not get exactly round(ν·D) inputs: the count's formula, or the way they were drawn."""
    shape = tuple(chosen.shape)
    counts = chosen.flatten(1).sum(dim=1).tolist()
    d = math.prod(shape[1:])
    want = round(nu * d)
    if len(shape) == 4 and shape[1] > 1 and (chosen == chosen[:, :1]).all():
        return (f" The same pixels were chosen in all {shape[1]} channels: D counts every input of a sample, channels "
                "included, and the subset is chosen among all of them.")
    if len(set(counts)) == 1:
        got = counts[0]
        if got == round((1 - nu) * d) and got != want:
            return f" That is round((1 − ν)·D): ν is the fraction of inputs {what}, not the fraction kept."
        if got == math.floor(nu * d) != want:
            return f" ν·D = {nu * d:.4g} was truncated (int or floor); the count is round(ν·D) = {want}."
        if got == math.ceil(nu * d) != want:
            return f" ν·D = {nu * d:.4g} was rounded up (ceil); the count is round(ν·D) = {want}."
        return ""
    if max(counts) <= want:
        return (" Some samples got fewer, none more: were the positions drawn with replacement (e.g. torch.randint), "
                "so that some repeat? Choose round(ν·D) distinct positions (a random permutation per sample).")
    return (" The counts vary from image to image: choosing each input independently with probability ν gives ν·D "
            "only on average; choose a random subset of exactly round(ν·D) inputs instead.")


def _check_noise_common(name: str, fn: Callable, changed_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                        what: str) -> None:
    """Shared by both noise checks: the exact count per sample, a fresh subset per sample, the generator."""
    with _seeded() as g:
        for shape, nu in _NOISE_CASES:
            x = 0.1 + 0.8 * torch.rand(shape, generator=g)  # no input is 0 or 1 before the corruption
            out = _run_noise(name, fn, x, nu, torch.Generator().manual_seed(1))
            chosen = changed_of(out, x)
            changed = chosen.flatten(1).sum(dim=1)
            d, want = x[0].numel(), round(nu * x[0].numel())
            if not (changed == want).all():
                _fail(name, f"With ν = {nu} and D = {d} inputs per sample (batch of shape {shape}), exactly {want} "
                      f"inputs per sample should be {what}, but your function {what} {sorted(set(changed.tolist()))} "
                      "per sample." + _count_hint(chosen, nu, what))
            if 0 < nu < 1 and len(x) > 1:
                patterns = {tuple(row.tolist()) for row in changed_of(out, x).flatten(1)}
                if len(patterns) == 1:
                    _fail(name, f"Every image in the batch had the same inputs {what}: draw a new random subset "
                          "for each sample.")
            again = _run_noise(name, fn, x, nu, torch.Generator().manual_seed(1))
            if not torch.equal(out, again):
                _fail(name, "Two calls with generators seeded alike gave different results: draw all random "
                      "numbers from the `generator` argument (e.g. torch.rand(..., generator=generator)).")

        x = 0.1 + 0.8 * torch.rand(4, 1, 8, 8, generator=g)
        shared = torch.Generator().manual_seed(2)
        first, second = _run_noise(name, fn, x, 0.25, shared), _run_noise(name, fn, x, 0.25, shared)
        if torch.equal(first, second):
            _fail(name, "Two calls with the *same* generator gave the same noise: your function resets or copies the "
                  "generator it is given. Draw from it directly, so that it moves on and each call gets fresh noise "
                  "(the notebook passes one generator to several calls).")
        # generator=None, as the pretraining cell calls it (lambda h: masking_noise(h, 0.25)).
        first, second = _run_noise(name, fn, x, 0.25), _run_noise(name, fn, x, 0.25)
        if torch.equal(first, second):
            _fail(name, "Called without a generator (generator=None), two calls gave the same noise, so every "
                  "training batch would be corrupted alike. With None, draw from torch's global random numbers "
                  "(pass generator=None on, e.g. torch.rand(..., generator=None)); do not make a generator with a "
                  "fixed seed.")
        torch.manual_seed(5)
        first = _run_noise(name, fn, x, 0.25)
        torch.manual_seed(5)
        if not torch.equal(first, _run_noise(name, fn, x, 0.25)):
            _fail(name, "Called without a generator, your function is not reproducible: after torch.manual_seed(5) "
                  "it gave different noise twice. With generator=None draw from torch's global random numbers, "
                  "which seed_everything and torch.manual_seed control (not from a freshly seeded generator).")

        hits = sum(changed_of(_run_noise(name, fn, x[:1], 0.25, torch.Generator().manual_seed(s)), x[:1]).float()
                   for s in range(200)) / 200
        if hits.min() < 0.1 or hits.max() > 0.4:
            _fail(name, f"Over 200 draws with ν = 0.25 some inputs were {what} {hits.max():.0%} of the time and some "
                  f"{hits.min():.0%}: every input should be equally likely to be chosen (about 25 %).")


def check_masking_noise(fn: Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]) -> None:
    """Check ``fn(x, nu, generator)``: exactly round(ν·D) of each sample's D inputs set to 0, the rest unchanged.

    Hidden batches of images (one and three channels) and of flat vectors, ν from 0 to 1, counts
    that round up and down; the subset must differ between samples, every input must be equally
    likely, and x must not be modified. All randomness comes from ``generator``: two calls with
    the same generator object differ, and with ``generator=None`` (how the notebook calls it)
    from the global random numbers — fresh on every call, reproducible with torch.manual_seed.
    """
    name = "check_masking_noise"
    _expect_callable(name, fn, "your masking function")
    with _seeded() as g:
        x = 0.1 + 0.8 * torch.rand(4, 1, 8, 8, generator=g)
        out = _run_noise(name, fn, x, 0.5, torch.Generator().manual_seed(0))
        zeroed = out == 0
        if not torch.equal(out[~zeroed], x[~zeroed]):
            ratio = out[~zeroed] / x[~zeroed]
            if torch.allclose(ratio, ratio[0]) and not torch.allclose(ratio[0], torch.tensor(1.0)):
                _fail(name, f"The inputs that were not masked were multiplied by {ratio[0].item():.3g} (as dropout "
                      "rescales by 1/(1 − ν)): masking noise leaves them exactly as they were.")
            _fail(name, "Inputs were changed to values other than 0: masking noise sets the chosen inputs to "
                  "zero and leaves all the others exactly as they were.")
        if not zeroed.any():
            _fail(name, "No input was set to 0 with ν = 0.5: masking noise *zeroes* the chosen inputs.")
    _check_noise_common(name, fn, lambda out, x: out == 0, "set to 0")
    _passed(name, f"{len(_NOISE_CASES)} hidden cases: the exact fraction per sample, a fresh subset per sample, "
            "uniform over the inputs, reproducible with the generator.")


def check_salt_and_pepper(fn: Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]) -> None:
    """Check ``fn(x, nu, generator)``: exactly round(ν·D) inputs per sample set to 0 or 1 by a fair coin.

    Besides the counts, the subsets and the generator (as for masking noise): the corrupted
    values must be 0 or 1 only, about half of them each at ν = 0.5 and at ν = 0.25, with an
    independent coin for every input (not one per sample, not one per position shared by the
    batch, not an exact half in every sample).
    """
    name = "check_salt_and_pepper"
    _expect_callable(name, fn, "your salt-and-pepper function")
    with _seeded() as g:
        x = 0.1 + 0.8 * torch.rand(16, 1, 16, 16, generator=g)
        for nu in (0.5, 0.25):
            out = _run_noise(name, fn, x, nu, torch.Generator().manual_seed(0))
            changed = out != x
            values = out[changed]
            if not ((values == 0) | (values == 1)).all():
                _fail(name, "Some inputs were changed to values other than 0 or 1: salt is the maximum 1, pepper the "
                      "minimum 0, and every other input stays as it was.")
            # 2,048 coins at ν = 0.5 and 1,024 at ν = 0.25: a fair coin's share of salt stays within
            # 0.5 ± 0.08 (≥ 5 standard deviations) whatever the generator's stream; the mistakes give 0, ν or 1.
            salt = (values == 1).float().mean().item() if len(values) else 0.0
            if not 0.42 <= salt <= 0.58:
                kind = "salt (1)" if salt > 0.5 else "pepper (0)"
                depends = (f" (with ν = {nu}: does the coin's probability depend on ν?)"
                           if abs(salt - nu) < 0.05 or abs(salt - (1 - nu)) < 0.05 else "")
                _fail(name, f"With ν = {nu}, {salt:.0%} of the corrupted inputs are salt (1) and {1 - salt:.0%} pepper "
                      f"(0): mostly {kind}{depends}. Each chosen input should become 0 or 1 with probability ½, "
                      "independently.")
            is_salt = (out == 1).flatten(1).float()
            chosen = changed.flatten(1)
            per_sample = (is_salt * chosen).sum(1)
            k = chosen.sum(1)
            if ((per_sample == 0) | (per_sample == k)).all():
                _fail(name, "Within each sample all the corrupted inputs got the same value (all 0 or all 1): flip "
                      "a coin for every chosen input, not one per sample.")
            if ((per_sample == k // 2) | (per_sample == (k + 1) // 2)).all():
                _fail(name, "Every sample got exactly half salt and half pepper: the value of each chosen input is an "
                      "independent fair coin, so the split varies from sample to sample.")
            both = chosen[:-1] & chosen[1:]  # positions chosen in two neighbouring samples
            agree = ((is_salt[:-1] == is_salt[1:]) & both).sum() / both.sum()
            if agree > 0.8:
                _fail(name, f"Where two samples both have a corrupted input at the same position it got the same value "
                      f"{agree:.0%} of the time: the coins are shared by the batch (one per position). Flip an "
                      "independent coin for every input of every sample.")
    _check_noise_common(name, fn, lambda out, x: out != x, "set to 0 or 1")
    _passed(name, f"{len(_NOISE_CASES)} hidden cases: the exact fraction per sample, salt and pepper half each, "
            "a fresh subset per sample, reproducible with the generator.")


# ---------------------------------------------------------------------------------------------
# Lecture 02: one stage of greedy layer-wise pretraining
# ---------------------------------------------------------------------------------------------

_STACK = (1, 4, 8, 8)
_N_CODES, _BATCH, _EPOCHS, _LR = 56, 16, 8, 1e-2  # 56 = 3 × 16 + 8: every epoch ends with a smaller minibatch
_PROBE_LR = 0.0123  # an lr no default has, for the one-step probe


def _stage_state(stack: FullyConvolutionalAutoencoder, level: int) -> list[torch.Tensor]:
    return _params(nn.ModuleList([stack.encoders[level], stack.decoders[level]]))


def _same_storage(a: torch.Tensor, b: object) -> bool:
    return isinstance(b, torch.Tensor) and a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


class _StageProbe:
    """Watches one run of the student's pretraining on ``stack``.

    Records what ``corrupt`` received and returned, whether each input of the trained stage's
    encoder (with gradients on) came out of ``corrupt``, each output of its decoder (to recompute
    the training loss), whether a backward pass found gradients left over from the previous one,
    and whether any gradient reached another stage.
    """

    def __init__(self, stack: FullyConvolutionalAutoencoder, level: int, corrupt: Callable) -> None:
        self.level, self._corrupt = level, corrupt
        self.clean: list[torch.Tensor] = []
        self.noisy: list[object] = []
        self.encoder_inputs: list[tuple[int, bool]] = []  # (batch size, came from corrupt)
        self.decoded: list[tuple[int, torch.Tensor]] = []  # (index of the latest corrupt call, output)
        self.stale = False
        self.reached: set[int] = set()
        self._handles = [stack.encoders[level].register_forward_pre_hook(self._encoder_input),
                         stack.decoders[level].register_forward_hook(self._decoder_output)]
        first = next(stack.encoders[level].parameters())
        self._handles.append(first.register_hook(self._before_accumulation(first)))
        for other in range(stack.depth):
            if other != level:
                for p in [*stack.encoders[other].parameters(), *stack.decoders[other].parameters()]:
                    self._handles.append(p.register_hook(lambda grad, other=other: self.reached.add(other)))

    def corrupt(self, h: torch.Tensor) -> torch.Tensor:
        self.clean.append(h.detach().clone())
        out = self._corrupt(h)
        self.noisy.append(out)
        return out

    def _before_accumulation(self, p: torch.Tensor) -> Callable:
        def hook(grad: torch.Tensor) -> None:  # runs before the new gradient is added to p.grad
            if p.grad is not None and bool(p.grad.any()):
                self.stale = True
        return hook

    def _encoder_input(self, module: nn.Module, args: tuple) -> None:
        if torch.is_grad_enabled() and args and isinstance(args[0], torch.Tensor):
            inp = args[0]
            latest = self.noisy[-1] if self.noisy else None
            came = any(_same_storage(inp, out) for out in self.noisy) or (
                isinstance(latest, torch.Tensor) and latest.shape == inp.shape and torch.equal(latest, inp))
            self.encoder_inputs.append((len(inp), came))

    def _decoder_output(self, module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        if torch.is_grad_enabled() and isinstance(out, torch.Tensor):
            self.decoded.append((len(self.clean) - 1, out.detach()))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def epoch_losses(self, n: int) -> list[float] | None:
        """The mean training loss of each epoch, from the decoder's outputs and the clean codes (None if unclear)."""
        losses, total, count = [], 0.0, 0
        seen: set[int] = set()
        for index, out in self.decoded:
            if index < 0 or index in seen or out.shape != self.clean[index].shape:
                return None  # not one decoding per corrupted minibatch: no per-epoch mean to compare with
            seen.add(index)
            clean = self.clean[index]
            total += (out - clean).pow(2).flatten(1).sum(1).sum().item()
            count += len(clean)
            if count == n:
                losses.append(total / n)
                total, count = 0.0, 0
            elif count > n:
                return None
        return losses if count == 0 else None


def _check_losses(name: str, at: str, losses: object, epochs: int) -> list[float]:
    """The container the next cell reads: losses[0] / losses[-1], losses[-1] < losses[0]."""
    use = "(the next cell reads losses[0] and losses[-1])"
    if losses is None:
        _fail(name, at + f"your function returned None: return the list of the mean loss of each epoch {use}.")
    if isinstance(losses, torch.Tensor) or not isinstance(losses, (list, tuple)):
        _fail(name, at + f"your function returned a {type(losses).__name__}; return a list with the mean loss of each "
              f"epoch, as Python floats {use}.")
    if len(losses) != epochs:
        _fail(name, at + f"your function returned {len(losses)} values for epochs={epochs}: one mean loss per epoch "
              "(the mean over that epoch's minibatches).")
    if any(isinstance(v, torch.Tensor) for v in losses):
        _fail(name, at + "the returned losses are tensors; return Python floats (loss.item()): a tensor keeps the "
              "graph of its step alive.")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in losses):
        _fail(name, at + f"the returned losses must be Python floats, got {losses!r}.")
    return [float(v) for v in losses]


def _run_probed(name: str, fn: Callable, level: int, corrupt: Callable, x: torch.Tensor, *, epochs: int, lr: float,
                seed: int) -> tuple[FullyConvolutionalAutoencoder, _StageProbe, object]:
    torch.manual_seed(seed)
    stack = FullyConvolutionalAutoencoder(_STACK)
    probe = _StageProbe(stack, level, corrupt)
    try:
        with _student_code(name, f"your function with level={level}"):
            losses = fn(stack, level, x, probe.corrupt, epochs=epochs, lr=lr)
    finally:
        probe.remove()
    return stack, probe, losses


def _check_stage_run(name: str, level: int, x: torch.Tensor, stack: FullyConvolutionalAutoencoder,
                     reference: FullyConvolutionalAutoencoder, probe: _StageProbe, h: torch.Tensor) -> None:
    """Everything that one run must show, apart from the returned losses and the fall of the loss."""
    at = f"With level={level}: "
    if not all(p.requires_grad for p in stack.parameters()):
        _fail(name, at + "your function left requires_grad=False on parameters of the stack: the stages must stay "
              "trainable (they are fine-tuned later). Freeze the stages below by computing h under torch.no_grad().")
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
    code_shape = tuple(h.shape[1:])
    if not probe.clean:
        _fail(name, at + "`corrupt` was never called: a denoising stage reconstructs h from corrupt(h).")
    shapes = {tuple(c.shape[1:]) for c in probe.clean}
    if shapes != {code_shape}:
        _fail(name, at + f"`corrupt` was applied to tensors of shape {sorted(shapes - {code_shape})[0]} per sample; it "
              f"must corrupt the codes h of the frozen stages, shape {code_shape} per sample.")
    if any(other < level for other in probe.reached):
        _fail(name, at + "gradients flowed back into the frozen stages below (their .grad was filled on every "
              "step): compute the codes h = stack.encode(x, depth=level) under torch.no_grad().")
    if any(other > level for other in probe.reached):
        _fail(name, at + "gradients reached the stages above the new one: the loss must involve only "
              "stack.encoders[level] and stack.decoders[level].")
    if _same(_stage_state(stack, level), _stage_state(reference, level)):
        _fail(name, at + "the new stage's parameters did not change: did the optimizer get them, and did it step?")

    n, sizes = len(h), [len(c) for c in probe.clean]
    if max(sizes) > _BATCH:
        if probe.encoder_inputs and max(size for size, _ in probe.encoder_inputs) <= _BATCH:
            _fail(name, at + f"`corrupt` was called on {max(sizes)} codes at once, then the minibatches were cut from "
                  "the result: the noise was drawn once, not afresh. Corrupt each minibatch when it is used.")
        _fail(name, at + f"`corrupt` got batches of {max(sizes)} codes: train on shuffled minibatches of {_BATCH}.")
    if sum(sizes) != _EPOCHS * n:
        dropped = n % _BATCH and all(size == _BATCH for size in sizes)
        _fail(name, at + f"over {_EPOCHS} epochs `corrupt` saw {sum(sizes)} codes, expected {_EPOCHS} × {n}: every "
              "epoch passes once over all the codes" + (" (the last, smaller minibatch was dropped)." if dropped else "."))
    if not all(came for _, came in probe.encoder_inputs):
        _fail(name, at + "the new stage's encoder was given codes that did not come out of `corrupt` (the clean h?): "
              "the stage must reconstruct h from enc(corrupt(h)).")
    if probe.stale:
        _fail(name, at + "the gradients accumulate across minibatches: backward() adds to .grad, so clear them "
              "(optimizer.zero_grad()) before each backward pass.")

    # The order in which the codes were seen, epoch by epoch (each clean batch matched to its code in h).
    seen = torch.cat(probe.clean).flatten(1)
    order = torch.cdist(seen, h.flatten(1)).argmin(dim=1).view(_EPOCHS, n)
    if (order == torch.arange(n)).all():
        _fail(name, at + "every epoch went through the codes in their original order: shuffle them into random "
              "minibatches (e.g. h[torch.randperm(len(h))]).")


def _check_returned_losses(name: str, at: str, losses: list[float], probe: _StageProbe, n: int, d: int) -> None:
    """The returned values against the mean training loss of each epoch, recomputed from what the stage produced.

    Tolerance: a factor of 3 either way. Readings of "the epoch's loss" that serve the next cell
    as well stay far inside it (measured here: the mean of the minibatch means, ≤ 4 % off; the
    last minibatch's loss, ≤ 30 %; the loss on the clean codes after the epoch, ≤ 45 %), while the
    mistakes below are off by the number of minibatches (4), the minibatch size (16) or the number
    of values per code (d ≥ 256).
    """
    expected = probe.epoch_losses(n)
    if expected is None or len(expected) != len(losses):
        return
    ratios = [got / want for got, want in zip(losses, expected) if want > 0]
    if all(1 / 3 <= r <= 3 for r in ratios):
        return
    r = sorted(ratios)[len(ratios) // 2]
    batches = math.ceil(n / _BATCH)
    if abs(r * d - 1) < 0.3:
        why = ("about 1/D of it: the loss was averaged over every number (e.g. F.mse_loss's default); use "
               "reconstruction_loss, a sum over each code's values and a mean over the minibatch.")
    elif abs(r / batches - 1) < 0.3:
        why = f"about {batches}× (the number of minibatches) too large: the minibatch losses were summed, not averaged."
    elif abs(r / _BATCH - 1) < 0.3 or abs(r * _BATCH - 1) < 0.3:
        why = f"off by the minibatch size ({_BATCH}): weight each minibatch's loss by its size and divide by the number of codes."
    else:
        why = "not the mean over the epoch's minibatches of the training loss."
    _fail(name, at + f"your function returned the losses {[round(v, 4) for v in losses]}, but the mean training loss "
          f"of each epoch was {[round(v, 4) for v in expected]}: {why}")


def _check_one_adam_step(name: str, fn: Callable, x: torch.Tensor) -> None:
    """One epoch on 16 codes is one minibatch, so one step; Adam's first step moves every parameter by ≈ lr.

    m̂/√v̂ = g/|g| at the first step, so |Δθ| = lr·|g|/(|g| + ε) = lr for every gradient far above
    ε = 1e-8 (AdamW's decay adds ≤ lr·0.01·|θ|). The median over the stage's 70 parameters is
    within 1 % of lr; SGD, a default learning rate or a second step are off by ≥ 20 %.
    """
    stack, probe, losses = _run_probed(name, fn, 0, lambda h: h * (torch.rand(h.shape) >= 0.25), x[:_BATCH],
                                       epochs=1, lr=_PROBE_LR, seed=7)
    torch.manual_seed(7)
    reference = FullyConvolutionalAutoencoder(_STACK)
    moved = torch.cat([(a - b).abs().flatten() for a, b in zip(_stage_state(stack, 0), _stage_state(reference, 0))])
    typical = moved[moved > 0].median().item() if (moved > 0).any() else 0.0
    if not 0.9 * _PROBE_LR <= typical <= 1.1 * _PROBE_LR:
        steps = len(probe.decoded)
        guess = ""
        if abs(typical / 1e-3 - 1) < 0.1:
            guess = " That is Adam's default learning rate 1e-3: pass lr on to the optimizer."
        elif abs(typical / 3e-3 - 1) < 0.1:
            guess = " That is the default lr=3e-3 of your function's signature: use the lr argument it was called with."
        elif steps > 1:
            guess = f" The stage's decoder ran {steps} times with gradients for one minibatch: take one step per minibatch."
        _fail(name, f"After one epoch on {_BATCH} codes (one minibatch, so one Adam step with lr={_PROBE_LR}) a typical "
              f"parameter of the stage moved by {typical:.3g}; Adam's first step moves every parameter by about lr."
              f"{guess} Use torch.optim.Adam(the stage's parameters, lr=lr).")


def check_pretrain_stage(fn: Callable[..., object]) -> None:
    """Check ``fn(stack, level, x, corrupt, epochs=…, lr=…) -> list[float]``: one stage of greedy pretraining.

    On a small stack (channels 1, 4, 8, 8) and 56 random 16 px images (3 minibatches of 16 and
    one of 8), for level 1 and 0: the returned list has one finite float per epoch, the mean
    training loss (recomputed from what the stage produced); the stages below ``level`` (frozen:
    no gradient may reach them) and above it keep every parameter, and every parameter stays
    trainable; the new stage changes; ``corrupt`` is applied to each minibatch of the codes h of
    the frozen stages, and its output is what the stage's encoder gets; gradients are cleared
    between steps; the codes are shuffled; the stage's reconstruction of its clean codes
    improves. One step on one minibatch must move the parameters as one Adam step with ``lr``
    does. The target must be the clean codes h (tested with a corruption that erases everything:
    the best the stage can then do is the mean code, not zero).
    """
    name = "check_pretrain_stage"
    _expect_callable(name, fn, "your pretraining function")
    with _seeded() as g:
        x = torch.rand(_N_CODES, 1, 16, 16, generator=g)
        x_before = x.clone()
        for level in (1, 0):
            def masking(h: torch.Tensor) -> torch.Tensor:
                return h * (torch.rand(h.shape) >= 0.25)

            torch.manual_seed(level)
            reference = FullyConvolutionalAutoencoder(_STACK)
            with torch.no_grad():
                h = reference.encode(x, depth=level)
                loss_before = stage_loss(reference, level, h).item()
            try:
                stack, probe, losses = _run_probed(name, fn, level, masking, x, epochs=_EPOCHS, lr=_LR, seed=level)
            except CheckFailed as failure:
                # The library's losses refuse NaN: training that diverged inside the student's loop
                # ends there. A wrong optimiser or learning rate is the likely cause: name it if so.
                if isinstance(failure.__cause__, ValueError) and "must be finite" in str(failure.__cause__):
                    _check_one_adam_step(name, fn, x)
                raise
            at = f"With level={level}: "
            if not torch.equal(x, x_before):
                _fail(name, at + "your function changed the images x in place; leave them as they are.")
            losses = _check_losses(name, at, losses, _EPOCHS)
            if not all(math.isfinite(v) for v in losses):
                _check_one_adam_step(name, fn, x)  # names a wrong optimiser or learning rate, if that is the cause
                _fail(name, at + f"training diverged: the returned losses are {losses}.")
            _check_stage_run(name, level, x, stack, reference, probe, h)
            with torch.no_grad():
                loss_after = stage_loss(stack, level, h).item()
            if not loss_after < 0.8 * loss_before:
                _fail(name, at + f"the stage's reconstruction error of its clean codes went from {loss_before:.4g} to "
                      f"{loss_after:.4g}: it should fall clearly. Is the loss the error between the stage's output "
                      "and its input codes h?")
            _check_returned_losses(name, at, losses, probe, len(h), h[0].numel())

        _check_one_adam_step(name, fn, x)

        # The target: with every code erased, a stage trained on the clean h predicts the mean code;
        # trained on the corrupted codes instead, it predicts zeros.
        torch.manual_seed(3)
        stack = FullyConvolutionalAutoencoder(_STACK)
        with _student_code(name, "your function with level=1"):
            fn(stack, 1, x, torch.zeros_like, epochs=_EPOCHS, lr=_LR)
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

# Batch sizes of every remainder mod 3 (30, 12, 3: none; 7, 64, 1: one; 8, 5, 2: two), so that
# ⌊B/3⌋, round(B/3) and ⌈B/3⌉ disagree somewhere, down to batches with no single-modality sample.
_DROPOUT_SIZES = (30, 12, 7, 8, 64, 5, 3, 2, 1)


def _unpack(name: str, out: object, t1: torch.Tensor, t2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The contract the next cell relies on: ``inputs, targets = fn(...)``."""
    if isinstance(out, dict):
        _fail(name, f"Your function returned a dict (keys {sorted(map(str, out))}); return the tuple (inputs, targets): "
              "the next cell unpacks it as inputs, targets = ….")
    if not isinstance(out, (tuple, list)):
        _fail(name, f"Return a tuple (inputs, targets), got {type(out).__name__}.")
    if len(out) != 2:
        _fail(name, f"Return a tuple (inputs, targets), got a {type(out).__name__} of length {len(out)}: the next cell "
              "unpacks exactly two values (inputs, targets = …).")
    first, second = out
    full = torch.cat([t1, t2], dim=1)
    if (isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor) and first.shape == full.shape
            and torch.equal(first, full) and not torch.equal(second, full)):
        _fail(name, "The two results are in the wrong order: return (inputs, targets), the partly dropped inputs "
              "first and the full pair second.")
    return first, second


def _groups_of(name: str, inputs: torch.Tensor, t1: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
    """0 = only T1, 1 = only T2, 2 = both, for each sample; fails on anything else."""
    present = []
    for channel, (ref, what) in enumerate(((t1, "T1"), (t2, "T2"))):
        shown = inputs[:, channel]
        kept = (shown == ref[:, 0]).flatten(1).all(dim=1)
        zeros = (shown == 0).flatten(1).all(dim=1)
        if not (kept | zeros).all():
            bad = shown[~(kept | zeros)]
            ratio = bad / ref[~(kept | zeros), 0]
            if torch.allclose(ratio, ratio.flatten()[0]) and not torch.allclose(ratio.flatten()[0], torch.tensor(0.0)):
                _fail(name, f"Input channel {channel} ({what}) of some samples is the {what} image multiplied by "
                      f"{ratio.flatten()[0].item():.3g}: a present modality is passed on unchanged, a missing one is "
                      "a channel of zeros.")
            if (t1.shape == t2.shape) and (shown[~(kept | zeros)] == (t2 if channel == 0 else t1)[~(kept | zeros), 0]).all():
                _fail(name, "The channels are swapped: channel 0 is T1 and channel 1 is T2 (a missing modality is "
                      "a channel of zeros).")
            _fail(name, f"Input channel {channel} ({what}) of some samples is neither the {what} image unchanged nor all "
                  "zeros: drop a modality per sample (the whole channel zeroed), never single pixels, and pass a present "
                  "one on as it is (channel 0 is T1, channel 1 is T2).")
        present.append(kept & ~zeros)
    has_t1, has_t2 = present
    if (~has_t1 & ~has_t2).any():
        _fail(name, "Some samples have neither modality: every sample keeps T1, T2 or both.")
    return torch.where(has_t1 & has_t2, 2, torch.where(has_t1, 0, 1))


def _pair(g: torch.Generator, b: int, size: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    return 0.1 + 0.8 * torch.rand(b, 1, size, size, generator=g), 0.1 + 0.8 * torch.rand(b, 1, size, size, generator=g)


def _run_dropout(name: str, fn: Callable, t1: torch.Tensor, t2: torch.Tensor,
                 generator: object = _DEFAULT) -> tuple[torch.Tensor, torch.Tensor]:
    copies = t1.clone(), t2.clone()
    b = len(t1)
    if generator is _DEFAULT:
        call = f"your function called as fn(t1, t2) (no generator: the default None) on a batch of {b} pairs"
    else:
        call = f"your function on a batch of {b} pairs"
    with _student_code(name, call):
        out = fn(t1, t2) if generator is _DEFAULT else fn(t1, t2, generator)
    if not (torch.equal(t1, copies[0]) and torch.equal(t2, copies[1])):
        _fail(name, "Your function changed t1 or t2 in place; build new tensors (the full pair is the target).")
    inputs, targets = _unpack(name, out, t1, t2)
    shape = (b, 2, *t1.shape[2:])
    inputs = _expect_tensor(name, "inputs", inputs, shape, " (T1 and T2 as two channels)")
    targets = _expect_tensor(name, "targets", targets, shape, " (the full pair as two channels)")
    return inputs, targets


def check_modality_dropout(fn: Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple]) -> None:
    """Check ``fn(t1, t2, generator) -> (inputs, targets)`` on hidden batches of pairs.

    The result unpacks as ``inputs, targets`` (a pair, in that order). Inputs (B, 2, H, W): per
    sample only T1 (T2's channel zero), only T2, or both, in exact thirds (⌊B/3⌋ only T1, ⌊B/3⌋
    only T2, the rest both) dealt at random, for batch sizes of every remainder mod 3 down to 1;
    targets: the full pair (B, 2, H, W) for every sample. Randomness from ``generator`` (the
    same generator object gives fresh groups on the next call), or with ``generator=None`` from
    the global random numbers; t1 and t2 not modified.
    """
    name = "check_modality_dropout"
    _expect_callable(name, fn, "your modality-dropout function")
    with _seeded() as g:
        for b in _DROPOUT_SIZES:
            t1, t2 = _pair(g, b)
            inputs, targets = _run_dropout(name, fn, t1, t2, torch.Generator().manual_seed(b))
            if not torch.equal(targets, torch.cat([t1, t2], dim=1)):
                _fail(name, "The targets must be the full pair (t1, t2) for every sample, whatever the input "
                      "shows: the network learns to fill in the missing modality.")
            again, _ = _run_dropout(name, fn, t1, t2, torch.Generator().manual_seed(b))
            if not torch.equal(again, inputs):
                _fail(name, "Two calls with generators seeded alike gave different inputs: draw all random numbers "
                      "from the `generator` argument.")
            groups = _groups_of(name, inputs, t1, t2)
            counts = torch.bincount(groups, minlength=3).tolist()
            want = [b // 3, b // 3, b - 2 * (b // 3)]
            if counts != want:
                rounding = ""
                if counts[:2] in ([round(b / 3)] * 2, [math.ceil(b / 3)] * 2) and counts[:2] != want[:2]:
                    rounding = f" (⌊{b}/3⌋ = {b // 3}: round or ceil gives {counts[0]})"
                _fail(name, f"In a batch of {b}: {counts[0]} samples show only T1, {counts[1]} only T2, {counts[2]} "
                      f"both; expected exact thirds {want} (⌊B/3⌋, ⌊B/3⌋ and the rest){rounding}. Deal the groups with "
                      "a random permutation instead of an independent draw per sample.")

        t1, t2 = _pair(g, 30, size=2)
        with _student_code(name, "your function with different generator seeds"):
            dealt = {tuple(_groups_of(name, _run_dropout(name, fn, t1, t2, torch.Generator().manual_seed(s))[0],
                                      t1, t2).tolist()) for s in range(5)}
        if len(dealt) == 1:
            (groups,) = dealt
            if list(groups) == sorted(groups) or list(groups) == sorted(groups, reverse=True):
                _fail(name, "Every seed gave the same samples the same groups, in blocks by position: deal the thirds "
                      "to the samples at random (a random permutation drawn from the generator), not by position.")
            _fail(name, "Every seed gave the same samples the same groups: the dealing does not depend on the generator "
                  "you are given (is it re-seeded inside your function, or replaced by a generator of your own?). "
                  "Draw the permutation from the `generator` argument as it is.")
        shared = torch.Generator().manual_seed(11)
        first, second = _run_dropout(name, fn, t1, t2, shared)[0], _run_dropout(name, fn, t1, t2, shared)[0]
        if torch.equal(first, second):
            _fail(name, "Two calls with the *same* generator dealt the same groups: your function resets or copies the "
                  "generator it is given. Draw from it directly, so that every training batch gets a fresh dealing.")
        first, second = _run_dropout(name, fn, t1, t2)[0], _run_dropout(name, fn, t1, t2)[0]
        if torch.equal(first, second):
            _fail(name, "Called without a generator (generator=None), two calls dealt the same groups: with None, draw "
                  "from torch's global random numbers (torch.randperm(B, generator=None)); do not make a generator "
                  "with a fixed seed.")
        torch.manual_seed(5)
        first = _run_dropout(name, fn, t1, t2)[0]
        torch.manual_seed(5)
        if not torch.equal(first, _run_dropout(name, fn, t1, t2)[0]):
            _fail(name, "Called without a generator, your function is not reproducible: after torch.manual_seed(5) it "
                  "dealt different groups twice. With generator=None draw from torch's global random numbers.")
    _passed(name, "exact thirds only-T1 / only-T2 / both, dealt at random, with the full pair as the target.")
