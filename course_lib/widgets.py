"""Interactive widgets for the lectures: thin ipywidgets front-ends over pure, tested functions.

The update logic (what to draw for a given slider position) lives in plain functions that the
tests call directly; the widget functions only wire sliders to them. Run headless (nbval, CI),
``interact`` draws once with the default slider values.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

__all__ = [
    "decode_latent",
    "latent_explorer_figure",
    "latent_explorer",
    "traverse_latent",
    "latent_traversal",
    "flow_stage_figure",
    "flow_stepper",
]


@torch.no_grad()
def decode_latent(decoder: nn.Module, z: Sequence[float]) -> np.ndarray:
    """x′ = f_θ(z) for a single latent point z, as an (H, W) float array ready for ``imshow``."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(1, -1)
    if not torch.isfinite(z).all():
        raise ValueError(f"latent point must be finite, got {z.tolist()}")
    image = decoder(z)
    if image.ndim != 4 or image.shape[:2] != (1, 1):
        raise ValueError(f"decoder must return (1, 1, H, W) for one code, got {tuple(image.shape)}")
    return image[0, 0].cpu().numpy()


def latent_explorer_figure(decoder: nn.Module, z: Sequence[float], codes: torch.Tensor,
                           values: torch.Tensor | None = None, value_label: str = "",
                           codes_title: str = "codes z = g(x)") -> Figure:
    """Left: the 2D codes of real slices (titled ``codes_title``: say whose codes they are) with the
    current point z marked; right: f_θ(z)."""
    codes = torch.as_tensor(codes)
    if codes.ndim != 2 or codes.shape[1] != 2 or len(z) != 2:
        raise ValueError(f"the explorer shows a 2D latent space: codes (N, 2) and z of length 2, "
                         f"got codes {tuple(codes.shape)} and z of length {len(z)}")
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
    """z0 with the coordinates ``dims`` replaced by ``values`` (a copy, shape (latent_dim,))."""
    z = torch.as_tensor(z0, dtype=torch.float32).clone().reshape(-1)
    if len(dims) != len(values):
        raise ValueError(f"need one value per traversed dimension: {len(dims)} dims, {len(values)} values")
    for d, v in zip(dims, values):
        if not 0 <= d < len(z):
            raise ValueError(f"dimension {d} is outside the latent space of size {len(z)}")
        z[d] = float(v)
    return z


def latent_traversal(decoder: nn.Module, z0: torch.Tensor, dims: Sequence[int], span: float = 3.0,
                     steps: int = 30):
    """One slider per latent dimension in ``dims`` (from −span to +span); the decoded slice follows them.

    The other coordinates stay at z0. Returns the ``ipywidgets.interactive`` box.
    """
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
    if not stages or any(s.ndim != 2 or s.shape[1] != 2 for s in stages):
        raise ValueError("stages must be a non-empty list of (n, 2) tensors, as Flow.stages returns")
    if len(layer_names) != len(stages) - 1:
        raise ValueError(f"need one name per layer: {len(stages) - 1} layers, got {len(layer_names)} names")
    if not 0 <= step < len(stages):
        raise ValueError(f"step must be in 0…{len(stages) - 1}, got {step}")
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
    """A slider over the layers of a trained 2-D flow: step k shows u pushed through the first k layers."""
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
