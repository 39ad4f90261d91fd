"""Self-checks for lecture 04 (the GAN): the discriminator loss, the two generator losses, one
alternating training step, and the mode-coverage count."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.functional import softplus

from course_lib.checks._framework import (
    _close, _expect_callable, _fail, _passed, _seeded, _student_code,
)
from course_lib.evaluation import mode_coverage
from course_lib.gan import discriminator_loss, gan_training_step, generator_loss

__all__ = ["check_discriminator_loss", "check_generator_loss", "check_gan_step", "check_mode_coverage"]

# Logits from confident-wrong to confident-right, including values where the naive
# log(sigmoid(l)) underflows to log(0) = −inf.
_EXTREME = torch.tensor([-120.0, -40.0, -3.0, 0.0, 2.5, 40.0, 120.0])


def _scalar_with_grad(name: str, case: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        _fail(name, case + f"It returned a {type(value).__name__}; return a 0-d tensor that autograd can differentiate.")
    if value.ndim != 0:
        _fail(name, case + f"It returned shape {tuple(value.shape)}; the loss is one number: average over the batch.")
    if value.grad_fn is None:
        _fail(name, case + "The result is cut off from the autograd graph (no grad_fn): was it detached, built from "
              "a Python number, or computed under no_grad?")
    return value


def _first_match(value: torch.Tensor, candidates: list[tuple[torch.Tensor, str]], default: str) -> str:
    for wrong, hint in candidates:
        if _close(value, wrong, rtol=1e-4, atol=1e-5):
            return hint
    return default


# ---------------------------------------------------------------------------------------------
# The discriminator loss
# ---------------------------------------------------------------------------------------------

def check_discriminator_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(real_logits, fake_logits)`` against the BCE over a 50/50 batch, from logits:

        L_D = ½ (mean[−log D(x)] + mean[−log(1 − D(G(z)))]),   D = σ(logit)

    on random logits and on extreme ones (±120, where log σ(l) must not become −inf).
    """
    name = "check_discriminator_loss"
    _expect_callable(name, fn, "your discriminator loss")
    with _seeded() as g:
        cases = [(3 * torch.randn(16, generator=g), 3 * torch.randn(16, generator=g)),
                 (torch.randn(5, generator=g) + 2, torch.randn(5, generator=g) - 2),
                 (_EXTREME.clone(), _EXTREME.flip(0).clone())]
        for i, (real, fake) in enumerate(cases, start=1):
            real, fake = real.requires_grad_(), fake.requires_grad_()
            case = f"On batch {i} ({len(real)} real and {len(fake)} generated logits): "
            with _student_code(name, f"your function on batch {i}"):
                value = _scalar_with_grad(name, case, fn(real, fake))
            expected = discriminator_loss(real, fake)
            if not torch.isfinite(value):
                _fail(name, case + f"the loss is {value.item()}: with logits as large as ±120, σ(l) rounds to 0 or 1 "
                      "and log(0) = −inf. Use the stable forms −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l).")
            if not _close(value, expected, rtol=1e-4, atol=1e-5):
                r, f = real.detach(), fake.detach()
                hint = _first_match(value.detach(), [
                    (0.5 * (softplus(r).mean() + softplus(-f).mean()), "The labels are swapped: real samples have "
                     "label 1 (D should say 'real'), generated ones label 0."),
                    (-expected, "The sign is flipped: a cross-entropy is never negative; D *maximises* V, so its "
                     "loss is −V/2."),
                    (2 * expected, "This is the sum of the two halves' means, twice the BCE over the combined 50/50 "
                     "batch: average over all 2m samples (or halve the sum)."),
                    (0.5 * softplus(-r).mean(), "Only the real half is there: add the generated samples' term."),
                    (0.5 * softplus(f).mean(), "Only the generated half is there: add the real samples' term."),
                    (0.5 * (softplus(-r).sum() + softplus(f).sum()), "You summed over the batch; average instead."),
                ], "The value differs from the BCE with label 1 for real and 0 for generated samples, averaged "
                   "over the combined batch.")
                _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}. {hint}")
    _passed(name, "3 hidden batches agree with the reference, including logits of ±120.")


# ---------------------------------------------------------------------------------------------
# The two generator losses
# ---------------------------------------------------------------------------------------------

def check_generator_loss(fn: Callable[[torch.Tensor, str], torch.Tensor]) -> None:
    """Check ``fn(fake_logits, kind)`` for kind "minimax" (minimise mean log(1 − D(G(z)))) and
    "non_saturating" (minimise mean −log D(G(z)), BCE against label 1): values, stability at
    extreme logits, the gradient with respect to the logits, and a ValueError for another kind.
    """
    name = "check_generator_loss"
    _expect_callable(name, fn, "your generator loss")
    with _seeded() as g:
        batches = [3 * torch.randn(12, generator=g), _EXTREME.clone()]
        values = {}
        for kind in ("minimax", "non_saturating"):
            for i, fake in enumerate(batches, start=1):
                fake = fake.clone().requires_grad_()
                case = f'kind="{kind}", batch {i}: '
                with _student_code(name, f'your function with kind="{kind}"'):
                    value = _scalar_with_grad(name, case, fn(fake, kind))
                expected = generator_loss(fake, kind)
                if not torch.isfinite(value):
                    _fail(name, case + f"the loss is {value.item()}: write it with softplus, from the logits "
                          "(log σ(l) = −softplus(−l), log(1 − σ(l)) = −softplus(l)), so that ±120 stays finite.")
                other = "non_saturating" if kind == "minimax" else "minimax"
                f = fake.detach()
                if not _close(value, expected, rtol=1e-4, atol=1e-5):
                    hints = [
                        (generator_loss(f, other), f'This is the other loss ("{other}"): the two kinds are swapped.'),
                        (-expected, "The sign is flipped. " + ("G *minimises* log(1 − D(G(z))), its part of V."
                                                               if kind == "minimax" else
                                                               "The flipped-label loss is a cross-entropy, −log D(G(z)) ≥ 0.")),
                    ]
                    if kind == "non_saturating":
                        hints.append((softplus(f).mean(), "That is the BCE against label 0: the flipped-label loss "
                                      "pretends the generated samples are *real*, label 1."))
                    else:
                        hints.append((softplus(-f).mean(), "That is −log D(G(z)), the flipped-label loss; the "
                                      "minimax loss is log(1 − D(G(z))), G's term of V."))
                    hints.append((expected * len(f), "You summed over the batch; average instead."))
                    _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}. "
                          + _first_match(value.detach(), hints, "Compare with the formula in the lecture."))
                (grad,) = torch.autograd.grad(value, fake)
                (ref_grad,) = torch.autograd.grad(expected, fake)
                if not _close(grad, ref_grad, rtol=1e-4, atol=1e-6):
                    _fail(name, case + "the value is right but its gradient with respect to the logits is not: the "
                          "loss must be computed from the logits by differentiable operations.")
                values[(kind, i)] = value.item()
        if _close(values[("minimax", 1)], values[("non_saturating", 1)]):
            _fail(name, "Both kinds give the same value: the two losses differ.")
        try:
            fn(batches[0].clone().requires_grad_(), "wasserstein")
        except ValueError:
            pass
        except NotImplementedError:
            raise
        except Exception as err:
            _fail(name, f'An unknown kind ("wasserstein") raised {type(err).__name__}: {err}; raise a ValueError '
                  "naming the two kinds.")
        else:
            _fail(name, 'An unknown kind ("wasserstein") returned a value; raise a ValueError naming the two kinds.')
    _passed(name, "both losses agree with the reference in value and gradient, stay finite at ±120, and an unknown "
            "kind raises ValueError.")


# ---------------------------------------------------------------------------------------------
# One alternating training step
# ---------------------------------------------------------------------------------------------

def _tiny_gan(seed: int) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    discriminator = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    return generator, discriminator


def _noise_source(seed: int) -> Callable[[int], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return lambda n: torch.randn(n, 2, generator=g)


def _state(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(_close(p, q, rtol=1e-5, atol=1e-7) for p, q in zip(a, b))


def check_gan_step(fn: Callable[..., object]) -> None:
    """Check ``fn(generator, discriminator, g_optimizer, d_optimizer, real, latent)``: one round of
    the alternating algorithm with k = 1 and the flipped-label generator loss.

    D's step: m = len(real) fresh noise samples, fakes *detached*, the BCE discriminator loss,
    d_optimizer.step(). G's step: m fresh noise samples, the non-saturating loss through the
    *updated* D, g_optimizer.step(). The check spies on both optimisers: G must not move during
    D's step, D must not move during G's step, and both must end where the reference ends.
    """
    name = "check_gan_step"
    _expect_callable(name, fn, "your training step")
    with _seeded() as g:
        real = torch.randn(16, 2, generator=g) + 1.0
        for round_ in (1, 2):
            generator, discriminator = _tiny_gan(round_)
            ref_g, ref_d = copy.deepcopy(generator), copy.deepcopy(discriminator)
            g_opt = torch.optim.SGD(generator.parameters(), lr=0.1)
            d_opt = torch.optim.SGD(discriminator.parameters(), lr=0.1)
            ref_g_opt = torch.optim.SGD(ref_g.parameters(), lr=0.1)
            ref_d_opt = torch.optim.SGD(ref_d.parameters(), lr=0.1)
            gan_training_step(ref_g, ref_d, ref_g_opt, ref_d_opt, [real], _noise_source(round_))

            g_start, d_start = _state(generator), _state(discriminator)
            seen: dict[str, list] = {"d_steps": [], "g_steps": []}
            d_step, g_step = d_opt.step, g_opt.step

            def spy_d(*args, **kwargs):
                seen["d_steps"].append(_state(generator))
                out = d_step(*args, **kwargs)
                seen["d_after"] = _state(discriminator)
                return out

            def spy_g(*args, **kwargs):
                seen["g_steps"].append(_state(discriminator))
                return g_step(*args, **kwargs)

            d_opt.step, g_opt.step = spy_d, spy_g
            with _student_code(name, "your step"):
                fn(generator, discriminator, g_opt, d_opt, real, _noise_source(round_))
            at = f"Round {round_}: "
            if len(seen["d_steps"]) != 1 or len(seen["g_steps"]) != 1:
                _fail(name, at + f"d_optimizer.step() ran {len(seen['d_steps'])} time(s) and g_optimizer.step() "
                      f"{len(seen['g_steps'])} time(s); with k = 1 each runs once, D first.")
            if not _same(seen["d_steps"][0], g_start):
                _fail(name, at + "G's parameters had already changed when D took its step: D's step comes first.")
            if not _same(seen["g_steps"][0], seen["d_after"]):
                _fail(name, at + "D's parameters changed between its own step and G's step.")
            if not _same(_state(discriminator), seen["d_after"]):
                _fail(name, at + "D moved again after its step: G's step must not move D (only g_optimizer steps, "
                      "and D's gradients from G's loss must not be applied to D).")
            if not _same(_state(discriminator), _state(ref_d)):
                if _same(_state(discriminator), d_start):
                    _fail(name, at + "D did not change: compute its loss, backward, then d_optimizer.step().")
                _fail(name, at + "D's step differs from the reference: D sees the m real samples (label 1) and m "
                      "generated ones from fresh noise (label 0), with the discriminator loss (mean over the batch).")
            if _same(_state(generator), g_start):
                _fail(name, at + "G did not change: its loss must reach G's parameters (no detach on G's own step).")
            if not _same(_state(generator), _state(ref_g)):
                _fail(name, at + "G's step differs from the reference. Check that: its gradients were cleared after "
                      "D's step (g_optimizer.zero_grad() before backward) — the fakes of D's step must be detached; "
                      "it draws *fresh* noise (call latent again); it uses the flipped-label loss −log D(G(z)) "
                      "through the *updated* D.")
    _passed(name, "2 rounds: D stepped first without moving G, G stepped without moving D, and both match the "
            "reference.")


# ---------------------------------------------------------------------------------------------
# The mode-coverage count
# ---------------------------------------------------------------------------------------------

def _coverage_cases(g: torch.Generator) -> list[tuple[str, torch.Tensor, torch.Tensor, float]]:
    ring = torch.stack([torch.cos(torch.arange(8) * torch.pi / 4), torch.sin(torch.arange(8) * torch.pi / 4)], 1)
    std = 0.01
    on_mode_3 = ring[3] + 0.5 * std * torch.randn(50, 2, generator=g)
    # Low-quality samples (5σ away) whose nearest mode is 5: they must not capture mode 5.
    near_5 = ring[5] + 5 * std * torch.nn.functional.normalize(torch.randn(30, 2, generator=g), dim=1)
    inside_edge = ring[0] + torch.tensor([[2.99 * std, 0.0]])  # within 3σ: high quality
    outside_edge = ring[1] + torch.tensor([[3.01 * std, 0.0]])  # beyond 3σ: not
    grid = torch.stack(torch.meshgrid(torch.arange(5.0) * 2 - 4, torch.arange(5.0) * 2 - 4, indexing="ij"), -1).view(-1, 2)
    spread = grid[torch.randint(25, (400,), generator=g)] + 0.05 * 2 * torch.randn(400, 2, generator=g)
    return [
        ("all samples on one mode", on_mode_3, ring, std),
        ("HQ samples on mode 3, low-quality ones near mode 5", torch.cat([on_mode_3, near_5]), ring, std),
        ("one sample just inside 3σ, one just outside", torch.cat([inside_edge, outside_edge]), ring, std),
        ("a 5×5 grid, samples with σ twice the modes'", spread, grid, 0.05),
        ("uniform noise around the ring", 2.4 * torch.rand(500, 2, generator=g) - 1.2, ring, std),
    ]


def check_mode_coverage(fn: Callable[[torch.Tensor, torch.Tensor, float], tuple]) -> None:
    """Check ``fn(samples, modes, std) -> (modes_captured, high_quality_fraction)`` as in VEEGAN and
    PacGAN: a sample is high-quality when within 3σ of its nearest mode; a mode is captured when
    it is the nearest mode of at least one high-quality sample. The fraction is in [0, 1].
    """
    name = "check_mode_coverage"
    _expect_callable(name, fn, "your coverage function")
    with _seeded() as g:
        for title, samples, modes, std in _coverage_cases(g):
            expected = mode_coverage(samples, modes, std)
            with _student_code(name, f"your function on '{title}'"):
                out = fn(samples, modes, std)
            if not isinstance(out, tuple) or len(out) != 2:
                _fail(name, f"Return a tuple (modes captured, high-quality fraction), got {type(out).__name__}.")
            captured, hq = (v.item() if isinstance(v, torch.Tensor) else v for v in out)
            case = f"Case '{title}': "
            if not _close(hq, expected.high_quality, rtol=1e-6, atol=1e-9):
                if _close(hq, 100 * expected.high_quality):
                    _fail(name, case + "The high-quality share is a percentage; return a fraction in [0, 1].")
                _fail(name, case + f"high-quality fraction {hq:.4f}, expected {expected.high_quality:.4f}: a sample is "
                      "high-quality when its distance (not squared) to the nearest mode is at most 3σ.")
            if captured != expected.modes:
                hint = ("A mode counts only when a *high-quality* sample (within 3σ) has it as its nearest mode; "
                        "low-quality samples capture nothing." if captured > expected.modes else
                        "Count every mode that is the nearest mode of at least one high-quality sample.")
                _fail(name, case + f"{captured} modes captured, expected {expected.modes}. {hint}")
    _passed(name, "5 hidden cases agree with the reference count and high-quality fraction.")
