"""Tests for course_lib.plotting, headless (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib.flows import density_grid, toy_log_prob  # noqa: E402
from course_lib.plotting import density_contours, image_grid, loss_curves, scatter_2d  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def image_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.images]


# ---------------------------------------------------------------------------- image_grid


def test_image_grid_single_batch_layout():
    fig = image_grid(torch.rand(10, 1, 8, 8))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 16 and len(image_axes(fig)) == 10  # 8 per row, 2 rows, 6 blank cells
    fig = image_grid(np.random.rand(6, 8, 8), nrow=3, suptitle="samples")
    assert len(fig.axes) == 6 and len(image_axes(fig)) == 6
    assert fig._suptitle.get_text() == "samples"
    assert image_axes(fig)[0].images[0].get_clim() == (0.0, 1.0)


def test_image_grid_rows_with_titles():
    rows = [torch.rand(4, 1, 8, 8), torch.rand(4, 8, 8), np.random.rand(3, 1, 8, 8)]
    fig = image_grid(rows, row_titles=["input", "recon", "target"], col_titles=["a", "b", "c", "d"])
    assert len(fig.axes) == 12 and len(image_axes(fig)) == 11
    assert [fig.axes[i].get_ylabel() for i in (0, 4, 8)] == ["input", "recon", "target"]
    assert [ax.get_title() for ax in fig.axes[:4]] == ["a", "b", "c", "d"]
    assert fig.axes[0].yaxis.label.get_visible() and fig.axes[0].axison  # row title stays visible


def test_image_grid_per_image_titles():
    fig = image_grid(torch.rand(3, 1, 8, 8), titles=["x", "y", "z"])
    assert [ax.get_title() for ax in image_axes(fig)] == ["x", "y", "z"]


@pytest.mark.parametrize(
    "images, kwargs, match",
    [
        (torch.rand(0, 1, 8, 8), {}, "empty"),
        ([], {}, "empty"),
        (torch.rand(4, 3, 8, 8), {}, "shape"),
        (torch.rand(8, 8), {}, "shape"),
        (torch.rand(4, 1, 8, 8), {"titles": ["a"]}, "titles"),
        ([torch.rand(2, 8, 8)] * 2, {"row_titles": ["a"]}, "row_titles"),
        ([torch.rand(2, 8, 8)] * 2, {"col_titles": ["a", "b", "c"]}, "col_titles"),
        ([torch.rand(2, 8, 8)] * 2, {"nrow": 2}, "nrow"),
        (torch.rand(4, 8, 8), {"nrow": 0}, "nrow"),
        (torch.rand(2, 8, 8), {"titles": ["a", "b"], "col_titles": ["a", "b"]}, "not both"),
    ],
)
def test_image_grid_rejects_bad_input(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        image_grid(images, **kwargs)


# ---------------------------------------------------------------------------- loss_curves


def test_loss_curves_plots_each_key_against_epoch():
    history = {"d_loss": [1.0, 0.8, 0.7], "g_loss": [2.0, 1.5, 1.4]}
    fig = loss_curves(history, title="GAN")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["d_loss", "g_loss"]
    assert ax.lines[0].get_xdata().tolist() == [1, 2, 3]
    assert ax.get_xlabel() == "epoch" and ax.get_title() == "GAN"
    assert ax.get_legend() is not None


def test_loss_curves_keys_logy_and_existing_axes():
    fig, ax = plt.subplots()
    out = loss_curves({"a": [3.0, 2.0], "b": [1.0, 0.5]}, keys=["b"], logy=True, ax=ax)
    assert out is fig and [line.get_label() for line in ax.lines] == ["b"]
    assert ax.get_yscale() == "log"


@pytest.mark.parametrize(
    "history, kwargs, match",
    [
        ({}, {}, "non-empty"),
        ({"loss": []}, {}, "'loss'"),
        ({"loss": [1.0, float("nan")], "other": [1.0, 1.0]}, {}, "'loss'.*epoch 2"),
        ({"a": [1.0], "g_loss": [1.0, float("inf")]}, {}, "'g_loss'"),
        ({"loss": [1.0]}, {"keys": ["kl"]}, "kl"),
        ({"loss": [1.0]}, {"keys": []}, "empty"),
        ({"elbo": [-3.0, -2.0]}, {"logy": True}, "'elbo'"),
    ],
)
def test_loss_curves_rejects_bad_input(history, kwargs, match):
    with pytest.raises(ValueError, match=match):
        loss_curves(history, **kwargs)


# ---------------------------------------------------------------------------- scatter_2d


def test_scatter_2d_plain_labels_and_values():
    points = torch.randn(50, 2)
    fig = scatter_2d(points, title="codes")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "codes"
    assert len(fig.axes[0].collections) == 1

    labels = torch.arange(50) % 3
    fig = scatter_2d(points, labels=labels)
    ax = fig.axes[0]
    assert len(ax.collections) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]

    fig = scatter_2d(points.numpy(), values=np.linspace(0, 1, 50), colorbar_label="log p")
    assert len(fig.axes) == 2  # the scatter and its colour bar
    assert fig.axes[1].get_ylabel() == "log p"


@pytest.mark.parametrize(
    "points, kwargs, match",
    [
        (np.zeros((0, 2)), {}, "empty"),
        (np.zeros((5, 3)), {}, r"\(N, 2\)"),
        (np.array([[0.0, np.nan]]), {}, "NaN"),
        (np.zeros((5, 2)), {"labels": [0, 1]}, "one label"),
        (np.zeros((5, 2)), {"labels": [0.5] * 5}, "integer"),
        (np.zeros((5, 2)), {"labels": [0] * 5, "values": [0.0] * 5}, "not both"),
        (np.zeros((2, 2)), {"values": [0.0, np.nan]}, "NaN"),
    ],
)
def test_scatter_2d_rejects_bad_input(points, kwargs, match):
    with pytest.raises(ValueError, match=match):
        scatter_2d(points, **kwargs)


def test_functions_do_not_show(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() must be left to the notebook"))
    image_grid(torch.rand(2, 8, 8))
    loss_curves({"loss": [1.0, 0.5]})
    scatter_2d(torch.randn(5, 2), values=torch.rand(5))


# --- density contours --------------------------------------------------------------------------

def test_density_contours_filled_and_lines():
    grid = density_grid(toy_log_prob, n=40)
    fig = density_contours(grid, title="p_x")
    assert isinstance(fig, Figure) and fig.axes[0].get_title() == "p_x"
    density_contours(grid, ax=fig.axes[0], filled=False, colors="red", label="learned q")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["learned q"]


@pytest.mark.parametrize("grid, match", [
    ((np.zeros((3, 3)), np.zeros((3, 3))), "triple"),
    ((np.zeros((3, 3)), np.zeros((3, 4)), np.ones((3, 3))), "one shape"),
    ((np.zeros((3, 3)), np.zeros((3, 3)), np.full((3, 3), np.nan)), "finite and non-negative"),
    ((np.zeros((3, 3)), np.zeros((3, 3)), np.zeros((3, 3))), "0 everywhere"),
], ids=["pair", "shapes", "nan", "zero"])
def test_density_contours_bad_input(grid, match):
    with pytest.raises(ValueError, match=match):
        density_contours(grid)


# --- issue 27: what goes on to matplotlib is checked first ----------------------------------------

def test_image_grid_refuses_non_finite_images_and_bad_drawing_arguments():
    x = torch.rand(2, 1, 4, 4)
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="images must be finite"):
        image_grid(bad)
    with pytest.raises(ValueError, match="cmap must be a colour map matplotlib knows"):
        image_grid(x, cmap="no_such_map")
    with pytest.raises(TypeError, match="cmap must be a matplotlib colour map name"):
        image_grid(x, cmap=None)
    with pytest.raises(ValueError, match="vmin must be a finite number"):
        image_grid(x, vmin=float("nan"))
    with pytest.raises(TypeError, match="vmax must be a finite number"):
        image_grid(x, vmax="1")
    with pytest.raises(ValueError, match="vmin must be below vmax"):
        image_grid(x, vmin=1.0, vmax=0.0)
    with pytest.raises(ValueError, match="cell_size must be a finite number > 0"):
        image_grid(x, cell_size=0)
    with pytest.raises(ValueError, match="images must hold values"):
        image_grid(x.to("meta"))
    plt.close("all")


def test_scatter_2d_refuses_bad_matplotlib_arguments():
    p = torch.randn(5, 2)
    for kwargs, error, words in [(dict(alpha=2.0), ValueError, r"alpha must be a finite number in \[0, 1\]"),
                                 (dict(alpha="0.5"), TypeError, "alpha must be a finite number"),
                                 (dict(s=0), ValueError, "s must be a finite number > 0"),
                                 (dict(s=float("inf")), ValueError, "s must be a finite number > 0"),
                                 (dict(values=torch.rand(5), cmap="no_such_map"), ValueError, "cmap must be")]:
        with pytest.raises(error, match=words):
            scatter_2d(p, **kwargs)
    with pytest.raises(ValueError, match="points must hold values"):
        scatter_2d(p.to("meta"))
    plt.close("all")


def test_density_contours_refuses_bad_levels_and_colours():
    grid = density_grid(toy_log_prob, n=40)
    for levels, error in ((0, ValueError), (2.5, TypeError), (True, TypeError), (10**9, ValueError)):
        with pytest.raises(error, match="levels must be an int from 1 to 1,000"):
            density_contours(grid, levels=levels)
    with pytest.raises(ValueError, match="levels must be ≥ 2 for lines"):
        density_contours(grid, levels=1, filled=False)
    with pytest.raises(ValueError, match="colors must be a matplotlib colour"):
        density_contours(grid, filled=False, colors="no_such_colour")
    with pytest.raises(TypeError, match="grid must be the triple"):
        density_contours(None)
    plt.close("all")
