"""Interactive widgets for the lectures: thin ipywidgets front-ends over pure, tested functions.

The update logic (what to draw for a given slider position) lives in plain functions that the
tests call directly; the widget functions only wire sliders to them. Run headless (nbval, CI),
``interact`` draws once with the default slider values.

Every function checks its arguments before it draws or builds a widget: ``ipywidgets.interactive``
would swallow an error of its first draw, so a bad argument is refused (``TypeError`` for the wrong
kind of object or dtype, ``ValueError`` for a wrong shape, an empty or non-finite input, a count out
of range) before any slider exists.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from . import _validate

__all__ = [
    "decode_latent",
    "latent_explorer_figure",
    "latent_explorer",
    "traverse_latent",
    "latent_traversal",
    "flow_stage_figure",
    "flow_stepper",
]

# Positions of a slider: far above the 40 the lectures use; more cannot be told apart by a mouse.
MAX_SLIDER_STEPS = 10_000
WHY_SLIDER_STEPS = "the positions of a slider; more cannot be told apart"
# Points a flow stepper pushes through the flow and scatters at each position of its slider.
MAX_STEPPER_POINTS = 1_000_000
WHY_STEPPER_POINTS = "a bound against typos: each slider position scatters every point"


def _decoder(value, name: str = "decoder"):
    return _validate.function(value, name, what="a decoder: a function of latent codes (1, d) → images (1, 1, H, W)")


def _latent_point(z, name: str, length: int | None = None, why: str = "") -> np.ndarray:
    """A single latent point: a non-empty 1-D sequence, array or tensor of finite real numbers, as float32."""
    if isinstance(z, torch.Tensor):
        _validate.values(z, name)
        if z.dtype == torch.bool or z.is_complex():
            raise TypeError(f"{name} must hold real numbers, got {_validate.describe(z)}")
        array = z.detach().cpu().to(torch.float32).numpy()
    elif isinstance(z, (str, bytes)) or not isinstance(z, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a latent point: a list, array or 1-D tensor of numbers, "
                        f"got {_validate.describe(z)}")
    else:
        if any(isinstance(v, (bool, np.bool_)) for v in np.ravel(np.asarray(z, dtype=object))):
            raise TypeError(f"{name} must hold real numbers, got a bool in {_validate.describe(z)}")
        try:
            array = np.asarray(z, dtype=np.float32)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold real numbers, got {_validate.describe(z)}") from None
    expected = "a 1-D latent point" + ("" if length is None else f" of length {length}") + (f" ({why})" if why else "")
    if array.ndim != 1 or array.size == 0 or (length is not None and array.size != length):
        raise ValueError(f"{name} must be {expected} with at least one coordinate, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite, got {array.tolist()}")
    return array


def _codes(codes, name: str = "codes") -> torch.Tensor:
    """2-D codes (N, 2), N ≥ 1, floating and finite; lists and arrays are converted as torch.as_tensor does."""
    if not isinstance(codes, torch.Tensor):
        if isinstance(codes, (str, bytes)) or not isinstance(codes, (Sequence, np.ndarray)):
            raise TypeError(f"{name} must be a floating-point tensor of 2-D codes (N, 2), got {_validate.describe(codes)}")
        try:
            codes = torch.as_tensor(np.asarray(codes, dtype=np.float32) if not isinstance(codes, np.ndarray)
                                    or codes.dtype.kind != "f" else codes)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold real numbers (codes (N, 2)), got {_validate.describe(codes)}") from None
    codes = _validate.tensor(codes, name, shape=("N", 2), what="tensor of 2-D codes",
                             why="the explorer shows a 2D latent space")
    _validate.values(codes, name)
    return _validate.tensor(codes, name, nonempty=True, finite=True, what="tensor of 2-D codes")


def _colour_values(values, n: int, name: str = "values") -> torch.Tensor | None:
    """None, or one finite float per code, shape (N,)."""
    if values is None:
        return None
    values = _validate.tensor(values, name, shape=(n,), what="tensor of one value per code")
    _validate.values(values, name)
    return _validate.tensor(values, name, finite=True, what="tensor of one value per code")


@torch.no_grad()
def decode_latent(decoder: nn.Module, z: Sequence[float]) -> np.ndarray:
    """x′ = f_θ(z) for a single latent point z, as an (H, W) float array ready for ``imshow``.

    Raises ValueError for an empty, multi-dimensional or non-finite z."""
    _decoder(decoder)
    z = torch.from_numpy(_latent_point(z, "z")).reshape(1, -1)
    image = decoder(z)
    if image.ndim != 4 or image.shape[:2] != (1, 1):
        raise ValueError(f"decoder must return (1, 1, H, W) for one code, got {tuple(image.shape)}")
    return image[0, 0].cpu().numpy()


def latent_explorer_figure(decoder: nn.Module, z: Sequence[float], codes: torch.Tensor,
                           values: torch.Tensor | None = None, value_label: str = "",
                           codes_title: str = "codes z = g(x)") -> Figure:
    """Left: the 2D codes of real slices (titled ``codes_title``: say whose codes they are) with the
    current point z marked; right: f_θ(z)."""
    _decoder(decoder)
    _latent_point(z, "z", length=2, why="the explorer shows a 2D latent space")
    codes = _codes(codes)
    values = _colour_values(values, len(codes))
    _validate.text(value_label, "value_label")
    _validate.text(codes_title, "codes_title")
    fig, (ax_z, ax_x) = plt.subplots(1, 2, figsize=(7.5, 3.4))
    if values is None:
        ax_z.scatter(codes[:, 0], codes[:, 1], s=6)
    else:
        points = ax_z.scatter(codes[:, 0], codes[:, 1], c=values, s=6, cmap="viridis")
        fig.colorbar(points, ax=ax_z, label=value_label)
    ax_z.plot(*z, marker="x", color="red", markersize=12, markeredgewidth=3)
    ax_z.set(xlabel="z₁", ylabel="z₂", title=codes_title)
    ax_x.imshow(decode_latent(decoder, z), cmap="gray", vmin=0, vmax=1)
    ax_x.set(title=f"decoded f(z), z = ({z[0]:.2f}, {z[1]:.2f})")
    ax_x.axis("off")
    fig.tight_layout()
    return fig


def latent_explorer(decoder: nn.Module, codes: torch.Tensor, values: torch.Tensor | None = None,
                    value_label: str = "", steps: int = 40, codes_title: str = "codes z = g(x)"):
    """Two sliders (z₁, z₂) spanning the codes' range; moving them re-decodes the slice.

    Returns the ``ipywidgets.interactive`` box: make it the last expression of a cell to show it.
    """
    _decoder(decoder)
    codes = _validate.tensor(codes, "codes", shape=("N", 2), what="tensor of 2-D codes",
                             why="the explorer shows a 2D latent space")
    codes = _codes(codes)
    values = _colour_values(values, len(codes))
    _validate.text(value_label, "value_label")
    steps = _validate.positive_int(steps, "steps", maximum=MAX_SLIDER_STEPS, why=WHY_SLIDER_STEPS)
    _validate.text(codes_title, "codes_title")
    import ipywidgets as widgets

    low, high = codes.min(dim=0).values.tolist(), codes.max(dim=0).values.tolist()
    sliders = {
        f"z{i + 1}": widgets.FloatSlider(value=round((lo + hi) / 2, 3), min=round(lo, 3), max=round(hi, 3),
                                        step=round((hi - lo) / steps, 4), description=f"z{i + 1}",
                                        continuous_update=False)
        for i, (lo, hi) in enumerate(zip(low, high))
    }

    def show(**z):
        latent_explorer_figure(decoder, [z["z1"], z["z2"]], codes, values, value_label, codes_title)
        plt.show()

    return widgets.interactive(show, **sliders)  # draws once now; display it to get the sliders


def traverse_latent(z0: Sequence[float] | torch.Tensor, dims: Sequence[int], values: Sequence[float]) -> torch.Tensor:
    """z0 with the coordinates ``dims`` replaced by ``values`` (a copy, shape (latent_dim,)).

    Raises ValueError for a non-finite z0 or value, no dims, or a dimension outside z0."""
    if isinstance(z0, torch.Tensor):
        _validate.values(z0, "z0")
        if z0.is_complex():
            raise TypeError(f"z0 must hold real numbers, got {_validate.describe(z0)}")
    elif isinstance(z0, (str, bytes)) or not isinstance(z0, (Sequence, np.ndarray)):
        raise TypeError(f"z0 must be a latent point: a list, array or tensor of numbers, got {_validate.describe(z0)}")
    else:
        try:
            np.asarray(z0, dtype=np.float32)
        except (TypeError, ValueError):
            raise TypeError(f"z0 must hold real numbers, got {_validate.describe(z0)}") from None
    z = torch.as_tensor(z0, dtype=torch.float32).clone().reshape(-1)
    if len(z) == 0 or not torch.isfinite(z).all():
        raise ValueError(f"z0 must be a non-empty, finite latent point, got {z.tolist()}")
    dims = _dims(dims, len(z))
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray, torch.Tensor)):
        raise TypeError(f"values must be a list of numbers, one per dimension in dims, got {_validate.describe(values)}")
    if len(dims) != len(values):
        raise ValueError(f"need one value per traversed dimension: {len(dims)} dims, {len(values)} values")
    _latent_point(values, "values")
    for d, v in zip(dims, values):
        if not 0 <= d < len(z):
            raise ValueError(f"dimension {d} is outside the latent space of size {len(z)}")
        z[d] = float(v)
    return z


def _dims(dims, size: int, name: str = "dims") -> list[int]:
    """A non-empty list of ints, each a coordinate of a latent space of ``size`` dimensions."""
    if isinstance(dims, (str, bytes)) or not isinstance(dims, (Sequence, np.ndarray, torch.Tensor)):
        raise TypeError(f"{name} must be a list of latent dimensions (ints), got {_validate.describe(dims)}")
    if len(dims) == 0:
        raise ValueError(f"{name} must name at least one latent dimension, got an empty {type(dims).__name__}")
    out = []
    for i, d in enumerate(dims):
        if isinstance(d, torch.Tensor) and d.ndim == 0 and not d.is_floating_point() and d.dtype != torch.bool:
            d = int(d)
        d = _validate.integer(d, f"{name}[{i}]")
        if not 0 <= d < size:
            raise ValueError(f"{name}[{i}] must be from 0 to {size - 1}, got {d}: dimension {d} is outside "
                             f"the latent space of size {size}")
        out.append(d)
    return out


def latent_traversal(decoder: nn.Module, z0: torch.Tensor, dims: Sequence[int], span: float = 3.0,
                     steps: int = 30):
    """One slider per latent dimension in ``dims`` (from −span to +span); the decoded slice follows them.

    The other coordinates stay at z0. Returns the ``ipywidgets.interactive`` box.
    """
    _decoder(decoder)
    z0 = _validate.tensor(z0, "z0", ndim=1, what="latent point")
    _validate.values(z0, "z0")
    z0 = _validate.tensor(z0, "z0", nonempty=True, finite=True, what="latent point")
    dims = _dims(dims, len(z0))
    span = _validate.number(span, "span", minimum=0, open_minimum=True)
    steps = _validate.positive_int(steps, "steps", maximum=MAX_SLIDER_STEPS, why=WHY_SLIDER_STEPS)
    import ipywidgets as widgets

    sliders = {f"z{d}": widgets.FloatSlider(value=round(float(z0[d]), 2), min=-span, max=span, step=2 * span / steps,
                                            description=f"z[{d}]", continuous_update=False) for d in dims}

    def show(**values):
        z = traverse_latent(z0, dims, [values[f"z{d}"] for d in dims])
        fig, ax = plt.subplots(figsize=(3.2, 3.2))
        ax.imshow(decode_latent(decoder, z), cmap="gray", vmin=0, vmax=1)
        ax.set_title("f(z), " + ", ".join(f"z[{d}] = {values[f'z{d}']:+.1f}" for d in dims[:2])
                     + (" …" if len(dims) > 2 else ""), fontsize=8)
        ax.axis("off")
        plt.show()

    return widgets.interactive(show, **sliders)


def flow_stage_figure(stages: Sequence[torch.Tensor], step: int, layer_names: Sequence[str],
                      colour_by: torch.Tensor | None = None) -> Figure:
    """The points after ``step`` layers of a flow (step 0 = the base samples u), coloured by u₁.

    ``stages`` is ``Flow.stages(u)``: L + 1 tensors (n, 2). ``layer_names`` names the L layers.
    Colouring by the base coordinate lets the eye follow each point through the warp.
    """
    if isinstance(stages, (str, bytes)) or not isinstance(stages, Sequence):
        raise TypeError(f"stages must be a list of (n, 2) tensors, as Flow.stages returns, got {_validate.describe(stages)}")
    if not stages:
        raise ValueError("stages must be a non-empty list of (n, 2) tensors, as Flow.stages returns, got an empty list")
    for i, stage in enumerate(stages):
        _validate.tensor(stage, f"stages[{i}]", shape=("n", 2), what="tensor of 2-D points",
                         why="stages are (n, 2) tensors, as Flow.stages returns")
        _validate.values(stage, f"stages[{i}]")
        _validate.tensor(stage, f"stages[{i}]", nonempty=True, finite=True, what="tensor of 2-D points")
        _validate.same_shape(stages[0], stage, ("stages[0]", f"stages[{i}]"), why="the same points after each layer")
    step = _validate.integer(step, "step")
    if not 0 <= step < len(stages):
        raise ValueError(f"step must be in 0…{len(stages) - 1} (a stage of the flow), got {step}")
    if isinstance(layer_names, (str, bytes)) or not isinstance(layer_names, Sequence):
        raise TypeError(f"layer_names must be a list of str, got {_validate.describe(layer_names)}")
    if len(layer_names) != len(stages) - 1:
        raise ValueError(f"need one name per layer: {len(stages) - 1} layers, got {len(layer_names)} names")
    for i, name in enumerate(layer_names):
        _validate.text(name, f"layer_names[{i}]")
    if colour_by is not None:
        _validate.tensor(colour_by, "colour_by", shape=(len(stages[0]),), what="tensor of one value per point")
        _validate.values(colour_by, "colour_by")
        _validate.tensor(colour_by, "colour_by", finite=True, what="tensor of one value per point")
    colour = (stages[0][:, 0] if colour_by is None else colour_by).numpy()
    points = stages[step].numpy()
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    ax.scatter(points[:, 0], points[:, 1], c=colour, cmap="coolwarm", s=5, alpha=0.8)
    # Fixed axes over all stages, so the motion from one step to the next is visible.
    everything = torch.cat(list(stages)).numpy()
    low, high = np.percentile(everything, 0.5, axis=0), np.percentile(everything, 99.5, axis=0)
    pad = 0.05 * (high - low)
    ax.set(xlim=(low[0] - pad[0], high[0] + pad[0]), ylim=(low[1] - pad[1], high[1] + pad[1]))
    where = "base samples u ~ N(0, I)" if step == 0 else f"after layer {step}: {layer_names[step - 1]}"
    ax.set(title=where, xlabel="coordinate 1", ylabel="coordinate 2")
    fig.tight_layout()
    return fig


def flow_stepper(flow: nn.Module, n: int = 2000, seed: int = 0):
    """A slider over the layers of a trained 2-D flow: step k shows u pushed through the first k layers.

    Raises ValueError for n < 1 or above ``MAX_STEPPER_POINTS``, or a flow that is not 2-D."""
    _validate.module(flow, "flow", what="a flow with .stages(u) and .layers, e.g. flows.realnvp(2)")
    if not callable(getattr(flow, "stages", None)) or not hasattr(flow, "layers"):
        raise TypeError(f"flow must be a flow with .stages(u) and .layers (course_lib.flows.Flow), "
                        f"got {_validate.describe(flow)}")
    if getattr(flow, "dim", 2) != 2:
        raise ValueError(f"flow must be a 2-D flow (the stepper scatters points in the plane), got dim={flow.dim}")
    n = _validate.positive_int(n, "n", maximum=MAX_STEPPER_POINTS, why=WHY_STEPPER_POINTS)
    seed = _validate.seed(seed)
    import ipywidgets as widgets

    u = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    stages = flow.stages(u)
    names = [type(layer).__name__ for layer in flow.layers]
    slider = widgets.IntSlider(value=0, min=0, max=len(names), step=1, description="layers",
                               continuous_update=False)

    def show(layers: int):
        flow_stage_figure(stages, layers, names)
        plt.show()

    return widgets.interactive(show, layers=slider)
