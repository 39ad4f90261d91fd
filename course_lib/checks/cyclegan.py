"""Self-checks for lecture 05 (CycleGAN): the cycle-consistency loss, the least-squares
adversarial losses, the identity loss, and one generator update that combines them with λ."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from course_lib.checks._framework import _close, _expect_callable, _fail, _passed, _seeded, _student_code
from course_lib.checks.gan import _first_match, _same, _scalar_with_grad, _state
from course_lib.cyclegan import (
    CycleGAN, cycle_consistency_loss, cyclegan_generator_step, identity_loss, lsgan_discriminator_loss,
    lsgan_generator_loss,
)

__all__ = ["check_cycle_consistency_loss", "check_lsgan_losses", "check_identity_loss", "check_cyclegan_generator_step"]


def _images(g: torch.Generator, n: int, size: int = 8) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=g)


def _compare_l1_pair(name: str, fn: Callable, reference: Callable, args: tuple[torch.Tensor, ...], case: str,
                     wrong: list[tuple[torch.Tensor, str]], default: str) -> None:
    """Call ``fn(*args)`` (the images that must carry gradients are made leaves) and compare value and gradient."""
    args = tuple(a.clone().requires_grad_() for a in args)
    with _student_code(name, f"your function on {case}"):
        value = _scalar_with_grad(name, f"On {case}: ", fn(*args))
    expected = reference(*args)
    if not _close(value, expected, rtol=1e-4, atol=1e-6):
        _fail(name, f"On {case}: got {value.item():.6g}, expected {expected.item():.6g}. "
              + _first_match(value.detach(), wrong, default))
    grads = torch.autograd.grad(value, args, allow_unused=True)
    ref_grads = torch.autograd.grad(expected, args)
    for grad, ref in zip(grads, ref_grads):
        if grad is None or not _close(grad, ref, rtol=1e-4, atol=1e-7):
            _fail(name, f"On {case}: the value is right but its gradient is not; build it from the images with "
                  "differentiable operations (no .item(), no detach).")


# ---------------------------------------------------------------------------------------------
# The cycle-consistency loss
# ---------------------------------------------------------------------------------------------

def check_cycle_consistency_loss(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x, x_cycled, y, y_cycled)`` = mean|F(G(x)) − x| + mean|G(F(y)) − y|: value and
    gradient on hidden batches, the two domains with different error sizes so that a missing or
    mixed-up direction shows."""
    name = "check_cycle_consistency_loss"
    _expect_callable(name, fn, "your cycle-consistency loss")
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
                ((dx.abs().mean() + dy.abs().mean()) / 2, "You averaged the two directions; the loss is their sum."),
                ((x_cyc - y).abs().mean() + (y_cyc - x).abs().mean(), "Each cycled image must be compared with its own "
                 "input: F(G(x)) with x, G(F(y)) with y."),
                ((dx + dy).abs().mean(), "Take the L1 norm of each direction separately, then add them."),
            ]
            _compare_l1_pair(name, fn, cycle_consistency_loss, (x, x_cyc, y, y_cyc), f"batch {i}", wrong,
                             "Compare with L_cyc in the lecture: the mean absolute error of each cycle, summed.")
    _passed(name, "2 hidden batches agree with the reference in value and gradient.")


# ---------------------------------------------------------------------------------------------
# The least-squares adversarial losses
# ---------------------------------------------------------------------------------------------

def check_lsgan_losses(d_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                       g_fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``d_fn(real_scores, fake_scores)`` = ½ mean (D(y) − 1)² + ½ mean D(G(x))² and
    ``g_fn(fake_scores)`` = mean (D(G(x)) − 1)², on PatchGAN score maps (B, 1, h, w)."""
    name = "check_lsgan_losses"
    _expect_callable(name, d_fn, "your discriminator loss (first argument)")
    _expect_callable(name, g_fn, "your generator loss (second argument)")
    with _seeded() as g:
        for i, (n_real, n_fake) in enumerate([(4, 4), (3, 5)], start=1):
            real = 1.0 + 0.8 * torch.randn(n_real, 1, 6, 6, generator=g)
            fake = -0.3 + 0.8 * torch.randn(n_fake, 1, 6, 6, generator=g)
            r, f = real.clone().requires_grad_(), fake.clone().requires_grad_()
            case = f"On score maps {i} ({n_real} real, {n_fake} generated, 6×6 patches each): "
            with _student_code(name, "your discriminator loss"):
                value = _scalar_with_grad(name, case, d_fn(r, f))
            expected = lsgan_discriminator_loss(real, fake)
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
                ], "Compare with L_D in the lecture: squared distance of real scores to 1 and generated scores to 0.")
                _fail(name, case + f"discriminator loss {value.item():.6g}, expected {expected.item():.6g}. {hint}")
            fake_g = fake.clone().requires_grad_()
            with _student_code(name, "your generator loss"):
                value = _scalar_with_grad(name, case, g_fn(fake_g))
            expected = lsgan_generator_loss(fake)
            if not _close(value, expected, rtol=1e-4, atol=1e-6):
                hint = _first_match(value.detach(), [
                    (fake.pow(2).mean(), "That is the target 0, which D wants for generated images; G wants them scored "
                     "as real, target 1."),
                    (-fake.pow(2).mean(), "Minimising −D(G(x))² is not the least-squares form: G pulls its scores "
                     "towards the real label, (D(G(x)) − 1)²."),
                    (0.5 * (fake - 1).pow(2).mean(), "The generator's loss has no factor ½ here."),
                    ((fake - 1).abs().mean(), "That is an absolute error; square it."),
                    ((fake - 1).pow(2).sum(), "You summed over samples and patches; take the mean."),
                ], "Compare with L_G in the lecture.")
                _fail(name, case + f"generator loss {value.item():.6g}, expected {expected.item():.6g}. {hint}")
    _passed(name, "the discriminator and generator losses agree with the reference on 2 hidden score maps.")


# ---------------------------------------------------------------------------------------------
# The identity loss
# ---------------------------------------------------------------------------------------------

def check_identity_loss(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x, f_of_x, y, g_of_y)`` = mean|G(y) − y| + mean|F(x) − x| in value and gradient."""
    name = "check_identity_loss"
    _expect_callable(name, fn, "your identity loss")
    with _seeded() as g:
        for i, (noise_x, noise_y) in enumerate([(0.05, 0.4), (0.3, 0.02)], start=1):
            x, y = _images(g, 4), _images(g, 4)
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
            ]
            _compare_l1_pair(name, fn, identity_loss, (x, f_of_x, y, g_of_y), f"batch {i}", wrong,
                             "Compare with L_id in the lecture.")
    _passed(name, "2 hidden batches agree with the reference in value and gradient.")


# ---------------------------------------------------------------------------------------------
# One generator update
# ---------------------------------------------------------------------------------------------

def _tiny_cyclegan(seed: int) -> CycleGAN:
    torch.manual_seed(seed)
    return CycleGAN(width=2, n_blocks=1, d_width=4)


def check_cyclegan_generator_step(fn: Callable[..., object]) -> None:
    """Check ``fn(model, g_optimizer, x, y, lambda_cyc, lambda_id)``: one update of G and F with

        L = L_GAN(G, D_Y) + L_GAN(F, D_X) + λ_cyc L_cyc + λ_id L_id   (least-squares GAN terms),

    returning ``(losses, fake_x, fake_y)``. On a tiny CycleGAN with SGD, for three (λ_cyc, λ_id)
    settings: G and F must end where the reference ends, the discriminators must not move, the
    returned fakes must be F(y) and G(x) before the update and detached.
    """
    name = "check_cyclegan_generator_step"
    _expect_callable(name, fn, "your generator step")
    settings = [(10.0, 5.0), (3.0, 0.0), (0.0, 2.0)]
    with _seeded() as g:
        x, y = _images(g, 3, 32), _images(g, 3, 32)
        for round_, (lam_cyc, lam_id) in enumerate(settings, start=1):
            model = _tiny_cyclegan(round_)
            reference = copy.deepcopy(model)
            opt = torch.optim.SGD(model.generator_parameters(), lr=0.5)
            ref_opt = torch.optim.SGD(reference.generator_parameters(), lr=0.5)
            ref = cyclegan_generator_step(reference, ref_opt, x, y, lam_cyc, lam_id)
            start_g, start_d = _state(model.G) + _state(model.F), _state(model.D_X) + _state(model.D_Y)
            for p in model.generator_parameters():  # stale gradients, as after a previous step
                p.grad = torch.full_like(p, 0.1)
            steps = []
            inner_step = opt.step

            def spy(*args, **kwargs):
                steps.append(1)
                return inner_step(*args, **kwargs)

            opt.step = spy
            at = f"Round {round_} (λ_cyc = {lam_cyc:g}, λ_id = {lam_id:g}): "
            with _student_code(name, "your step"):
                out = fn(model, opt, x, y, lam_cyc, lam_id)
            if not (isinstance(out, tuple) and len(out) == 3):
                _fail(name, at + f"return (losses, fake_x, fake_y), got a {type(out).__name__}.")
            _, fake_x, fake_y = out
            if len(steps) != 1:
                _fail(name, at + f"g_optimizer.step() ran {len(steps)} times; one update is one step.")
            if not _same(_state(model.D_X) + _state(model.D_Y), start_d):
                _fail(name, at + "the discriminators moved: only g_optimizer (G's and F's parameters) may step.")
            for fake, want, what in ((fake_x, ref.fake_x, "fake_x = F(y)"), (fake_y, ref.fake_y, "fake_y = G(x)")):
                if not isinstance(fake, torch.Tensor) or fake.shape != want.shape:
                    _fail(name, at + f"{what} should be a tensor of shape {tuple(want.shape)}.")
                if fake.requires_grad:
                    _fail(name, at + f"{what} still carries the generators' graph: return it detached, for the "
                          "discriminators' step.")
                if not _close(fake, want, rtol=1e-4, atol=1e-6):
                    _fail(name, at + f"{what} differs from the generator's output before the update.")
            now_g = _state(model.G) + _state(model.F)
            if _same(now_g, start_g):
                _fail(name, at + "G and F did not change: backward the total loss, then g_optimizer.step().")
            if not _same(now_g, _state(reference.G) + _state(reference.F)):
                _fail(name, at + "G and F moved, but not as the reference: check the total loss — both least-squares "
                      "adversarial terms (target 1, through D_Y and D_X), λ_cyc times the cycle loss of *both* "
                      "directions, λ_id times the identity loss — and that the gradients were zeroed first.")
    _passed(name, "3 (λ_cyc, λ_id) settings: G and F moved as the reference, the discriminators did not, and the "
            "fakes came back detached.")
