"""Self-checks for lecture 03 (the VAE): reparametrization, the closed-form KL, the negative ELBO,
the conditioning of a conditional VAE, and the AR-VAE's attribute regularization.

Besides the values, every check probes behaviour the next notebook cells rely on: the inputs are
left unchanged (the caller still needs μ, log σ², h, z_r), no backward() runs inside, the gradient
reaches exactly the inputs it must (compared with the reference's gradient), the dtype follows the
input, and for the sampler every call draws fresh, independent noise. The inputs given to the
student's code are non-leaf tensors, as an encoder's outputs are, so an in-place change is
silently possible (as in the notebook) and is detected by comparing with a copy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from course_lib.checks._framework import (
    _close, _expect_callable, _expect_tensor, _fail, _passed, _seeded, _student_code,
)
from course_lib.vae import attribute_regularization, gaussian_nll, kl_to_standard_normal, negative_elbo, one_hot

__all__ = ["check_reparametrize", "check_kl_divergence", "check_negative_elbo", "check_cvae_condition",
           "check_attribute_regularization"]


# ---------------------------------------------------------------------------------------------
# Probes shared by the checks of this module
# ---------------------------------------------------------------------------------------------

def _inputs(*leaves: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Non-leaf copies of ``leaves`` (like an encoder's outputs): an in-place change on them does not raise,
    as it does not in the notebook, and the gradient still reaches the leaves."""
    return tuple(leaf.clone() for leaf in leaves)


def _changed(given: object, kept: torch.Tensor) -> bool:
    return not isinstance(given, torch.Tensor) or given.shape != kept.shape or not torch.equal(given.detach(), kept)


def _unchanged(name: str, case: str, inputs: Iterable[tuple[torch.Tensor, torch.Tensor, str]], why: str) -> None:
    """Fail, naming the input, if one of the (given, copy, name) inputs was modified in place."""
    for given, kept, what in inputs:
        if _changed(given, kept):
            _fail(name, case + f"your function changed its input `{what}` in place ({why}). Work on new tensors: "
                  f"no in-place operations such as `{what}.add_()`, `{what} += …`, `{what}[...] = …` on the "
                  f"inputs (and `t = {what}` does not copy: `t += …` changes `{what}` too).")


def _no_backward_inside(name: str, case: str, leaves: Iterable[torch.Tensor]) -> None:
    """Fail if the student's function already ran backward(): gradients were accumulated into the leaves."""
    if any(leaf.grad is not None for leaf in leaves):
        _fail(name, case + "your function ran backward() itself (gradients were already accumulated when it "
              "returned): return the value only; the training step calls backward() once, on the total loss.")


def _grad_close(grad: torch.Tensor | None, reference: torch.Tensor, rtol: float = 1e-4) -> bool:
    """Gradients agree up to float32 round-off. Each entry here is a product of a few elementwise float32
    factors (a relative error of a few ulp, ~1e-6) or a difference of two inputs (an absolute error of an
    ulp of the inputs, ~1e-7 for |inputs| ≲ 4); rtol 1e-4 with atol 1e-6 of the largest entry leaves a
    margin of ~100× for the order of operations, one thread or ATEN_CPU_CAPABILITY=default."""
    if grad is None or grad.shape != reference.shape:
        return False
    return _close(grad, reference, rtol=rtol, atol=1e-6 * max(1.0, reference.abs().max().item()))


def _missing(grad: torch.Tensor | None) -> bool:
    return grad is None or not grad.any()


# ---------------------------------------------------------------------------------------------
# reparametrize
# ---------------------------------------------------------------------------------------------

_REPARAM_WHY = "the caller still needs μ and log σ², for the KL term and the next sample"
_INPUTS_WHY = "the caller still needs every input after the call"


def check_reparametrize(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(mu, logvar) -> z``: z ~ N(μ, diag exp(log σ²)), random, with gradients to μ and log σ².

    Probes, in the order a mistake is named: the inputs stay unchanged; z is a tensor of μ's shape
    and dtype; sample statistics on a large batch (mean μ, variance σ², no correlation between the
    latent dimensions, no noise shared by the rows); every call new noise (three calls); and the
    gradients for random upstream weights w: ∂/∂μ = w and ∂/∂log σ² = w ⊙ ½ σ ε = w ⊙ ½ (z − μ).
    """
    name = "check_reparametrize"
    _expect_callable(name, fn, "your reparametrize function")
    with _seeded() as g:
        n, mu_row, var_row = 100_000, torch.tensor([1.5, -0.5, 0.0]), torch.tensor([0.25, 1.0, 4.0])
        std_row = var_row.sqrt()
        mu, logvar = mu_row.expand(n, 3).clone(), var_row.log().expand(n, 3).clone()
        kept = [(mu, mu.clone(), "mu"), (logvar, logvar.clone(), "logvar")]
        with _student_code(name, f"your function on a batch of shape {(n, 3)}"):
            z = fn(mu, logvar)
        _unchanged(name, "", kept, _REPARAM_WHY)
        z = _expect_tensor(name, f"On μ, log σ² of shape {(n, 3)}, it", z, (n, 3))
        if z.dtype != mu.dtype:
            _fail(name, f"z is {z.dtype} while μ is {mu.dtype}: draw ε with μ's dtype (as torch.randn_like(mu) "
                  f"does; NumPy noise is float64); a {z.dtype} z does not fit the decoder's {mu.dtype} weights.")
        z = z.detach()
        if torch.equal(z, mu):
            _fail(name, "The samples do not vary: z must include the noise term σ ⊙ ε.")
        if torch.equal(z, z[:1].expand_as(z)):
            _fail(name, "Every row got the same noise: ε must have μ's full shape (B, k), one independent draw "
                  "per sample and latent dimension (torch.randn_like(mu)), not one vector shared by the batch.")
        # Statistical margins: with n = 100 000 the standard error of a mean is ≤ σ/316 ≤ 0.0063 (atol 0.03 is
        # ~5 standard errors), of a variance ≈ √(2/n) = 0.45 % (rtol 5 % is ~11), of a correlation 0.0032.
        mean, var = z.mean(0), z.var(0)
        if not _close(mean, mu_row, atol=0.03):
            if _close(mean, mu_row + 0.5 * std_row, atol=0.03):
                _fail(name, "The samples are centred at μ + σ/2: ε must be standard *normal* (mean 0), "
                      "not uniform on [0, 1).")
            if _close(mean, mu_row + std_row, atol=0.03):
                _fail(name, "The samples are centred at μ + σ: the noise term is the product σ ⊙ ε, not the sum "
                      "σ + ε.")
            _fail(name, f"The sample mean is {[round(v, 2) for v in mean.tolist()]}, expected μ = {mu_row.tolist()}.")
        if not _close(var, var_row, rtol=0.05):
            if _close(var, var_row**2, rtol=0.05):
                _fail(name, "The sample variance is σ⁴: you multiplied ε by σ² = exp(log σ²); the standard "
                      "deviation is σ = exp(½ log σ²).")
            if _close(var, var_row.log() ** 2, rtol=0.05, atol=0.02):
                _fail(name, "The sample variance is (log σ²)²: you multiplied ε by log σ² itself; turn it into "
                      "the standard deviation first.")
            if _close(var, 1 / var_row, rtol=0.05):
                _fail(name, "The sample variance is 1/σ²: the sign in the exponent is flipped; the standard "
                      "deviation is σ = exp(+½ log σ²).")
            if _close(var, var_row / 12, rtol=0.05):
                _fail(name, "The variance is σ²/12, that of uniform noise: ε must be drawn from N(0, I).")
            if _close(var, torch.ones(3), rtol=0.05):
                _fail(name, "The sample variance is 1 whatever log σ² is: the noise must be scaled by "
                      "σ = exp(½ log σ²).")
            _fail(name, f"The sample variance is {[round(v, 3) for v in var.tolist()]}, expected σ² = {var_row.tolist()}.")
        noise = (z - mu_row) / std_row
        correlation = torch.corrcoef(noise.T) - torch.eye(3)
        if correlation.abs().max() > 0.05:
            _fail(name, "The latent dimensions of one sample got correlated noise (one ε per row, broadcast over "
                  "its k dimensions?): draw an independent ε for every entry, of μ's full shape (B, k).")

        # Fresh noise: three calls on one (μ, log σ²) must give three different z (a seed fixed inside, a
        # cached ε, a generator re-created every call all give the same z twice).
        samples = []
        for _ in range(3):
            small_mu, small_logvar = mu[:5].clone(), logvar[:5].clone()
            with _student_code(name, "your function, called again on the same μ and log σ²"):
                sample = fn(small_mu, small_logvar)
            _unchanged(name, "", [(small_mu, mu[:5], "mu"), (small_logvar, logvar[:5], "logvar")], _REPARAM_WHY)
            samples.append(_expect_tensor(name, "On μ, log σ² of shape (5, 3), it", sample, (5, 3)).detach().clone())
        if any(torch.equal(a, b) for i, a in enumerate(samples) for b in samples[i + 1:]):
            _fail(name, "Two calls gave the same z: draw fresh noise ε every call (no fixed seed, no generator "
                  "re-created with a seed, no ε kept from an earlier call).")

        # Gradients, for random upstream weights (a sum would hide a mix-up between entries).
        # The probe's data come from the check's own generator g, so a student's use of (or seed for) the
        # global generator cannot line up with them.
        mu_leaf = torch.randn(4, 3, generator=g).requires_grad_()
        logvar_leaf = torch.randn(4, 3, generator=g).requires_grad_()
        mu_g, logvar_g = _inputs(mu_leaf, logvar_leaf)
        kept = [(mu_g, mu_leaf.detach().clone(), "mu"), (logvar_g, logvar_leaf.detach().clone(), "logvar")]
        with _student_code(name, "your function on μ, log σ² that require gradients"):
            z_g = fn(mu_g, logvar_g)
        _unchanged(name, "", kept, _REPARAM_WHY)
        _no_backward_inside(name, "", (mu_leaf, logvar_leaf))
        z_g = _expect_tensor(name, "On μ, log σ² of shape (4, 3) that require gradients, it", z_g, (4, 3))
        if not z_g.requires_grad:
            _fail(name, "z is cut off from μ and log σ² (no gradient can flow): it was detached, drawn with "
                  "Normal(μ, σ).sample(), or computed under no_grad. Build z = μ + σ ⊙ ε from a separately drawn ε.")
        weights = torch.randn(4, 3, generator=g)
        with _student_code(name, "backward through your z"):
            grad_mu, grad_logvar = torch.autograd.grad(z_g, (mu_leaf, logvar_leaf), weights, allow_unused=True)
        if grad_mu is None:
            _fail(name, "No gradient reaches μ: z was built from a detached μ (μ.detach(), μ.data or numbers); "
                  "∂z/∂μ must be 1.")
        if not grad_mu.any():
            _fail(name, "The gradient reaching μ is 0: the sample was drawn by a sampler (torch.normal(μ, σ), "
                  "Normal(μ, σ).sample()) that gives no gradient. Draw ε separately and build z = μ + σ ⊙ ε.")
        if not _grad_close(grad_mu, weights):
            _fail(name, "∂z/∂μ is not 1: z must be μ plus the noise term, with the gradient flowing to μ.")
        if _missing(grad_logvar):
            _fail(name, "No gradient reaches log σ²: σ was computed from a detached log σ² (detach, .data, "
                  ".item() or numbers); the noise term must be exp(½ log σ²) ⊙ ε, differentiable in log σ².")
        expected = weights * 0.5 * (z_g.detach().double() - mu_g.detach().double())
        if not _grad_close(grad_logvar, expected):
            _fail(name, "∂z/∂log σ² is not ½ σ ε: the noise term must be exp(½ log σ²) ⊙ ε, differentiable in log σ².")
    _passed(name, "mean, variance and fresh noise are right, and gradients reach μ (= 1) and log σ² (= ½ σ ε).")


# ---------------------------------------------------------------------------------------------
# The closed-form KL
# ---------------------------------------------------------------------------------------------

_GAUSSIAN_WHY = "the caller still needs μ and log σ², e.g. for the sample z and the next loss term"


def _kl_shape(name: str, case: str, value: object, batch: int, dim: int) -> torch.Tensor:
    """The KL must be one value per row, (B,): name the reduction that went wrong."""
    if isinstance(value, torch.Tensor) and tuple(value.shape) != (batch,):
        shape = tuple(value.shape)
        if value.ndim == 0:
            _fail(name, case + "it returned a single number: return one KL per row (B,), summed over the "
                  "latent dimensions only (the loss averages over the batch later).")
        if shape == (batch, 1):
            _fail(name, case + f"it returned shape {shape}: drop the kept dimension (no keepdim=True); a "
                  f"(B, 1) KL added to a (B,) reconstruction term broadcasts to (B, B).")
        if shape == (dim,):
            _fail(name, case + f"it returned shape {shape}, one value per latent dimension: you summed over the "
                  "batch (dim 0); sum over the latent dimensions (dim 1) instead.")
        if shape == (batch, dim):
            _fail(name, case + f"it returned shape {shape}, one value per entry: sum over the latent dimensions "
                  "(dim 1) to get one KL per row.")
    return _expect_tensor(name, case + "it", value, (batch,))


def check_kl_divergence(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``fn(mu, logvar)`` = KL[N(μ, diag σ²) ‖ N(0, I)] = ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), per row (B,).

    On each hidden batch: inputs unchanged, no backward() inside, the shape (B,), the value, and the
    gradient for random per-row weights w: ∂/∂μ = w μ, ∂/∂log σ² = w ½ (σ² − 1). Then KL = 0 at μ = 0, σ = 1.
    """
    name = "check_kl_divergence"
    _expect_callable(name, fn, "your KL function")
    with _seeded() as g:
        for batch, dim, spread in ((4, 3, 1.0), (6, 8, 1.0), (1, 16, 2.0)):
            mu_leaf = torch.randn(batch, dim, generator=g).requires_grad_()
            logvar_leaf = (spread * torch.randn(batch, dim, generator=g)).requires_grad_()
            mu, logvar = _inputs(mu_leaf, logvar_leaf)
            mu_c, logvar_c = mu_leaf.detach().clone(), logvar_leaf.detach().clone()
            expected = kl_to_standard_normal(mu_c, logvar_c)
            case = f"On μ, log σ² of shape {(batch, dim)}: "
            with _student_code(name, f"your function on shape {(batch, dim)}"):
                value = fn(mu, logvar)
            _unchanged(name, case, [(mu, mu_c, "mu"), (logvar, logvar_c, "logvar")], _GAUSSIAN_WHY)
            _no_backward_inside(name, case, (mu_leaf, logvar_leaf))
            value = _kl_shape(name, case, value, batch, dim)
            # Tolerance: a sum of ≤ 16 float32 terms of size ≤ e^{2·3}: round-off ≲ 16 ulp of the sum,
            # a relative 2e-6; rtol 1e-4 (atol 1e-5 near 0) is two orders above it, for any summation order.
            if not _close(value.detach(), expected, atol=1e-5):
                var = logvar_c.exp()
                terms = mu_c.pow(2) + var - logvar_c - 1
                known = [
                    (-expected, "the sign is flipped: a KL divergence is never negative."),
                    (0.5 * terms.mean(1), "you averaged over the latent dimensions; the KL of a diagonal Gaussian "
                     "is a sum over them."),
                    (terms.sum(1), "the factor ½ is missing."),
                    (0.5 * (mu_c.pow(2) + var - logvar_c).sum(1), "the −1 inside the sum is missing (the KL of "
                     "N(0, I) to itself must be 0)."),
                    (0.5 * (mu_c.pow(2) + var.sqrt() - 0.5 * logvar_c - 1).sum(1),
                     "σ and σ² are mixed up: log σ² is the log-*variance*, so σ² = exp(log σ²)."),
                    (0.5 * (mu_c.pow(2) + var.pow(2) - logvar_c - 1).sum(1), "the variance term is σ⁴: "
                     "exp(log σ²) is already the variance σ², do not square it."),
                    (0.5 * (mu_c.pow(2) + var - 0.5 * logvar_c - 1).sum(1), "the log term is log σ = ½ log σ²; "
                     "the KL has log σ², which is logvar itself."),
                    (0.5 * (mu_c.pow(2) + var + logvar_c - 1).sum(1), "the sign of the log σ² term is wrong."),
                    (0.5 * (mu_c + var - logvar_c - 1).sum(1), "μ enters squared: the term is μ_j², not μ_j."),
                ]
                hint = next((h for wrong, h in known if _close(value.detach(), wrong, atol=1e-5)),
                            "the values differ from ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1).")
                _fail(name, case + hint)
            if value.grad_fn is None:
                _fail(name, case + "the values are right, but the KL is cut off from the autograd graph (detached, "
                      "or made from numbers: .item(), NumPy, torch.tensor(...)): the encoder could not learn from it.")
            weights = torch.rand(batch, generator=g) + 0.5
            with _student_code(name, "backward through your KL"):
                grad_mu, grad_logvar = torch.autograd.grad(value, (mu_leaf, logvar_leaf), weights, allow_unused=True)
            for grad, reference, what in ((grad_mu, weights[:, None] * mu_c, "μ"),
                                          (grad_logvar, weights[:, None] * 0.5 * (logvar_c.exp() - 1), "log σ²")):
                if _missing(grad):
                    _fail(name, case + f"the values are right, but no gradient reaches {what}: its terms were "
                          "computed from a detached copy or from numbers (detach, .data, .item(), NumPy).")
                if not _grad_close(grad, reference):
                    _fail(name, case + f"the values are right, but the gradient with respect to {what} is not: "
                          f"every term in {what} must stay differentiable (one of them is detached or constant).")
        # The KL of N(0, I) to itself is 0, and any other Gaussian is further away.
        with _student_code(name, "your function at μ = 0, log σ² = 0"):
            zero = fn(torch.zeros(2, 5), torch.zeros(2, 5))
        zero = _kl_shape(name, "At μ = 0, log σ² = 0: ", zero, 2, 5)
        if not _close(zero.detach(), torch.zeros(2), atol=1e-6):
            _fail(name, "At μ = 0, σ = 1 the KL must be exactly 0.")
    _passed(name, "3 hidden batches agree with ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), and KL[N(0, I) ‖ N(0, I)] = 0.")


# ---------------------------------------------------------------------------------------------
# The negative ELBO
# ---------------------------------------------------------------------------------------------

def _elbo_mistakes(x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                   sigma_x: float) -> list[tuple[torch.Tensor, str]]:
    """Values that plausible mistakes give on one hidden batch (detached inputs), each with its hint."""
    d = x[0].numel()
    nll = gaussian_nll(x_hat, x, sigma_x)
    kl = kl_to_standard_normal(mu, logvar)
    squared = (x - x_hat).pow(2).flatten(1).sum(1)
    constant = 0.5 * d * math.log(2 * math.pi * sigma_x**2)
    scaled = squared / (2 * sigma_x**2)
    return [
        (nll.mean(), "the KL term is missing."),
        ((nll - kl).mean(), "the KL enters with the wrong sign: the *negative* ELBO adds it."),
        (-(nll + kl).mean(), "the sign is flipped: minimise the negative ELBO, −log p_θ(x|z) + KL."),
        ((scaled + kl).mean(), "the constant (D/2) log(2πσ_x²) of the Gaussian is missing "
         "(it does not change the gradients, but without it the loss is not in nats)."),
        ((squared / sigma_x**2 + constant + kl).mean(), "the squared error must be divided by 2σ_x², not σ_x²."),
        ((squared + constant + kl).mean(), "the squared error is not scaled: divide it by 2σ_x²."),
        ((squared / (2 * sigma_x) + 0.5 * d * math.log(2 * math.pi * sigma_x) + kl).mean(),
         "σ_x was used as the variance: it is the standard deviation, the variance is σ_x² (in the scaling 2σ_x² "
         "and inside the log)."),
        ((scaled + 0.5 * d * math.log(2 * math.pi * sigma_x) + kl).mean(), "the constant must be "
         "(D/2) log(2πσ_x²), with σ_x *squared* inside the log."),
        ((scaled + 0.5 * d * math.log(sigma_x**2) + kl).mean(), "the constant (D/2) log(2πσ_x²) is missing its 2π."),
        ((scaled + 2 * constant + kl).mean(), "the constant must be (D/2) log(2πσ_x²): its factor ½ is missing."),
        ((nll + kl).sum(), "you summed over the batch; average the per-image values instead."),
        (nll.sum() + kl.mean(), "the reconstruction term is summed over the batch but the KL averaged: average "
         "both per-image terms over the batch."),
        (nll.mean() + kl.sum(), "the KL is summed over the batch but the reconstruction term averaged: average "
         "both per-image terms over the batch."),
        (nll.mean() / d + kl.mean(), "the reconstruction term was averaged over the pixels; it is a per-image sum."),
        ((squared / d / (2 * sigma_x**2) + constant + kl).mean(), "the squared error was averaged over the pixels "
         "(as F.mse_loss's default reduction does); it is a per-image sum."),
        (nll.mean() + kl.mean() / mu.shape[1], "the KL was averaged over the latent dimensions; it is a sum."),
    ]


def check_negative_elbo(fn: Callable[..., torch.Tensor]) -> None:
    """Check ``fn(x_hat, x, mu, logvar, sigma_x)`` = (1/B) Σ_b [‖x_b − x̂_b‖²/(2σ_x²) + (D/2) log(2πσ_x²) + KL_b].

    The documented reduction: per image, sum over pixels and latent dimensions; then the batch mean.
    On each hidden batch: inputs unchanged, no backward() inside, a 0-d tensor, the value, and the
    gradient reaching x̂ (the decoder), μ and log σ² (the encoder), against the reference's.
    """
    name = "check_negative_elbo"
    _expect_callable(name, fn, "your negative-ELBO function")
    with _seeded() as g:
        for shape, latent, sigma_x in (((4, 1, 8, 8), 3, 0.1), ((3, 1, 6, 6), 5, 0.3), ((5, 1, 4, 4), 2, 1.0)):
            x = torch.rand(shape, generator=g)
            leaves = (torch.rand(shape, generator=g).requires_grad_(),
                      torch.randn(shape[0], latent, generator=g).requires_grad_(),
                      torch.randn(shape[0], latent, generator=g).requires_grad_())
            x_hat, mu, logvar = _inputs(*leaves)  # non-leaf, like the decoder's and the encoder's outputs
            copies = [leaf.detach().clone() for leaf in leaves]
            x_c = x.clone()
            references = [c.clone().requires_grad_() for c in copies]
            expected = negative_elbo(references[0], x_c, references[1], references[2], sigma_x=sigma_x).loss
            case = f"On images {shape}, latent size {latent}, σ_x = {sigma_x}: "
            with _student_code(name, f"your function on images of shape {shape}"):
                value = fn(x_hat, x, mu, logvar, sigma_x)
            _unchanged(name, case, [(x_hat, copies[0], "x_hat"), (x, x_c, "x"), (mu, copies[1], "mu"),
                                    (logvar, copies[2], "logvar")], _INPUTS_WHY)
            _no_backward_inside(name, case, leaves)
            if not isinstance(value, torch.Tensor) or value.ndim != 0:
                got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                _fail(name, case + f"it returned {got}; return a scalar tensor: the batch mean of the per-image loss.")
            # Tolerance: a sum of ≤ 64 float32 terms per image, ≤ 5 images, of size ≤ ~100 nats, partly
            # cancelled by the constant: round-off ≲ 1e-5 relative; rtol 1e-4, atol 1e-3 nats are above it.
            if not _close(value.detach(), expected.detach(), rtol=1e-4, atol=1e-3):
                mistakes = _elbo_mistakes(copies[0], x_c, copies[1], copies[2], sigma_x)
                hint = next((h for wrong, h in mistakes if _close(value.detach(), wrong, rtol=1e-4, atol=1e-3)),
                            f"got {value.item():.4g}, expected {expected.item():.4g}.")
                _fail(name, case + hint)
            if value.grad_fn is None:
                _fail(name, case + "the loss is cut off from the autograd graph (detached, or made from a Python number).")
            with _student_code(name, "backward through your loss"):
                grads = torch.autograd.grad(value, leaves, allow_unused=True)
            reference_grads = torch.autograd.grad(expected, references)
            what = ("x̂", "μ", "log σ²")
            missing = [w for w, gr in zip(what, grads) if _missing(gr)]
            if len(missing) == 3:
                _fail(name, case + "the value is right, but no gradient reaches x̂, μ or log σ²: the loss is cut off "
                      "from its inputs (its value was detached or made from numbers), so nothing would learn.")
            if "μ" in missing and "log σ²" in missing:
                _fail(name, case + "the value is right, but no gradient reaches μ and log σ²: the KL term is cut off "
                      "from the graph (detached, .item(), or made from numbers), so the encoder would never be pulled "
                      "towards the prior.")
            if "x̂" in missing:
                _fail(name, case + "the value is right, but no gradient reaches x̂: the reconstruction term is cut off "
                      "from the graph (detached, .item(), or made from numbers), so the decoder would never learn.")
            if missing:
                _fail(name, case + f"the value is right, but no gradient reaches {missing[0]}: its part of the KL "
                      "is cut off from the graph (detached or made from numbers).")
            for gr, ref, w in zip(grads, reference_grads, what):
                if not _grad_close(gr, ref):
                    _fail(name, case + f"the value is right, but its gradient with respect to {w} is not the "
                          "reference's: some part of the loss is detached, or scaled outside the graph.")
    _passed(name, "3 hidden batches agree: per-image Gaussian NLL + KL, averaged over the batch, in nats.")


# ---------------------------------------------------------------------------------------------
# Conditioning a CVAE
# ---------------------------------------------------------------------------------------------

def _cvae_cases(g: torch.Generator) -> list[tuple[str, torch.Tensor, torch.Tensor, int]]:
    """Hidden batches (title, h, labels, C): the last class present, the last class absent (a one-hot
    whose width is read off the batch is then too narrow), and float64 features (the dtype must follow h)."""
    labels = torch.randint(4, (5,), generator=g)
    labels[0] = 3
    return [
        ("5 samples, 7 features, 4 classes", torch.randn(5, 7, generator=g), labels, 4),
        ("3 samples, 2 features, 10 classes, classes 7–9 absent", torch.randn(3, 2, generator=g),
         torch.tensor([6, 0, 3]), 10),
        ("6 samples, 16 float64 features, 2 classes", torch.randn(6, 16, generator=g, dtype=torch.float64),
         torch.tensor([1, 0, 0, 1, 1, 0]), 2),
    ]


def check_cvae_condition(fn: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]) -> None:
    """Check ``fn(h, labels, n_classes)`` = [h, one_hot(labels)] (B, F + n_classes), differentiable in h.

    On each hidden batch: inputs unchanged; the width F + C even when the last classes are absent
    from the batch; the dtype of h (float32 and float64); h unchanged in the first F columns, an
    exact one-hot in the last C; and the gradient reaching h is the identity (for random upstream
    weights), so the encoder's features still learn.
    """
    name = "check_cvae_condition"
    _expect_callable(name, fn, "your conditioning function")
    with _seeded() as g:
        for title, h_values, labels, n_classes in _cvae_cases(g):
            batch, features = h_values.shape
            h_leaf = h_values.clone().requires_grad_()
            (h,) = _inputs(h_leaf)  # non-leaf, like the encoder's features
            labels_c = labels.clone()
            case = f"With {title}: "
            with _student_code(name, f"your function on h {(batch, features)} with {n_classes} classes"):
                out = fn(h, labels, n_classes)
            _unchanged(name, case, [(h, h_values, "h"), (labels, labels_c, "labels")], _INPUTS_WHY)
            _no_backward_inside(name, case, (h_leaf,))
            code = one_hot(labels_c, n_classes)
            if isinstance(out, torch.Tensor) and out.ndim == 2 and len(out) == batch \
                    and out.shape[1] != features + n_classes:
                width = out.shape[1] - features
                observed = int(labels_c.max()) + 1
                tail = out[:, features:].detach()
                if width == observed and width > 1 and torch.equal(tail.double(), code[:, :width].double()):
                    _fail(name, case + f"the code has {width} columns, not {n_classes}: one_hot without the number "
                          "of classes reads the width off the largest label *in this batch*. Pass n_classes, so "
                          "that every batch gets C columns (the network's input size is fixed).")
                if width == 1:
                    _fail(name, case + "the label was appended as one number; append it one-hot, a column per "
                          "class, so that the network does not read the class index as a size.")
            out = _expect_tensor(name, case + "it", out, (batch, features + n_classes))
            if out.dtype != h.dtype:
                _fail(name, case + f"the output is {out.dtype} while h is {h.dtype}: the result must keep h's dtype "
                      f"(build the code with dtype=h.dtype, or cast it with .to(h)); do not cast h itself, and "
                      "NumPy codes are float64.")
            if not _close(out[:, :features].detach(), h_values, atol=1e-6):
                if _close(out[:, n_classes:].detach(), h_values, atol=1e-6):
                    _fail(name, case + "the one-hot code came first; append it after the features, [h, one-hot].")
                _fail(name, case + "the first F columns must be h itself, unchanged.")
            tail = out[:, features:].detach()
            if not ((tail == 0) | (tail == 1)).all() or not (tail.sum(1) == 1).all():
                _fail(name, case + "the appended part is not one-hot: each row needs exactly one 1, the rest 0.")
            if not torch.equal(tail.double(), code.double()):
                _fail(name, case + "the 1 is in the wrong column: class c goes in column c of the code (0-based).")
            if not out.requires_grad:
                _fail(name, case + "the output is cut off from h: gradients must flow back to the encoder's features.")
            weights = torch.randn(batch, features + n_classes, generator=g, dtype=out.dtype)
            with _student_code(name, "backward through your output"):
                (grad,) = torch.autograd.grad(out, (h_leaf,), weights, allow_unused=True)
            if grad is None or not grad.any():
                _fail(name, case + "the output is cut off from h (it was detached, or rebuilt from h's values): "
                      "gradients must flow back to the encoder's features.")
            # h passes through unchanged, so its gradient is the upstream weights' first F columns exactly.
            if not _grad_close(grad, weights[:, :features]):
                _fail(name, case + "the gradient reaching h is not the identity: h must enter the output as it is, "
                      "so that each feature's gradient passes back unchanged.")
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
            # z_r is a column of a non-leaf (B, 3) code matrix, as z[:, 0] is in the notebook: a strided view
            # that an in-place operation silently changes, and whose gradient must reach column 0 only.
            codes_leaf = torch.cat([z_values[:, None], torch.randn(n, 2, generator=g)], 1).requires_grad_()
            (codes,) = _inputs(codes_leaf)
            z = codes[:, 0]
            z_copy, attribute_copy = z_values.clone(), attribute.clone()
            case = f"On batch {i} ({title}): "
            with _student_code(name, f"your function on batch {i}"):
                value = fn(z, attribute, delta)
            _unchanged(name, case, [(z, z_copy, "z_r"), (attribute, attribute_copy, "attribute")],
                       _INPUTS_WHY)
            _no_backward_inside(name, case, (codes_leaf,))
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
            with _student_code(name, "backward through your loss"):
                (grad_codes,) = torch.autograd.grad(value, codes_leaf, allow_unused=True)
            grad = None if grad_codes is None else grad_codes[:, 0]
            reference = z_copy.clone().requires_grad_()
            (ref_grad,) = torch.autograd.grad(attribute_regularization(reference, attribute_copy, delta), reference)
            # Tolerance: each gradient entry is a sum of B ≤ 12 terms δ(1 − tanh²)·sign(…)/B² in float32 (a
            # relative round-off ≲ 1e-6); rtol 1e-4 with atol 1e-6 is ~100× above it, for any order of the sums.
            if grad is None or not _close(grad, ref_grad, rtol=1e-4, atol=1e-6):
                if grad is None or not grad.any():
                    _fail(name, case + "the value is right, but no gradient reaches z_r: the code side must be a "
                          "differentiable function of z_r (no sign, rounding or detach on it).")
                _fail(name, case + "the value is right, but its gradient with respect to z_r is not: both codes "
                      "of every pair, z_r,i and z_r,j, must enter through differentiable operations (nothing "
                      "detached).")
    _passed(name, f"{len(cases)} hidden batches (odd sizes, ties, negative attributes, δ = 1 and 10) agree with the "
            "reference in value and in the gradient reaching z_r.")
