"""Lecture 04: what the GAN game minimises — the optimal discriminator and the Jensen–Shannon
divergence, computed where the densities are known exactly (the toy Gaussian mixtures).

For a fixed generator with sample density p_g, the value function

    V(D, G) = E_{x~p_data}[log D(x)] + E_{x~p_g}[log(1 − D(x))]

is maximised point by point (a log y + b log(1 − y) peaks at y = a / (a + b)) by

    D*(x) = p_data(x) / (p_data(x) + p_g(x)),    whose logit is    log p_data(x) − log p_g(x),

and at that optimum (Goodfellow et al., 2014, Theorem 1)

    V(D*, G) = −log 4 + 2 · JSD(p_data ‖ p_g),
    JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m),   m = ½ (p + q),

so the generator's best reply is p_g = p_data, where D* = ½ everywhere and V = −log 4.
The functions below take log-densities (the mixtures' exact ones from :func:`mixture_log_density`)
so that the lecture can check those identities by Monte Carlo: V(D, G) is −2 × the discriminator
loss of :func:`course_lib.gan.discriminator_loss` on the same logits.

Log-densities may be −inf (a density of 0) where that is meaningful; NaN, +inf, empty inputs, integer
tensors and ``meta`` tensors (no values) raise ValueError/TypeError before anything is computed.
"""

from __future__ import annotations

import math

import torch

from . import _validate

__all__ = ["mixture_log_density", "optimal_discriminator_logit", "jensen_shannon_divergence"]


def mixture_log_density(x: torch.Tensor, modes: torch.Tensor, std: float,
                        weights: torch.Tensor | None = None) -> torch.Tensor:
    """log p(x) of the mixture Σ_k w_k N(x; m_k, std² I), one value per row of ``x``.

    ``modes`` (K, d) are the means m_k; ``weights`` (K,) are w_k ≥ 0 summing to 1 (equal weights
    if None — the toys of :mod:`course_lib.gan`). Computed with logsumexp, so a point far from every
    mode gets a very negative log-density instead of log 0 = −inf.
    """
    modes = _validate.tensor(modes, "modes", ndim=2, nonempty=True, what="tensor of mode centres (K, d)")
    x = _validate.tensor(x, "x", shape=("N", modes.shape[1]), nonempty=True, what="tensor of points")
    _validate.values(x, "x")
    _validate.values(modes, "modes")
    _validate.same_device((x, modes), ("x", "modes"))
    _validate.tensor(x, "x", finite=True, what="tensor of points")
    _validate.tensor(modes, "modes", finite=True, what="tensor of mode centres (K, d)")
    std = _validate.number(std, "std", minimum=0, why="the modes' standard deviation")
    if std == 0:
        raise ValueError("std must be > 0, got 0 (a mixture of point masses has no density)")
    if weights is None:
        log_w = torch.full((len(modes),), -math.log(len(modes)), dtype=x.dtype)
    else:
        weights = _validate.tensor(weights, "weights", shape=(len(modes),), what="tensor of mixture weights")
        _validate.values(weights, "weights")
        _validate.same_device((modes, weights), ("modes", "weights"))
        _validate.tensor(weights, "weights", finite=True, what="tensor of mixture weights")
        if (weights < 0).any() or abs(weights.sum().item() - 1) > 1e-6:
            raise ValueError(f"weights must be ≥ 0 and sum to 1, got {weights.tolist()}")
        log_w = weights.to(x.dtype).log()
    d = x.shape[1]
    squared = torch.cdist(x, modes.to(x.dtype)).pow(2)  # (N, K)
    log_normal = -squared / (2 * std**2) - d * math.log(std) - d / 2 * math.log(2 * math.pi)
    return torch.logsumexp(log_w + log_normal, dim=1)


def optimal_discriminator_logit(log_p_data: torch.Tensor, log_p_g: torch.Tensor) -> torch.Tensor:
    """The logit of the optimal discriminator, log D*/(1 − D*) = log p_data(x) − log p_g(x).

    D*(x) = p_data(x) / (p_data(x) + p_g(x)) maximises V(D, G) for a fixed G: the integrand
    p_data log D + p_g log(1 − D) is, at each x, of the form a log y + b log(1 − y), which peaks at
    y = a / (a + b). Working with logits (the log-density ratio) keeps it finite where both
    densities underflow.
    Raises ValueError for NaN or +inf log-densities, and where both are −inf (0/0: no ratio).
    """
    log_p_data = _validate.tensor(log_p_data, "log_p_data", ndim=1, nonempty=True, what="tensor of log-densities")
    log_p_g = _validate.tensor(log_p_g, "log_p_g", shape=(len(log_p_data),), what="tensor of log-densities")
    _validate.values(log_p_data, "log_p_data")
    _validate.values(log_p_g, "log_p_g")
    _validate.same_device((log_p_data, log_p_g), ("log_p_data", "log_p_g"))
    for name, value in (("log_p_data", log_p_data), ("log_p_g", log_p_g)):
        _check_log_density(value, name)
    if (torch.isneginf(log_p_data) & torch.isneginf(log_p_g)).any():
        raise ValueError("log_p_data and log_p_g must not both be −inf at one point (both densities 0: "
                         "D* = 0/0 is undefined there), got such a point")
    return log_p_data - log_p_g


def _check_log_density(value: torch.Tensor, name: str, *, zero_ok: bool = True) -> None:
    """A log-density: no NaN, no +inf (no density is infinite), and −inf (density 0) only if ``zero_ok``."""
    if torch.isnan(value).any() or torch.isposinf(value).any():
        raise ValueError(f"{name} must be log-densities (finite or −inf), got a tensor containing NaN or +inf")
    if not zero_ok and torch.isneginf(value).any():
        raise ValueError(f"{name} must be finite (a sample's own density is > 0, so its log is > −inf), "
                         "got a tensor containing −inf")


def jensen_shannon_divergence(log_p_on_p: torch.Tensor, log_q_on_p: torch.Tensor,
                              log_p_on_q: torch.Tensor, log_q_on_q: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo estimate of JSD(p ‖ q) = ½ E_p[log p/m] + ½ E_q[log q/m], m = ½(p + q), in nats.

    ``log_p_on_p``, ``log_q_on_p``: log p and log q at samples of p; ``log_p_on_q``, ``log_q_on_q``:
    the same at samples of q. log m = logaddexp(log p, log q) − log 2. 0 ≤ JSD ≤ log 2, with 0
    exactly when p = q and log 2 when their supports do not overlap.
    """
    pairs = {"log_p_on_p": log_p_on_p, "log_q_on_p": log_q_on_p, "log_p_on_q": log_p_on_q, "log_q_on_q": log_q_on_q}
    for name, value in pairs.items():
        _validate.tensor(value, name, ndim=1, nonempty=True, what="tensor of log-densities")
        _validate.values(value, name)
    for a, b in (("log_p_on_p", "log_q_on_p"), ("log_p_on_q", "log_q_on_q")):
        _validate.same_shape(pairs[a], pairs[b], (a, b), why="both densities at the same samples")
    _validate.same_device(list(pairs.values()), list(pairs))
    for name, value in pairs.items():
        # log p at p's own samples (and log q at q's) cannot be −inf; the other density may be 0 there.
        _check_log_density(value, name, zero_ok=name in ("log_q_on_p", "log_p_on_q"))

    def log_m(log_p, log_q):
        return torch.logaddexp(log_p, log_q) - math.log(2)

    on_p = (log_p_on_p - log_m(log_p_on_p, log_q_on_p)).mean()
    on_q = (log_q_on_q - log_m(log_p_on_q, log_q_on_q)).mean()
    return 0.5 * (on_p + on_q)
