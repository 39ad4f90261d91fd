"""Self-checks for lecture 05 (CycleGAN): the cycle-consistency loss, the least-squares
adversarial losses, the identity loss, and one generator update that combines them with λ.

Besides values, the checks probe behaviour: gradients must reach the images (or scores) that
training differentiates, inputs must not be modified in place, and the generator step must
return what the training cell reads (``out.losses["cycle"]``, ``out.fake_x``, ``out.fake_y``) and
clear its gradients over consecutive calls. The step's update is compared as a whole vector at
a tolerance set by float32 round-off (see ``_UPDATE_RTOL`` in ``course_lib.checks.gan``), so an
equivalent step written differently passes; a wrong one is diagnosed by decomposing the update
it took into the gradients of the individual loss terms.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import torch

from course_lib.checks._framework import (
    _changed_in_place, _close, _expect_callable, _fail, _first_match, _gradient_hint, _passed, _scalar_with_grad, _seeded, _student_code,
)
from course_lib.checks.gan import _UPDATE_RTOL, _flat, _inputs, _same, _state, _update, _update_matches
from course_lib.cyclegan import (
    CycleGAN, cycle_consistency_loss, cyclegan_generator_step, identity_loss, lsgan_discriminator_loss,
    lsgan_generator_loss,
)

__all__ = ["check_cycle_consistency_loss", "check_lsgan_losses", "check_identity_loss", "check_cyclegan_generator_step"]


def _images(g: torch.Generator, n: int, size: int = 8) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=g)


def _compare_l1_pair(name: str, fn: Callable, reference: Callable, args: tuple[torch.Tensor, ...], case: str,
                     wrong: list[tuple[torch.Tensor, str]], default: str, names: list[str],
                     outputs: tuple[int, ...]) -> None:
    """Call ``fn(*args)`` on non-leaf copies and compare value and gradient; ``outputs`` are the
    positions of the generated images (the gradient must reach them; the targets' gradient is free)."""
    leaves, given, saved = _inputs(*args)
    with _student_code(name, f"your function on {case}"):
        out = fn(*given)
    changed = _changed_in_place(given, saved, names)
    if changed:
        _fail(name, f"On {case}: your function changed {changed} in place; a loss must leave the images as they are "
              "(in training they are the generators' outputs, which backward still needs).")
    value = _scalar_with_grad(name, f"On {case}: ", out)
    expected = reference(*leaves)
    if not _close(value, expected, rtol=1e-4, atol=1e-6):
        _fail(name, f"On {case}: got {value.item():.6g}, expected {expected.item():.6g}. "
              + _first_match(value.detach(), wrong, default))
    chosen = [leaves[i] for i in outputs]
    grads = torch.autograd.grad(value, chosen, allow_unused=True)
    hint = _gradient_hint(grads, torch.autograd.grad(expected, chosen), [names[i] for i in outputs], "the generators")
    if hint:
        _fail(name, f"On {case}: the value is right, but " + hint)


# ---------------------------------------------------------------------------------------------
# The cycle-consistency loss
# ---------------------------------------------------------------------------------------------

def check_cycle_consistency_loss(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x, x_cycled, y, y_cycled)`` = mean|F(G(x)) − x| + mean|G(F(y)) − y|: value and
    gradient (with respect to both round trips) on hidden batches, the two domains with different
    error sizes so that a missing or mixed-up direction shows, and inputs left unchanged."""
    name = "check_cycle_consistency_loss"
    _expect_callable(name, fn, "your cycle-consistency loss")
    names = ["x", "x_cycled = F(G(x))", "y", "y_cycled = G(F(y))"]
    with _seeded() as g:
        for i, (n, size, noise_x, noise_y) in enumerate([(4, 8, 0.1, 0.3), (3, 16, 0.5, 0.05)], start=1):
            x, y = _images(g, n, size), _images(g, n, size)
            x_cyc = x + noise_x * torch.randn(x.shape, generator=g)
            y_cyc = y + noise_y * torch.randn(y.shape, generator=g)
            dx, dy = x_cyc - x, y_cyc - y
            wrong = [
                (dx.abs().mean(), "Only the X → Y → X direction is there: add the Y → X → Y term, ‖G(F(y)) − y‖₁."),
                (dy.abs().mean(), "Only the Y → X → Y direction is there: add the X → Y → X term, ‖F(G(x)) − x‖₁."),
                (dx.pow(2).mean() + dy.pow(2).mean(), "That is a squared (L2) error; the cycle loss is L1: absolute values."),
                (dx.abs().sum() + dy.abs().sum(), "You summed over pixels and batch; take the mean."),
                (dx.abs().flatten(1).sum(1).mean() + dy.abs().flatten(1).sum(1).mean(), "You summed over the pixels "
                 "of each image; take the mean over pixels too."),
                ((dx.abs().mean() + dy.abs().mean()) / 2, "You averaged the two directions; the loss is their sum."),
                ((x_cyc - y).abs().mean() + (y_cyc - x).abs().mean(), "Each cycled image must be compared with its own "
                 "input: F(G(x)) with x, G(F(y)) with y."),
                ((dx + dy).abs().mean(), "Take the L1 norm of each direction separately, then add them."),
            ]
            _compare_l1_pair(name, fn, cycle_consistency_loss, (x, x_cyc, y, y_cyc), f"batch {i}", wrong,
                             "Compare with L_cyc in the lecture: the mean absolute error of each cycle, summed.",
                             names, outputs=(1, 3))
    _passed(name, "2 hidden batches agree with the reference in value and gradient.")


# ---------------------------------------------------------------------------------------------
# The least-squares adversarial losses
# ---------------------------------------------------------------------------------------------

def check_lsgan_losses(d_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                       g_fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``d_fn(real_scores, fake_scores)`` = ½ mean (D(y) − 1)² + ½ mean D(G(x))² and
    ``g_fn(fake_scores)`` = mean (D(G(x)) − 1)², on PatchGAN score maps (B, 1, h, w), with as many
    or fewer real than generated maps: values, gradients with respect to every score map the loss
    uses, and the score maps left unchanged."""
    name = "check_lsgan_losses"
    _expect_callable(name, d_fn, "your discriminator loss (first argument)")
    _expect_callable(name, g_fn, "your generator loss (second argument)")
    d_names = ["the real images' scores", "the generated images' scores"]
    with _seeded() as g:
        for i, (n_real, n_fake) in enumerate([(4, 4), (3, 5)], start=1):
            real = 1.0 + 0.8 * torch.randn(n_real, 1, 6, 6, generator=g)
            fake = -0.3 + 0.8 * torch.randn(n_fake, 1, 6, 6, generator=g)
            leaves, (r_in, f_in), saved = _inputs(real, fake)
            case = f"On score maps {i} ({n_real} real, {n_fake} generated, 6×6 patches each): "
            with _student_code(name, "your discriminator loss"):
                out = d_fn(r_in, f_in)
            changed = _changed_in_place([r_in, f_in], saved, d_names)
            if changed:
                _fail(name, case + f"your discriminator loss changed {changed} in place; a loss must leave its inputs "
                      "as they are (they are D's outputs, which backward still needs).")
            value = _scalar_with_grad(name, case, out)
            expected = lsgan_discriminator_loss(*leaves)
            if not _close(value, expected, rtol=1e-4, atol=1e-6):
                hint = _first_match(value.detach(), [
                    (0.5 * real.pow(2).mean() + 0.5 * (fake - 1).pow(2).mean(), "The targets are swapped: real "
                     "samples should score 1, generated ones 0."),
                    ((real - 1).pow(2).mean() + fake.pow(2).mean(), "Each half carries a factor ½ in L_D."),
                    (0.5 * (real - 1).pow(2).mean(), "Only the real term is there: add the generated samples' term."),
                    (0.5 * fake.pow(2).mean(), "Only the generated term is there: add the real samples' term."),
                    (0.5 * (real - 1).abs().mean() + 0.5 * fake.abs().mean(), "Those are absolute errors; the "
                     "least-squares loss squares them."),
                    (0.5 * (real - 1).pow(2).sum() + 0.5 * fake.pow(2).sum(), "You summed over samples and patches; "
                     "take the mean."),
                    (0.5 * torch.cat([(real - 1).pow(2), fake.pow(2)]).mean(), "You averaged the two halves together, "
                     "and then halved. L_D is ½ (mean over the real maps) + ½ (mean over the generated maps)."),
                    (torch.cat([(real - 1).pow(2), fake.pow(2)]).mean(), f"You averaged over the combined batch; with "
                     f"{n_real} real and {n_fake} generated maps that weighs the halves unequally: L_D is ½ (mean over "
                     "the real maps) + ½ (mean over the generated maps)."),
                ], "Compare with L_D in the lecture: squared distance of real scores to 1 and generated scores to 0.")
                _fail(name, case + f"discriminator loss {value.item():.6g}, expected {expected.item():.6g}. {hint}")
            grads = torch.autograd.grad(value, leaves, allow_unused=True)
            hint = _gradient_hint(grads, torch.autograd.grad(expected, leaves), d_names)
            if hint:
                _fail(name, case + "the discriminator loss has the right value, but " + hint.replace(
                      "the generators would not learn", "the discriminator would not learn"))
            (leaf,), (f_in,), (f_saved,) = _inputs(fake)
            with _student_code(name, "your generator loss"):
                out = g_fn(f_in)
            if _changed_in_place([f_in], [f_saved], ["the scores"]):
                _fail(name, case + "your generator loss changed the scores in place; a loss must leave its input as it "
                      "is (it is D's output, which backward still needs).")
            value = _scalar_with_grad(name, case, out)
            expected = lsgan_generator_loss(leaf)
            if not _close(value, expected, rtol=1e-4, atol=1e-6):
                hint = _first_match(value.detach(), [
                    (fake.pow(2).mean(), "That is the target 0, which D wants for generated images; G wants them scored "
                     "as real, target 1."),
                    (-fake.pow(2).mean(), "Minimising −D(G(x))² is not the least-squares form: G pulls its scores "
                     "towards the real label, (D(G(x)) − 1)²."),
                    (0.5 * (fake - 1).pow(2).mean(), "The generator's loss has no factor ½ here."),
                    ((fake - 1).abs().mean(), "That is an absolute error; square it."),
                    ((fake - 1).pow(2).sum(), "You summed over samples and patches; take the mean."),
                    ((fake.mean() - 1).pow(2), "You squared the mean score; take the mean of the squared errors."),
                ], "Compare with L_G in the lecture.")
                _fail(name, case + f"generator loss {value.item():.6g}, expected {expected.item():.6g}. {hint}")
            (grad,) = torch.autograd.grad(value, leaf, allow_unused=True)
            hint = _gradient_hint((grad,), torch.autograd.grad(expected, leaf), ["the generated images' scores"], "the generators")
            if hint:
                _fail(name, case + "the generator loss has the right value, but " + hint)
    _passed(name, "the discriminator and generator losses agree with the reference on 2 hidden score maps.")


# ---------------------------------------------------------------------------------------------
# The identity loss
# ---------------------------------------------------------------------------------------------

def check_identity_loss(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x, f_of_x, y, g_of_y)`` = mean|G(y) − y| + mean|F(x) − x| in value and gradient
    (with respect to F(x) and G(y)), inputs left unchanged."""
    name = "check_identity_loss"
    _expect_callable(name, fn, "your identity loss")
    names = ["x", "f_of_x = F(x)", "y", "g_of_y = G(y)"]
    with _seeded() as g:
        for i, (n, noise_x, noise_y) in enumerate([(4, 0.05, 0.4), (3, 0.3, 0.02)], start=1):
            x, y = _images(g, n), _images(g, n)
            f_of_x = x + noise_x * torch.randn(x.shape, generator=g)
            g_of_y = y + noise_y * torch.randn(y.shape, generator=g)
            ex, ey = f_of_x - x, g_of_y - y
            wrong = [
                (ex.abs().mean(), "Only F's term is there: add ‖G(y) − y‖₁."),
                (ey.abs().mean(), "Only G's term is there: add ‖F(x) − x‖₁."),
                ((g_of_y - x).abs().mean() + (f_of_x - y).abs().mean(), "Each output must be compared with the image "
                 "that went in: G(y) with y, F(x) with x."),
                (ex.pow(2).mean() + ey.pow(2).mean(), "That is a squared error; the identity loss is L1."),
                (ex.abs().sum() + ey.abs().sum(), "You summed over pixels and batch; take the mean."),
                ((ex.abs().mean() + ey.abs().mean()) / 2, "You averaged the two terms; the loss is their sum."),
                ((ex + ey).abs().mean(), "Take the L1 norm of each term separately, then add them."),
            ]
            _compare_l1_pair(name, fn, identity_loss, (x, f_of_x, y, g_of_y), f"batch {i}", wrong,
                             "Compare with L_id in the lecture.", names, outputs=(1, 3))
    _passed(name, "2 hidden batches agree with the reference in value and gradient.")


# ---------------------------------------------------------------------------------------------
# One generator update
# ---------------------------------------------------------------------------------------------

def _tiny_cyclegan(seed: int) -> CycleGAN:
    torch.manual_seed(seed)
    return CycleGAN(width=2, n_blocks=1, d_width=4)


def _term_gradients(model: CycleGAN, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """The gradient, with respect to G's and F's parameters, of each term a total loss could contain
    (and of the plausible mix-ups: a fake scored by the other domain's discriminator)."""
    params = model.generator_parameters()
    fake_y, fake_x = model.G(x), model.F(y)
    terms = {
        "adv_G": lsgan_generator_loss(model.D_Y(fake_y)), "adv_F": lsgan_generator_loss(model.D_X(fake_x)),
        "adv_G_by_D_X": lsgan_generator_loss(model.D_X(fake_y)), "adv_F_by_D_Y": lsgan_generator_loss(model.D_Y(fake_x)),
        "cyc_x": (model.F(fake_y) - x).abs().mean(), "cyc_y": (model.G(fake_x) - y).abs().mean(),
        "id_G": (model.G(y) - y).abs().mean(), "id_F": (model.F(x) - x).abs().mean(),
    }
    out = {}
    for key, loss in terms.items():
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        out[key] = _flat(list(grads), params)
    return out


def _weight_hint(what: str, pair: tuple[float, float], want: float, parts: tuple[str, str], lam: str,
                 other: tuple[str, float]) -> str | None:
    """What is wrong with the weights a two-part term entered with (None when they are right)."""
    def near(a: float, b: float) -> bool:
        return abs(a - b) <= 0.02 * max(1.0, abs(b))

    a, b = pair
    if near(a, want) and near(b, want):
        return None
    if want == 0:
        return (f"{lam} = 0, yet the {what} entered the total with weight {max(a, b, key=abs):.3g}: multiply it by "
                f"{lam.replace('λ_', 'lambda_')} (or skip it when that is 0).")
    if near(a, 0) and near(b, 0):
        return f"the {what} is missing from the total: add {lam} times it."
    if near(a, 0) or near(b, 0):
        return f"the {what} lacks its {parts[0] if near(a, 0) else parts[1]} part."
    if near(a, b):
        if near(a, 1):
            return f"the {what} is not multiplied by {lam} = {want:g}."
        if near(a, other[1]) and other[1] != want:
            return f"λ_cyc and λ_id are swapped: the {what} is weighted by {other[0]} = {other[1]:g}."
        return f"the {what} is weighted by {a:.3g}, not {lam} = {want:g}."
    return f"the two parts of the {what} are weighted unequally ({a:.3g} and {b:.3g}); both take {lam} = {want:g}."


def _diagnose_update(step: torch.Tensor, start: CycleGAN, x: torch.Tensor, y: torch.Tensor, stale: torch.Tensor,
                     lam_cyc: float, lam_id: float, lr: float) -> str:
    """Decompose the update into the terms' gradients (least squares) and name what differs."""
    basis = _term_gradients(start, x, y)
    if stale.abs().max() > 0:
        basis["stale"] = stale
    names = list(basis)
    a = torch.stack([basis[k] for k in names], dim=1)
    target = step / -lr
    coef = torch.linalg.lstsq(a, target.unsqueeze(1)).solution.squeeze(1)
    generic = ("G and F moved, but not as the reference: check the total loss — both least-squares adversarial terms "
               "(target 1, G(x) through D_Y and F(y) through D_X), λ_cyc times the cycle loss of *both* directions, "
               "λ_id times the identity loss — and that the gradients were zeroed first.")
    if (a @ coef - target).abs().max() > 1e-3 * target.abs().max():
        return generic
    c = dict(zip(names, coef.tolist()))
    want = {"adv_G": 1.0, "adv_F": 1.0, "adv_G_by_D_X": 0.0, "adv_F_by_D_Y": 0.0, "cyc_x": lam_cyc, "cyc_y": lam_cyc,
            "id_G": lam_id, "id_F": lam_id, "stale": 0.0}
    if all(abs(c[k] + want[k]) <= 0.02 * max(1.0, abs(want[k])) for k in names):
        return ("G and F stepped *up* the total loss: its sign is flipped (backward the loss itself, and let "
                "g_optimizer.step() descend).")
    hints = []
    if "stale" in c and abs(c["stale"] - 1) <= 0.02:
        hints.append("the gradients left from the previous call were added to this step's: clear them "
                     "(g_optimizer.zero_grad()) before backward.")
    if abs(c["adv_G_by_D_X"]) > 0.02 or abs(c["adv_F_by_D_Y"]) > 0.02:
        hints.append("a fake was scored by the wrong discriminator: G(x) is a Y image, for D_Y; F(y) an X image, "
                     "for D_X.")
    else:
        for key, term in (("adv_G", "adversarial term of G (D_Y on G(x))"),
                          ("adv_F", "adversarial term of F (D_X on F(y))")):
            if abs(c[key]) <= 0.02:
                hints.append(f"the {term} is missing.")
            elif abs(c[key] - 1) > 0.02:
                hints.append(f"the {term} has weight {c[key]:.3g}; each adversarial term enters with weight 1.")
    for hint in (
        _weight_hint("cycle loss", (c["cyc_x"], c["cyc_y"]), lam_cyc, ("‖F(G(x)) − x‖₁", "‖G(F(y)) − y‖₁"),
                     "λ_cyc", ("λ_id", lam_id)),
        _weight_hint("identity loss", (c["id_G"], c["id_F"]), lam_id, ("‖G(y) − y‖₁", "‖F(x) − x‖₁"),
                     "λ_id", ("λ_cyc", lam_cyc)),
    ):
        if hint and hint not in hints:
            hints.append(hint)
    swapped = [h for h in hints if h.startswith("λ_cyc and λ_id are swapped")]
    if len(swapped) == 2:
        hints = [h for h in hints if h not in swapped] + [
            f"λ_cyc and λ_id are swapped: the cycle loss is weighted by λ_id = {lam_id:g}, the identity loss by "
            f"λ_cyc = {lam_cyc:g}."]
    if not hints:
        return generic
    return "G and F did not move as the reference: " + " ".join((h[0].upper() if h[0].isascii() else h[0]) + h[1:] for h in hints)


def _check_container(name: str, at: str, out: object) -> tuple[object, object, object]:
    """The training cell reads ``out.losses["cycle"]``, ``out.fake_x`` and ``out.fake_y``."""
    needed = ("losses", "fake_x", "fake_y")
    if out is None:
        _fail(name, at + "your step returned None; return GeneratorStep(losses, fake_x, fake_y): the training cell "
              "reads out.losses['cycle'], out.fake_x and out.fake_y.")
    missing = [a for a in needed if not hasattr(out, a)]
    if missing:
        if isinstance(out, tuple):
            _fail(name, at + f"your step returned a plain {type(out).__name__} of {len(out)} values; the training cell "
                  "reads its parts by name (out.losses, out.fake_x, out.fake_y): return GeneratorStep(losses, fake_x, "
                  "fake_y).")
        _fail(name, at + f"your step returned a {type(out).__name__} without {', '.join(missing)}; return "
              "GeneratorStep(losses, fake_x, fake_y).")
    return out.losses, out.fake_x, out.fake_y


def _check_losses(name: str, at: str, losses: object, lam_cyc: float, cycle_before: float | None,
                  probes: Callable[[], tuple[float, tuple[float, float]]]) -> None:
    if not isinstance(losses, Mapping):
        _fail(name, at + f"losses is a {type(losses).__name__}; make it a dict of Python floats with at least the key "
              "'cycle': the training cell reads out.losses['cycle'].")
    for key, value in losses.items():
        if isinstance(value, torch.Tensor):
            _fail(name, at + f"losses[{key!r}] is a tensor; store Python floats (.item()): a stored tensor keeps the "
                  "step's whole autograd graph alive.")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(name, at + f"losses[{key!r}] is a {type(value).__name__}; store Python floats.")
    if lam_cyc == 0 or cycle_before is None:
        return  # a term of weight 0 may be skipped, and then has no value
    if "cycle" not in losses:
        keys = ", ".join(repr(k) for k in losses) or "none"
        _fail(name, at + f"losses has no key 'cycle' (its keys: {keys}); the training cell reads out.losses['cycle'].")
    value = losses["cycle"]
    # A loss value is one float32 mean over a few thousand pixels: a different order of summation
    # changes it by far less than rtol 1e-4.
    if _close(value, cycle_before, rtol=1e-4, atol=1e-6):
        return
    cycle_after, directions = probes()
    if _close(value, lam_cyc * cycle_before, rtol=1e-4, atol=1e-6):
        hint = "that is λ_cyc times it: store the cycle loss itself, unweighted."
    elif _close(value, cycle_after, rtol=1e-4, atol=1e-6):
        hint = "that is the cycle loss after the update: store the value the step minimised."
    elif any(_close(value, d, rtol=1e-4, atol=1e-6) for d in directions):
        hint = "that is one direction only: L_cyc adds both."
    else:
        hint = "store the value of the cycle loss that entered the total."
    _fail(name, at + f"losses['cycle'] is {value:.6g}, but this batch's cycle loss was {cycle_before:.6g}: {hint}")


def _check_fake(name: str, at: str, fake: object, what: str, want: torch.Tensor,
                others: Callable[[], list[tuple[torch.Tensor, str]]]) -> None:
    if not isinstance(fake, torch.Tensor) or fake.shape != want.shape:
        got = f"shape {tuple(fake.shape)}" if isinstance(fake, torch.Tensor) else f"a {type(fake).__name__}"
        _fail(name, at + f"{what} should be a tensor of shape {tuple(want.shape)}, got {got}.")
    if fake.requires_grad:
        _fail(name, at + f"{what} still carries the generators' graph: return it detached, for the discriminators' "
              "step.")
    # The generators' outputs lie in [0, 1] (a sigmoid); a batched or repeated pass changes them by round-off only.
    if not _close(fake, want, rtol=1e-4, atol=1e-5):
        for other, hint in others():
            if _close(fake, other, rtol=1e-4, atol=1e-5):
                _fail(name, at + f"{what}: {hint}")
        _fail(name, at + f"{what} differs from the generator's output before the update.")


def _cyclegan_call(name: str, at: str, fn: Callable[..., object], model: CycleGAN, opt: torch.optim.Optimizer,
                   inner_step: Callable, reference: CycleGAN, x: torch.Tensor, y: torch.Tensor, lam_cyc: float,
                   lam_id: float, lr: float) -> None:
    params = model.generator_parameters()
    start_state = {k: v.clone() for k, v in model.state_dict().items()}
    stale = _flat([p.grad for p in params], params)
    g_start, d_start = _state(model.G) + _state(model.F), _state(model.D_X) + _state(model.D_Y)
    x_saved, y_saved = x.clone(), y.clone()
    reference.load_state_dict(start_state)  # the reference starts where the student's model starts
    ref = cyclegan_generator_step(reference, torch.optim.SGD(reference.generator_parameters(), lr=lr), x_saved.clone(),
                                  y_saved.clone(), lam_cyc, lam_id)
    ref_step = _update(g_start, _state(reference.G) + _state(reference.F))

    def start() -> CycleGAN:  # the model as it was before the call, rebuilt only to diagnose a mistake
        rebuilt = copy.deepcopy(reference)
        rebuilt.load_state_dict(start_state)
        return rebuilt

    steps = []

    def spy(*args, **kwargs):
        steps.append(1)
        return inner_step(*args, **kwargs)

    opt.step = spy
    try:
        with _student_code(name, "your step"):
            out = fn(model, opt, x, y, lam_cyc, lam_id)
    finally:
        opt.step = inner_step
    changed = _changed_in_place([x, y], [x_saved, y_saved], ["x", "y"])
    if changed:
        _fail(name, at + f"your step changed the batch {changed} in place; the training data must stay as it is.")
    losses, fake_x, fake_y = _check_container(name, at, out)
    if len(steps) != 1:
        _fail(name, at + f"g_optimizer.step() ran {len(steps)} times; one update is one step"
              + (" of the optimiser passed in." if not steps else "."))
    if not _same(_state(model.D_X) + _state(model.D_Y), d_start):
        _fail(name, at + "the discriminators moved: only g_optimizer (G's and F's parameters) may step.")
    frozen = [who for who in ("G", "F", "D_X", "D_Y") if not all(p.requires_grad for p in getattr(model, who).parameters())]
    if frozen:
        _fail(name, at + f"the parameters of {', '.join(frozen)} were left with requires_grad=False; if you freeze the "
              "discriminators for the generators' step, unfreeze them afterwards, or their own step cannot train them.")

    @torch.no_grad()
    def translations() -> dict[str, torch.Tensor]:
        s = start()
        return {"G(x)": s.G(x_saved), "F(y)": s.F(y_saved), "G(y)": s.G(y_saved), "F(x)": s.F(x_saved),
                "G(x) after": model.G(x_saved), "F(y) after": model.F(y_saved)}

    def others(fake_is_x: bool) -> list[tuple[torch.Tensor, str]]:
        t = translations()
        if fake_is_x:
            return [(t["G(x)"], "this is G(x), fake_y: fake_x and fake_y are swapped."),
                    (t["F(x)"], "this is F(x); F translates the Y image y into X: fake_x = F(y)."),
                    (t["G(y)"], "this is G(y); fake_x is F's translation of y, F(y)."),
                    (t["F(y) after"], "this is F(y) after the update; return the fakes of this step's forward pass "
                     "(before the update).")]
        return [(t["F(y)"], "this is F(y), fake_x: fake_x and fake_y are swapped."),
                (t["G(y)"], "this is G(y); G translates the X image x into Y: fake_y = G(x)."),
                (t["F(x)"], "this is F(x); fake_y is G's translation of x, G(x)."),
                (t["G(x) after"], "this is G(x) after the update; return the fakes of this step's forward pass "
                 "(before the update).")]

    _check_fake(name, at, fake_x, "fake_x = F(y)", ref.fake_x, lambda: others(True))
    _check_fake(name, at, fake_y, "fake_y = G(x)", ref.fake_y, lambda: others(False))
    step = _update(g_start, _state(model.G) + _state(model.F))
    if not step.abs().max() > 0:
        _fail(name, at + "G and F did not change: backward the total loss, then g_optimizer.step().")
    # The whole update against the reference's at _UPDATE_RTOL (float32 round-off; see course_lib.checks.gan):
    # recomputing F(G(x)), one batched pass through G for x and y, or one backward per term all pass.
    if not _update_matches(step, ref_step, _UPDATE_RTOL):
        _fail(name, at + _diagnose_update(step, start(), x_saved, y_saved, stale, lam_cyc, lam_id, lr))

    @torch.no_grad()
    def cycle_probes() -> tuple[float, tuple[float, float]]:
        s = start()
        directions = ((s.F(s.G(x_saved)) - x_saved).abs().mean().item(), (s.G(s.F(y_saved)) - y_saved).abs().mean().item())
        after = cycle_consistency_loss(x_saved, model.F(model.G(x_saved)), y_saved, model.G(model.F(y_saved))).item()
        return after, directions

    _check_losses(name, at, losses, lam_cyc, ref.losses.get("cycle"), cycle_probes)


def check_cyclegan_generator_step(fn: Callable[..., object]) -> None:
    """Check ``fn(model, g_optimizer, x, y, lambda_cyc, lambda_id)``: one update of G and F with

        L = L_GAN(G, D_Y) + L_GAN(F, D_X) + λ_cyc L_cyc + λ_id L_id   (least-squares GAN terms),

    returning ``GeneratorStep(losses, fake_x, fake_y)``. On a tiny CycleGAN with SGD, for three
    (λ_cyc, λ_id) settings and two consecutive calls each (so gradients left from the first call
    must be cleared): G and F must take the reference's update (as a whole vector, at float32
    round-off), the discriminators must not move, the inputs must not change, the fakes must be
    F(y) and G(x) before the update and detached, and ``losses`` a dict of Python floats whose
    "cycle" is the unweighted cycle loss.
    """
    name = "check_cyclegan_generator_step"
    _expect_callable(name, fn, "your generator step")
    settings = [(10.0, 5.0), (3.0, 0.0), (0.0, 2.0)]
    lr = 0.5
    with _seeded() as g:
        batches = [(_images(g, 3, 32), _images(g, 3, 32)), (_images(g, 2, 32), _images(g, 2, 32))]
        for round_, (lam_cyc, lam_id) in enumerate(settings, start=1):
            model = _tiny_cyclegan(round_)
            reference = copy.deepcopy(model)
            opt = torch.optim.SGD(model.generator_parameters(), lr=lr)
            inner_step = opt.step
            for call, (x, y) in enumerate(batches, start=1):
                at = f"Round {round_} (λ_cyc = {lam_cyc:g}, λ_id = {lam_id:g}), call {call} of 2: "
                _cyclegan_call(name, at, fn, model, opt, inner_step, reference, x, y, lam_cyc, lam_id, lr)
    _passed(name, "3 (λ_cyc, λ_id) settings: G and F moved as the reference, the discriminators did not, and the "
            "fakes came back detached.")
