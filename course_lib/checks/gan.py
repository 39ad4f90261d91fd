"""Self-checks for lecture 04 (the GAN): the discriminator loss, the two generator losses, one
alternating training step, and the mode-coverage count.

Besides the value on hidden cases, each check probes behaviour: that the gradient reaches the
inputs it must (a detached term has the right value and the wrong gradient), that inputs are not
modified in place, that the return value is what the notebook's next cells read, and — for the
training step — that optimiser state is right over consecutive calls (a missing ``zero_grad()``
shows only on the second call) and which noise each step drew.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import torch
from torch import nn
from torch.nn.functional import softplus

from course_lib.checks._framework import (
    CheckFailed, _changed_in_place, _close, _expect_callable, _fail, _first_match, _gradient_hint, _passed, _scalar_with_grad, _seeded,
    _student_code,
)
from course_lib.evaluation import mode_coverage
from course_lib.gan import discriminator_loss, gan_training_step, generator_loss

__all__ = ["check_discriminator_loss", "check_generator_loss", "check_gan_step", "check_mode_coverage"]

# Logits from confident-wrong to confident-right, including values where the naive
# log(sigmoid(l)) underflows to log(0) = −inf.
_EXTREME = torch.tensor([-120.0, -40.0, -3.0, 0.0, 2.5, 40.0, 120.0])


def _inputs(*tensors: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    """(leaves, what the student gets, untouched copies): the student gets *non-leaf* tensors, as a
    network's output is, so that an in-place change runs (and is caught) instead of raising on a leaf."""
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    return leaves, [leaf.clone() for leaf in leaves], [t.detach().clone() for t in tensors]


# ---------------------------------------------------------------------------------------------
# The discriminator loss
# ---------------------------------------------------------------------------------------------

def check_discriminator_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(real_logits, fake_logits)`` against the BCE over a 50/50 batch, from logits:

        L_D = ½ (mean[−log D(x)] + mean[−log(1 − D(G(z)))]),   D = σ(logit)

    on random logits and on extreme ones (±120, where log σ(l) must not become −inf): the value,
    its gradient with respect to *both* halves' logits, and that the logits are not changed in place.
    """
    name = "check_discriminator_loss"
    _expect_callable(name, fn, "your discriminator loss")
    with _seeded() as g:
        cases = [(3 * torch.randn(16, generator=g), 3 * torch.randn(16, generator=g)),
                 (torch.randn(5, generator=g) + 2, torch.randn(5, generator=g) - 2),
                 (_EXTREME.clone(), _EXTREME.flip(0).clone())]
        names = ["the real samples' logits", "the generated samples' logits"]
        for i, (real, fake) in enumerate(cases, start=1):
            leaves, (r_in, f_in), saved = _inputs(real, fake)
            case = f"On batch {i} ({len(real)} real and {len(fake)} generated logits): "
            with _student_code(name, f"your function on batch {i}"):
                out = fn(r_in, f_in)
            changed = _changed_in_place([r_in, f_in], saved, names)
            if changed:
                _fail(name, case + f"your function changed {changed} in place; a loss must leave its inputs as they "
                      "are (in training they are D's outputs, which backward still needs).")
            value = _scalar_with_grad(name, case, out)
            expected = discriminator_loss(*leaves)
            if not torch.isfinite(value):
                _fail(name, case + f"the loss is {value.item()}: with logits as large as ±120, σ(l) rounds to 0 or 1 "
                      "and log(0) = −inf. Use the stable forms −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l).")
            if not _close(value, expected, rtol=1e-4, atol=1e-5):
                r, f = real, fake
                capped = ("Batches 1–2 agree, so the formula is right, but at |l| ≥ 40 the value is capped or "
                          "clipped: computed from σ(l), which rounds to 0 or 1 there in float32, with a clamp, an ε "
                          "inside the log, or binary_cross_entropy on σ(l) (it clips the log at −100). Use softplus "
                          "(or the *_with_logits loss) on the logits themselves.")
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
                ], capped if i == 3 else
                   "The value differs from the BCE with label 1 for real and 0 for generated samples, averaged "
                   "over the combined batch.")
                _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}. {hint}")
            grads = torch.autograd.grad(value, leaves, allow_unused=True)
            hint = _gradient_hint(grads, torch.autograd.grad(expected, leaves), names)
            if hint:
                _fail(name, case + "the value is right, but " + hint)
    _passed(name, "3 hidden batches agree with the reference, including logits of ±120.")


# ---------------------------------------------------------------------------------------------
# The two generator losses
# ---------------------------------------------------------------------------------------------

def check_generator_loss(fn: Callable[[torch.Tensor, str], torch.Tensor]) -> None:
    """Check ``fn(fake_logits, kind)`` for kind "minimax" (minimise mean log(1 − D(G(z)))) and
    "non_saturating" (minimise mean −log D(G(z)), BCE against label 1): values, stability at
    extreme logits, the gradient with respect to the logits, inputs left unchanged, and a
    ValueError for another kind.
    """
    name = "check_generator_loss"
    _expect_callable(name, fn, "your generator loss")
    with _seeded() as g:
        batches = [3 * torch.randn(12, generator=g), _EXTREME.clone()]
        values = {}
        for kind in ("minimax", "non_saturating"):
            for i, fake in enumerate(batches, start=1):
                (leaf,), (f_in,), (saved,) = _inputs(fake)
                case = f'kind="{kind}", batch {i}: '
                with _student_code(name, f'your function with kind="{kind}"'):
                    out = fn(f_in, kind)
                if _changed_in_place([f_in], [saved], ["the logits"]):
                    _fail(name, case + "your function changed the logits in place; a loss must leave its input as it "
                          "is (in training it is D's output, which backward still needs).")
                value = _scalar_with_grad(name, case, out)
                expected = generator_loss(leaf, kind)
                if not torch.isfinite(value):
                    _fail(name, case + f"the loss is {value.item()}: write it with softplus, from the logits "
                          "(log σ(l) = −softplus(−l), log(1 − σ(l)) = −softplus(l)), so that ±120 stays finite.")
                other = "non_saturating" if kind == "minimax" else "minimax"
                f = fake
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
                    capped = ("Batch 1 agrees, so the formula is right, but at |l| ≥ 40 the value is capped or "
                              "clipped: computed from σ(l), which rounds to 0 or 1 there in float32, with a clamp, an ε "
                              "inside the log, or binary_cross_entropy on σ(l) (it clips the log at −100). Write it "
                              "with softplus on the logits.")
                    _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}. "
                          + _first_match(value.detach(), hints, capped if i == 2
                                         else "Compare with the formula in the lecture."))
                (grad,) = torch.autograd.grad(value, leaf, allow_unused=True)
                (ref_grad,) = torch.autograd.grad(expected, leaf)
                if grad is None or not grad.abs().max() > 0:
                    _fail(name, case + "the value is right but no gradient reaches the logits: the loss was detached "
                          "or rebuilt from a Python number, so G would not learn from it.")
                if not _close(grad, ref_grad, rtol=1e-4, atol=1e-6):
                    _fail(name, case + "the value is right but its gradient with respect to the logits is not: the "
                          "loss must be computed from the logits by differentiable operations.")
                values[(kind, i)] = value.item()
        if _close(values[("minimax", 1)], values[("non_saturating", 1)]):
            _fail(name, "Both kinds give the same value: the two losses differ.")
        try:
            out = fn(batches[0].clone().requires_grad_(), "wasserstein")
        except ValueError:
            pass
        except NotImplementedError:
            raise
        except Exception as err:
            _fail(name, f'An unknown kind ("wasserstein") raised {type(err).__name__}: {err}; raise a ValueError '
                  "naming the two kinds.")
        else:
            got = "None (the function fell through)" if out is None else f"a {type(out).__name__}"
            _fail(name, f'An unknown kind ("wasserstein") returned {got}; raise a ValueError naming the two kinds.')
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


def _state(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(_close(p, q, rtol=1e-5, atol=1e-7) for p, q in zip(a, b))


def _flat(tensors: list[torch.Tensor | None], like: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([(t if t is not None else torch.zeros_like(p)).detach().double().flatten()
                      for t, p in zip(tensors, like)])


def _update(start: list[torch.Tensor], now: list[torch.Tensor]) -> torch.Tensor:
    """The step a module took, p_now − p_start, as one float64 vector (exact for float32 values)."""
    return _flat(now, now) - _flat(start, start)


# Updates (p_after − p_before) are compared as whole vectors, relative to the largest entry of the
# reference's update. Why 1e-4: float32 rounds each operation to u ≈ 6e-8; an equivalent step written
# differently (one batched pass, one backward per term, a forward pass recomputed, torch's BCE instead
# of softplus) sums the same gradient contributions in another order, which moves each entry by up to
# a few tens of u times the largest contribution (thousands of summands per convolution weight, a
# dozen layers of backward). Measured on these checks: at most 4e-6 of the largest update entry, also
# with one thread and ATEN_CPU_CAPABILITY=default, so 1e-4 leaves a margin of 25. The scale is the
# whole update's, never the entry's: a bias before an instance norm has a true gradient of 0 and a
# pure round-off one. The smallest real mistake in the test suites (an identity term of weight 1.5
# where λ_id = 0) moves the update by 1.6e-2 of its largest entry, 160 times the tolerance.
_UPDATE_RTOL = 1e-4


def _update_matches(step: torch.Tensor, reference: torch.Tensor, rtol: float = _UPDATE_RTOL) -> bool:
    scale = reference.abs().max().item()
    return (step - reference).abs().max().item() <= rtol * scale + 1e-12


def _grad_vector(loss: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return _flat(list(grads), params)


def _latent_spy(seed: int) -> tuple[Callable[[int], torch.Tensor], list[torch.Tensor]]:
    """latent(n) from its own generator (seeded apart from the data and the global RNG), recording
    every draw, so the check can tell fresh noise from reused noise and replay it for the reference."""
    g = torch.Generator().manual_seed(seed)
    draws: list[torch.Tensor] = []

    def latent(n: int) -> torch.Tensor:
        z = torch.randn(int(n), 2, generator=g)
        draws.append(z.clone())
        return z
    return latent, draws


def _noise_pairs(draws: list[torch.Tensor], m: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Every way the recorded draws give D's and G's m noise vectors (the plain order first): two
    draws of m in either order, or one draw of 2m split in two."""
    pairs = []
    singles = [z for z in draws if len(z) == m]
    for i, z_d in enumerate(singles):
        for j, z_g in enumerate(singles):
            if i != j:
                pairs.append((z_d, z_g))
    for z in draws:
        if len(z) == 2 * m:
            pairs += [(z[:m], z[m:]), (z[m:], z[:m])]
    return pairs


def _replay(noise: list[torch.Tensor]) -> Callable[[int], torch.Tensor]:
    queue = list(noise)
    return lambda n: queue.pop(0)


def _reference_round(g0: nn.Module, d0: nn.Module, real: torch.Tensor, z_d: torch.Tensor, z_g: torch.Tensor,
                     lr: float) -> tuple[nn.Module, nn.Module, dict[str, float]]:
    ref_g, ref_d = copy.deepcopy(g0), copy.deepcopy(d0)
    out = gan_training_step(ref_g, ref_d, torch.optim.SGD(ref_g.parameters(), lr=lr),
                            torch.optim.SGD(ref_d.parameters(), lr=lr), [real.clone()], _replay([z_d, z_g]))
    return ref_g, ref_d, out


def _diagnose_d(d_step: torch.Tensor, g0: nn.Module, d0: nn.Module, real: torch.Tensor, z_d: torch.Tensor,
                stale_d: torch.Tensor, lr: float) -> str:
    """Name the mistake in D's step from which loss the step it took descends."""
    params = list(d0.parameters())
    with torch.no_grad():
        fake = g0(z_d)
    l_real, l_fake = d0(real), d0(fake)
    a = _grad_vector(softplus(-l_real).mean(), params)     # real samples, label 1
    b = _grad_vector(softplus(l_fake).mean(), params)      # generated samples, label 0
    a_swapped = _grad_vector(softplus(l_real).mean(), params)
    b_swapped = _grad_vector(softplus(-l_fake).mean(), params)
    reference = 0.5 * (a + b)
    stale = stale_d.abs().max() > 0
    if stale and _update_matches(d_step, -lr * (reference + stale_d), 1e-3):
        return ("D's step also applied the gradients D still held from the previous call (G's backward goes "
                "through D): clear D's gradients (d_optimizer.zero_grad()) before D's backward.")
    for grad, hint in [
        (0.5 * (a_swapped + b_swapped), "The labels of D's loss are swapped: real samples label 1, generated 0."),
        (-reference, "D stepped *up* its loss: the sign of D's loss is flipped (D maximises V, its loss is −V/2)."),
        (a + b, "D's loss is the sum of the two halves' means, twice the BCE over the 50/50 batch: halve it."),
        (0.5 * a, "D's loss has only the real samples' term: add the generated ones'."),
        (0.5 * b, "D's loss has only the generated samples' term: add the real ones'."),
        (len(real) * reference, "D's loss is summed over the batch; average it."),
    ]:
        if _update_matches(d_step, -lr * grad, 1e-3):
            return hint
    return ("D's step differs from the reference: D sees the m real samples (label 1) and m generated ones from "
            "fresh noise (label 0), with the discriminator loss (mean over the batch).")


def _diagnose_g(g_step: torch.Tensor, g0: nn.Module, d0: nn.Module, d1: nn.Module, real: torch.Tensor,
                z_d: torch.Tensor, z_g: torch.Tensor, stale_g: torch.Tensor, lr: float) -> str:
    """Name the mistake in G's step from which gradient the step it took applied."""
    params = list(g0.parameters())
    ns = _grad_vector(softplus(-d1(g0(z_g))).mean(), params)                  # the reference
    leak = _grad_vector(0.5 * softplus(d0(g0(z_d))).mean(), params)           # D's loss, fakes not detached
    stale = stale_g.abs().max() > 0
    candidates = [
        (ns + stale_g, "G's step also applied the gradients G still held from the previous call: clear G's "
         "gradients (g_optimizer.zero_grad()) before G's backward.") if stale else None,
        (ns + leak, "G's step also applied the gradient of D's loss: the fakes of D's step were not detached, and "
         "G's gradients were not cleared before G's backward (detach them, and g_optimizer.zero_grad())."),
        (ns + leak + stale_g, "G's step applied the gradient of D's loss and the previous call's gradients as well: "
         "detach the fakes of D's step, and clear G's gradients (g_optimizer.zero_grad()) before G's backward.")
        if stale else None,
        (_grad_vector(-softplus(d1(g0(z_g))).mean(), params), "G's step used the minimax loss log(1 − D(G(z))); "
         "this step uses the flipped-label loss −log D(G(z))."),
        (_grad_vector(softplus(-d0(g0(z_g))).mean(), params), "G's loss went through D *before* its update: score "
         "G's new samples with the updated D (after d_optimizer.step())."),
        (_grad_vector(softplus(-d1(g0(z_d))).mean(), params), "G's step used the noise of D's step again: draw m "
         "*fresh* noise vectors (a second latent(m)) for G's samples."),
        (-ns, "G stepped *up* its loss: the sign of G's loss is flipped (−log D(G(z)) is to be minimised)."),
        (_grad_vector(softplus(d1(g0(z_g))).mean(), params), "G's loss is the BCE against label 0; the flipped-label "
         "loss pretends G's samples are real, label 1."),
        (len(z_g) * ns, "G's loss is summed over the batch; average it."),
    ]
    for candidate in candidates:
        if candidate is not None and _update_matches(g_step, -lr * candidate[0], 1e-3):
            return candidate[1]
    return ("G's step differs from the reference: its gradients cleared before backward (g_optimizer.zero_grad()), "
            "m fresh noise vectors (a second latent(m)), and the flipped-label loss −log D(G(z)) through the "
            "*updated* D.")


def _check_step_return(name: str, at: str, out: object, ref: dict[str, float]) -> None:
    """The training cell appends the return value, unpacks it as ``for d, g in losses`` and makes a tensor of all."""
    if out is None:
        _fail(name, at + "your step returned None; return the two losses as Python floats, (d_loss, g_loss): the "
              "training cell records them.")
    if isinstance(out, Mapping):
        _fail(name, at + f"your step returned a {type(out).__name__} (keys {', '.join(map(str, out))}); return a tuple "
              "(d_loss, g_loss) of Python floats: the training cell unpacks `for d, _ in losses`.")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        what = f"a {type(out).__name__}" + (f" of {len(out)} values" if isinstance(out, (tuple, list)) else "")
        _fail(name, at + f"your step returned {what}; return exactly two Python floats, (d_loss, g_loss).")
    for value, what in zip(out, ("d_loss", "g_loss")):
        if isinstance(value, torch.Tensor):
            _fail(name, at + f"{what} is a tensor; return Python floats (.item()): 3,000 stored tensors would keep "
                  "their autograd graphs alive.")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(name, at + f"{what} is a {type(value).__name__}; return Python floats, (d_loss, g_loss).")
    d, g_ = out
    if _close(d, ref["d_loss"]) and _close(g_, ref["g_loss"]):
        return
    if _close(d, ref["g_loss"]) and _close(g_, ref["d_loss"]):
        _fail(name, at + "the two losses are returned in the wrong order: (d_loss, g_loss).")
    if not _close(d, ref["d_loss"]):
        _fail(name, at + f"the returned d_loss is {d:.6g}, but the loss D's step minimised was {ref['d_loss']:.6g}: "
              "return the value of D's loss itself (computed before d_optimizer.step()).")
    _fail(name, at + f"the returned g_loss is {g_:.6g}, but the loss G's step minimised was {ref['g_loss']:.6g}: "
          "return the value of G's loss itself.")


def _gan_round(name: str, at: str, fn: Callable[..., object], generator: nn.Module, discriminator: nn.Module,
               opts: dict[str, torch.optim.Optimizer], steps: dict[str, Callable], real: torch.Tensor,
               noise_seed: int, lr: float) -> None:
    g_opt, d_opt = opts["g"], opts["d"]
    g0, d0 = copy.deepcopy(generator), copy.deepcopy(discriminator)
    stale_g = _flat([p.grad for p in generator.parameters()], list(generator.parameters()))
    stale_d = _flat([p.grad for p in discriminator.parameters()], list(discriminator.parameters()))
    g_start, d_start, real_saved = _state(generator), _state(discriminator), real.clone()
    latent, draws = _latent_spy(noise_seed)
    seen: dict[str, list] = {"d_steps": [], "g_steps": []}

    def spy_d(*args, **kwargs):
        seen["d_steps"].append(_state(generator))
        out = steps["d"](*args, **kwargs)
        seen["d_after"] = _state(discriminator)
        return out

    def spy_g(*args, **kwargs):
        seen["g_steps"].append(_state(discriminator))
        return steps["g"](*args, **kwargs)

    d_opt.step, g_opt.step = spy_d, spy_g
    m = len(real)
    try:
        with _student_code(name, "your step"):
            out = fn(generator, discriminator, g_opt, d_opt, real, latent)
    except CheckFailed as err:  # name the likely cause of two errors autograd and the loss raise
        sizes = [len(z) for z in draws]
        if any(n not in (m, 2 * m) for n in sizes):
            raise CheckFailed(f"{err}\n  " + at + f"latent was called with n = {', '.join(map(str, sizes))}; each "
                              f"step draws m = len(real) = {m} noise vectors.") from err.__cause__
        if "modified by an inplace operation" in str(err.__cause__) and len(seen["d_steps"]) == 1:
            raise CheckFailed(f"{err}\n  " + at + "G's loss was built through D before d_optimizer.step() changed D's "
                              "weights in place: compute G's loss after D's step, through the updated D.") from err.__cause__
        raise
    finally:
        d_opt.step, g_opt.step = steps["d"], steps["g"]
    if not torch.equal(real, real_saved):
        _fail(name, at + "your step changed the batch `real` in place; the training loop's data must stay as it is.")
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
    frozen = [who for who, module in (("G", generator), ("D", discriminator))
              if not all(p.requires_grad for p in module.parameters())]
    if frozen:
        _fail(name, at + f"{' and '.join(frozen)}'s parameters were left with requires_grad=False; if you freeze a "
              "player during the other's step, unfreeze it afterwards, or its next step cannot train it.")
    if not draws:
        _fail(name, at + "latent was never called: draw the noise with latent(m), m = len(real) (not with "
              "torch.randn, whose stream the notebook does not control).")
    sizes = [len(z) for z in draws]
    pairs = _noise_pairs(draws, m)
    if not pairs:
        if sizes == [m]:
            _fail(name, at + "latent was called once: G's step must draw m *fresh* noise vectors (a second "
                  "latent(m)), not reuse D's.")
        _fail(name, at + f"latent was called with n = {', '.join(map(str, sizes))}; each step draws m = len(real) "
              f"= {m} noise vectors: latent({m}) for D's step, latent({m}) again for G's.")
    d_step, g_step = _update(d_start, _state(discriminator)), _update(g_start, _state(generator))
    d_matched = None
    for z_d, z_g in pairs:
        ref_g, ref_d, ref_out = _reference_round(g0, d0, real_saved, z_d, z_g, lr)
        if not _update_matches(d_step, _update(d_start, _state(ref_d))):
            continue
        d_matched = d_matched or (z_d, z_g, ref_d)
        if _update_matches(g_step, _update(g_start, _state(ref_g))):
            _check_step_return(name, at, out, ref_out)
            return
    if d_matched is None:
        if not d_step.abs().max() > 0:
            _fail(name, at + "D did not change although d_optimizer.step() ran: its gradients were empty — compute "
                  "D's loss, backward, then step (a zero_grad() between backward and step clears them).")
        _fail(name, at + _diagnose_d(d_step, g0, d0, real_saved, pairs[0][0], stale_d, lr))
    if not g_step.abs().max() > 0:
        _fail(name, at + "G did not change: its loss must reach G's parameters (no detach on G's own step), and "
              "g_optimizer.step() must come after G's backward.")
    z_d, z_g, ref_d = d_matched
    _fail(name, at + _diagnose_g(g_step, g0, d0, ref_d, real_saved, z_d, z_g, stale_g, lr))


def check_gan_step(fn: Callable[..., object]) -> None:
    """Check ``fn(generator, discriminator, g_optimizer, d_optimizer, real, latent) -> (d_loss, g_loss)``:
    one round of the alternating algorithm with k = 1 and the flipped-label generator loss.

    D's step: m = len(real) fresh noise samples, fakes *detached*, the BCE discriminator loss,
    d_optimizer.step(). G's step: m fresh noise samples, the non-saturating loss through the
    *updated* D, g_optimizer.step(). The check spies on both optimisers (G must not move during
    D's step, D not during G's) and on ``latent`` (two fresh draws of m), runs two consecutive
    rounds on each of two GANs — so gradients left over from the previous round must be cleared —
    and compares each round's updates with the reference's on the same noise. The two losses
    must come back as Python floats, (d_loss, g_loss), as the training cell records them.
    """
    name = "check_gan_step"
    _expect_callable(name, fn, "your training step")
    lr = 0.1
    with _seeded() as g:
        for gan, batch_sizes in ((1, (16, 7)), (2, (5, 12))):
            generator, discriminator = _tiny_gan(gan)
            opts = {"g": torch.optim.SGD(generator.parameters(), lr=lr),
                    "d": torch.optim.SGD(discriminator.parameters(), lr=lr)}
            steps = {key: opt.step for key, opt in opts.items()}
            for round_, m in enumerate(batch_sizes, start=1):
                real = torch.randn(m, 2, generator=g) + 1.0
                at = f"GAN {gan}, round {round_} of 2 (m = {m}): "
                _gan_round(name, at, fn, generator, discriminator, opts, steps, real, 1000 + 10 * gan + round_, lr)
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


def _number(value: object) -> float | None:
    """A Python number or a one-element tensor as a float; None for anything else."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _coverage_hint(samples: torch.Tensor, modes: torch.Tensor, std: float, captured: float, hq: float,
                   expected_modes: int, expected_hq: float) -> str:
    """Name the mistake from which wrong rule reproduces the student's numbers."""
    d = torch.cdist(samples.double(), modes.double())
    nearest_distance, nearest = d.min(dim=1)
    good = nearest_distance <= 3 * std
    if not _close(hq, expected_hq, rtol=1e-6, atol=1e-9):
        for wrong, hint in [
            (100 * expected_hq, "The high-quality share is a percentage; return a fraction in [0, 1]."),
            ((nearest_distance <= std).double().mean(), "a sample is high-quality within *3*σ of its nearest mode, "
             "not within σ."),
            ((nearest_distance.pow(2) <= 3 * std).double().mean(), "you compared the *squared* distance with 3σ: "
             "compare the distance itself with 3σ (or its square with (3σ)²)."),
            ((nearest_distance < 3 * std).double().mean(), None),
            (good.double().sum(), "you returned the number of high-quality samples; return their fraction of all "
             "samples."),
            (1 - expected_hq, "you returned the fraction of *low*-quality samples (beyond 3σ); return the fraction "
             "within 3σ."),
        ]:
            if hint and _close(hq, wrong, rtol=1e-6, atol=1e-9):
                return hint
        return ("a sample is high-quality when its distance to its nearest mode is at most 3σ, and the fraction "
                "is taken over all samples.")
    if captured == len(modes) and expected_modes < len(modes):
        return f"{len(modes)} is the number of modes there are, not the number captured."
    if captured == int(good.sum()) and captured != expected_modes:
        return "you counted high-quality samples; count the distinct modes they are nearest to."
    if captured == int(nearest.unique().numel()) and captured > expected_modes:
        return ("a mode counts only when a *high-quality* sample (within 3σ) has it as its nearest mode; "
                "low-quality samples capture nothing.")
    if captured > expected_modes:
        return "count each mode once, and only modes that are the nearest mode of a high-quality sample."
    return "count every mode that is the nearest mode of at least one high-quality sample."


def check_mode_coverage(fn: Callable[[torch.Tensor, torch.Tensor, float], tuple]) -> None:
    """Check ``fn(samples, modes, std) -> (modes_captured, high_quality_fraction)`` as in VEEGAN and
    PacGAN: a sample is high-quality when within 3σ of its nearest mode; a mode is captured when
    it is the nearest mode of at least one high-quality sample. The fraction is in [0, 1]. The
    return is the pair the training cell unpacks; the samples and modes must not be changed.
    """
    name = "check_mode_coverage"
    _expect_callable(name, fn, "your coverage function")
    with _seeded() as g:
        for title, samples, modes, std in _coverage_cases(g):
            expected = mode_coverage(samples, modes, std)
            saved = [samples.clone(), modes.clone()]
            with _student_code(name, f"your function on '{title}'"):
                out = fn(samples, modes, std)
            case = f"Case '{title}': "
            changed = _changed_in_place([samples, modes], saved, ["the samples", "the modes"])
            if changed:
                _fail(name, case + f"your function changed {changed} in place; the notebook goes on using them.")
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                what = type(out).__name__ + (f" of {len(out)} values" if isinstance(out, (tuple, list)) else "")
                _fail(name, case + f"Return a tuple (modes captured, high-quality fraction), got a {what}.")
            captured, hq = (_number(v) for v in out)
            if captured is None or hq is None:
                bad = out[0] if captured is None else out[1]
                shape = f" of shape {tuple(bad.shape)}" if isinstance(bad, torch.Tensor) else ""
                _fail(name, case + f"{'the count' if captured is None else 'the fraction'} is a "
                      f"{type(bad).__name__}{shape}; return two numbers, (modes captured, high-quality fraction).")
            if (_close(captured, expected.high_quality, rtol=1e-6, atol=1e-9) and hq == expected.modes
                    and captured != hq):
                _fail(name, case + "the two numbers are in the wrong order: (modes captured, high-quality fraction).")
            if captured != round(captured):
                _fail(name, case + f"the count of captured modes is {captured:g}; it must be a whole number (an int).")
            if (not _close(hq, expected.high_quality, rtol=1e-6, atol=1e-9)) or captured != expected.modes:
                hint = _coverage_hint(samples, modes, std, captured, hq, expected.modes, expected.high_quality)
                _fail(name, case + f"{captured:g} modes captured and a high-quality fraction of {hq:.4f}, expected "
                      f"{expected.modes} and {expected.high_quality:.4f}: {hint}")
    _passed(name, "5 hidden cases agree with the reference count and high-quality fraction.")
