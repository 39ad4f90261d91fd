"""Lecture 06: normalizing flows — the toy map, the change of variables, RealNVP and MAF.

Notation of the lecture: a base variable u ~ π_u = N(0, I) is pushed through an invertible map,
x = f(u), and the density of x follows from the change of variables

    p_x(x) = π_u(f⁻¹(x)) |det J(f⁻¹(x))|,   log p_x(x) = log π_u(f⁻¹(x)) + log |det J(f⁻¹(x))|.

Every flow layer here is an ``nn.Module`` with two directions, each returning its log-Jacobian:

    forward(u) -> (x, log |det ∂x/∂u|)    the sampling direction, f
    inverse(x) -> (u, log |det ∂u/∂x|)    the density direction, f⁻¹

A :class:`Flow` chains layers: ``log_prob`` runs the inverses from the data back to the base,
``sample`` runs the forwards from base noise to data.

Every function checks its arguments first: points are a non-empty float tensor (n, D) with finite
values (a density is only defined at finite points), counts and widths are bounded ints, and a
layer's input must match its dimension, dtype and device; anything else raises TypeError/ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from scipy import integrate
from torch import nn

from course_lib import _validate
from course_lib.training import History, adam_with_schedule, backward_and_step, fit, modes_restored_on_error, unchanged_on_nonfinite

__all__ = [
    "standard_normal_log_prob",
    "toy_map",
    "toy_map_inverse",
    "toy_map_log_det_inverse",
    "toy_log_prob",
    "toy_density_integral",
    "change_of_variables_log_prob",
    "autograd_log_det",
    "AffineCoupling",
    "made_masks",
    "MaskedLinear",
    "MADE",
    "MAFLayer",
    "Reverse",
    "Flow",
    "realnvp",
    "maf",
    "train_flow",
    "KLEstimate",
    "kl_to_truth",
    "density_grid",
]

_LOG_2PI = math.log(2 * math.pi)


def _check_points(x: object, dim: int | None = 2, name: str = "x", holds_values: bool = False) -> torch.Tensor:
    """A finite float tensor of points, shape (n, dim) with n ≥ 1; anything else is a clear error.
    A ``meta`` tensor (shapes only) passes unless ``holds_values``: the maps and layers follow their
    input's device, while an estimate or a training run needs numbers."""
    x = _validate.tensor(x, name, shape=("n", dim or "D"), finite=True, nonempty=True, what="tensor of points",
                         why="one point per row; a density is only defined at finite points")
    return _validate.values(x, name) if holds_values else x


def _check_sigma(sigma: float) -> float:
    return _validate.number(sigma, "sigma", minimum=0, open_minimum=True, why="the width of x₁")


def _check_layer_input(u: object, name: str, dim: int | None, layer: nn.Module) -> torch.Tensor:
    """A layer's input: a non-empty float tensor (n, dim) on the layer's device and in its dtype.
    Not checked for finiteness: NaN in, NaN out, like every torch layer (training's guards stop it)."""
    u = _validate.tensor(u, name, shape=("n", dim or "D"), nonempty=True, what="batch of points")
    return _validate.for_module(u, name, layer, model_name="the layer")


def _check_scale_bound(scale_bound: float | None) -> float | None:
    if scale_bound is None:
        return None
    return _validate.number(scale_bound, "scale_bound", minimum=0, open_minimum=True,
                            why="the bound b of the log-scale b·tanh(s/b), or None for none")


def _check_dim(dim: object, name: str = "dim") -> int:
    """A number of coordinates ≥ 2 (a coupling or an autoregressive order needs two), bounded like a width."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{name} must be an int ≥ 2 (an autoregressive order needs two variables), "
                        f"got {_validate.describe(dim)}")
    if dim < 2:
        raise ValueError(f"{name} must be an int ≥ 2 (an autoregressive order needs two variables), got {dim!r}")
    return _validate.width(dim, name)


def _mlp_bytes(n_in: int, hidden: int, n_out: int, depth: int) -> int:
    """The bytes of an MLP's float32 weights, their gradients and Adam's two moments (4 copies)."""
    widths = [n_in] + [hidden] * depth + [n_out]
    return 16 * sum((a + 1) * b for a, b in zip(widths, widths[1:]))


def standard_normal_log_prob(u: torch.Tensor) -> torch.Tensor:
    """log π_u(u) for π_u = N(0, I) in D dimensions: −½‖u‖² − (D/2) log 2π, one value per row (n,)."""
    return _normal_log_prob(_check_points(u, dim=None, name="u"))


def _normal_log_prob(u: torch.Tensor) -> torch.Tensor:
    # Unchecked: inside a flow an overflowing layer gives u = ±inf and log q = −inf, which the
    # training loop's guard then reports as a non-finite loss at its step.
    return -0.5 * u.pow(2).sum(dim=1) - 0.5 * u.shape[1] * _LOG_2PI


# ---------------------------------------------------------------------------------------------
# The toy map of the lecture
# ---------------------------------------------------------------------------------------------

def toy_map(u: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """x = f(u) = (σ u₁, u₂ − x₁² − 1); with σ = 1 the lecture's map (u₁, u₂ − u₁² − 1).

    σ stretches the banana sideways; it is there so that |det J| is not always 1 (J_f = [[σ, 0],
    [−2σ² u₁, 1]], det J_f = σ). The data module's ``banana`` draws from σ = 1.
    """
    u, sigma = _check_points(u, name="u"), _check_sigma(sigma)
    x1 = sigma * u[:, 0]
    return torch.stack([x1, u[:, 1] - x1**2 - 1], dim=1)


def toy_map_inverse(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """u = f⁻¹(x) = (x₁ / σ, x₂ + x₁² + 1)."""
    x, sigma = _check_points(x), _check_sigma(sigma)
    return torch.stack([x[:, 0] / sigma, x[:, 1] + x[:, 0] ** 2 + 1], dim=1)


def toy_map_log_det_inverse(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """log |det J(f⁻¹(x))| = −log σ at every point, shape (n,).

    J(f⁻¹) = [[1/σ, 0], [2x₁, 1]] is lower triangular, so its determinant is the product of the
    diagonal, 1/σ: it does not depend on x, and for the lecture's σ = 1 it is 0.
    """
    x, sigma = _check_points(x), _check_sigma(sigma)
    return torch.full((x.shape[0],), -math.log(sigma), dtype=x.dtype, device=x.device)


def change_of_variables_log_prob(
    x: torch.Tensor,
    inverse: Callable[[torch.Tensor], torch.Tensor],
    log_det_inverse: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """log p_x(x) = log π_u(f⁻¹(x)) + log |det J(f⁻¹(x))| with π_u = N(0, I), one value per row."""
    x = _check_points(x, dim=None)
    _validate.function(inverse, "inverse", what="the inverse map f⁻¹, (n, D) → (n, D)")
    _validate.function(log_det_inverse, "log_det_inverse", what="log |det J(f⁻¹)|, (n, D) → (n,)")
    log_det = log_det_inverse(x)
    if not isinstance(log_det, torch.Tensor) or log_det.shape != (x.shape[0],):
        raise ValueError(f"log_det_inverse must return one value per point, a tensor of shape ({x.shape[0]},), "
                         f"got {_validate.describe(log_det)}")
    return standard_normal_log_prob(inverse(x)) + log_det


def toy_log_prob(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """The analytic log-density of the toy map's x: log π_u(f⁻¹(x)) − log σ, shape (n,)."""
    return change_of_variables_log_prob(
        _check_points(x), lambda x: toy_map_inverse(x, sigma), lambda x: toy_map_log_det_inverse(x, sigma)
    )


def toy_density_integral(sigma: float = 1.0) -> tuple[float, float]:
    """∫∫ p_x(x) dx₂ dx₁ over the whole plane by adaptive quadrature, and quad's error estimate.

    Both integrals run over the whole real line. Total probability must be preserved, so a
    correct density gives 1 (up to the quadrature error).
    """
    sigma = _check_sigma(sigma)

    def density(x2: float, x1: float) -> float:
        point = torch.tensor([[x1, x2]], dtype=torch.float64)
        return math.exp(toy_log_prob(point, sigma).item())

    def inner(x1: float) -> float:
        # Over the whole x₂ line, split at the ridge x₂ = −x₁² − 1 where the mass sits: quad maps
        # each half-line to a finite interval and would otherwise step over a peak far from 0.
        ridge = -(x1**2) - 1
        below = integrate.quad(density, -np.inf, ridge, args=(x1,), epsabs=1e-9)[0]
        return below + integrate.quad(density, ridge, np.inf, args=(x1,), epsabs=1e-9)[0]

    value, error = integrate.quad(inner, -np.inf, np.inf, epsabs=1e-8)
    return value, error


def autograd_log_det(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """log |det ∂fn/∂x| at each row of x, from the full Jacobian that autograd computes (n,).

    ``fn`` maps a batch (n, D) to (n, D) row by row. This is the slow, always-correct reference
    that every layer's closed-form log-det is tested against (``torch.func.jacrev``).
    """
    _validate.function(fn, "fn", what="a map of a batch (n, D) → (n, D)")
    x = _check_points(x, dim=None)
    n = x.shape[0]
    _validate.memory(n * n * x.shape[1] ** 2 * x.element_size(), "x", "the full Jacobian (n·D)² of the batch")
    # The Jacobian of the whole batch, (n, D, n, D); rows do not interact, so each point's own
    # D × D Jacobian is a diagonal block. (Quadratic in n: meant for test-sized batches.)
    full = torch.func.jacrev(fn)(x)
    rows = torch.arange(n, device=x.device)
    jacobians = full[rows, :, rows, :]
    return torch.linalg.slogdet(jacobians).logabsdet


# ---------------------------------------------------------------------------------------------
# Building blocks with a cheap Jacobian
# ---------------------------------------------------------------------------------------------

def _bounded(raw: torch.Tensor, bound: float | None) -> torch.Tensor:
    """b·tanh(raw / b): a log-scale that can never exceed ±b (so exp(±b) cannot overflow)."""
    return raw if bound is None else bound * torch.tanh(raw / bound)


def _mlp(n_in: int, hidden: int, n_out: int, depth: int = 2) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.SiLU()]
        width = hidden
    last = nn.Linear(width, n_out)
    nn.init.zeros_(last.weight)  # a new layer starts as the identity map
    nn.init.zeros_(last.bias)
    return nn.Sequential(*layers, last)


class AffineCoupling(nn.Module):
    """A RealNVP affine coupling layer (Dinh et al., 2017). The binary mask m marks what passes through.

        x = m⊙u + (1 − m)⊙(u ⊙ exp(s(m⊙u)) + t(m⊙u)),      log |det ∂x/∂u| =  Σᵢ (1 − mᵢ) sᵢ
        u = m⊙x + (1 − m)⊙((x − t(m⊙x)) ⊙ exp(−s(m⊙x))),   log |det ∂u/∂x| = −Σᵢ (1 − mᵢ) sᵢ

    The kept half conditions an MLP giving the log-scale s and the shift t of the other half, so
    the Jacobian is triangular and both directions cost one pass. s is bounded by ``scale_bound``
    (b·tanh(ŝ/b)); ``scale_bound=None`` leaves it free, which is how training can blow up.
    """

    def __init__(self, mask: Sequence[float] | torch.Tensor, hidden: int = 64, depth: int = 2,
                 scale_bound: float | None = 3.0):
        if isinstance(mask, (str, bytes)) or not isinstance(mask, (torch.Tensor, np.ndarray, Sequence)):
            raise TypeError(f"mask must be a 1-D 0/1 vector (a list or a tensor), got {_validate.describe(mask)}")
        try:
            mask = torch.as_tensor(mask, dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"mask must be a 1-D 0/1 vector of numbers, got {_validate.describe(mask)}") from None
        if mask.device.type == "meta":
            raise ValueError(f"mask must hold values (a 1-D 0/1 vector), got a meta tensor of shape {tuple(mask.shape)}")
        if mask.ndim != 1 or not ((mask == 0) | (mask == 1)).all() or mask.all() or not mask.any():
            raise ValueError(f"mask must be a 1-D 0/1 vector with both values present, got {mask.tolist()}")
        dim = _validate.width(mask.numel(), "len(mask)")
        hidden = _validate.width(hidden, "hidden")
        depth = _validate.layers(depth, "depth", minimum=0)
        scale_bound = _check_scale_bound(scale_bound)
        _validate.memory(_mlp_bytes(dim, hidden, 2 * dim, depth), "hidden",
                         "the coupling network's weights (with gradients and Adam's moments)")
        super().__init__()
        self.dim = dim
        self.register_buffer("mask", mask)
        self.scale_bound = scale_bound
        self.net = _mlp(self.dim, hidden, 2 * self.dim, depth)

    def scale_and_shift(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(s, t) for the transformed coordinates, computed from m⊙(input); both 0 where m = 1."""
        s, t = self.net(kept).chunk(2, dim=1)
        free = 1 - self.mask
        return _bounded(s, self.scale_bound) * free, t * free

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = _check_layer_input(u, "u", self.dim, self)
        s, t = self.scale_and_shift(u * self.mask)
        return u * torch.exp(s) + t, s.sum(dim=1)  # s = t = 0 on the kept coordinates

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _check_layer_input(x, "x", self.dim, self)
        s, t = self.scale_and_shift(x * self.mask)
        return (x - t) * torch.exp(-s), -s.sum(dim=1)


def made_masks(dim: int, hidden_sizes: Sequence[int]) -> list[torch.Tensor]:
    """The connectivity masks of MADE (Germain et al., 2015), shaped like ``nn.Linear`` weights (out, in).

    Each unit gets a degree: inputs 1…D, hidden units 1 + (k mod (D − 1)) (so every value 1…D−1
    occurs when a layer has ≥ D − 1 units), outputs 1…D. A hidden unit of degree m(k) may see a
    unit of the layer below with degree ≤ m(k); output d may see hidden units of degree < d.
    Then output d depends only on x_{1:d−1}: the Jacobian of the outputs is strictly lower triangular.
    """
    dim = _check_dim(dim)
    hidden_sizes = _check_hidden_sizes(hidden_sizes, dim)
    _validate.memory(4 * sum(a * b for a, b in zip([dim, *hidden_sizes], [*hidden_sizes, dim])), "hidden_sizes",
                     "the masks")
    inputs = torch.arange(1, dim + 1)
    degrees = [inputs] + [1 + torch.arange(h) % (dim - 1) for h in hidden_sizes]
    masks = [(later[:, None] >= earlier[None, :]).float() for earlier, later in zip(degrees, degrees[1:])]
    masks.append((inputs[:, None] > degrees[-1][None, :]).float())
    return masks


def _check_hidden_sizes(hidden_sizes: object, dim: int) -> list[int]:
    """A non-empty sequence of layer widths, each from dim − 1 (every degree needs a unit) to MAX_WIDTH."""
    expected = f"a non-empty sequence of ints ≥ dim − 1 = {dim - 1} (every degree needs a unit)"
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
        raise TypeError(f"hidden_sizes must be {expected}, got {_validate.describe(hidden_sizes)}")
    if not hidden_sizes or len(hidden_sizes) > _validate.MAX_LAYERS:
        raise ValueError(f"hidden_sizes must be {expected}, at most {_validate.MAX_LAYERS:,} of them "
                         f"({_validate.WHY_LAYERS}), got {_validate.describe(hidden_sizes)}")
    if any(isinstance(h, bool) or not isinstance(h, int) for h in hidden_sizes):
        raise TypeError(f"hidden_sizes must be {expected}, got {list(hidden_sizes)}")
    if any(h < dim - 1 for h in hidden_sizes):
        raise ValueError(f"hidden_sizes must be {expected}, got {list(hidden_sizes)}")
    return [_validate.width(h, "hidden_sizes[i]") for h in hidden_sizes]


class MaskedLinear(nn.Linear):
    """y = (M ⊙ W) x + b: a linear layer whose weight is multiplied by a fixed 0/1 mask."""

    def __init__(self, mask: torch.Tensor):
        _validate.tensor(mask, "mask", shape=("out", "in"), what="0/1 mask shaped like the weight (out, in)")
        for size in mask.shape:
            _validate.width(size, "mask's sizes")
        _validate.memory(16 * mask.numel(), "mask", "the weight, its mask, its gradient and Adam's moments")
        if mask.device.type != "meta" and not ((mask == 0) | (mask == 1)).all():
            raise ValueError(f"mask must hold only 0s and 1s, got {_validate.describe(mask)} with other values")
        super().__init__(mask.shape[1], mask.shape[0])
        self.register_buffer("mask", mask.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _check_layer_input(x, "x", self.in_features, self)
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """A masked MLP giving (μ, α) with μᵢ = ψ_μᵢ(x_{1:i−1}) and αᵢ = ψ_αᵢ(x_{1:i−1}), α bounded."""

    def __init__(self, dim: int, hidden_sizes: Sequence[int] = (64, 64), scale_bound: float | None = 3.0):
        dim = _check_dim(dim)
        hidden_sizes = _check_hidden_sizes(hidden_sizes, dim)
        scale_bound = _check_scale_bound(scale_bound)
        _validate.memory(20 * sum(a * b for a, b in zip([dim, *hidden_sizes], [*hidden_sizes, 2 * dim])), "hidden_sizes",
                         "the masked weights (with masks, gradients and Adam's moments)")
        super().__init__()
        masks = made_masks(dim, hidden_sizes)
        layers: list[nn.Module] = []
        for mask in masks[:-1]:
            layers += [MaskedLinear(mask), nn.SiLU()]
        # Two heads (μ and α) share the output connectivity: stack the last mask twice.
        last = MaskedLinear(torch.cat([masks[-1], masks[-1]]))
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        self.dim, self.scale_bound = dim, scale_bound

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _check_layer_input(x, "x", self.dim, self)
        mu, alpha = self.net(x).chunk(2, dim=1)
        return mu, _bounded(alpha, self.scale_bound)


class MAFLayer(nn.Module):
    """One layer of a masked autoregressive flow (Papamakarios et al., 2017).

        xᵢ = uᵢ·exp(αᵢ) + μᵢ,  uᵢ = (xᵢ − μᵢ)·exp(−αᵢ),  with (μᵢ, αᵢ) = MADE(x_{1:i−1})

    Density (inverse): x is known, so one MADE pass gives every μᵢ, αᵢ; log |det ∂u/∂x| = −Σ αᵢ.
    Sampling (forward): xᵢ needs x_{1:i−1} first, so it takes D passes, one per coordinate.
    """

    def __init__(self, dim: int, hidden_sizes: Sequence[int] = (64, 64), scale_bound: float | None = 3.0):
        made = MADE(dim, hidden_sizes, scale_bound)  # checks the arguments
        super().__init__()
        self.dim = dim
        self.made = made

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = _check_layer_input(u, "u", self.dim, self)
        x = torch.zeros_like(u)
        column = torch.arange(self.dim, device=u.device)
        for i in range(self.dim):  # pass i fixes coordinate i; the earlier ones are already final
            mu, alpha = self.made(x)
            x = torch.where(column == i, u * torch.exp(alpha) + mu, x)
        # α of the last pass is the α of every coordinate: αᵢ only looks at the final x_{1:i−1}.
        return x, alpha.sum(dim=1)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _check_layer_input(x, "x", self.dim, self)
        mu, alpha = self.made(x)
        return (x - mu) * torch.exp(-alpha), -alpha.sum(dim=1)


class Reverse(nn.Module):
    """Reverse the order of the coordinates (a permutation: |det J| = 1), so the next layer conditions the other way."""

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = _check_layer_input(u, "u", None, self)
        return u.flip(1), u.new_zeros(u.shape[0])

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = _check_layer_input(x, "x", None, self)
        return x.flip(1), x.new_zeros(x.shape[0])


# ---------------------------------------------------------------------------------------------
# The flow: a chain of layers on top of π_u = N(0, I)
# ---------------------------------------------------------------------------------------------

class Flow(nn.Module):
    """x = f(u) = f_L ∘ … ∘ f_1(u) with u ~ N(0, I) and log q(x) = log π_u(f⁻¹(x)) + Σ_l log |det J(f_l⁻¹)|."""

    def __init__(self, layers: Sequence[nn.Module], dim: int, name: str = "flow"):
        expected = "a sequence of flow layers (nn.Modules with forward and inverse)"
        if isinstance(layers, (str, bytes)) or not isinstance(layers, (Sequence, nn.ModuleList)):
            raise TypeError(f"layers must be {expected}, got {_validate.describe(layers)}")
        for i, layer in enumerate(layers):
            if not isinstance(layer, nn.Module) or not callable(getattr(layer, "inverse", None)):
                raise TypeError(f"layers[{i}] must be a flow layer (an nn.Module with forward and inverse), "
                                f"got {_validate.describe(layer)}")
        dim = _validate.width(dim, "dim")
        _validate.text(name, "name")
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.dim, self.name = dim, name

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x = f(u) and log |det ∂x/∂u|, summed over the layers."""
        u = _validate.for_module(_check_points(u, self.dim, "u"), "u", self, model_name="the flow")
        log_det = u.new_zeros(u.shape[0])
        for layer in self.layers:
            u, ld = layer(u)
            log_det = log_det + ld
        return u, log_det

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """u = f⁻¹(x) and log |det ∂u/∂x|: the layers' inverses, last layer first."""
        x = _validate.for_module(_check_points(x, self.dim), "x", self, model_name="the flow")
        log_det = x.new_zeros(x.shape[0])
        for layer in reversed(self.layers):
            x, ld = layer.inverse(x)
            log_det = log_det + ld
        return x, log_det

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log q(x) = log π_u(f⁻¹(x)) + log |det J(f⁻¹(x))|, one value per row (n,)."""
        u, log_det = self.inverse(x)
        return _normal_log_prob(u) + log_det

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n draws x = f(u), u ~ N(0, I), shape (n, dim), on the flow's device (u is drawn where
        ``generator`` lives, the CPU for ``torch.Generator()``, so a seed gives the same u anywhere)."""
        n = _validate.positive_int(n, "n", maximum=_validate.MAX_SAMPLES, why="the number of samples")
        _validate.generator(generator)
        _validate.memory(8 * n * self.dim, "n", "the base noise and the samples")
        return self(torch.randn(n, self.dim, generator=generator).to(_validate.device_of(self)))[0]

    @torch.no_grad()
    def stages(self, u: torch.Tensor) -> list[torch.Tensor]:
        """The points after each layer: [u, f_1(u), f_2(f_1(u)), …, x], L + 1 tensors (n, dim)."""
        u = _validate.for_module(_check_points(u, self.dim, "u"), "u", self, model_name="the flow")
        out = [u]
        for layer in self.layers:
            out.append(layer(out[-1])[0])
        return out


def realnvp(dim: int = 2, n_couplings: int = 4, hidden: int = 64, scale_bound: float | None = 3.0) -> Flow:
    """RealNVP: affine couplings whose masks alternate between the even and the odd coordinates."""
    dim = _check_dim(dim)
    n_couplings = _validate.layers(n_couplings, "n_couplings")
    hidden = _validate.width(hidden, "hidden")
    scale_bound = _check_scale_bound(scale_bound)
    _validate.memory(n_couplings * _mlp_bytes(dim, hidden, 2 * dim, 2), "hidden",
                     "the couplings' weights (with gradients and Adam's moments)")
    even = (torch.arange(dim) % 2 == 0).float()
    layers = [AffineCoupling(even if k % 2 == 0 else 1 - even, hidden, scale_bound=scale_bound)
              for k in range(n_couplings)]
    return Flow(layers, dim, name="RealNVP")


def maf(dim: int = 2, n_layers: int = 4, hidden: int = 64, scale_bound: float | None = 3.0) -> Flow:
    """MAF: MADE-parametrised autoregressive layers, the order reversed between consecutive layers."""
    dim = _check_dim(dim)
    n_layers = _validate.layers(n_layers, "n_layers")
    hidden = _validate.width(hidden, "hidden")
    scale_bound = _check_scale_bound(scale_bound)
    _validate.memory(n_layers * 20 * (dim * hidden + hidden * hidden + 2 * hidden * dim), "hidden",
                     "the MADEs' masked weights (with masks, gradients and Adam's moments)")
    layers: list[nn.Module] = []
    for k in range(n_layers):
        if k:
            layers.append(Reverse())
        layers.append(MAFLayer(dim, (hidden, hidden), scale_bound))
    return Flow(layers, dim, name="MAF")


# ---------------------------------------------------------------------------------------------
# Maximum likelihood and the distance to the truth
# ---------------------------------------------------------------------------------------------

def train_flow(flow: Flow, data: torch.Tensor, *, epochs: int, batch_size: int = 256, lr: float = 3e-3,
               seed: int = 0, progress: bool = True, device: str | torch.device = "cpu") -> History:
    """θ = argmax_θ Σ log q(x; θ): Adam on the mean negative log-likelihood −(1/B) Σ_b log q(x_b), cosine-annealed.

    The flow trains on ``device`` (moved there; each batch follows it). Returns the per-epoch
    history {"nll": [...]}. A NaN or infinite loss stops training with
    :class:`~course_lib.training.NonFiniteLossError` naming the step; data holding NaN or ±inf, or
    of another float dtype than the flow's, is refused with a ValueError/TypeError before training.
    """
    _validate.module(flow, "flow", what="a flow with dim and log_prob, e.g. realnvp() or maf()")
    if not isinstance(getattr(flow, "dim", None), int) or not callable(getattr(flow, "log_prob", None)):
        raise TypeError(f"flow must be a flow with an int dim and a log_prob method (e.g. realnvp()), "
                        f"got {_validate.describe(flow)}")
    data = _check_points(data, flow.dim, "data", holds_values=True)
    _validate.dtype_like(data, "data", flow)
    epochs = _validate.epochs(epochs)
    batch_size = _validate.positive_int(batch_size, "batch_size")
    lr = _validate.number(lr, "lr", minimum=0, open_minimum=True, why="the learning rate")
    seed = _validate.seed(seed)
    device = _validate.device(device)
    flow.to(device)
    steps = epochs * math.ceil(len(data) / batch_size)
    optimizer, schedule = adam_with_schedule(flow.parameters(), lr, schedule="cosine", total_steps=steps)

    def step(batch: torch.Tensor) -> dict[str, torch.Tensor]:
        optimizer.zero_grad()
        with unchanged_on_nonfinite(flow):
            nll = -flow.log_prob(batch).mean()
            backward_and_step(optimizer, nll, "nll")
        schedule.step()
        return {"nll": nll.detach()}

    with modes_restored_on_error(flow):
        flow.train()
        history = fit(step, data, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
                      desc=f"training {flow.name}", device=device)
    flow.eval()
    return history


class KLEstimate(NamedTuple):
    """A Monte-Carlo estimate of KL(p ‖ q) in nats and its standard error."""

    kl: float
    stderr: float


@torch.no_grad()
def kl_to_truth(log_q: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                log_p: Callable[[torch.Tensor], torch.Tensor] = toy_log_prob) -> KLEstimate:
    """KL(p ‖ q) = E_p[log p(x) − log q(x)] ≈ (1/N) Σ_n (log p(x_n) − log q(x_n)) with x_n ~ p.

    ``x`` must be drawn from the true p (by default the toy map's, whose log p is known exactly);
    the standard error is std / √N. KL is 0 only when q = p, and positive otherwise.
    """
    _validate.function(log_q, "log_q", what="a log-density of points (n, D) → (n,)")
    x = _check_points(x, dim=None, holds_values=True)
    _validate.function(log_p, "log_p", what="the true log-density of points (n, D) → (n,)")
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 points (a standard error needs two), got {_validate.describe(x)}")
    values = {}
    for name, fn in (("log_p", log_p), ("log_q", log_q)):
        values[name] = fn(x)
        if not isinstance(values[name], torch.Tensor) or values[name].shape != (len(x),):
            raise ValueError(f"{name} must return one log-density per point, a tensor of shape ({len(x)},), "
                             f"got {_validate.describe(values[name])}")
    gap = (values["log_p"] - values["log_q"]).double()
    return KLEstimate(gap.mean().item(), (gap.std() / math.sqrt(len(gap))).item())


@torch.no_grad()
def density_grid(log_prob: Callable[[torch.Tensor], torch.Tensor], xlim: tuple[float, float] = (-3.5, 3.5),
                 ylim: tuple[float, float] = (-10.0, 2.5), n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A density on an n × n grid for contour plots: (X₁, X₂, p) arrays of shape (n, n)."""
    _validate.function(log_prob, "log_prob", what="a log-density of points (n, 2) → (n,)")
    xlim, ylim = _check_limits(xlim, "xlim"), _check_limits(ylim, "ylim")
    n = _validate.positive_int(n, "n", maximum=_MAX_GRID, why=f"an n × n grid of at most {_MAX_GRID ** 2:,} points")
    _validate.memory(64 * n * n, "n", "the grid's coordinates and densities")
    x1, x2 = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    points = torch.from_numpy(np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32))
    log_p = log_prob(points)
    if not isinstance(log_p, torch.Tensor) or log_p.numel() != n * n:
        raise ValueError(f"log_prob must return one log-density per grid point, a tensor of {n * n} values, "
                         f"got {_validate.describe(log_p)}")
    return x1, x2, log_p.exp().reshape(n, n).numpy()


_MAX_GRID = 10_000  # n² = 10⁸ points: MAX_SAMPLES


def _check_limits(value: object, name: str) -> tuple[float, float]:
    """A plot range (low, high) of two finite numbers with low < high."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a pair (low, high) of finite numbers, got {_validate.describe(value)}")
    if len(value) != 2:
        raise ValueError(f"{name} must be a pair (low, high) of finite numbers, got {_validate.describe(value)}")
    low, high = (_validate.number(v, f"{name}[{i}]") for i, v in enumerate(value))
    if not low < high:
        raise ValueError(f"{name} must be a pair (low, high) with low < high, got {tuple(value)!r}")
    return low, high
