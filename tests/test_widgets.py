"""The widgets' pure update functions (the ipywidgets wiring itself is only smoke-tested)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib.autoencoders import ConvAutoencoder  # noqa: E402
from course_lib.flows import realnvp  # noqa: E402
from course_lib.widgets import (  # noqa: E402
    decode_latent,
    flow_stage_figure,
    flow_stepper,
    latent_explorer,
    latent_explorer_figure,
    latent_traversal,
    traverse_latent,
)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return ConvAutoencoder(2, size=32).eval()


def test_decode_latent_matches_the_decoder(model):
    image = decode_latent(model.decode, [0.3, -1.2])
    with torch.no_grad():
        expected = model.decode(torch.tensor([[0.3, -1.2]]))[0, 0].numpy()
    assert image.shape == (32, 32) and np.allclose(image, expected)
    assert not np.allclose(image, decode_latent(model.decode, [3.0, 2.0]))  # the slider drives the image


def test_decode_latent_bad_input(model):
    with pytest.raises(ValueError, match="finite"):
        decode_latent(model.decode, [float("nan"), 0.0])
    with pytest.raises(ValueError, match=r"\(1, 1, H, W\)"):
        decode_latent(lambda z: torch.zeros(1, 32, 32), [0.0, 0.0])


def test_explorer_figure_marks_z_and_shows_the_decode(model):
    codes = torch.randn(50, 2)
    fig = latent_explorer_figure(model.decode, [0.5, 0.25], codes, values=torch.rand(50), value_label="level",
                                 codes_title="codes of held-out slices")
    ax_z, ax_x = fig.axes[:2]
    assert ax_z.get_title() == "codes of held-out slices"  # the caption names whose codes are shown
    marker = ax_z.lines[-1]
    assert marker.get_xdata()[0] == 0.5 and marker.get_ydata()[0] == 0.25
    assert np.allclose(ax_x.images[0].get_array(), decode_latent(model.decode, [0.5, 0.25]))
    plt.close(fig)
    with pytest.raises(ValueError, match="2D latent space"):
        latent_explorer_figure(model.decode, [0.0, 0.0, 0.0], torch.randn(5, 3))


def test_explorer_widget_builds_sliders_over_the_code_range(model):
    codes = torch.tensor([[-1.0, 0.0], [1.0, 2.0]])
    plt.close("all")
    widget = latent_explorer(model.decode, codes)
    sliders = {c.description: c for c in widget.children if hasattr(c, "min")}
    assert set(sliders) == {"z1", "z2"}
    assert (sliders["z1"].min, sliders["z1"].max) == (-1.0, 1.0)
    assert (sliders["z2"].min, sliders["z2"].max) == (0.0, 2.0)
    figures_before = len(plt.get_fignums())
    sliders["z1"].value = 0.5  # moving a slider redraws through the pure function
    assert widget.kwargs["z1"] == 0.5 and len(plt.get_fignums()) >= figures_before
    plt.close("all")


# --- the flow stepper (lecture 06) ----------------------------------------------------------------

@pytest.fixture
def flow():
    torch.manual_seed(0)
    flow = realnvp(hidden=8)
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return flow


def test_flow_stage_figure_shows_the_points_after_k_layers(flow):
    u = torch.randn(100, 2)
    stages = flow.stages(u)
    names = [type(layer).__name__ for layer in flow.layers]
    for step in (0, 2, 4):
        fig = flow_stage_figure(stages, step, names)
        ax = fig.axes[0]
        assert np.allclose(ax.collections[0].get_offsets(), stages[step].numpy())
        assert ("base samples" in ax.get_title()) == (step == 0)
        plt.close(fig)
    # The axes stay fixed over the steps, so that the motion is visible.
    limits = {flow_stage_figure(stages, k, names).axes[0].get_xlim() for k in range(5)}
    assert len(limits) == 1
    plt.close("all")


def test_flow_stage_figure_bad_input(flow):
    stages = flow.stages(torch.randn(10, 2))
    with pytest.raises(ValueError, match="step must be in 0…4"):
        flow_stage_figure(stages, 5, ["a"] * 4)
    with pytest.raises(ValueError, match="one name per layer"):
        flow_stage_figure(stages, 0, ["a"])
    with pytest.raises(ValueError, match=r"\(n, 2\) tensors"):
        flow_stage_figure([torch.zeros(3, 3)], 0, [])


def test_flow_stepper_slider_runs_over_the_layers(flow):
    plt.close("all")
    widget = flow_stepper(flow, n=200)
    slider = next(c for c in widget.children if hasattr(c, "max"))
    assert (slider.min, slider.max, slider.value) == (0, 4, 0)
    slider.value = 3
    assert widget.kwargs["layers"] == 3
    plt.close("all")


# --- the latent traversal (lecture 03) ------------------------------------------------------------

def test_traverse_latent_replaces_only_the_chosen_dimensions():
    z0 = torch.tensor([0.1, 0.2, 0.3, 0.4])
    z = traverse_latent(z0, [1, 3], [-2.0, 2.5])
    assert torch.equal(z, torch.tensor([0.1, -2.0, 0.3, 2.5])) and torch.equal(z0, torch.tensor([0.1, 0.2, 0.3, 0.4]))
    with pytest.raises(ValueError, match="one value per"):
        traverse_latent(z0, [1], [0.0, 1.0])
    with pytest.raises(ValueError, match="outside the latent space"):
        traverse_latent(z0, [4], [0.0])


def test_latent_traversal_sliders_drive_the_decode():
    torch.manual_seed(0)
    model = ConvAutoencoder(4, size=32).eval()
    plt.close("all")
    widget = latent_traversal(model.decode, torch.zeros(4), dims=[0, 2], span=2.0)
    sliders = {c.description: c for c in widget.children if hasattr(c, "min")}
    assert set(sliders) == {"z[0]", "z[2]"} and (sliders["z[0]"].min, sliders["z[0]"].max) == (-2.0, 2.0)
    sliders["z[2]"].value = 1.5
    assert widget.kwargs["z2"] == 1.5
    assert not np.allclose(decode_latent(model.decode, traverse_latent(torch.zeros(4), [2], [1.5])),
                           decode_latent(model.decode, torch.zeros(4)))
    plt.close("all")


# --- issue 27: bad arguments are refused before any widget is built -------------------------------
# ipywidgets.interactive swallows an error of its first draw, so these must raise at the call.

def test_widget_builders_refuse_bad_arguments_eagerly(model):
    codes = torch.randn(6, 2)
    with pytest.raises(TypeError, match="decoder must be a decoder"):
        latent_explorer(None, codes)
    with pytest.raises(ValueError, match="codes must be finite"):
        latent_explorer(model.decode, torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="codes must hold at least one sample"):
        latent_explorer(model.decode, torch.zeros(0, 2))
    with pytest.raises(TypeError, match=r"values must be a floating-point tensor"):
        latent_explorer(model.decode, codes, values=[0.1] * 6)
    with pytest.raises(ValueError, match=r"values must be .* of shape \(6,\)"):
        latent_explorer(model.decode, codes, values=torch.rand(5))
    for steps, error in ((0, ValueError), (True, TypeError), (10**9, ValueError)):
        with pytest.raises(error, match="steps must be an int from 1 to 10,000"):
            latent_explorer(model.decode, codes, steps=steps)
    z0 = torch.zeros(2)
    with pytest.raises(ValueError, match="dims must name at least one latent dimension"):
        latent_traversal(model.decode, z0, [])
    with pytest.raises(TypeError, match=r"dims\[0\] must be an int"):
        latent_traversal(model.decode, z0, [0.5])
    with pytest.raises(ValueError, match="outside the latent space"):
        latent_traversal(model.decode, z0, [-1])
    with pytest.raises(ValueError, match="span must be a finite number > 0"):
        latent_traversal(model.decode, z0, [0], span=float("nan"))
    with pytest.raises(ValueError, match="z0 must be finite"):
        latent_traversal(model.decode, torch.tensor([float("inf"), 0.0]), [0])
    with pytest.raises(TypeError, match="z0 must be a floating-point latent point"):
        latent_traversal(model.decode, torch.zeros(2, dtype=torch.long), [0])


def test_latent_functions_refuse_non_finite_or_empty_points(model):
    with pytest.raises(ValueError, match="z must be a 1-D latent point"):
        decode_latent(model.decode, [])
    with pytest.raises(ValueError, match="values must be finite"):
        traverse_latent(torch.zeros(3), [0], [float("nan")])
    with pytest.raises(ValueError, match="z0 must be a non-empty, finite latent point"):
        traverse_latent(torch.tensor([float("nan"), 0.0]), [0], [1.0])
    with pytest.raises(TypeError, match="z0 must be a latent point"):
        traverse_latent(None, [0], [1.0])
    with pytest.raises(ValueError, match="z must be finite"):
        latent_explorer_figure(model.decode, [0.0, float("inf")], torch.randn(4, 2))
    with pytest.raises(TypeError, match="codes must be a floating-point"):
        latent_explorer_figure(model.decode, [0.0, 0.0], torch.zeros(4, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="codes must hold values"):
        latent_explorer_figure(model.decode, [0.0, 0.0], torch.zeros(4, 2, device="meta"))


def test_flow_widgets_refuse_bad_counts_and_seeds(flow):
    stages = flow.stages(torch.randn(10, 2))
    with pytest.raises(TypeError, match="step must be an int"):
        flow_stage_figure(stages, True, ["a"] * 4)
    with pytest.raises(ValueError, match=r"stages\[1\] must be finite"):
        flow_stage_figure([stages[0], torch.full((10, 2), float("nan"))], 0, ["a"])
    with pytest.raises(ValueError, match="n must be an int from 1 to 1,000,000"):
        flow_stepper(flow, n=0)
    with pytest.raises(ValueError, match="n must be an int from 1 to 1,000,000"):
        flow_stepper(flow, n=10**9)
    with pytest.raises(ValueError, match="seed must be an int"):
        flow_stepper(flow, n=10, seed=-1)
    with pytest.raises(TypeError, match="flow must be a torch.nn.Module"):
        flow_stepper(None)
