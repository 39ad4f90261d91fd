"""Self-check for lecture 04's conditional GAN: the discriminator's loss on (sample, condition) pairs."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn.functional import softplus

from course_lib.checks._framework import (
    _close, _expect_callable, _fail, _first_match, _passed, _scalar_with_grad, _seeded, _student_code,
)
from course_lib.conditional_gan import conditional_discriminator_loss

__all__ = ["check_conditional_discriminator_loss"]

_N_CLASSES = 4
_LOGIT_BOUND = 6.0

# Tolerance for values and gradients: the loss is a mean of ≤ 16 softplus terms of logits |l| < 6, its
# gradient a sum of ≤ 16 products of float32 numbers: the round-off of any evaluation order (BCE over the
# concatenated batch, per half) is ≲ 1e-6 relative, ≲ 3e-5 absolute on probabilities σ(l) (see _PairJudge);
# rtol 1e-4 with atol 1e-5 on a loss of ~1 lies above both, also on one thread or ATEN_CPU_CAPABILITY=default.
_RTOL, _ATOL = 1e-4, 1e-5


class _PairJudge(nn.Module):
    """A hidden conditional discriminator whose logit depends strongly on the condition:
    l(x | y) = 6 tanh((w_yᵀ x + b_y) / 6), one weight vector and bias per class (moderate logits, |l| < 6).
    It records every pair (x, y) it is shown, so that the check can tell which labels went with
    which samples."""

    def __init__(self, g: torch.Generator) -> None:
        super().__init__()
        self.n_classes = _N_CLASSES
        self.weight = nn.Parameter(1.5 * torch.randn(_N_CLASSES, 2, generator=g))
        self.bias = nn.Parameter(torch.randn(_N_CLASSES, generator=g))
        self.shown: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"D(x, labels) expects samples x of shape (B, 2), got {getattr(x, 'shape', type(x))}")
        if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.is_floating_point():
            raise ValueError("D(x, labels) expects integer class labels of shape (B,), got "
                             f"{getattr(labels, 'dtype', type(labels))} {tuple(getattr(labels, 'shape', ()))}")
        if len(labels) != len(x):
            raise ValueError(f"D(x, labels) expects one label per sample: {len(x)} samples, {len(labels)} labels")
        if len(labels) and (labels.min() < 0 or labels.max() >= _N_CLASSES):
            raise ValueError(f"D(x, labels) expects labels in 0…{_N_CLASSES - 1}")
        self.shown.append((x.detach().clone(), labels.detach().clone()))
        labels = labels.long()
        # Bounded, |l| < 6, whatever the seed of the hidden data: the textbook form −log σ(l), −log(1 − σ(l)) on
        # probabilities is then within float32 round-off ulp·(1 + e^|l|) ≲ 3e-5 of the logits form, inside the
        # tolerance, so its verdict does not hang on whether a seed happens to give one large logit.
        return _LOGIT_BOUND * torch.tanh(((self.weight[labels] * x).sum(1) + self.bias[labels]) / _LOGIT_BOUND)


def _mislabelled(shown: list[tuple[torch.Tensor, torch.Tensor]], samples: torch.Tensor, labels: torch.Tensor) -> bool:
    """Whether D was shown one of ``samples`` (a row of real or generated points) with a label other than its own."""
    for x, y in shown:
        match = (x[:, None, :] == samples[None, :, :]).all(-1)  # match[i, j]: shown row i is sample j
        for i, j in match.nonzero().tolist():
            if y[i] != labels[j]:
                return True
    return False


def _cases(g: torch.Generator) -> list[tuple[str, torch.Tensor]]:
    """Hidden batches of labels: all classes, odd sizes, and a batch where some classes are absent."""
    return [
        ("16 pairs, every class present", torch.arange(16) % _N_CLASSES),
        ("7 pairs", torch.randint(_N_CLASSES, (7,), generator=g)),
        ("5 pairs, classes 1 and 3 absent", torch.tensor([0, 2, 2, 0, 2])),
        ("9 pairs, unequal class counts", torch.tensor([3, 1, 3, 3, 0, 3, 1, 2, 3])),
    ]


def check_conditional_discriminator_loss(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(discriminator, real, fake, labels)``, the cGAN discriminator's loss: the BCE of
    D(· | y) on the real pairs (x, y), label 1, and on the generated pairs (G(z | y), y) with the
    same y, label 0,

        L_D = ½ (mean[−log D(x | y)] + mean[−log(1 − D(G(z | y) | y))]),

    on hidden batches with a discriminator that depends on y. Also checked: D sees every sample
    with its own label, the generated samples are detached (no gradient reaches G), D's
    parameters get the reference gradient, the inputs are left unchanged, and no backward()
    runs inside (the training loop calls it).
    """
    name = "check_conditional_discriminator_loss"
    _expect_callable(name, fn, "your conditional discriminator loss")
    with _seeded() as g:
        discriminator = _PairJudge(g)
        generator = nn.Linear(2, 2)  # G: generated samples carry a graph back to its parameters
        for i, (title, labels) in enumerate(_cases(g), start=1):
            n = len(labels)
            real = torch.randn(n, 2, generator=g)
            fake = generator(torch.randn(n, 2, generator=g))
            real_copy, fake_copy, labels_copy = real.clone(), fake.detach().clone(), labels.clone()
            case = f"On batch {i} ({title}): "
            with torch.no_grad():
                r, f = discriminator(real_copy, labels_copy), discriminator(fake_copy, labels_copy)
            expected = conditional_discriminator_loss(discriminator, real_copy, fake_copy, labels_copy)
            discriminator.shown.clear()
            generator.zero_grad(set_to_none=True)
            discriminator.zero_grad(set_to_none=True)

            with _student_code(name, f"your function on batch {i}"):
                value = fn(discriminator, real, fake, labels)
            if value is None:
                _fail(name, case + "It returned None: did you forget the return statement?")
            value = _scalar_with_grad(name, case, value)
            if fake.grad_fn is None or not fake.requires_grad:
                _fail(name, case + "the generated samples passed in lost their graph: detach_() detaches the "
                      "caller's tensor in place, so G could no longer learn from it. Use .detach(), which returns "
                      "a new tensor.")
            inputs = [(real, real_copy, "real"), (fake, fake_copy, "fake"), (labels, labels_copy, "labels")]
            for given, kept, what in inputs:
                if given.shape != kept.shape or not torch.equal(given.detach(), kept):
                    _fail(name, case + f"your function changed its input `{what}` in place; the caller still needs "
                          "it. Work on new tensors (no in-place operations such as `+=`, `.add_()`, `[...] =` on "
                          "the inputs).")
            if any(p.grad is not None for p in [*discriminator.parameters(), *generator.parameters()]):
                _fail(name, case + "your function ran backward() itself (gradients were already accumulated in the "
                      "networks when it returned): return the loss only; the training loop calls backward() and "
                      "the optimiser's step.")
            if _mislabelled(discriminator.shown, real_copy, labels_copy) \
                    or _mislabelled(discriminator.shown, fake_copy, labels_copy):
                _fail(name, case + "D was shown samples with labels that are not their own. D judges *pairs*: "
                      "each real x_i with its own y_i, and each generated G(z_i | y_i) with the same y_i it was "
                      "generated from; with other (shuffled, constant) labels D ignores the condition.")
            if not torch.isfinite(value):
                _fail(name, case + f"the loss is {value.item()} although D's logits are moderate (|l| < 6): D returns "
                      "logits (any real number), not probabilities; take the cross-entropy from the logits "
                      "(softplus, or binary_cross_entropy_with_logits), or apply the sigmoid first.")
            if not _close(value, expected, rtol=_RTOL, atol=_ATOL):
                hint = _first_match(value.detach(), [
                    (0.5 * (softplus(r).mean() + softplus(-f).mean()), "The targets are swapped: real pairs have "
                     "label 1 (D should say 'real'), generated pairs label 0."),
                    (-expected, "The sign is flipped: a cross-entropy is never negative; D *maximises* V, so its "
                     "loss is −V/2."),
                    (2 * expected, "This is the sum of the two halves' means, twice the BCE over the combined 50/50 "
                     "batch: average over all 2m pairs (or halve the sum)."),
                    (0.5 * softplus(-r).mean(), "Only the real pairs are there: add the generated pairs' term."),
                    (0.5 * softplus(f).mean(), "Only the generated pairs are there: add the real pairs' term."),
                    (softplus(-r).mean(), "Only the real pairs are there: add the generated pairs' term."),
                    (softplus(f).mean(), "Only the generated pairs are there: add the real pairs' term."),
                    (0.5 * (softplus(-r).sum() + softplus(f).sum()), "You summed over the batch; average instead."),
                    (softplus(-r).sum() + softplus(f).sum(), "You summed over the batch; average instead."),
                    (0.5 * (softplus(-torch.sigmoid(r)).mean() + softplus(torch.sigmoid(f)).mean()), "The sigmoid was "
                     "applied twice: D's outputs are logits, and a loss 'with logits' (softplus, "
                     "binary_cross_entropy_with_logits) applies the sigmoid itself."),
                ], "The value differs from the BCE of D's logits on the pairs, label 1 for real and 0 for generated "
                   "pairs, averaged over the combined batch.")
                _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}. {hint}")

            params = list(discriminator.parameters())
            grads = torch.autograd.grad(value, params + list(generator.parameters()), allow_unused=True)
            d_grads, g_grads = grads[:len(params)], grads[len(params):]
            if any(gr is not None and gr.abs().max() > 0 for gr in g_grads):
                _fail(name, case + "the value is right, but its gradient reaches the generator: only D learns from "
                      "this loss. Detach the generated samples before D sees them.")
            ref_grads = torch.autograd.grad(expected, params)
            real_only = torch.autograd.grad(0.5 * softplus(-discriminator(real_copy, labels_copy)).mean(), params)
            for gr, ref_gr, half in zip(d_grads, ref_grads, real_only):
                if gr is None or not _close(gr, ref_gr, rtol=_RTOL, atol=1e-6):
                    if gr is not None and _close(gr, half, rtol=_RTOL, atol=1e-6):
                        _fail(name, case + "the value is right, but only the real pairs' term reaches D's "
                              "parameters: detach the generated *samples* before D sees them, not D's output on them "
                              "(no .detach() on those logits, no torch.no_grad() around that pass of D).")
                    _fail(name, case + "the value is right, but its gradient with respect to D's parameters is not: "
                          "compute the loss from D's logits with differentiable operations (no .item(), no "
                          "detach of D's output).")
            discriminator.shown.clear()
    _passed(name, "4 hidden batches (odd sizes, absent classes) agree with the reference; D saw every sample with "
            "its own label, and only D gets the gradient.")
