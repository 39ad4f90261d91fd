"""Self-checks for lecture 03 (the VAE): reparametrization, the closed-form KL, the negative ELBO,
the conditioning of a conditional VAE, and the AR-VAE's attribute regularization."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from course_lib.checks._framework import (
    _close, _expect_callable, _expect_tensor, _fail, _passed, _seeded, _student_code,
)
from course_lib.vae import attribute_regularization, gaussian_nll, kl_to_standard_normal, negative_elbo, one_hot

__all__ = ["check_reparametrize", "check_kl_divergence", "check_negative_elbo", "check_cvae_condition",
           "check_attribute_regularization"]


# ---------------------------------------------------------------------------------------------
# reparametrize
# ---------------------------------------------------------------------------------------------

def check_reparametrize(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(mu, logvar) -> z``: z ~ N(μ, diag exp(log σ²)), random, with gradients to μ and log σ².

    Sample statistics on a large batch (mean μ, variance σ², every call new noise), and the
    gradients: ∂z/∂μ = 1 and ∂z/∂log σ² = ½ σ ε = ½ (z − μ).
    """
    name = "check_reparametrize"
    _expect_callable(name, fn, "your reparametrize function")
    with _seeded():
        n, mu_row, var_row = 100_000, torch.tensor([1.5, -0.5, 0.0]), torch.tensor([0.25, 1.0, 4.0])
        mu, logvar = mu_row.expand(n, 3).clone(), var_row.log().expand(n, 3).clone()
        with _student_code(name, f"your function on a batch of shape {(n, 3)}"):
            z = _expect_tensor(name, f"On μ, log σ² of shape {(n, 3)}, it", fn(mu, logvar), (n, 3))
        z = z.detach()
        mean, var = z.mean(0), z.var(0)
        if not _close(mean, mu_row, atol=0.03):
            if _close(mean, mu_row + 0.5 * var_row.sqrt(), atol=0.03):
                _fail(name, "The samples are centred at μ + σ/2: ε must be standard *normal* (mean 0), "
                      "not uniform on [0, 1).")
            _fail(name, f"The sample mean is {[round(v, 2) for v in mean.tolist()]}, expected μ = {mu_row.tolist()}.")
        if not _close(var, var_row, rtol=0.05):
            if _close(var, var_row**2, rtol=0.05):
                _fail(name, "The sample variance is σ⁴: you multiplied ε by σ² = exp(log σ²); the standard "
                      "deviation is σ = exp(½ log σ²).")
            if _close(var, var_row.log() ** 2, rtol=0.05, atol=0.02):
                _fail(name, "The sample variance is (log σ²)²: you multiplied ε by log σ² itself; turn it into "
                      "the standard deviation first.")
            if _close(var, torch.zeros(3), atol=1e-6):
                _fail(name, "The samples do not vary: z must include the noise term σ ⊙ ε.")
            if _close(var, var_row / 12, rtol=0.05):
                _fail(name, "The variance is σ²/12, that of uniform noise: ε must be drawn from N(0, I).")
            _fail(name, f"The sample variance is {[round(v, 3) for v in var.tolist()]}, expected σ² = {var_row.tolist()}.")
        with _student_code(name, "your function, called twice"):
            again = fn(mu[:5], logvar[:5]).detach()
            twice = fn(mu[:5], logvar[:5]).detach()
        if torch.equal(again, twice):
            _fail(name, "Two calls gave the same z: draw fresh noise ε every call (no fixed seed inside).")

        mu_g = torch.randn(4, 3).requires_grad_()
        logvar_g = torch.randn(4, 3).requires_grad_()
        with _student_code(name, "backward through your z"):
            z_g = fn(mu_g, logvar_g)
            if not isinstance(z_g, torch.Tensor) or not z_g.requires_grad:
                _fail(name, "z is cut off from μ and log σ² (no gradient can flow): it was detached, drawn with "
                      "torch.normal(μ, σ) or computed under no_grad. Build z = μ + σ ⊙ ε from a separately drawn ε.")
            z_g.sum().backward()
        if mu_g.grad is not None and not mu_g.grad.any():
            _fail(name, "The gradient reaching μ is 0: the sample was drawn by a sampler (torch.normal(μ, σ), "
                  "Normal(μ, σ).sample()) that gives no gradient. Draw ε separately and build z = μ + σ ⊙ ε.")
        if mu_g.grad is None or not _close(mu_g.grad, torch.ones(4, 3)):
            _fail(name, "∂z/∂μ is not 1: z must be μ plus the noise term, with the gradient flowing to μ.")
        if logvar_g.grad is None or not _close(logvar_g.grad, 0.5 * (z_g.detach() - mu_g.detach()), atol=1e-5):
            _fail(name, "∂z/∂log σ² is not ½ σ ε: the noise term must be exp(½ log σ²) ⊙ ε, differentiable in log σ².")
    _passed(name, "mean, variance and fresh noise are right, and gradients reach μ (= 1) and log σ² (= ½ σ ε).")


# ---------------------------------------------------------------------------------------------
# The closed-form KL
# ---------------------------------------------------------------------------------------------

def check_kl_divergence(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(mu, logvar)`` = KL[N(μ, diag σ²) ‖ N(0, I)] = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), per row (B,)."""
    name = "check_kl_divergence"
    _expect_callable(name, fn, "your KL function")
    with _seeded() as g:
        for batch, dim in ((4, 3), (6, 8), (1, 16)):
            mu, logvar = torch.randn(batch, dim, generator=g), torch.randn(batch, dim, generator=g)
            expected = kl_to_standard_normal(mu, logvar)
            case = f"On μ, log σ² of shape {(batch, dim)}: "
            with _student_code(name, f"your function on shape {(batch, dim)}"):
                value = fn(mu, logvar)
            if isinstance(value, torch.Tensor) and value.ndim == 0:
                _fail(name, case + "it returned a single number: return one KL per row (B,), summed over the "
                      "latent dimensions only (the loss averages over the batch later).")
            value = _expect_tensor(name, case + "it", value, (batch,))
            if _close(value, expected, atol=1e-5):
                continue
            var = logvar.exp()
            terms = mu.pow(2) + var - logvar - 1
            known = [
                (-expected, "the sign is flipped: a KL divergence is never negative."),
                (0.5 * terms.mean(1), "you averaged over the latent dimensions; the KL of a diagonal Gaussian is a sum over them."),
                (terms.sum(1), "the factor ½ is missing."),
                (0.5 * (mu.pow(2) + var - logvar).sum(1), "the −1 inside the sum is missing (the KL of N(0, I) to itself must be 0)."),
                (0.5 * (mu.pow(2) + logvar.exp().sqrt() - 0.5 * logvar - 1).sum(1),
                 "σ and σ² are mixed up: log σ² is the log-*variance*, so σ² = exp(log σ²)."),
                (0.5 * (mu.pow(2) + var + logvar - 1).sum(1), "the sign of the log σ² term is wrong."),
            ]
            for wrong, hint in known:
                if _close(value, wrong, atol=1e-5):
                    _fail(name, case + hint)
            _fail(name, case + "the values differ from ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1).")
        # The KL of N(0, I) to itself is 0, and any other Gaussian is further away.
        with _student_code(name, "your function at μ = 0, log σ² = 0"):
            zero = fn(torch.zeros(2, 5), torch.zeros(2, 5))
        if not _close(zero, torch.zeros(2), atol=1e-6):
            _fail(name, "At μ = 0, σ = 1 the KL must be exactly 0.")
    _passed(name, "3 hidden batches agree with ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), and KL[N(0, I) ‖ N(0, I)] = 0.")


# ---------------------------------------------------------------------------------------------
# The negative ELBO
# ---------------------------------------------------------------------------------------------

def check_negative_elbo(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x_hat, x, mu, logvar, sigma_x)`` = (1/B) Σ_b [‖x_b − x̂_b‖²/(2σ_x²) + (D/2) log(2πσ_x²) + KL_b].

    The documented reduction: per image, sum over pixels and latent dimensions; then the batch mean.
    """
    name = "check_negative_elbo"
    _expect_callable(name, fn, "your negative-ELBO function")
    with _seeded() as g:
        for shape, latent, sigma_x in (((4, 1, 8, 8), 3, 0.1), ((3, 1, 6, 6), 5, 0.3), ((5, 1, 4, 4), 2, 1.0)):
            x = torch.rand(shape, generator=g)
            x_hat = torch.rand(shape, generator=g).requires_grad_()
            mu = torch.randn(shape[0], latent, generator=g).requires_grad_()
            logvar = torch.randn(shape[0], latent, generator=g).requires_grad_()
            expected = negative_elbo(x_hat, x, mu, logvar, sigma_x=sigma_x).loss.detach()
            case = f"On images {shape}, latent size {latent}, σ_x = {sigma_x}: "
            with _student_code(name, f"your function on images of shape {shape}"):
                value = fn(x_hat, x, mu, logvar, sigma_x)
            if not isinstance(value, torch.Tensor) or value.ndim != 0:
                got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                _fail(name, case + f"it returned {got}; return a scalar tensor: the batch mean of the per-image loss.")
            if value.grad_fn is None:
                _fail(name, case + "the loss is cut off from the autograd graph (detached, or made from a Python number).")
            if _close(value.detach(), expected, rtol=1e-4, atol=1e-3):
                continue
            value = value.detach()
            d = x[0].numel()
            nll = gaussian_nll(x_hat, x, sigma_x).detach()
            kl = kl_to_standard_normal(mu, logvar).detach()
            squared = (x - x_hat).detach().pow(2).flatten(1).sum(1)
            constant = 0.5 * d * math.log(2 * math.pi * sigma_x**2)
            known = [
                (nll.mean(), "the KL term is missing."),
                ((nll - kl).mean(), "the KL enters with the wrong sign: the *negative* ELBO adds it."),
                (-(nll + kl).mean(), "the sign is flipped: minimise the negative ELBO, −log p_θ(x|z) + KL."),
                ((squared / (2 * sigma_x**2) + kl).mean(), "the constant (D/2) log(2πσ_x²) of the Gaussian is missing "
                 "(it does not change the gradients, but without it the loss is not in nats)."),
                ((squared / sigma_x**2 + constant + kl).mean(), "the squared error must be divided by 2σ_x², not σ_x²."),
                ((squared + constant + kl).mean(), "the squared error is not scaled: divide it by 2σ_x²."),
                ((nll + kl).sum(), "you summed over the batch; average the per-image values instead."),
                (nll.mean() / d + kl.mean(), "the reconstruction term was averaged over the pixels; it is a per-image sum."),
                (nll.mean() + kl.mean() / mu.shape[1], "the KL was averaged over the latent dimensions; it is a sum."),
            ]
            for wrong, hint in known:
                if _close(value, wrong, rtol=1e-4, atol=1e-3):
                    _fail(name, case + hint)
            _fail(name, case + f"got {value.item():.4g}, expected {expected.item():.4g}.")
    _passed(name, "3 hidden batches agree: per-image Gaussian NLL + KL, averaged over the batch, in nats.")


# ---------------------------------------------------------------------------------------------
# Conditioning a CVAE
# ---------------------------------------------------------------------------------------------

def check_cvae_condition(fn: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]) -> None:
    """Check ``fn(h, labels, n_classes)`` = [h, one_hot(labels)] (B, F + n_classes), differentiable in h."""
    name = "check_cvae_condition"
    _expect_callable(name, fn, "your conditioning function")
    with _seeded() as g:
        for batch, features, n_classes in ((5, 7, 4), (3, 2, 10), (6, 16, 2)):
            h = torch.randn(batch, features, generator=g).requires_grad_()
            labels = torch.randint(n_classes, (batch,), generator=g)
            labels[0] = n_classes - 1  # the last class always occurs
            case = f"With {batch} samples, {features} features and {n_classes} classes: "
            with _student_code(name, f"your function on h {(batch, features)} with {n_classes} classes"):
                out = fn(h, labels, n_classes)
            if isinstance(out, torch.Tensor) and tuple(out.shape) == (batch, features + 1):
                _fail(name, case + "the label was appended as one number; append it one-hot, a column per class, "
                      "so that the network does not read the class index as a size.")
            out = _expect_tensor(name, case + "it", out, (batch, features + n_classes))
            code = one_hot(labels, n_classes)
            if not _close(out[:, :features], h, atol=1e-6):
                if _close(out[:, n_classes:], h, atol=1e-6):
                    _fail(name, case + "the one-hot code came first; append it after the features, [h, one-hot].")
                _fail(name, case + "the first F columns must be h itself, unchanged.")
            tail = out[:, features:].detach()
            if not ((tail == 0) | (tail == 1)).all() or not (tail.sum(1) == 1).all():
                _fail(name, case + "the appended part is not one-hot: each row needs exactly one 1, the rest 0.")
            if not torch.equal(tail, code):
                _fail(name, case + "the 1 is in the wrong column: class c goes in column c of the code (0-based).")
            if not out.requires_grad:
                _fail(name, case + "the output is cut off from h: gradients must flow back to the encoder's features.")
    _passed(name, "3 hidden batches give [h, one-hot(c)], with gradients flowing to h.")


# ---------------------------------------------------------------------------------------------
# The AR-VAE's attribute regularization
# ---------------------------------------------------------------------------------------------

def _attribute_cases(g: torch.Generator) -> list[tuple[str, torch.Tensor, torch.Tensor, float]]:
    """Hidden batches (title, z_r, attribute, δ): even and odd sizes, ties, negative and skewed attributes.
    The codes are small enough that tanh(δ·D_r) is not saturated, so δ and tanh both matter."""
    return [
        ("8 samples, uniform attribute, δ = 1", torch.randn(8, generator=g), torch.rand(8, generator=g), 1.0),
        ("7 samples, attribute with ties, δ = 10", 0.2 * torch.randn(7, generator=g),
         torch.tensor([2.0, 0.0, 1.0, 2.0, 0.0, 2.0, 1.0]), 10.0),
        ("5 samples, negative skewed attribute, δ = 1", 0.7 * torch.randn(5, generator=g),
         -torch.randn(5, generator=g).exp(), 1.0),
        ("12 samples, negative attribute with ties, δ = 10", 0.15 * torch.randn(12, generator=g),
         torch.randint(4, (12,), generator=g).float() * -2.5 - 0.5, 10.0),
    ]


def _attribute_mistakes(z: torch.Tensor, a: torch.Tensor, delta: float) -> list[tuple[torch.Tensor, str]]:
    """Values that plausible mistakes give on one hidden batch, each with the hint that names the mistake."""
    n = len(z)
    d_r = z[:, None] - z[None, :]
    d_a = a[:, None] - a[None, :]
    t, s = torch.tanh(delta * d_r), torch.sign(d_a)
    per_pair = (t - s).abs()
    return [
        ((t + s).abs().mean(), "the code differences and the attribute differences are taken in opposite orders "
         "(one as i − j, the other as j − i), so the loss rewards codes that run *against* the attribute; take "
         "both differences in the same order."),
        (per_pair.sum() / (n * n - n), "you averaged over the B(B − 1) pairs with i ≠ j only; the mean runs over "
         "all B² pairs (i, j), the diagonal included."),
        (per_pair.sum(), "you summed over the pairs; average instead (the loss lies between 0 and 2)."),
        (per_pair.sum(1).mean(), "you summed over one index of the pairs and averaged over the other; average over "
         "all B² pairs."),
        ((torch.tanh(d_r) - s).abs().mean(), "δ is missing: the code differences must be scaled by δ inside tanh "
         "(δ sets how sharply a distance becomes an order)."),
        ((delta * torch.tanh(d_r) - s).abs().mean(), "δ multiplies the tanh instead of the code differences "
         "inside it."),
        ((delta * d_r - s).abs().mean(), "tanh is missing: the raw (scaled) code differences are compared with "
         "the attribute's signs, which lie in {−1, 0, 1}; squash δ·D_r into (−1, 1) first."),
        ((d_r - s).abs().mean(), "tanh and δ are missing: the raw code differences are compared with the "
         "attribute's signs, which lie in {−1, 0, 1}."),
        ((t - s).pow(2).mean(), "you squared the differences; the loss is the mean *absolute* difference."),
        ((t - d_a).abs().mean(), "you compared with the attribute differences themselves; the loss uses only their "
         "sign (the order), so it must not change when the attribute is rescaled."),
        ((t - torch.tanh(delta * d_a)).abs().mean(), "you took tanh of the attribute differences too; the attribute "
         "side uses only their sign, −1, 0 or 1 (the order)."),
        ((torch.sign(d_r) - s).abs().mean(), "you took the sign of the code differences: sign has a zero gradient "
         "everywhere, so z_r could never learn from the loss. The code side must be the smooth tanh(δ·D_r)."),
    ]


def check_attribute_regularization(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(z_r, attribute, delta)``, the AR-VAE's attribute loss (Pati & Lerch, 2021),

        D_r[i, j] = z_r,i − z_r,j,   D_a[i, j] = a_i − a_j,
        L_r = (1/B²) Σ_{i,j} | tanh(δ · D_r[i, j]) − sign(D_a[i, j]) |,

    on hidden batches (odd sizes, attributes with ties, negative and skewed attributes, δ = 1 and
    10): a 0-d tensor with the reference's value and the reference's gradient with respect to z_r,
    inputs left unchanged.
    """
    name = "check_attribute_regularization"
    _expect_callable(name, fn, "your attribute-regularization function")
    with _seeded() as g:
        cases = _attribute_cases(g)
        for i, (title, z_values, attribute, delta) in enumerate(cases, start=1):
            n = len(z_values)
            z = z_values.clone().requires_grad_()
            z_copy, attribute_copy = z_values.clone(), attribute.clone()
            case = f"On batch {i} ({title}): "
            with _student_code(name, f"your function on batch {i}"):
                value = fn(z, attribute, delta)
            if value is None:
                _fail(name, case + "it returned None: did you forget the return statement?")
            if isinstance(value, (int, float)):
                _fail(name, case + f"it returned a Python {type(value).__name__}; return a 0-d tensor that autograd "
                      "can differentiate (no .item() or float()).")
            if not isinstance(value, torch.Tensor):
                _fail(name, case + f"it returned a {type(value).__name__}, expected a 0-d tensor.")
            if value.ndim != 0:
                per = {(n,): "one number per sample", (n, n): "one number per pair (i, j)"}.get(
                    tuple(value.shape), "more than one number")
                _fail(name, case + f"it returned shape {tuple(value.shape)}, {per}; the loss is one number: the "
                      "mean over all pairs (i, j).")
            for given, kept, what in ((z, z_copy, "z_r"), (attribute, attribute_copy, "attribute")):
                if given.shape != kept.shape or not torch.equal(given.detach(), kept):
                    _fail(name, case + f"your function changed its input `{what}` in place; the caller still needs "
                          "it. Work on new tensors (no in-place operations such as `-=`, `.sub_()`, `[...] =` on "
                          "the inputs).")
            if value.grad_fn is None:
                _fail(name, case + "the result is cut off from the autograd graph (no grad_fn): no gradient could "
                      "reach z_r. Was z_r detached, turned into numbers, or the loss computed under no_grad?")
            if not torch.isfinite(value):
                _fail(name, case + f"the loss is {value.item()}; it must be a finite number between 0 and 2.")
            expected = attribute_regularization(z_copy, attribute_copy, delta)
            if not _close(value.detach(), expected, rtol=1e-4, atol=1e-6):
                hint = "the value differs from the mean over all pairs of |tanh(δ·D_r) − sign(D_a)|."
                for wrong, known in _attribute_mistakes(z_copy, attribute_copy, delta):
                    if _close(value.detach(), wrong, rtol=1e-4, atol=1e-6):
                        hint = known
                        break
                _fail(name, case + f"got {value.item():.6g}, expected {expected.item():.6g}: {hint}")
            (grad,) = torch.autograd.grad(value, z, allow_unused=True)
            reference = z_copy.clone().requires_grad_()
            (ref_grad,) = torch.autograd.grad(attribute_regularization(reference, attribute_copy, delta), reference)
            if grad is None or not _close(grad, ref_grad, rtol=1e-4, atol=1e-6):
                if grad is None or not grad.any():
                    _fail(name, case + "the value is right, but no gradient reaches z_r: the code side must be a "
                          "differentiable function of z_r (no sign, rounding or detach on it).")
                _fail(name, case + "the value is right, but its gradient with respect to z_r is not: both codes "
                      "of every pair, z_r,i and z_r,j, must enter through differentiable operations (nothing "
                      "detached).")
    _passed(name, f"{len(cases)} hidden batches (odd sizes, ties, negative attributes, δ = 1 and 10) agree with the "
            "reference in value and in the gradient reaching z_r.")
