"""Schematic figures (all lectures): the course's diagrams, drawn by code.

Every public function takes no required argument, draws one schematic with matplotlib alone —
boxes, arrows and mathtext labels; no image files, no network — and returns the ``Figure``
without calling ``plt.show()``: the notebook cell ends with ``plt.show()`` itself. The notation
is the lectures' own: lecture 01's encoder g_φ and decoder f_θ with reconstruction x′, lecture
04's noise z ~ p_z, lecture 06's coupling from u to x, and so on.

Each figure is one axes that fills it, with data coordinates in inches, so that circles stay
round and distances mean the same in every diagram. The few thumbnails (a synthetic head
phantom, lecture 04's 8-Gaussian ring) are computed from fixed numpy seeds: drawing a diagram
twice gives the same picture. The colours are the same everywhere: encoders and φ blue,
decoders, generators and θ green, discriminators orange, data grey, noise purple, codes yellow,
losses red; gradients (backward passes) are dashed magenta.

``DIAGRAMS`` maps a short name to each function, in lecture order; ``made_connections`` is the
masking rule that ``made_masks_diagram`` draws, exposed so that tests can check the drawing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle

from . import _validate
from .corruptions import masking_noise
from .data.toys import ring_gaussians
from .diffusion import cosine_schedule
from .evaluation import box_smooth

__all__ = [
    "autoencoder_diagram",
    "denoising_diagram",
    "stacked_pretraining_diagram",
    "vae_graphical_model",
    "reparametrization_diagram",
    "gan_loop_diagram",
    "cyclegan_diagram",
    "coupling_layer_diagram",
    "made_hidden_degrees",
    "made_connections",
    "made_masks_diagram",
    "diffusion_chain_diagram",
    "DIAGRAMS",
]

# ------------------------------------------------------------------------------ house style

FONT = 11  # labels
SMALL = 10  # annotations
TITLE = 12  # panel titles

Style = tuple[str, str]  # (fill, edge)
ENC: Style = ("#dbe8f6", "#3b73b0")  # encoder, φ
DEC: Style = ("#dcefd6", "#4a8f3a")  # decoder, generator, θ
DISC: Style = ("#fde3c8", "#d2791f")  # discriminator
DATA: Style = ("#ececec", "#666666")  # data, images
NOISE: Style = ("#ebe2f5", "#7b55a8")  # noise, random nodes
CODE: Style = ("#fff3bf", "#b08d1e")  # codes z, h
HEAD: Style = ("#f9dde3", "#b2475d")  # task head
FROZEN: Style = ("#e6e6e6", "#8c8c8c")  # frozen layers
PLAIN: Style = ("#ffffff", "#333333")  # deterministic nodes
DOMAIN_X: Style = ("#eef2f9", "#8293b8")  # CycleGAN domain X (T1)
DOMAIN_Y: Style = ("#f7eef4", "#a57a98")  # CycleGAN domain Y (T2-like)
LOSS = "#c0392b"
GRAD = "#c2187a"
INK = "#333333"


def _canvas(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure of ``width`` × ``height`` inches with one axes whose data units are inches."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, width)
    ax.set_ylim(0.0, height)
    ax.set_autoscale_on(False)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _text(ax: Axes, x: float, y: float, s: str, *, size: float = FONT, color: str = "black",
          ha: str = "center", va: str = "center", weight: str = "normal", on_white: bool = False,
          **kwargs) -> None:
    bbox = dict(boxstyle="square,pad=0.12", fc="white", ec="none") if on_white else None
    ax.text(x, y, s, fontsize=size, color=color, ha=ha, va=va, fontweight=weight, bbox=bbox,
            zorder=6, **kwargs)


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str = "", style: Style = DATA, *,
         size: float = FONT, hatch: str | None = None, ls: str = "-", lw: float = 1.4,
         rounding: float = 0.07) -> None:
    """A rounded box centred at (x, y), with its text centred in it."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=f"round,pad=0,rounding_size={rounding}",
                                fc=style[0], ec=style[1], lw=lw, ls=ls, hatch=hatch, zorder=2))
    if text:
        _text(ax, x, y, text, size=size)


def _trapezoid(ax: Axes, x0: float, x1: float, y: float, h0: float, h1: float, text: str, style: Style, *,
               size: float = FONT) -> None:
    """A layer drawn from x0 (height h0) to x1 (height h1): narrowing for an encoder, widening for a decoder."""
    corners = [(x0, y - h0 / 2), (x1, y - h1 / 2), (x1, y + h1 / 2), (x0, y + h0 / 2)]
    ax.add_patch(Polygon(corners, closed=True, fc=style[0], ec=style[1], lw=1.4, joinstyle="round", zorder=2))
    _text(ax, (x0 + x1) / 2, y, text, size=size)


def _node(ax: Axes, x: float, y: float, r: float, text: str = "", style: Style = PLAIN, *,
          size: float = FONT, lw: float = 1.4) -> None:
    ax.add_patch(Circle((x, y), r, fc=style[0], ec=style[1], lw=lw, zorder=3))
    if text:
        _text(ax, x, y, text, size=size)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], *, color: str = INK,
           lw: float = 1.5, ls: str = "-", rad: float = 0.0, head: float = 13.0, both: bool = False,
           zorder: int = 4) -> None:
    """An arrow from ``start`` to ``end`` (an arc when ``rad`` ≠ 0; positive bends to the right of travel)."""
    style = "<|-|>" if both else "-|>"
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=head, color=color, lw=lw,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0,
                                 capstyle="butt", joinstyle="miter", zorder=zorder))


def _polyline(ax: Axes, xs: Sequence[float], ys: Sequence[float], *, color: str = INK, lw: float = 1.5,
              ls: str = "-", gid: str | None = None, zorder: int = 4) -> None:
    line = Line2D(xs, ys, color=color, lw=lw, ls=ls, solid_capstyle="butt", zorder=zorder)
    if gid is not None:
        line.set_gid(gid)
    ax.add_line(line)


def _thumbnail(ax: Axes, image: np.ndarray, x: float, y: float, size: float, *, edge: str = DATA[1]) -> None:
    """A grey-scale image (values in [0, 1]) centred at (x, y), ``size`` inches wide, with a frame."""
    half = size / 2
    ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0, extent=(x - half, x + half, y - half, y + half),
              interpolation="nearest", origin="upper", zorder=2)
    ax.add_patch(Rectangle((x - half, y - half), size, size, fc="none", ec=edge, lw=1.2, zorder=3))


# ------------------------------------------------------------------------- synthetic images


def _phantom(contrast: str = "T1", n: int = 64) -> np.ndarray:
    """A cartoon axial brain slice, n × n in [0, 1]: a cortical ribbon with gyri, white matter, ventricles.

    ``contrast`` "T1" makes CSF dark and white matter bright; "T2" reverses the tissue order, as
    lecture 05's synthetic T2-like contrast does (CSF bright, grey matter mid, white matter dark).
    """
    yy, xx = np.mgrid[1:-1:complex(0, n), -1:1:complex(0, n)]
    rho = np.sqrt((xx / 0.76) ** 2 + (yy / 0.92) ** 2)
    theta = np.arctan2(yy, xx)
    csf, gm, wm = {"T1": (0.1, 0.5, 0.88), "T2": (0.95, 0.6, 0.3)}[contrast]
    img = np.zeros((n, n))
    img[rho < 1.0] = csf
    img[rho < 0.93] = gm
    img[rho < 0.72 + 0.07 * np.cos(13 * theta)] = wm
    img[((np.abs(xx) - 0.13) / 0.075) ** 2 + ((yy + 0.02) / 0.3) ** 2 < 1] = csf  # the lateral ventricles
    img[(np.abs(xx) < 0.025) & (yy > 0.45) & (rho < 1)] = csf  # the interhemispheric fissure
    return img


def _blur(img: np.ndarray, passes: int = 2) -> np.ndarray:
    """A 3 × 3 box blur (``evaluation.box_smooth``), applied ``passes`` times."""
    out = torch.from_numpy(img).float()[None, None]
    for _ in range(passes):
        out = box_smooth(out)
    return out[0, 0].numpy()


def _masked(img: np.ndarray, nu: float = 0.35, seed: int = 2) -> np.ndarray:
    """Lecture 02's masking noise (``corruptions.masking_noise``): a fraction ν of the pixels set to 0."""
    x = torch.from_numpy(img).float()[None, None]
    return masking_noise(x, nu, generator=torch.Generator().manual_seed(seed))[0, 0].numpy()


def _ring(n: int = 320, seed: int = 0) -> np.ndarray:
    """Lecture 04's 8-Gaussian ring (``data.toys.ring_gaussians``), divided by its standard deviation."""
    points = ring_gaussians(n, seed=seed).samples.numpy()
    return points / points.std()


# ---------------------------------------------------------------------------- lecture 01


def autoencoder_diagram() -> Figure:
    """Lecture 01, section 2: x → encoder g_φ → code z (k ≪ D numbers) → decoder f_θ → x′, and the loss.

    The encoder is drawn narrowing and the decoder widening around the bottleneck; the loss
    ‖x − x′‖² joins the input and its reconstruction underneath.
    """
    fig, ax = _canvas(9.3, 3.3)
    y, size = 2.0, 1.3
    x_img = _phantom("T1")
    _thumbnail(ax, x_img, 0.85, y, size)
    _text(ax, 0.85, y + size / 2 + 0.2, r"image $x \in \mathbb{R}^{D}$")
    _arrow(ax, (1.55, y), (1.98, y))
    _trapezoid(ax, 2.02, 3.62, y, 1.5, 0.62, "encoder\n" + r"$g_\phi$", ENC)
    _arrow(ax, (3.66, y), (4.1, y))
    _box(ax, 4.44, y, 0.6, 0.62, r"$z$", CODE)
    _text(ax, 4.44, y + 0.55, r"code $z = g_\phi(x)$")
    _text(ax, 4.44, y - 0.55, r"$z \in \mathbb{R}^{k},\ k \ll D$", size=SMALL)
    _arrow(ax, (4.78, y), (5.22, y))
    _trapezoid(ax, 5.26, 6.86, y, 0.62, 1.5, "decoder\n" + r"$f_\theta$", DEC)
    _arrow(ax, (6.9, y), (7.33, y))
    _thumbnail(ax, _blur(x_img, 3), 8.03, y, size)
    _text(ax, 8.03, y + size / 2 + 0.2, r"reconstruction $x' = f_\theta(z)$")
    # The loss joins x and x' underneath.
    bottom, lane = y - size / 2 - 0.06, 0.42
    _polyline(ax, [0.85, 0.85, 8.03, 8.03], [bottom, lane, lane, bottom], color=LOSS, lw=1.8)
    _text(ax, 4.44, lane, r"loss $\Vert x - x'\Vert^2$ (summed over the pixels, averaged over the batch)",
          color=LOSS, on_white=True)
    return fig


# ---------------------------------------------------------------------------- lecture 02


def denoising_diagram() -> Figure:
    """Lecture 02, section 2: x → corruption q(x̃ | x) → x̃ → g_φ → h → f_θ → x′, the loss against the CLEAN x.

    The thick red path is the point of the denoising autoencoder: the target is the clean
    image, not the corrupted input the network saw. (Lecture 02's network is over-complete, so
    encoder and decoder are drawn as plain boxes, not as a bottleneck.)
    """
    fig, ax = _canvas(9.5, 3.1)
    y, size = 1.9, 1.1
    clean = _phantom("T1")
    _thumbnail(ax, clean, 0.75, y, size)
    _text(ax, 0.75, y + size / 2 + 0.2, r"clean $x$", weight="bold")
    _arrow(ax, (1.34, y), (1.6, y))
    _box(ax, 2.4, y, 1.56, 0.78, "corrupt\n" + r"$\tilde x \sim q(\tilde x \mid x)$", NOISE)
    _text(ax, 2.4, y - 0.66, "masking, Gaussian\nor salt-and-pepper", size=SMALL)
    _arrow(ax, (3.2, y), (3.46, y))
    _thumbnail(ax, _masked(clean), 4.05, y, size)
    _text(ax, 4.05, y + size / 2 + 0.2, r"corrupted $\tilde x$")
    _arrow(ax, (4.64, y), (4.9, y))
    _box(ax, 5.35, y, 0.84, 0.9, "encoder\n" + r"$g_\phi$", ENC)
    _arrow(ax, (5.79, y), (6.05, y))
    _box(ax, 6.33, y, 0.5, 0.9, r"$h$", CODE)
    _text(ax, 6.33, y - 0.66, r"code $h$", size=SMALL)
    _arrow(ax, (6.6, y), (6.86, y))
    _box(ax, 7.31, y, 0.84, 0.9, "decoder\n" + r"$f_\theta$", DEC)
    _arrow(ax, (7.75, y), (8.01, y))
    _thumbnail(ax, _blur(clean, 1), 8.6, y, size)
    _text(ax, 8.6, y + size / 2 + 0.2, r"$x' = f_\theta(g_\phi(\tilde x))$")
    # The loss compares x' with the clean x: a thick red path from x to x'.
    bottom, lane = y - size / 2 - 0.06, 0.38
    _polyline(ax, [0.75, 0.75, 8.6], [bottom, lane, lane], color=LOSS, lw=3.0)
    _arrow(ax, (8.6, lane - 0.015), (8.6, bottom), color=LOSS, lw=3.0, head=18)
    _text(ax, 4.7, lane, r"loss $\Vert x - x'\Vert^2$: the target is the clean $x$, not $\tilde x$",
          color=LOSS, weight="bold", on_white=True)
    return fig


def stacked_pretraining_diagram() -> Figure:
    """Lecture 02, section 3: greedy layer-wise pretraining of a stack, then fine-tuning, in three panels.

    1. stage 1 (with its own decoder) is trained as a (denoising) autoencoder of the images x;
    2. stage 1 is frozen (hatched) and stage 2 is trained as an autoencoder of its codes h₁;
    3. a classifier head goes on top and every stage is fine-tuned with a few labels.
    """
    width, height = 11.0, 4.75
    fig, ax = _canvas(width, height)
    rows = [0.38 + 0.58 * i for i in range(7)]
    panel_w = width / 3
    node_w, node_h, layer_w, layer_h = 0.9, 0.34, 1.56, 0.38

    def chain(cx: float, items: list[tuple[str, str, Style, dict]]) -> None:
        for i, (kind, label, style, extra) in enumerate(items):
            if kind == "node":
                _box(ax, cx, rows[i], node_w, node_h, label, style, rounding=0.12)
            else:
                _box(ax, cx, rows[i], layer_w, layer_h, label, style, size=SMALL, **extra)
            if i:
                lower = rows[i - 1] + (node_h if items[i - 1][0] == "node" else layer_h) / 2
                upper = rows[i] - (node_h if kind == "node" else layer_h) / 2
                _arrow(ax, (cx, lower + 0.01), (cx, upper - 0.01), head=10)

    def bracket(cx: float, lo: float, hi: float, label: str) -> None:
        """A red bracket from the node at height lo to the node at height hi, outside the layer boxes."""
        x = cx + layer_w / 2 + 0.16
        _polyline(ax, [cx + node_w / 2 + 0.04, x, x, cx + node_w / 2 + 0.04], [lo, lo, hi, hi], color=LOSS, lw=1.6)
        _text(ax, x + 0.08, (lo + hi) / 2, label, color=LOSS, ha="left")

    titles = [("1. Pretrain stage 1", r"a (denoising) autoencoder of the images $x$"),
              ("2. Freeze it, pretrain stage 2", r"an autoencoder of the codes $h_1$"),
              ("3. Fine-tune the whole stack", r"a classifier head, few labels $y$")]
    for p, (title, subtitle) in enumerate(titles):
        cx = p * panel_w + 1.3
        _text(ax, p * panel_w + panel_w / 2, height - 0.2, title, size=TITLE, weight="bold")
        _text(ax, p * panel_w + panel_w / 2, height - 0.47, subtitle, size=SMALL)
        if p:
            _polyline(ax, [p * panel_w, p * panel_w], [0.15, height - 0.1], color="#bbbbbb", lw=1.0)
        no = {}
        if p == 0:
            chain(cx, [("node", r"$x$", DATA, no), ("layer", "stage 1 encoder", ENC, no),
                       ("node", r"$h_1$", CODE, no), ("layer", "stage 1 decoder", DEC, no),
                       ("node", r"$x'$", DATA, no)])
            bracket(cx, rows[0], rows[4], r"$\Vert x - x'\Vert^2$")
        elif p == 1:
            frozen = dict(hatch="////", lw=1.2)
            chain(cx, [("node", r"$x$", DATA, no), ("layer", "", FROZEN, frozen),
                       ("node", r"$h_1$", CODE, no), ("layer", "stage 2 encoder", ENC, no),
                       ("node", r"$h_2$", CODE, no), ("layer", "stage 2 decoder", DEC, no),
                       ("node", r"$h_1'$", CODE, no)])
            _text(ax, cx, rows[1], "stage 1: frozen", size=SMALL, on_white=True)
            bracket(cx, rows[2], rows[6], r"$\Vert h_1 - h_1'\Vert^2$")
        else:
            chain(cx, [("node", r"$x$", DATA, no), ("layer", "stage 1", ENC, no),
                       ("node", r"$h_1$", CODE, no), ("layer", "stage 2", ENC, no),
                       ("node", r"$h_2$", CODE, no), ("layer", "classifier head", HEAD, no),
                       ("node", r"$\hat y$", DATA, no)])
            _text(ax, cx + 0.6, rows[6], "lesion?", size=SMALL, ha="left")
            _text(ax, cx + 0.95, rows[5], "cross-entropy\n" + r"with labels $y$", color=LOSS, ha="left")
            _arrow(ax, (cx - 0.98, rows[5]), (cx - 0.98, rows[1]), color=GRAD, ls="--", lw=1.4)
            _text(ax, cx - 1.12, (rows[1] + rows[5]) / 2, "every stage is updated", size=SMALL, color=GRAD,
                  rotation=90)
    return fig


# ---------------------------------------------------------------------------- lecture 03


def vae_graphical_model() -> Figure:
    """Lecture 03, sections 1–2: the VAE as a graphical model in plate notation.

    The latent z (white) generates the observed image x (shaded) through p_θ(x | z) under the
    prior p(z) = N(0, I); the dashed arrow is the inference model q_φ(z | x); the plate repeats
    both for each of the N images.
    """
    fig, ax = _canvas(9.0, 3.4)
    zx, xx, y, r = 1.8, 3.7, 1.45, 0.36
    ax.add_patch(FancyBboxPatch((0.85, 0.3), 3.75, 2.2, boxstyle="round,pad=0,rounding_size=0.1",
                                fc="none", ec=INK, lw=1.3, zorder=1))
    _text(ax, 4.43, 0.48, r"$N$", size=TITLE)
    _node(ax, zx, y, r, r"$z$", ("#ffffff", INK), size=TITLE)
    _node(ax, xx, y, r, r"$x$", ("#c8c8c8", INK), size=TITLE)
    _text(ax, zx, y + r + 0.24, r"$p(z) = \mathcal{N}(0, I)$")
    # generative: z -> x, solid; inference: x -> z, dashed, arcing below.
    _arrow(ax, (zx + r, y + 0.08), (xx - r, y + 0.08), color=DEC[1], lw=1.8)
    _text(ax, (zx + xx) / 2, y + 0.3, r"$p_\theta(x \mid z)$", color=DEC[1])
    _arrow(ax, (xx - 0.22, y - 0.29), (zx + 0.22, y - 0.29), color=ENC[1], lw=1.8, ls="--", rad=-0.45)
    _text(ax, (zx + xx) / 2, 0.55, r"$q_\phi(z \mid x)$", color=ENC[1])
    # the parameters, outside the plate
    _node(ax, xx, 3.0, 0.2, r"$\theta$", DEC)
    _arrow(ax, (xx, 2.8), (xx, y + r), color=DEC[1], lw=1.5)
    _node(ax, 0.42, y, 0.2, r"$\phi$", ENC)
    _arrow(ax, (0.62, y), (zx - r, y), color=ENC[1], lw=1.5, ls="--")
    # legend
    lx, tx = 5.15, 5.85
    _polyline(ax, [lx, lx + 0.55], [2.85, 2.85], color=DEC[1], lw=1.8)
    _text(ax, tx, 2.85, "generative model (decoder):\n" + r"$p_\theta(x \mid z)\, p(z)$", ha="left")
    _polyline(ax, [lx, lx + 0.55], [2.05, 2.05], color=ENC[1], lw=1.8, ls="--")
    _text(ax, tx, 2.05, "inference model (encoder):\n" + r"$q_\phi(z \mid x)$", ha="left")
    _node(ax, lx + 0.14, 1.3, 0.13, "", ("#ffffff", INK))
    _node(ax, lx + 0.44, 1.3, 0.13, "", ("#c8c8c8", INK))
    _text(ax, tx, 1.3, "latent code, observed image", ha="left")
    ax.add_patch(Rectangle((lx, 0.45), 0.55, 0.34, fc="none", ec=INK, lw=1.2))
    _text(ax, tx, 0.62, "plate: repeated for each\n" + r"of the $N$ images", ha="left")
    return fig


def reparametrization_diagram() -> Figure:
    """Lecture 03, section 3: why sampling blocks the gradient, and how z = μ + σ ⊙ ε lets it through.

    Left: z is drawn by a sampler inside the graph; the backward pass (dashed) stops at the
    random node. Right: the noise ε ~ N(0, I) enters from outside, z is a deterministic function
    of μ and σ, and the gradient reaches μ, σ and the encoder's parameters φ.
    """
    width, height = 11.0, 3.7
    fig, ax = _canvas(width, height)
    y = 1.95
    for p, title in enumerate(["Sampling inside the graph", r"Reparametrised: $z = \mu + \sigma \odot \varepsilon$"]):
        px = 0.15 + p * 5.55
        _text(ax, px + 2.6, height - 0.25, title, size=TITLE, weight="bold")
        if p:
            _polyline(ax, [px - 0.18, px - 0.18], [0.55, height - 0.1], color="#bbbbbb", lw=1.0)
        ex, mx, zx, dx, lx = px + 1.2, px + 2.2, px + 3.1, px + 4.0, px + 4.9
        _node(ax, px + 0.3, y, 0.26, r"$x$", DATA)
        _arrow(ax, (px + 0.56, y), (ex - 0.4, y))
        _box(ax, ex, y, 0.8, 0.8, "encoder\n" + r"$\phi$", ENC)
        _arrow(ax, (ex + 0.4, y), (mx - 0.3, y))
        _box(ax, mx, y, 0.6, 0.8, r"$\mu$" + "\n" + r"$\sigma$", PLAIN)
        _arrow(ax, (mx + 0.3, y), (zx - 0.3, y))
        if p == 0:
            _node(ax, zx, y, 0.3, r"$z$", NOISE)
            _text(ax, zx, y - 0.6, r"$z \sim \mathcal{N}(\mu, \sigma^2)$", color=NOISE[1])
            _text(ax, zx, y - 0.88, "(random node)", size=SMALL, color=NOISE[1])
        else:
            _box(ax, zx, y, 0.6, 0.6, r"$z$", PLAIN)
            _node(ax, zx, y - 1.05, 0.27, r"$\varepsilon$", NOISE)
            _arrow(ax, (zx, y - 0.78), (zx, y - 0.3), color=NOISE[1])
            _text(ax, zx + 0.38, y - 1.05, r"$\varepsilon \sim \mathcal{N}(0, I)$" + "\n" + "an input from outside",
                  color=NOISE[1], ha="left", size=SMALL)
        _arrow(ax, (zx + 0.3, y), (dx - 0.4, y))
        _box(ax, dx, y, 0.8, 0.8, "decoder\n" + r"$\theta$", DEC)
        _arrow(ax, (dx + 0.4, y), (lx - 0.3, y))
        _box(ax, lx, y, 0.6, 0.46, r"$-\mathcal{L}$", ("#ffffff", LOSS))
        # the backward pass: dashed arcs above the forward path, from the loss towards the input
        top = y + 0.42
        _arrow(ax, (lx - 0.05, y + 0.25), (dx + 0.1, top), color=GRAD, ls="--", rad=0.5)
        _arrow(ax, (dx - 0.1, top), (zx + 0.05, y + 0.32), color=GRAD, ls="--", rad=0.5)
        if p == 0:
            _polyline(ax, [zx - 0.05, zx - 0.25], [y + 0.32, y + 0.5], color=GRAD, ls="--", lw=1.5)
            _text(ax, zx - 0.42, y + 0.58, "✗", size=20, color=LOSS, weight="bold")
            _text(ax, zx - 0.42, y + 0.92, "no gradient through sampling", color=LOSS, size=SMALL)
        else:
            _arrow(ax, (zx - 0.05, y + 0.32), (mx + 0.1, top), color=GRAD, ls="--", rad=0.5)
            _arrow(ax, (mx - 0.1, top), (ex + 0.1, top), color=GRAD, ls="--", rad=0.5)
            _text(ax, (ex + zx) / 2, y + 0.92, r"the gradient reaches $\mu$, $\sigma$ and $\phi$",
                  color=GRAD, size=SMALL)
    _polyline(ax, [3.3, 3.85], [0.28, 0.28], color=INK)
    _text(ax, 3.95, 0.28, "forward pass", ha="left", size=SMALL)
    _polyline(ax, [5.6, 6.15], [0.28, 0.28], color=GRAD, ls="--")
    _text(ax, 6.25, 0.28, "backward pass (gradients)", ha="left", size=SMALL)
    return fig


# ---------------------------------------------------------------------------- lecture 04


def gan_loop_diagram() -> Figure:
    """Lecture 04, sections 1–3: the two players, their losses, and the alternating algorithm.

    Noise z ~ p_z goes through G; D sees G(z) and real x ~ p_data and outputs D(·) ∈ (0, 1).
    Underneath: L_D, the generator's minimax loss log(1 − D(G(z))) and its flipped-label loss
    −log D(G(z)); on the right, one round of Algorithm 1 (k steps of D, then one of G).
    """
    width, height = 10.6, 4.5
    fig, ax = _canvas(width, height)
    top, low = 3.75, 2.55
    _node(ax, 0.45, top, 0.28, r"$z$", NOISE)
    _text(ax, 0.45, top - 0.5, r"$z \sim p_z$", color=NOISE[1])
    _arrow(ax, (0.73, top), (1.08, top))
    _trapezoid(ax, 1.12, 2.22, top, 0.5, 1.0, r"$G$", DEC, size=TITLE)
    _text(ax, 1.67, top - 0.68, "generator", size=SMALL)
    _arrow(ax, (2.26, top), (2.6, top))
    _box(ax, 3.1, top, 0.96, 0.5, r"$G(z)$", DATA, ls="--")
    _box(ax, 3.1, low, 0.96, 0.5, r"$x$", DATA)
    _text(ax, 2.5, low, r"real $x \sim p_\mathrm{data}$", ha="right")
    dx0, dx1, dy = 4.15, 5.25, (top + low) / 2
    _trapezoid(ax, dx0, dx1, dy, 1.7, 0.7, r"$D$", DISC, size=TITLE)
    _text(ax, (dx0 + dx1) / 2, dy + 1.07, "discriminator", size=SMALL)
    _arrow(ax, (3.58, top), (dx0, top - 0.17))
    _arrow(ax, (3.58, low), (dx0, low + 0.17))
    _arrow(ax, (dx1 + 0.04, dy), (5.6, dy))
    _text(ax, 5.68, dy + 0.14, r"$D(\cdot) \in (0, 1)$", ha="left")
    _text(ax, 5.68, dy - 0.2, "probability of real", ha="left", size=SMALL)
    # one round of the algorithm
    cx = 8.85
    _text(ax, cx, 4.3, "each round (Algorithm 1)", size=TITLE, weight="bold")
    _box(ax, cx, 3.65, 2.5, 0.62, r"$k$ times: a step of $D$ on $L_D$" + "\n" + r"($G(z)$ detached)", DISC, size=SMALL)
    _box(ax, cx, 2.55, 2.5, 0.62, "once: a step of " + r"$G$ on its loss" + "\n" + r"(through the updated $D$)", DEC,
         size=SMALL)
    _arrow(ax, (cx + 1.25, 3.55), (cx + 1.25, 2.65), rad=-0.6)
    _arrow(ax, (cx - 1.25, 2.65), (cx - 1.25, 3.55), rad=-0.6)
    # the losses
    rows = [1.55, 1.0, 0.45]
    labels = ["discriminator", "generator, minimax", "generator, flipped label"]
    formulas = [r"$L_D = \frac{1}{2}\,\left(\mathrm{mean}[-\log D(x)] + \mathrm{mean}[-\log(1 - D(G(z)))]\right)$",
                r"minimise $\log(1 - D(G(z)))$",
                r"minimise $-\log D(G(z))$"]
    notes = ["", r"almost no gradient when $D(G(z)) \approx 0$", "the loss used from section 2 on"]
    _polyline(ax, [0.25, width - 0.25], [2.0, 2.0], color="#bbbbbb", lw=1.0)
    for row, label, formula, note in zip(rows, labels, formulas, notes):
        _text(ax, 0.3, row, label, ha="left", weight="bold")
        _text(ax, 2.75, row, formula, ha="left", color=LOSS)
        if note:
            _text(ax, 5.6, row, note, ha="left", size=SMALL, color="#555555")
    return fig


# ---------------------------------------------------------------------------- lecture 05


def cyclegan_diagram() -> Figure:
    """Lecture 05, section 1: CycleGAN's two maps, two discriminators and both cycles, in three panels.

    (a) G: X → Y and F: Y → X between T1 (X) and T2-like (Y) slices, with D_Y judging real y
    against G(x) and D_X real x against F(y); (b) the forward cycle x → G(x) → F(G(x)) ≈ x, its
    cycle loss, and the adversarial loss L_GAN(G, D_Y) attached to G(x); (c) the backward cycle
    y → F(y) → G(F(y)) ≈ y with L_GAN(F, D_X). The full objective is written underneath.
    """
    width, height = 11.0, 4.6
    fig, ax = _canvas(width, height)
    t1, t2 = _phantom("T1"), _phantom("T2")
    panel_w = width / 3
    band_top, band_bot = 3.85, 1.42
    y_d, y_loss = 0.88, 0.5  # discriminator boxes, loss labels
    titles = ["(a) two maps, two discriminators", r"(b) forward cycle: $F(G(x)) \approx x$",
              r"(c) backward cycle: $G(F(y)) \approx y$"]

    def bands(cX: float, cY: float, band_w: float) -> None:
        for c, style, name in [(cX, DOMAIN_X, r"$X$: T1"), (cY, DOMAIN_Y, r"$Y$: T2-like")]:
            _box(ax, c, (band_top + band_bot) / 2, band_w, band_top - band_bot, "", style, rounding=0.15)
            _text(ax, c, band_top - 0.17, name, size=SMALL)

    def discriminator(c: float, name: str) -> None:
        _box(ax, c, y_d, 0.62, 0.36, name, DISC)
        _arrow(ax, (c, band_bot - 0.02), (c, y_d + 0.2), color=DISC[1], ls=":")

    for p, title in enumerate(titles):
        px = p * panel_w
        _text(ax, px + panel_w / 2, height - 0.22, title, size=TITLE, weight="bold")
        if p:
            _polyline(ax, [px, px], [0.4, height - 0.1], color="#bbbbbb", lw=1.0)
        if p == 0:
            cX, cY = px + 0.75, px + 2.9
            bands(cX, cY, 1.0)
            _text(ax, cX, 2.6, r"$x$", size=22)
            _text(ax, cY, 2.6, r"$y$", size=22)
            _arrow(ax, (cX + 0.42, 2.95), (cY - 0.42, 2.95), color=DEC[1], lw=1.8, rad=-0.3)
            _text(ax, (cX + cY) / 2, 3.42, r"$G: X \to Y$", color=DEC[1])
            _arrow(ax, (cY - 0.42, 2.25), (cX + 0.42, 2.25), color=DEC[1], lw=1.8, rad=-0.3)
            _text(ax, (cX + cY) / 2, 1.8, r"$F: Y \to X$", color=DEC[1])
            discriminator(cX, r"$D_X$")
            discriminator(cY, r"$D_Y$")
            _text(ax, cX, y_loss, r"real $x$ or $F(y)$?", size=SMALL)
            _text(ax, cY, y_loss, r"real $y$ or $G(x)$?", size=SMALL)
            continue
        # (b) x in X -> G(x) in Y -> F(G(x)) in X; (c) the mirror image, starting in Y
        cX, cY, band_w = px + 0.85, px + 2.72, 1.3
        bands(cX, cY, band_w)
        forward = p == 1
        start_c, mid_c = (cX, cY) if forward else (cY, cX)
        start_img, mid_img = (t1, t2) if forward else (t2, t1)
        if forward:
            names = (r"$x$", r"$G(x)$", r"$F(G(x))$", r"$G$", r"$F$")
            d_name, gan, cyc = r"$D_Y$", r"$L_{GAN}(G, D_Y)$", r"$\Vert F(G(x)) - x\Vert_1$"
        else:
            names = (r"$y$", r"$F(y)$", r"$G(F(y))$", r"$F$", r"$G$")
            d_name, gan, cyc = r"$D_X$", r"$L_{GAN}(F, D_X)$", r"$\Vert G(F(y)) - y\Vert_1$"
        s, y_start, y_mid, y_end = 0.56, 3.12, 2.6, 2.08
        _thumbnail(ax, start_img, start_c, y_start, s)
        _thumbnail(ax, mid_img, mid_c, y_mid, s)
        _thumbnail(ax, _blur(start_img, 1), start_c, y_end, s)
        out = -1 if forward else 1  # the side of the start band away from the other band
        _text(ax, start_c + out * 0.36, y_start, names[0], ha="right" if forward else "left")
        _text(ax, mid_c, y_mid + s / 2 + 0.16, names[1], size=SMALL)
        _text(ax, start_c, y_end - s / 2 - 0.17, names[2], size=SMALL)
        _arrow(ax, (start_c - out * 0.3, y_start), (mid_c + out * 0.3, y_mid + 0.1), color=DEC[1], lw=1.6)
        _text(ax, (start_c + mid_c) / 2, y_start + 0.05, names[3], color=DEC[1])
        _arrow(ax, (mid_c + out * 0.3, y_mid - 0.1), (start_c - out * 0.3, y_end), color=DEC[1], lw=1.6)
        _text(ax, (start_c + mid_c) / 2, y_end - 0.1, names[4], color=DEC[1])
        # the cycle loss, along the outer edge of the start band, and the adversarial loss on the translation
        bx = start_c + out * (band_w / 2 - 0.13)
        _arrow(ax, (bx, y_start - 0.22), (bx, y_end + 0.22), color=LOSS, lw=1.6, both=True, head=10)
        _text(ax, start_c, y_d, cyc, color=LOSS)
        discriminator(mid_c, d_name)
        _text(ax, mid_c, y_loss, gan, color=LOSS, size=SMALL)
    _text(ax, width / 2, 0.17,
          r"$L = L_{GAN}(G, D_Y) + L_{GAN}(F, D_X) + \lambda_{cyc}\, L_{cyc}(G, F)$,   "
          r"$L_{cyc} = \mathbb{E}_x\Vert F(G(x)) - x\Vert_1 + \mathbb{E}_y\Vert G(F(y)) - y\Vert_1$,   "
          r"$\lambda_{cyc} = 10$", color=LOSS)
    return fig


# ---------------------------------------------------------------------------- lecture 06


def coupling_layer_diagram() -> Figure:
    """Lecture 06, section 4: RealNVP's affine coupling layer, u → x, with its log-determinant and inverse.

    The kept part u₁ (mask m = 1) passes unchanged and feeds the networks s and t; the other
    part becomes x₂ = u₂ ⊙ exp(s(u₁)) + t(u₁). Beside the output: log|det ∂x/∂u| = Σᵢ (1 − mᵢ) sᵢ.
    Underneath: the layer in the lecture's mask form and its one-pass inverse.
    """
    width, height = 10.5, 4.3
    fig, ax = _canvas(width, height)
    y1, y2, yn = 3.5, 1.85, 2.75
    bw, bh = 0.7, 0.56
    _text(ax, 0.28, (y1 + y2) / 2, r"$u$", size=TITLE + 2)
    _polyline(ax, [0.55, 0.45, 0.45, 0.55], [y1, y1, y2, y2], color=INK, lw=1.3)
    _box(ax, 1.0, y1, bw, bh, r"$u_1$", DATA)
    _text(ax, 1.0, y1 + 0.47, r"kept ($m = 1$)", size=SMALL)
    _box(ax, 1.0, y2, bw, bh, r"$u_2$", DATA)
    _text(ax, 1.0, y2 - 0.47, r"transformed ($m = 0$)", size=SMALL)
    # the kept part goes straight through, and feeds the networks
    ox, nx = 7.1, 2.65
    _arrow(ax, (1.35, y1), (ox - bw / 2, y1))
    _text(ax, 5.0, y1 + 0.2, r"unchanged: $x_1 = u_1$")
    ax.add_patch(Circle((nx, y1), 0.045, color=INK, zorder=5))
    _arrow(ax, (nx, y1), (nx, yn + 0.28))
    _box(ax, nx, yn, 1.3, 0.56, r"networks $s, t$", DEC)
    # the affine map of u2: multiply by exp(s), add t
    mx, px = 3.95, 5.55
    _arrow(ax, (1.35, y2), (mx - 0.22, y2))
    _node(ax, mx, y2, 0.22, r"$\odot$", PLAIN, size=TITLE + 2)
    _arrow(ax, (mx + 0.22, y2), (px - 0.22, y2))
    _node(ax, px, y2, 0.22, r"$+$", PLAIN, size=TITLE + 2)
    _arrow(ax, (px + 0.22, y2), (ox - bw / 2, y2))
    _arrow(ax, (nx + 0.45, yn - 0.28), (mx - 0.1, y2 + 0.2), color=DEC[1])
    _text(ax, nx + 0.55, 2.18, r"$\exp(s(u_1))$", color=DEC[1], ha="right")
    _arrow(ax, (nx + 0.65, yn), (px - 0.1, y2 + 0.2), color=DEC[1])
    _text(ax, 4.55, 2.62, r"$t(u_1)$", color=DEC[1], ha="left")
    _box(ax, ox, y1, bw, bh, r"$x_1$", DATA)
    _box(ax, ox, y2, bw, bh, r"$x_2$", DATA)
    _text(ax, ox - 0.2, y2 - 0.47, r"$x_2 = u_2 \odot \exp(s(u_1)) + t(u_1)$", size=SMALL)
    # concatenation, and the log-determinant beside the output
    mid = (y1 + y2) / 2
    _polyline(ax, [ox + 0.45, ox + 0.55, ox + 0.55, ox + 0.45], [y1, y1, y2, y2], color=INK, lw=1.3)
    _arrow(ax, (ox + 0.55, mid), (ox + 0.85, mid))
    _text(ax, ox + 0.95, mid, r"$x$", size=TITLE + 2, ha="left")
    _text(ax, ox + 0.62, mid - 0.3, "concatenate", size=SMALL, ha="left", color="#555555")
    _text(ax, ox + 1.55, mid + 0.12, r"$\log|\det\, \partial x / \partial u|$" + "\n" + r"$= \sum_i\, (1 - m_i)\, s_i$",
          ha="left", color=LOSS)
    # the whole layer in the lecture's mask form, and its inverse
    _polyline(ax, [0.25, width - 0.25], [1.08, 1.08], color="#bbbbbb", lw=1.0)
    _text(ax, 0.3, 0.78, "layer:", ha="left", weight="bold")
    _text(ax, 1.35, 0.78, r"$x = m \odot u + (1 - m) \odot \left(u \odot \exp(s(m \odot u)) + t(m \odot u)\right)$",
          ha="left")
    _text(ax, 0.3, 0.3, "inverse:", ha="left", weight="bold")
    _text(ax, 1.35, 0.3, r"$u_1 = x_1,\quad u_2 = (x_2 - t(x_1)) \odot \exp(-s(x_1))$"
          "  — one pass: $s$ and $t$ are recomputed from $x_1$, never inverted", ha="left")
    return fig


def made_hidden_degrees(dim: int, n_hidden: int) -> list[int]:
    """MADE's hidden degrees as ``course_lib.flows.made_masks`` assigns them: unit k gets 1 + (k mod (D − 1)).

    Raises ValueError for dim < 2, n_hidden < dim − 1 or sizes above ``_validate.MAX_WIDTH``."""
    dim = _validate.width(dim, "dim")
    n_hidden = _validate.width(n_hidden, "n_hidden")
    if dim < 2 or n_hidden < dim - 1:
        raise ValueError(f"need dim ≥ 2 and n_hidden ≥ dim − 1, got dim={dim}, n_hidden={n_hidden}")
    return [1 + k % (dim - 1) for k in range(n_hidden)]


def _degrees(value: Sequence[int], name: str) -> list[int]:
    """A non-empty list of MADE degrees (ints ≥ 1), at most ``_validate.MAX_WIDTH`` of them."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of degrees (ints ≥ 1), got {_validate.describe(value)}")
    if not 1 <= len(value) <= _validate.MAX_WIDTH:
        raise ValueError(f"{name} must hold 1 to {_validate.MAX_WIDTH:,} degrees ({_validate.WHY_WIDTH}), "
                         f"got {len(value):,}")
    return [_validate.integer(d, f"{name}[{i}]", minimum=1, why="a MADE degree") for i, d in enumerate(value)]


def made_connections(degrees_in: Sequence[int], degrees_hidden: Sequence[int]
                     ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The connections MADE's masks allow, for one hidden layer (Germain et al., 2015).

    Returns ``(input_to_hidden, hidden_to_output)`` as lists of index pairs (0-based):
    ``(i, k)`` when hidden unit k (degree m(k)) may see input i (degree d), i.e. m(k) ≥ d;
    ``(k, j)`` when output j (degree = that of input j) may see hidden unit k, i.e. d_j > m(k).
    The outputs have the inputs' degrees, so output d depends on inputs 1 … d − 1 only.
    """
    degrees_in = _degrees(degrees_in, "degrees_in")
    degrees_hidden = _degrees(degrees_hidden, "degrees_hidden")
    to_hidden = [(i, k) for k, m in enumerate(degrees_hidden) for i, d in enumerate(degrees_in) if m >= d]
    to_output = [(k, j) for j, d in enumerate(degrees_in) for k, m in enumerate(degrees_hidden) if d > m]
    return to_hidden, to_output


def made_masks_diagram(dim: int = 3, n_hidden: int = 4) -> Figure:
    """Lecture 06, section 5: MADE with D = ``dim`` inputs and one hidden layer, drawn from its masking rule.

    Every unit shows its degree; only the connections ``made_connections`` allows are drawn, each
    a ``Line2D`` with gid ``"made-edge:input{i}-hidden{k}"`` or ``"made-edge:hidden{k}-output{j}"``
    (0-based), and beside them the two 0/1 masks (out × in), the same as
    ``course_lib.flows.made_masks(dim, [n_hidden])`` (each cell a ``Rectangle`` with gid
    ``"made-mask{1|2}:{row}-{col}={0|1}"``). The defaults are the lecture's example:
    D = 3 and 4 hidden units; the layout has room for D ≤ 6 and up to 8 hidden units.
    """
    _validate.integer(dim, "dim")
    _validate.integer(n_hidden, "n_hidden")
    if not (2 <= dim <= 6 and dim - 1 <= n_hidden <= 8):
        raise ValueError(f"the drawing has room for 2 ≤ dim ≤ 6 and dim − 1 ≤ n_hidden ≤ 8, "
                         f"got dim={dim}, n_hidden={n_hidden}")
    deg_in = list(range(1, dim + 1))
    deg_hidden = made_hidden_degrees(dim, n_hidden)
    to_hidden, to_output = made_connections(deg_in, deg_hidden)
    width, height = 10.6, 4.3
    fig, ax = _canvas(width, height)
    y_in, y_hid, y_out, r = 0.85, 2.15, 3.45, 0.25
    centre, span = 2.35, 3.7

    def xs(n: int) -> list[float]:
        step = min(1.15, span / max(n - 1, 1))
        return [centre + (i - (n - 1) / 2) * step for i in range(n)]

    x_in, x_hid, x_out = xs(dim), xs(n_hidden), xs(dim)

    def edge(x0: float, y0: float, x1: float, y1: float, color: str, gid: str) -> None:
        dx, dy = x1 - x0, y1 - y0
        n = float(np.hypot(dx, dy))
        _polyline(ax, [x0 + r * dx / n, x1 - r * dx / n], [y0 + r * dy / n, y1 - r * dy / n],
                  color=color, lw=1.4, gid=gid, zorder=2)

    for i, k in to_hidden:
        edge(x_in[i], y_in, x_hid[k], y_hid, ENC[1], f"made-edge:input{i}-hidden{k}")
    for k, j in to_output:
        edge(x_hid[k], y_hid, x_out[j], y_out, DEC[1], f"made-edge:hidden{k}-output{j}")
    for i, x in enumerate(x_in):
        _node(ax, x, y_in, r, str(deg_in[i]), DATA)
        _text(ax, x, y_in - r - 0.2, rf"$x_{{{i + 1}}}$")
    for k, x in enumerate(x_hid):
        _node(ax, x, y_hid, r, str(deg_hidden[k]), CODE)
    for j, x in enumerate(x_out):
        _node(ax, x, y_out, r, str(deg_in[j]), PLAIN)
        _text(ax, x, y_out + r + 0.2, rf"$\mu_{{{j + 1}}}, \alpha_{{{j + 1}}}$")
    lx = centre + span / 2 + 0.45
    _text(ax, lx, y_out, "outputs: degree $d$\n" + r"see hidden units with $m(k) < d$", ha="left", size=SMALL)
    _text(ax, lx, y_hid, "hidden units: degree\n" + r"$m(k) \in \{1, \dots, D - 1\}$", ha="left", size=SMALL)
    _text(ax, lx, y_in, "inputs: degree $d$\n" + r"seen by hidden units with $m(k) \geq d$", ha="left", size=SMALL)
    # the two masks, shaped like nn.Linear weights (out × in), beside the layers they connect
    cell = min(0.3, 2.1 / (dim + n_hidden))
    m1 = np.zeros((n_hidden, dim), dtype=int)
    for i, k in to_hidden:
        m1[k, i] = 1
    m2 = np.zeros((dim, n_hidden), dtype=int)
    for k, j in to_output:
        m2[j, k] = 1

    def matrix(m: np.ndarray, number: int, x0: float, y_top: float, row_deg: list[int], col_deg: list[int]) -> None:
        title = {1: "mask 1: hidden × input", 2: "mask 2: output × hidden"}[number]
        rows, cols = m.shape
        _text(ax, x0 - 0.3, y_top + 0.42, title, size=SMALL, ha="left")
        for c in range(cols):
            _text(ax, x0 + (c + 0.5) * cell, y_top + 0.14, str(col_deg[c]), size=SMALL, color="#777777")
        for rr in range(rows):
            _text(ax, x0 - 0.15, y_top - (rr + 0.5) * cell, str(row_deg[rr]), size=SMALL, color="#777777")
            for c in range(cols):
                on = bool(m[rr, c])
                ax.add_patch(Rectangle((x0 + c * cell, y_top - (rr + 1) * cell), cell, cell,
                                       fc="#555555" if on else "white", ec="#999999", lw=0.8, zorder=2,
                                       gid=f"made-mask{number}:{rr}-{c}={int(on)}"))
                if cell >= 0.22:  # room for the digit
                    _text(ax, x0 + (c + 0.5) * cell, y_top - (rr + 0.5) * cell, str(int(on)), size=SMALL,
                          color="white" if on else "#999999")

    mx = 8.2
    matrix(m2, 2, mx, 3.6, deg_in, deg_hidden)
    matrix(m1, 1, mx, 3.6 - dim * cell - 0.75, deg_hidden, deg_in)
    _text(ax, mx - 0.3, 0.35, "grey numbers: the degrees", size=SMALL, ha="left", color="#777777")
    return fig


# ---------------------------------------------------------------------------- lecture 07


def diffusion_chain_diagram() -> Figure:
    """Lecture 07, section 2: the chain x₀ → x₁ → … → x_T, forward q (fixed) and reverse p_θ (learned).

    Each node is lecture 04's 8-Gaussian ring noised with the lecture's cosine schedule,
    x_t = α_t x₀ + σ_t ε with one fixed ε, at t = 0, 1, 299, 300 and T = 1000. The forward arrows
    q(x_t | x_{t−1}) add a little noise; the dashed reverse arrows p_θ(x_{t−1} | x_t) remove it
    with the network ε_θ(x_t, t).
    """
    width, height = 10.5, 2.9
    fig, ax = _canvas(width, height)
    y, s, dot = 1.9, 0.8, 0.2  # thumbnail row, thumbnail size, half-width of the "⋯" stops
    schedule = cosine_schedule()  # lecture 07's: x_t = α_t x_0 + σ_t ε
    x0 = _ring()
    eps = np.random.default_rng(1).standard_normal(x0.shape)
    # stops along the chain: (centre, t or None for "⋯", label); the pair (t - 1, t) gets a wide gap
    stops = [(0.75, 0, r"$x_0$ (data)"), (2.45, 1, r"$x_1$"), (3.65, None, ""), (4.85, 299, r"$x_{t-1}$"),
             (7.05, 300, r"$x_t$"), (8.25, None, ""), (9.6, 1000, r"$x_T \approx \mathcal{N}(0, I)$")]
    for cx, t, name in stops:
        if t is None:
            _text(ax, cx, y, r"$\cdots$", size=TITLE + 2)
            continue
        alpha, sigma = float(schedule.alpha(torch.tensor(t))), float(schedule.sigma(torch.tensor(t)))
        pts = alpha * x0 + sigma * eps
        ax.add_patch(Rectangle((cx - s / 2, y - s / 2), s, s, fc="white", ec=DATA[1], lw=1.2, zorder=2))
        inside = np.all(np.abs(pts) < 3.0, axis=1)
        scale = (s / 2 - 0.04) / 3.0
        ax.plot(cx + pts[inside, 0] * scale, y + pts[inside, 1] * scale, ls="none", marker="o", ms=1.2,
                mec="none", mfc="#333333", zorder=3)
        _text(ax, cx, y + s / 2 + 0.2, name)
    # forward (solid, fixed) above, reverse (dashed, learned) below, between neighbours
    for (ca, ta, _), (cb, tb, _) in zip(stops, stops[1:]):
        left = ca + (s / 2 if ta is not None else dot) + 0.05
        right = cb - (s / 2 if tb is not None else dot) - 0.05
        _arrow(ax, (left, y + 0.1), (right, y + 0.1), color=NOISE[1], lw=1.6)
        _arrow(ax, (right, y - 0.1), (left, y - 0.1), color=DEC[1], lw=1.6, ls="--")
    mid = (4.85 + 7.05) / 2
    _text(ax, mid, y + 0.32, r"$q(x_t \mid x_{t-1})$", color=NOISE[1])
    _text(ax, mid, y - 0.34, r"$p_\theta(x_{t-1} \mid x_t)$", color=DEC[1])
    _text(ax, 0.3, 0.85, r"forward $q$ (fixed) adds a little noise at each step; in closed form "
          r"$q(x_t \mid x_0) = \mathcal{N}(\alpha_t x_0, \sigma_t^2 I)$", ha="left", color=NOISE[1])
    _text(ax, 0.3, 0.38, r"reverse $p_\theta$ (learned) removes it: one pass of the network "
          r"$\varepsilon_\theta(x_t, t)$ per step, from $x_T \sim \mathcal{N}(0, I)$ down to $x_0$",
          ha="left", color=DEC[1])
    return fig


# ------------------------------------------------------------------------------ the index

DIAGRAMS: dict[str, Callable[[], Figure]] = {
    "autoencoder": autoencoder_diagram,
    "denoising": denoising_diagram,
    "stacked_pretraining": stacked_pretraining_diagram,
    "vae_graphical_model": vae_graphical_model,
    "reparametrization": reparametrization_diagram,
    "gan_loop": gan_loop_diagram,
    "cyclegan": cyclegan_diagram,
    "coupling_layer": coupling_layer_diagram,
    "made_masks": made_masks_diagram,
    "diffusion_chain": diffusion_chain_diagram,
}
"""Every diagram by a short name, in lecture order (01 … 07)."""
