"""Plotting (all lectures): image grids, loss curves, 2-D scatters of codes or samples, density contours.

Every function returns the matplotlib ``Figure`` and never calls ``plt.show()``: the notebook
cell ends with ``plt.show()`` itself. Empty input raises ``ValueError`` instead of drawing a
blank plot, and so does a NaN in a loss curve (which matplotlib would silently leave out).
What is passed on to matplotlib (colour maps, colours, ranges, sizes, opacity) is checked here
first, so that a wrong value is a ``TypeError`` or ``ValueError`` naming the argument, not an
error from deep inside matplotlib; non-finite images and points are refused too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, is_color_like
from matplotlib.figure import Figure

from . import _validate

__all__ = ["image_grid", "loss_curves", "scatter_2d", "density_contours"]


# Contour levels: far above the 12 the lectures draw; more bands than that cannot be told apart.
MAX_LEVELS = 1_000
WHY_LEVELS = "a bound against typos: more contour bands cannot be told apart"


def _to_numpy(a: Any, name: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        _validate.values(a, name)
        a = a.detach().cpu().float().numpy()
    try:
        return np.asarray(a, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a tensor, an array or a list of numbers, got {type(a).__name__}") from err


def _cmap(cmap: Any, name: str = "cmap") -> Any:
    """A colour map matplotlib knows: a registered name ("gray", "viridis", …) or a ``Colormap``."""
    if isinstance(cmap, Colormap):
        return cmap
    if not isinstance(cmap, str):
        raise TypeError(f"{name} must be a matplotlib colour map name such as 'gray' or 'viridis', "
                        f"or a Colormap, got {_validate.describe(cmap)}")
    if cmap not in matplotlib.colormaps:
        raise ValueError(f"{name} must be a colour map matplotlib knows (e.g. 'gray', 'viridis', 'coolwarm'; "
                         f"see matplotlib.colormaps), got {cmap!r}")
    return cmap


def _optional_number(value: Any, name: str) -> float | None:
    return None if value is None else _validate.number(value, name)


def _as_batch(images: Any, name: str) -> np.ndarray:
    """(N, 1, H, W) or (N, H, W) → (N, H, W)."""
    a = _to_numpy(images, name)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 3:
        raise ValueError(f"{name} must have shape (N, 1, H, W) or (N, H, W), got {a.shape}")
    if len(a) == 0:
        raise ValueError(f"{name} is empty: nothing to plot")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite, got images containing NaN or ±inf, which imshow would "
                         "silently leave blank")
    return a


def _check_titles(titles: Sequence[str] | None, n: int, name: str, what: str) -> None:
    if titles is not None and len(titles) != n:
        raise ValueError(f"{name} needs one title per {what}: expected {n}, got {len(titles)}")


def image_grid(
    images: Any,
    *,
    nrow: int | None = None,
    row_titles: Sequence[str] | None = None,
    col_titles: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    cmap: str = "gray",
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    cell_size: float = 1.6,
    suptitle: str | None = None,
) -> Figure:
    """Show grey-scale images in a grid and return the figure.

    ``images`` is one batch (N, 1, H, W) or (N, H, W) — tensor or array — laid out ``nrow``
    images per row (as in ``torchvision.utils.make_grid``; default min(N, 8)), or a list of
    batches, each of which becomes one row (e.g. inputs, reconstructions, targets). ``titles``
    has one entry per image (in reading order), ``row_titles`` one per row (shown on the left),
    ``col_titles`` one per column (shown on top). Pixel values are mapped with the fixed
    range [vmin, vmax], so that grids from different models are comparable. Raises ValueError for
    images with NaN or ±inf, vmin ≥ vmax or an unknown colour map.
    """
    if isinstance(images, (list, tuple)):
        if nrow is not None:
            raise ValueError("nrow applies to a single batch; a list of batches puts one batch per row")
        if not images:
            raise ValueError("images is an empty list: nothing to plot")
        rows = [list(_as_batch(b, f"images[{i}]")) for i, b in enumerate(images)]
    else:
        batch = _as_batch(images, "images")
        per_row = min(len(batch), 8) if nrow is None else nrow
        if isinstance(per_row, bool) or not isinstance(per_row, int) or per_row < 1:
            raise ValueError(f"nrow must be a positive int, got {nrow!r}")
        rows = [list(batch[i : i + per_row]) for i in range(0, len(batch), per_row)]
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    n_images = sum(len(r) for r in rows)
    _check_titles(row_titles, n_rows, "row_titles", "row")
    _check_titles(col_titles, n_cols, "col_titles", "column")
    _check_titles(titles, n_images, "titles", "image")
    if titles is not None and col_titles is not None:
        raise ValueError("give titles (one per image) or col_titles (one per column), not both")
    _cmap(cmap)
    vmin, vmax = _optional_number(vmin, "vmin"), _optional_number(vmax, "vmax")
    if vmin is not None and vmax is not None and vmin >= vmax:
        raise ValueError(f"vmin must be below vmax (the grey-value range), got vmin={vmin:g}, vmax={vmax:g}")
    cell_size = _validate.number(cell_size, "cell_size", minimum=0, open_minimum=True, why="inches per image")

    fig, axes = plt.subplots(n_rows, n_cols, figsize=(n_cols * cell_size, n_rows * cell_size), squeeze=False)
    flat_titles = iter(titles or [])
    for r, row in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            if c >= len(row):
                ax.axis("off")
                continue
            ax.imshow(row[c], cmap=cmap, vmin=vmin, vmax=vmax)
            # Hide ticks and frame but not the axis itself: ax.axis("off") would hide the row title.
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if titles is not None:
                ax.set_title(next(flat_titles), fontsize=8)
            if r == 0 and col_titles is not None:
                ax.set_title(col_titles[c], fontsize=9)
            if c == 0 and row_titles is not None:
                ax.set_ylabel(row_titles[r], fontsize=9)
    if suptitle is not None:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        return plt.subplots(figsize=figsize)
    return ax.figure, ax


def loss_curves(
    history: Mapping[str, Sequence[float]],
    *,
    keys: Sequence[str] | None = None,
    logy: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Plot per-epoch losses (the history returned by ``training.fit``) against the epoch, 1, 2, ….

    ``keys`` picks and orders the curves (default: all). A curve with a NaN or ±inf, or with a
    value ≤ 0 when ``logy`` is set, raises ``ValueError`` naming the curve.
    """
    if not isinstance(history, Mapping) or not history:
        raise ValueError(f"history must be a non-empty dict name → per-epoch values, got {history!r}")
    keys = list(history) if keys is None else list(keys)
    if not keys:
        raise ValueError("keys is empty: nothing to plot")
    missing = [k for k in keys if k not in history]
    if missing:
        raise ValueError(f"keys {missing} are not in history, which has {list(history)}")
    curves = {k: _to_numpy(history[k], f"history[{k!r}]") for k in keys}
    for k, v in curves.items():
        if v.ndim != 1 or len(v) == 0:
            raise ValueError(f"curve {k!r} must be a non-empty list of numbers, got shape {v.shape}")
        if not np.isfinite(v).all():
            bad = int(np.flatnonzero(~np.isfinite(v))[0]) + 1
            raise ValueError(f"curve {k!r} is not finite at epoch {bad} ({v[bad - 1]}); training diverged there")
        if logy and (v <= 0).any():
            raise ValueError(f"curve {k!r} has values ≤ 0, which a log axis cannot show; use logy=False")

    fig, ax = _figure_and_axes(ax, (5.0, 3.5))
    for k, v in curves.items():
        ax.plot(np.arange(1, len(v) + 1), v, marker="o" if len(v) < 20 else None, markersize=3, label=k)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    if title is not None:
        ax.set_title(title)
    return fig


def scatter_2d(
    points: Any,
    *,
    labels: Any = None,
    values: Any = None,
    cmap: str = "viridis",
    ax: Axes | None = None,
    title: str | None = None,
    colorbar_label: str | None = None,
    s: float = 8,
    alpha: float = 0.8,
) -> Figure:
    """Scatter-plot N points in the plane, shape (N, 2): 2-D codes z, or samples of a toy density.

    Colour them either by integer ``labels`` (one colour per category, with a legend) or by
    continuous ``values`` (mapped with ``cmap``, with a colour bar), not both. Raises ValueError for
    NaN or ±inf points, an unknown colour map, a size ``s`` ≤ 0 or an ``alpha`` outside [0, 1].
    """
    p = _to_numpy(points, "points")
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2), got {p.shape}")
    if len(p) == 0:
        raise ValueError("points is empty: nothing to plot")
    if not np.isfinite(p).all():
        raise ValueError("points contain NaN or ±inf, which matplotlib would silently leave out")
    if labels is not None and values is not None:
        raise ValueError("give labels (categories) or values (continuous), not both")
    colour = labels if labels is not None else values
    c = None if colour is None else _to_numpy(colour, "labels" if labels is not None else "values")
    if c is not None and c.shape != (len(p),):
        raise ValueError(f"expected one label or value per point, shape ({len(p)},), got {c.shape}")
    if c is not None and not np.isfinite(c).all():
        raise ValueError("labels/values contain NaN or ±inf")
    if labels is not None and not np.array_equal(c, np.round(c)):
        raise ValueError("labels must be integer categories; use values= for continuous colours")
    _cmap(cmap)
    s = _validate.number(s, "s", minimum=0, open_minimum=True, why="the marker size in points²")
    alpha = _validate.fraction(alpha, "alpha", why="the opacity of the points")

    fig, ax = _figure_and_axes(ax, (4.5, 4.0))
    if labels is not None:
        for label in np.unique(c):
            mask = c == label
            ax.scatter(p[mask, 0], p[mask, 1], s=s, alpha=alpha, label=str(int(label)))
        ax.legend(markerscale=2, fontsize=8, title="label")
    else:
        sc = ax.scatter(p[:, 0], p[:, 1], c=c, cmap=cmap if c is not None else None, s=s, alpha=alpha)
        if c is not None:
            fig.colorbar(sc, ax=ax, label=colorbar_label)
    if title is not None:
        ax.set_title(title)
    return fig


def density_contours(
    grid: tuple[Any, Any, Any],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    levels: int = 12,
    filled: bool = True,
    colors: str | None = None,
    label: str | None = None,
) -> Figure:
    """Contours of a 2-D density given on a grid (X₁, X₂, p), e.g. from ``flows.density_grid``.

    ``filled`` draws shaded bands (one density alone); ``filled=False`` draws lines in
    ``colors``, to lay a learned density over the true one. ``label`` names the lines in a legend.
    Raises ValueError for a negative or non-finite density, ``levels`` < 1 (< 2 for lines) or an
    unknown colour.
    """
    if isinstance(grid, (str, bytes)) or not isinstance(grid, (tuple, list)):
        raise TypeError(f"grid must be the triple (X1, X2, density) of equal 2-D shapes, got {_validate.describe(grid)}")
    if len(grid) != 3:
        raise ValueError("grid must be the triple (X1, X2, density) of equal 2-D shapes")
    x1, x2, density = (_to_numpy(a, name) for a, name in zip(grid, ("X1", "X2", "density")))
    if not (x1.ndim == 2 and x1.shape == x2.shape == density.shape):
        raise ValueError(f"X1, X2 and density must be 2-D arrays of one shape, got {x1.shape}, {x2.shape}, {density.shape}")
    if not np.isfinite(density).all() or (density < 0).any():
        raise ValueError("density must be finite and non-negative everywhere on the grid")
    if density.max() <= 0:
        raise ValueError("density is 0 everywhere on the grid: nothing to draw (is the grid over the data?)")
    levels = _validate.positive_int(levels, "levels", maximum=MAX_LEVELS, why=WHY_LEVELS)
    if not isinstance(filled, bool):
        raise TypeError(f"filled must be True or False, got {_validate.describe(filled)}")
    if not filled and levels < 2:
        raise ValueError(f"levels must be ≥ 2 for lines (filled=False draws the levels − 1 inner heights), got {levels}")
    many = isinstance(colors, (list, tuple)) and len(colors) > 0 and all(is_color_like(c) for c in colors)
    if colors is not None and not many and not is_color_like(colors):
        raise ValueError(f"colors must be a matplotlib colour such as 'white', 'red' or '#1f77b4', or None, got {colors!r}")
    fig, ax = _figure_and_axes(ax, (4.5, 4.0))
    # Evenly spaced heights from 0 to the peak, so that bands and lines of two densities with
    # similar peaks are comparable. Lines skip 0: they would trace where the density underflows
    # to exactly 0 in float32, around empty space.
    heights = np.linspace(0, density.max(), levels + 1)
    if filled:
        ax.contourf(x1, x2, density, levels=heights, cmap="viridis")
    else:
        lines = ax.contour(x1, x2, density, levels=heights[1:-1], colors=colors or "white", linewidths=0.9)
        if label is not None:
            ax.plot([], [], color=lines.get_edgecolor()[0], label=label)
            ax.legend(fontsize=8, loc="lower right")
    ax.set(xlabel="x₁", ylabel="x₂", xlim=(x1.min(), x1.max()), ylim=(x2.min(), x2.max()))
    if title is not None:
        ax.set_title(title)
    return fig
