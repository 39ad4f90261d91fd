"""Tests for course_lib.diagrams, headless (Agg backend)."""

from __future__ import annotations

import inspect
import io
import itertools
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from course_lib import diagrams  # noqa: E402
from course_lib.diagrams import DIAGRAMS, made_connections, made_hidden_degrees, made_masks_diagram  # noqa: E402

NAMES = list(DIAGRAMS)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig: Figure) -> list[Text]:
    """Every visible, non-empty Text artist of the figure (figure texts, axes texts, titles)."""
    found = list(fig.texts)
    for ax in fig.axes:
        found += ax.texts + [ax.title, ax._left_title, ax._right_title]
    return [t for t in found if t.get_visible() and t.get_text()]


def all_text(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in texts(fig))


def png(fig: Figure, dpi: int = 80) -> bytes:
    """Render to PNG, turning every warning (a missing glyph, a mathtext problem) into an error."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def made_edges(fig: Figure) -> list[str]:
    return [line.get_gid() for ax in fig.axes for line in ax.get_lines()
            if isinstance(line, Line2D) and (line.get_gid() or "").startswith("made-edge")]


# ------------------------------------------------------------------------------ the registry


def test_registry_lists_every_diagram_in_lecture_order():
    public = {name for name in diagrams.__all__ if name.endswith("_diagram") or name == "vae_graphical_model"}
    assert {fn.__name__ for fn in DIAGRAMS.values()} == public
    assert "DIAGRAMS" in diagrams.__all__ and "made_connections" in diagrams.__all__
    assert all(hasattr(diagrams, name) for name in diagrams.__all__)
    lectures = [inspect.getdoc(fn).split(",")[0] for fn in DIAGRAMS.values()]
    assert lectures == sorted(lectures), lectures  # "Lecture 01", "Lecture 02", … in order
    for fn in DIAGRAMS.values():  # callable without arguments
        assert all(p.default is not inspect.Parameter.empty for p in inspect.signature(fn).parameters.values())


# ------------------------------------------------------------------- every diagram, the same checks


@pytest.mark.parametrize("name", NAMES)
def test_returns_one_modest_figure_and_never_shows(name, monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("a diagram must not call plt.show()"))
    before = set(plt.get_fignums())
    fig = DIAGRAMS[name]()
    assert isinstance(fig, Figure)
    assert len(set(plt.get_fignums()) - before) == 1  # exactly one new pyplot figure
    width, height = fig.get_size_inches()
    assert 8.5 <= width <= 11.5 and 2.5 <= height <= 5.0, (width, height)
    assert all(not ax.axison for ax in fig.axes)


@pytest.mark.parametrize("name", NAMES)
def test_renders_to_png_without_warnings_and_deterministically(name):
    first = png(DIAGRAMS[name]())
    assert first.startswith(b"\x89PNG")
    plt.close("all")
    assert png(DIAGRAMS[name]()) == first


@pytest.mark.parametrize("name", NAMES)
def test_text_is_readable_inside_the_figure_and_never_overlaps(name):
    fig = DIAGRAMS[name]()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    items = texts(fig)
    assert items
    assert min(t.get_fontsize() for t in items) >= 10
    frame = fig.bbox
    boxes = []
    for t in items:
        box = t.get_window_extent(renderer)
        assert (box.x0 >= frame.x0 - 1 and box.y0 >= frame.y0 - 1 and box.x1 <= frame.x1 + 1
                and box.y1 <= frame.y1 + 1), f"{t.get_text()!r} is clipped by the figure's edge"
        boxes.append((t.get_text(), box))
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        overlap_x = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        overlap_y = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert overlap_x <= 1 or overlap_y <= 1, f"{a!r} overlaps {b!r}"


# ------------------------------------------------------------------ the lectures' notation, in the text

KEY_LABELS = {
    # lecture 01 names the encoder g_φ and the decoder f_θ, and the reconstruction x'
    "autoencoder": [r"$g_\phi$", r"$f_\theta$", r"$z = g_\phi(x)$", r"k \ll D", r"$x' = f_\theta(z)$",
                    r"\Vert x - x'\Vert^2"],
    "denoising": [r"\tilde x \sim q(\tilde x \mid x)", r"$g_\phi$", r"$f_\theta$", r"$h$", "masking",
                  "salt-and-pepper", "Gaussian", r"x' = f_\theta(g_\phi(\tilde x))", r"\Vert x - x'\Vert^2",
                  "clean"],
    "stacked_pretraining": ["stage 1", "stage 2", "frozen", r"$h_1$", r"$h_2$", r"\Vert x - x'\Vert^2",
                            r"\Vert h_1 - h_1'\Vert^2", "classifier head", "Fine-tune", "labels"],
    "vae_graphical_model": [r"q_\phi(z \mid x)", r"p_\theta(x \mid z)", r"p(z) = \mathcal{N}(0, I)", r"$N$",
                            r"$\theta$", r"$\phi$"],
    "reparametrization": [r"z = \mu + \sigma \odot \varepsilon", r"\varepsilon \sim \mathcal{N}(0, I)",
                          r"z \sim \mathcal{N}(\mu, \sigma^2)", "no gradient through sampling", "$\\mu$",
                          "$\\sigma$", "$\\phi$", "✗"],
    "gan_loop": [r"z \sim p_z", r"real $x \sim p_\mathrm{data}$", r"$G(z)$", r"D(\cdot) \in (0, 1)", "L_D",
                 r"minimise $\log(1 - D(G(z)))$", r"minimise $-\log D(G(z))$", "minimax", "flipped label",
                 r"$k$ times", "once"],
    "cyclegan": [r"$G: X \to Y$", r"$F: Y \to X$", r"$D_X$", r"$D_Y$", "T1", "T2", r"$G(x)$", r"$F(G(x))$",
                 r"$F(y)$", r"$G(F(y))$", r"\Vert F(G(x)) - x\Vert_1", r"\Vert G(F(y)) - y\Vert_1",
                 r"L_{GAN}(G, D_Y)", r"L_{GAN}(F, D_X)", r"\lambda_{cyc}"],
    "coupling_layer": [r"$u_1$", r"$u_2$", r"$x_1$", r"$x_2$", r"networks $s, t$",
                       r"x_2 = u_2 \odot \exp(s(u_1)) + t(u_1)", r"\sum_i\, (1 - m_i)\, s_i",
                       r"u_2 = (x_2 - t(x_1)) \odot \exp(-s(x_1))", "concatenate"],
    "made_masks": [r"$x_{1}$", r"$x_{3}$", r"$\mu_{3}, \alpha_{3}$", "mask 1", "mask 2", r"m(k) < d", r"m(k) \geq d"],
    "diffusion_chain": [r"$x_0$", r"$x_1$", r"$x_{t-1}$", r"$x_t$", r"$x_T", r"q(x_t \mid x_{t-1})",
                        r"p_\theta(x_{t-1} \mid x_t)", r"q(x_t \mid x_0) = \mathcal{N}(\alpha_t x_0, \sigma_t^2 I)",
                        r"\varepsilon_\theta(x_t, t)", "fixed", "learned"],
}


def test_every_diagram_has_its_key_labels():
    assert set(KEY_LABELS) == set(DIAGRAMS)


@pytest.mark.parametrize("name", NAMES)
def test_key_labels_appear(name):
    text = all_text(DIAGRAMS[name]())
    missing = [label for label in KEY_LABELS[name] if label not in text]
    assert not missing, f"{name} lacks {missing}"


def test_autoencoder_uses_lecture_01_names_not_swapped_ones():
    text = all_text(DIAGRAMS["autoencoder"]())
    assert r"f_\phi" not in text and r"g_\theta" not in text and r"\hat x" not in text


def test_gan_losses_have_the_lecture_signs():
    text = all_text(DIAGRAMS["gan_loop"]())
    # L_D is the cross-entropy with label 1 for real and 0 for generated samples, halved
    assert r"L_D = \frac{1}{2}" in text and r"\mathrm{mean}[-\log D(x)]" in text
    assert r"\mathrm{mean}[-\log(1 - D(G(z)))]" in text


# -------------------------------------------------------------------------------- MADE's masks


def brute_force(dim: int, hidden: list[int]) -> tuple[set, set]:
    """The masking rule, written out once more by enumeration of every possible connection."""
    to_hidden, to_output = set(), set()
    for i in range(dim):
        for k in range(len(hidden)):
            if hidden[k] >= i + 1:  # a hidden unit of degree m(k) sees inputs of degree ≤ m(k)
                to_hidden.add((i, k))
    for k in range(len(hidden)):
        for j in range(dim):
            if j + 1 > hidden[k]:  # output d sees hidden units of degree < d
                to_output.add((k, j))
    return to_hidden, to_output


@pytest.mark.parametrize("dim,n_hidden", [(2, 1), (3, 2), (3, 4), (4, 5), (5, 8), (6, 8)])
def test_made_connections_follow_the_masking_rule(dim, n_hidden):
    hidden = made_hidden_degrees(dim, n_hidden)
    assert sorted(set(hidden)) == list(range(1, dim))  # every degree 1 … D−1 occurs
    to_hidden, to_output = made_connections(list(range(1, dim + 1)), hidden)
    assert (set(to_hidden), set(to_output)) == brute_force(dim, hidden)
    assert len(set(to_hidden)) == len(to_hidden) and len(set(to_output)) == len(to_output)
    # autoregressive: a path from input i to output j exists exactly when i < j
    paths = {(i, j) for (i, k) in to_hidden for (k2, j) in to_output if k == k2}
    assert paths == {(i, j) for i in range(dim) for j in range(dim) if i < j}


@pytest.mark.parametrize("dim,n_hidden", [(2, 3), (3, 4), (4, 6)])
def test_made_connections_match_the_library_masks(dim, n_hidden):
    from course_lib.flows import made_masks

    hidden_mask, output_mask = (m.int().tolist() for m in made_masks(dim, [n_hidden]))
    to_hidden, to_output = made_connections(list(range(1, dim + 1)), made_hidden_degrees(dim, n_hidden))
    assert set(to_hidden) == {(i, k) for k in range(n_hidden) for i in range(dim) if hidden_mask[k][i]}
    assert set(to_output) == {(k, j) for j in range(dim) for k in range(n_hidden) if output_mask[j][k]}


@pytest.mark.parametrize("dim,n_hidden", [(3, 4), (2, 1), (4, 6), (6, 8)])
def test_made_diagram_draws_exactly_the_allowed_connections(dim, n_hidden):
    fig = made_masks_diagram() if (dim, n_hidden) == (3, 4) else made_masks_diagram(dim, n_hidden)
    to_hidden, to_output = made_connections(list(range(1, dim + 1)), made_hidden_degrees(dim, n_hidden))
    expected = ({f"made-edge:input{i}-hidden{k}" for i, k in to_hidden}
                | {f"made-edge:hidden{k}-output{j}" for k, j in to_output})
    drawn = made_edges(fig)
    assert len(drawn) == len(expected) and set(drawn) == expected
    png(fig)


def drawn_masks(fig: Figure) -> dict[int, dict[tuple[int, int], int]]:
    """The mask cells drawn in the figure, read back from their gids: {1: {(row, col): 0/1}, 2: …}."""
    masks: dict[int, dict[tuple[int, int], int]] = {1: {}, 2: {}}
    for ax in fig.axes:
        for patch in ax.patches:
            match = re.fullmatch(r"made-mask([12]):(\d+)-(\d+)=([01])", patch.get_gid() or "")
            if match:
                number, row, col, value = map(int, match.groups())
                masks[number][row, col] = value
    return masks


@pytest.mark.parametrize("dim,n_hidden", [(3, 4), (4, 6)])
def test_made_diagram_shows_the_library_masks(dim, n_hidden):
    from course_lib.flows import made_masks

    fig = made_masks_diagram() if (dim, n_hidden) == (3, 4) else made_masks_diagram(dim, n_hidden)
    drawn = drawn_masks(fig)
    for number, mask in zip((1, 2), made_masks(dim, [n_hidden])):
        rows, cols = mask.shape
        assert drawn[number] == {(r, c): int(mask[r, c]) for r in range(rows) for c in range(cols)}


def test_made_diagram_is_the_lectures_example_by_default():
    fig = made_masks_diagram()
    assert made_hidden_degrees(3, 4) == [1, 2, 1, 2]  # the lecture prints made_masks(3, [4])
    assert {len(cells) for cells in drawn_masks(fig).values()} == {12}
    assert len(made_edges(fig)) == 6 + 6  # 6 input→hidden (blue), 6 hidden→output (green)


def test_made_rejects_what_it_cannot_draw():
    with pytest.raises(ValueError, match="room"):
        made_masks_diagram(7, 8)
    with pytest.raises(ValueError, match="room"):
        made_masks_diagram(4, 2)
    with pytest.raises(ValueError):
        made_hidden_degrees(3, 1)


def test_made_helpers_refuse_bad_counts_and_degrees():
    """Issue 27: counts of the wrong kind or size, and degrees that are not ints ≥ 1, are refused."""
    with pytest.raises(TypeError, match="dim must be an int"):
        made_hidden_degrees(2.5, 4)
    with pytest.raises(TypeError, match="n_hidden must be an int"):
        made_hidden_degrees(3, True)
    with pytest.raises(ValueError, match="n_hidden must be an int from 1 to 1,000,000"):
        made_hidden_degrees(3, 10**9)
    with pytest.raises(ValueError, match="degrees_in must hold 1 to"):
        made_connections([], [1, 2])
    with pytest.raises(ValueError, match=r"degrees_hidden\[0\] must be an int ≥ 1"):
        made_connections([1, 2], [-1, 1])
    with pytest.raises(TypeError, match=r"degrees_in\[0\] must be an int"):
        made_connections([2.5, 1], [1])
    with pytest.raises(TypeError, match="degrees_in must be a list of degrees"):
        made_connections(None, [1])
    with pytest.raises(TypeError, match="dim must be an int"):
        made_masks_diagram(dim="3")
