# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lecture 01 — Autoencoders
#
# **What you will build:** PCA and a linear autoencoder that find the same subspace, a
# convolutional autoencoder that beats PCA on held-out brain MR slices, a map of its 2D latent
# space, and a first use of its features — then we decode random codes and see why the next
# lectures are needed.
#
# **Time:** about 90 s to run top to bottom on a 2-core laptop. The long trainings were done
# beforehand by `make checkpoints` with the same library code; this notebook trains one model
# briefly on screen and loads the rest.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from course_lib import default_device, zoo
from course_lib.autoencoders import (
    ConvAutoencoder, LinearAutoencoder, encode_all, fit_linear_autoencoder_als,
    linear_probe_accuracy, pca_fit, reconstruct_all, reconstruction_loss, train_autoencoder,
)
from course_lib.data import LEVEL_BANDS, brain_slices
from course_lib.diagrams import autoencoder_diagram
from course_lib.evaluation import nearest_neighbours
from course_lib.metrics import psnr, ssim, ssim_map
from course_lib.plotting import image_grid, scatter_2d
from course_lib.recipes import autoencoders as recipes01
from course_lib.tolerances import assert_close
from course_lib.widgets import latent_explorer

# %% [markdown]
# ## 1. Data as samples of a distribution
#
# A set of images $\{x_1, \dots, x_N\}$ can be read as independent draws from an unknown
# distribution $p_{data}(x)$ over all possible images. Two kinds of model use such data:
#
# * a **discriminative** model learns $P(Y \mid X)$ — given a slice, is there a lesion? — and
#   says nothing about what slices look like;
# * a **generative** model learns $P(X)$ itself, or at least a way to draw new samples
#   $x \sim p_{model}(x)$ with $p_{model} \approx p_{data}$.
#
# In medical imaging the second kind earns its keep where data are short or incomplete:
# labelled scans are few and expensive, some contrasts or modalities are missing for a patient,
# rare findings are under-represented, and data often cannot leave the hospital. A model of
# $p_{data}$ can synthesise training examples, fill in a missing contrast, flag an image it
# finds improbable, or provide features learned without any labels.
#
# **Our data.** Every image in this course comes from the MNI ICBM152 2009 template
# (Fonov et al., *NeuroImage* 2011), an average of 152 adult T1-weighted brain MR scans
# shipped inside the `nilearn` package; `course_lib/data/NOTICE` gives its provenance.
# `brain_slices` cuts an axial slice at a random level and then plays "patient and scanner":
# a random rotation, scaling and shift, a smooth elastic warp, a slowly varying intensity
# (bias) field and Rician noise, the noise of magnitude MR images. Be aware of what this is:
# one average brain, varied by synthetic warps — real patients differ more. The ideas carry over;
# the numbers would not.
#
# Training and test slices come from disjoint sets of axial levels, at least 2.1 mm apart (a
# third set, for validation, has levels of its own; lecture 05 uses it). Every test figure below
# is measured on *held-out levels* — of the same averaged brain, so not on anatomy the models
# never saw.

# %%
x_train, meta_train = brain_slices(2000, size=64, seed=0, return_meta=True)
x_test, meta_test = brain_slices(500, size=64, split="test", seed=1, return_meta=True)
assert torch.equal(x_train, recipes01.ae01_train_data())  # the very slices the checkpoints were trained on
print("train", tuple(x_train.shape), x_train.dtype, "| test", tuple(x_test.shape))
print(f"intensities in [{x_train.min():.0f}, {x_train.max():.0f}]; slices per band (train):",
      torch.bincount(meta_train["band"]).tolist())

# %%
examples = [x_test[meta_test["band"] == b][:6] for b in range(len(LEVEL_BANDS))]
image_grid(examples, row_titles=list(LEVEL_BANDS), suptitle="held-out T1 slices, by axial level")
plt.show()

# %% [markdown]
# ## 2. The autoencoder
#
# An autoencoder is two networks trained together:
#
# * an **encoder** $g_\phi$ maps an image $x \in \mathbb{R}^{D}$ to a code $z = g_\phi(x)$;
# * a **decoder** $f_\theta$ maps the code back to a reconstruction $x' = f_\theta(z)$.
#
# Nothing forces the pair to be useful unless the code is a **bottleneck**: $z \in \mathbb{R}^{k}$
# with $k \ll D$ (here $D = 64 \cdot 64 = 4096$ and $k$ between 2 and 32). To reconstruct well
# through so few numbers, the networks must find what varies between slices and what does not.
# Training needs no labels; the loss compares the image with its reconstruction,
#
# $$\mathcal{L}(\phi, \theta) = \frac{1}{B}\sum_{b=1}^{B} \lVert x_b - f_\theta(g_\phi(x_b)) \rVert^2 .$$

# %%
autoencoder_diagram()
plt.show()

# %% [markdown]
# Mind the **reduction**: the squared error is *summed* over the pixels of each image and
# *averaged* over the batch. The sum keeps one image's error on one scale whatever the batch
# size; lecture 03 will need exactly this scale, because there the loss becomes a log-likelihood
# per image. `course_lib.autoencoders.reconstruction_loss` implements it:

# %%
x_hat = torch.zeros(3, 1, 64, 64)
x_ones = torch.ones(3, 1, 64, 64)
print("loss of an all-zero guess for an all-one image:", reconstruction_loss(x_hat, x_ones).item(), "(= 4096 pixels × 1²)")

# %% [markdown]
# ## 3. The linear autoencoder is PCA in disguise
#
# Take the simplest encoder and decoder: affine maps, $z = W_e x + b_e$ and $x' = W_d z + b_d$.
# Principal component analysis (PCA) solves the same problem in closed form: the best rank-$k$
# affine reconstruction of the data, in squared error, projects onto the top $k$ principal
# directions (Eckart–Young). Baldi and Hornik (1989) showed that the linear autoencoder's error
# surface has no other local minima: trained to convergence, $W_d$ spans the *same subspace* as
# the top $k$ principal components, though not with the same basis (any invertible $k \times k$
# mixing of the code is undone by the decoder).
#
# We check this on the training slices with $k = 8$. PCA comes from an eigen-decomposition.
# For the linear autoencoder, gradient descent would get there too, but slowly: the directions
# with small variance are learned last, after thousands of steps (you will watch it happen on
# a small problem in the exercises). Here we minimise the *same loss* faster, by **alternating
# least squares**: fix the encoder and solve exactly for the best decoder, fix the decoder and
# solve for the best encoder, repeat. Then we compare the two subspaces through their
# **principal angles**: if $Q_1, Q_2$ are orthonormal bases, the singular values of
# $Q_1^\top Q_2$ are the cosines of those angles, and all ones means the subspaces coincide.

# %% tags=["nbval-ignore-output"]
K_LINEAR = 8
pca_train = pca_fit(x_train, 32)  # the components are nested: .top(k) keeps the first k
pca8 = pca_train.top(K_LINEAR)
linear_ae = LinearAutoencoder(64 * 64, K_LINEAR)
als_losses = fit_linear_autoencoder_als(linear_ae, x_train, iterations=30)  # 15 left one of five seeds at a cosine of 0.999

flat_train = x_train.flatten(1)
with torch.no_grad():
    err_linear = reconstruction_loss(linear_ae(flat_train), flat_train).item()
    err_pca = reconstruction_loss(pca8.reconstruct(flat_train), flat_train).item()
q_ae, _ = torch.linalg.qr(linear_ae.decoder.weight.detach().double())
cosines = torch.linalg.svdvals(pca8.components.double() @ q_ae)
print("linear AE loss over the iterations:", [round(l) for l in als_losses[:6]], "...")
print(f"squared error per image: PCA {err_pca:.2f}, linear AE {err_linear:.2f} (ratio {err_linear / err_pca:.4f})")
print("cosines of the principal angles:", [round(c, 3) for c in cosines.tolist()])
assert_close(err_pca, 44.26, 0.02, "PCA's squared error per image")

# %% tags=["nbval-ignore-output"]
assert abs(err_linear / err_pca - 1) < 1e-3, "the linear AE should reach PCA's error"
assert cosines.min() > 0.999, "the two subspaces should coincide"
off_orthonormal = (linear_ae.decoder.weight.T @ linear_ae.decoder.weight - torch.eye(K_LINEAR)).abs().max().item()
print("the linear AE's weights are not PCA's basis: |W_d^T W_d - I| =", round(off_orthonormal, 2))
assert off_orthonormal > 1, "an orthonormal basis would give 0"

# %% [markdown]
# All cosines are 1: the linear autoencoder's decoder spans exactly PCA's subspace, and its
# error equals the optimum PCA reaches in closed form — yet its weight vectors are not the
# orthonormal principal directions, only some basis of the same subspace. A linear autoencoder
# therefore cannot do better than PCA; the interest of autoencoders lies entirely in making
# $g_\phi$ and $f_\theta$ **non-linear**.
#
# ## 4. A convolutional autoencoder beats PCA at the same code size
#
# `ConvAutoencoder` encodes with three stride-2 convolutions (64 → 8 px) and a linear layer to
# $z \in \mathbb{R}^k$; the decoder mirrors it with transposed convolutions and ends in a sigmoid
# stretched a little beyond the intensity range $[0, 1]$, $x' = 1.2\,\sigma(a) - 0.1$ (clamped to
# $[0, 1]$ once training is over). Why not a plain sigmoid is the subject of the end of this
# section. Here is a short training run with $k = 16$, on screen:

# %% tags=["nbval-ignore-output"]
seed_everything(0)
demo_ae = ConvAutoencoder(latent_dim=16, size=64)
# device: a GPU where there is one (default_device), which only makes this faster; the CPU here
demo_history = train_autoencoder(demo_ae, x_train, epochs=3, device=default_device())

# %%
print("epochs:", len(demo_history["loss"]), "| loss fell:", demo_history["loss"][-1] < demo_history["loss"][0])
assert demo_history["loss"][-1] < 0.7 * demo_history["loss"][0]

# %% [markdown]
# Three epochs are enough to see the loss fall, not to converge. The models used from here on
# were trained by the same `train_autoencoder` for 40 epochs at each code size
# $k \in \{2, 4, 8, 16, 32\}$ (`make checkpoints`, about 80 s per model on one core of this kind of
# machine); `zoo.load` checks each file's sha256 before loading it. We compare them with PCA
# fitted on the same training slices, on the **held-out** slices.

# %% tags=["nbval-ignore-output"]
latent_sizes = recipes01.AE01_LATENT_SIZES
autoencoders = {k: zoo.load(f"ae01_conv_k{k}") for k in latent_sizes}
results = {}
for k in latent_sizes:
    pca_k = pca_train.top(k)
    recon = {"PCA": pca_k.reconstruct(x_test).clamp(0, 1), "conv AE": reconstruct_all(autoencoders[k], x_test)}
    results[k] = {m: (psnr(r, x_test).mean().item(), ssim(r, x_test).mean().item()) for m, r in recon.items()}

print(" k | PCA  PSNR  SSIM | conv AE PSNR  SSIM")
for k, r in results.items():
    print(f"{k:2d} |     {r['PCA'][0]:5.2f} {r['PCA'][1]:.3f} |        {r['conv AE'][0]:5.2f} {r['conv AE'][1]:.3f}")
assert_close(results, {2: {"PCA": (16.86, 0.390), "conv AE": (18.06, 0.444)},
                       4: {"PCA": (17.96, 0.437), "conv AE": (19.44, 0.504)},
                       8: {"PCA": (18.79, 0.475), "conv AE": (21.29, 0.590)},
                       16: {"PCA": (20.20, 0.529), "conv AE": (22.40, 0.623)},
                       32: {"PCA": (21.55, 0.583), "conv AE": (23.30, 0.643)}},
             (0.05, 0.002), "held-out (PSNR dB, SSIM)")

# %% tags=["nbval-ignore-output"]
for k, r in results.items():
    assert r["conv AE"][0] > r["PCA"][0] + 1.0, f"k={k}: the conv AE should beat PCA's PSNR by over 1 dB"
    assert r["conv AE"][1] > r["PCA"][1] + 0.02, f"k={k}: the conv AE should beat PCA's SSIM"
print("SSIM gain of the conv AE over PCA:", {k: round(r["conv AE"][1] - r["PCA"][1], 2) for k, r in results.items()})

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
for ax, (i, name) in zip(axes, enumerate(["PSNR (dB)", "SSIM"])):
    for method, style in [("PCA", "s--"), ("conv AE", "o-")]:
        ax.plot(latent_sizes, [results[k][method][i] for k in latent_sizes], style, label=method)
    ax.set(xscale="log", xticks=latent_sizes, xticklabels=latent_sizes, xlabel="code size k", ylabel=name)
    ax.legend()
fig.suptitle("reconstruction of 500 held-out slices (higher is better)")
fig.tight_layout()
plt.show()

# %%
show = x_test[::60][:8]
rows = [show]
titles = ["input"]
for k in (4, 16):
    rows += [pca_train.top(k).reconstruct(show).clamp(0, 1), reconstruct_all(autoencoders[k], show)]
    titles += [f"PCA k={k}", f"AE k={k}"]
image_grid(rows, row_titles=titles, suptitle="held-out slices and their reconstructions")
plt.show()

# %% [markdown]
# The convolutional autoencoder wins at every code size, in both measures: with a handful of
# numbers, a non-linear decoder can place gyri and ventricles where a linear combination of
# fixed images can only blur them. **SSIM** (Wang et al. 2004) compares local means, contrasts
# and correlations in 11 × 11 px windows, which is closer to what a reader notices than the
# squared error behind PSNR.
#
# ### Why the decoder's last layer matters
#
# A first version of this model ended in a plain sigmoid, $x' = \sigma(a)$. It beat PCA in PSNR
# at every $k$, yet at $k = 32$ PCA had the **higher SSIM**. That model ships too
# (`ae01_conv_k32_sigmoid`: same data, same training, only the last layer differs). Split the
# SSIM windows into the dark background around the head (windows whose mean is below 0.05) and
# the rest, and compare each method's background level with the true one:

# %% tags=["nbval-ignore-output"]
sigmoid_ae = zoo.load("ae01_conv_k32_sigmoid")
recon_32 = {"PCA": pca_train.top(32).reconstruct(x_test).clamp(0, 1),
            "AE, plain sigmoid": reconstruct_all(sigmoid_ae, x_test),
            "AE, stretched sigmoid": reconstruct_all(autoencoders[32], x_test)}
dark_window = F.avg_pool2d(x_test, 11, stride=1) < 0.05  # one entry per SSIM window
dark_pixel = F.avg_pool2d(x_test, 11, stride=1, padding=5, count_include_pad=False) < 0.05
print(f"dark windows: {dark_window.float().mean():.0%} of all; true mean level there: {x_test[dark_pixel].mean():.4f}")
print("k = 32                | level in the dark | SSIM: dark windows  head windows  all")
by_region = {}
for name, recon in recon_32.items():
    windows = ssim_map(recon, x_test)
    by_region[name] = (recon[dark_pixel].mean().item(), windows[dark_window].mean().item(),
                       windows[~dark_window].mean().item(), windows.mean().item())
    print(f"{name:21s} |            {by_region[name][0]:.4f} |        {by_region[name][1]:.3f}"
          f"         {by_region[name][2]:.3f}  {by_region[name][3]:.3f}")
assert_close(by_region, {"PCA": (0.0176, 0.658, 0.565, 0.583), "AE, plain sigmoid": (0.0002, 0.340, 0.615, 0.563),
                         "AE, stretched sigmoid": (0.0152, 0.730, 0.622, 0.643)},
             (0.0002, 0.002, 0.002, 0.002), "k = 32 (dark level, SSIM dark, head, all)")

# %%
plain, stretched, linear = by_region["AE, plain sigmoid"], by_region["AE, stretched sigmoid"], by_region["PCA"]
true_level = x_test[dark_pixel].mean().item()
assert plain[0] < 0.5 * true_level < stretched[0], "the plain sigmoid leaves the background too dark"
assert plain[2] > linear[2] and plain[1] < linear[1] - 0.1, "the plain sigmoid loses SSIM in the background only"
assert plain[3] < linear[3] < stretched[3]

# %% [markdown]
# On the head, the plain-sigmoid autoencoder was already ahead of PCA. It lost in the
# background, where its output is practically black. The true background is not black: MR
# magnitude images carry a Rician noise floor, here about 0.016. Two facts combine.
#
# - **SSIM's luminance factor** $\frac{2\mu_x\mu_y + C_1}{\mu_x^2 + \mu_y^2 + C_1}$, with
#   $C_1 = 10^{-4}$, compares local means *relative to their size*. For $\mu_x = 0$ against
#   $\mu_y = 0.016$ it is $10^{-4} / (2.6 \cdot 10^{-4} + 10^{-4}) \approx 0.3$, although the
#   squared error, $2.6 \cdot 10^{-4}$ per pixel, is next to nothing for the loss.
# - **The sigmoid learns black slowly.** The gradient reaching the last pre-activation $a$ is
#   $2(x' - x)\,\partial x'/\partial a$, and $\partial\sigma/\partial a = x'(1 - x')$ is about
#   0.01 at $x' = 0.01$, against 0.25 at mid-grey. The background sits in the flat tail.
#
# Stretching the sigmoid to $[-0.1, 1.1]$ puts black at $\sigma \approx 0.08$, where the slope is
# ten times larger; the background level is learned and the SSIM lead holds at every $k$
# (`StretchedSigmoid` in `course_lib.autoencoders`). Two lessons carry on to the GAN lectures:
# a metric can hinge on a region nobody looks at, and the last layer decides which errors
# training can still fix.
#
# ## 5. The latent space
#
# With $k = 2$ we can look at the code of every held-out slice directly. Colour encodes the axial
# level of the slice, which the autoencoder was never told:

# %%
ae2 = autoencoders[2]
codes_test = encode_all(ae2, x_test)
scatter_2d(codes_test, values=meta_test["level"], colorbar_label="axial level (0 = inferior, 1 = superior)",
           title="codes z = g(x) of held-out slices, k = 2")
plt.show()

# %% [markdown]
# The codes group by level, although the autoencoder was never told the level. How strongly?
# For each held-out slice, find the slice with the nearest code and ask whether it comes from the
# same block of levels (chance: about 25 %):

# %% tags=["nbval-ignore-output"]
code_distances = torch.cdist(codes_test, codes_test).fill_diagonal_(float("inf"))
same_block = (meta_test["band"][code_distances.argmin(dim=1)] == meta_test["band"]).float().mean().item()
print(f"nearest code from the same block of levels: {same_block:.0%}")
print("mean code per block:", {name: [round(v, 1) for v in codes_test[meta_test["band"] == b].mean(0).tolist()]
                               for b, name in enumerate(LEVEL_BANDS)})
assert_close(same_block, 0.80, 0.02, "share of nearest codes from the same block")

# %% [markdown]
# Four times chance: the strongest source of variation between slices — how high in the head they
# were cut — has become a main structure of the code, learned without a single label. But the
# map is not *ordered* by level: the inferior and superior blocks sit side by side, and the two
# middle blocks overlap. The code separates slices that look different; nothing in the
# reconstruction loss asks for the level to run along one direction. Move the sliders to decode any
# point $z$ of this plane (run the notebook in
# JupyterLab for live sliders):

# %% tags=["nbval-ignore-output"]
latent_explorer(ae2.decode, codes_test, values=meta_test["level"], value_label="axial level",
                codes_title="codes of held-out slices")

# %% [markdown]
# ## 6. Features for free: a downstream task with few labels
#
# Suppose a radiographer labelled only **40** training slices with their band of the brain
# (inferior, mid-inferior, mid-superior, superior: 10 of each). How well can a linear
# classifier predict the band of the 500 held-out slices from different representations?
# We repeat with 5 different random draws of the 40 labelled slices.

# %% tags=["nbval-ignore-output"]
def draw_labelled(seed, per_class=10):
    g = torch.Generator().manual_seed(seed)
    idx = [torch.nonzero(meta_train["band"] == b)[:, 0] for b in range(len(LEVEL_BANDS))]
    return torch.cat([i[torch.randperm(len(i), generator=g)[:per_class]] for i in idx])


ae16 = autoencoders[16]
representations = {
    "raw pixels (4096)": (x_train.flatten(1), x_test.flatten(1)),
    "PCA codes (16)": (pca_train.top(16).encode(x_train), pca_train.top(16).encode(x_test)),
    "conv AE codes (16)": (encode_all(ae16, x_train), encode_all(ae16, x_test)),
}
probe = {}
for name, (f_train, f_test) in representations.items():
    accs = torch.tensor([linear_probe_accuracy(f_train[i], meta_train["band"][i], f_test, meta_test["band"])
                         for i in map(draw_labelled, range(5))])
    probe[name] = (accs.mean().item(), accs.std().item())
    print(f"{name:20s} accuracy {probe[name][0]:.2f} ± {probe[name][1]:.2f}")
assert_close({name: p[0] for name, p in probe.items()},
             {"raw pixels (4096)": 0.85, "PCA codes (16)": 0.79, "conv AE codes (16)": 0.86}, 0.02, "mean probe accuracy")
print("chance level: 0.25")

# %%
assert probe["conv AE codes (16)"][0] > 0.6, "AE codes should carry the level information"
assert probe["conv AE codes (16)"][0] > probe["raw pixels (4096)"][0] - 0.1

# %% [markdown]
# The 16 numbers of the autoencoder keep the level information: from 40 labels a linear
# classifier reaches about three times chance. Be honest about the comparison, though: the raw
# 4,096 pixels do about as well here, because the band of a slice is a coarse, global property
# (how large the brain section is, whether the cerebellum is there) that even a linear model
# reads off the pixels. What the encoder bought is compression — 256 times fewer numbers for
# the same accuracy — learned without labels. Whether pretrained features beat training from
# raw input on a *harder* task with few labels is the measured question of lecture 02
# (stacked autoencoders, greedy pretraining, lesion detection).
#
# ## 7. Is it generative? Decoding a random code
#
# An autoencoder has a decoder, so it looks like a generative model: draw a code $z$, decode
# $f_\theta(z)$, get a new slice? Two natural ways to draw $z$ for the $k = 16$ model: from a
# standard normal $\mathcal{N}(0, I)$, and uniformly inside the box spanned by the training
# codes. For each decoded image we find the nearest real slice (in pixel distance) and measure
# their SSIM. The real slices are 1,000 fresh draws of the *training* levels — the population the
# decoder learnt (new warps and noise); for comparison, the same for 200 other fresh real slices
# and for the autoencoder's reconstructions of them.

# %% tags=["nbval-ignore-output"]
codes_train16 = encode_all(ae16, x_train)
g = torch.Generator().manual_seed(0)
z_normal = torch.randn(200, 16, generator=g)
low, high = codes_train16.min(0).values, codes_train16.max(0).values
z_box = low + (high - low) * torch.rand(200, 16, generator=g)
x_reference = brain_slices(1000, size=64, seed=21)  # fresh slices of the training levels
x_real = brain_slices(200, size=64, seed=22)
with torch.no_grad():
    decoded = {
        "real slices": x_real,
        "their reconstructions": reconstruct_all(ae16, x_real),
        "z ~ N(0, I)": ae16.decode(z_normal),
        "z uniform in the code box": ae16.decode(z_box),
    }
nn_ssim = {}
for name, images in decoded.items():
    _, nearest = nearest_neighbours(images, x_reference)
    nn_ssim[name] = ssim(images, x_reference[nearest[:, 0]]).mean().item()
    print(f"{name:26s} SSIM to the nearest real slice: {nn_ssim[name]:.2f}")
assert_close(nn_ssim, {"real slices": 0.62, "their reconstructions": 0.63, "z ~ N(0, I)": 0.15,
                       "z uniform in the code box": 0.27}, 0.02, "SSIM to the nearest real slice")

# %%
for name in ("z ~ N(0, I)", "z uniform in the code box"):
    assert nn_ssim["their reconstructions"] > nn_ssim[name] + 0.1 and nn_ssim["real slices"] > nn_ssim[name] + 0.1

# %%
image_grid([decoded[n][:8] for n in decoded], row_titles=["real", "recon.", "N(0, I)", "box"],
           suptitle="decoded codes: real codes vs random ones")
plt.show()

# %% [markdown]
# Random codes decode to smudges that resemble no real slice. The autoencoder was only ever
# asked to reconstruct the codes of training images; it made no promise about the rest of the
# latent space. Its codes occupy a thin, irregular set: a point drawn from $\mathcal{N}(0, I)$ is
# mostly far from it, and even inside the box spanned by real codes most of the volume is
# empty. Two properties are missing:
#
# * **continuity** — nearby codes should decode to similar images;
# * **completeness** — *every* code drawn from a fixed, known distribution should decode to
#   something meaningful.
#
# **Where the course goes from here.** Lecture 02 stays with the autoencoder as it is and makes
# its *features* better: it corrupts the input so that the code must capture structure rather
# than copy pixels (denoising), trains deep encoders layer by layer (stacking), and joins two
# contrasts in one code (multimodal). It does not make random codes decode to slices — that is
# lecture 03's question. The variational autoencoder (Kingma & Welling, 2014) obtains both
# properties by making the encoder output a *distribution* over codes and pulling it towards
# $\mathcal{N}(0, I)$; lecture 03, section 5, repeats this section's test on it.
#
# ## Summary
#
# * A generative model learns $p_{data}(x)$; an autoencoder learns a code $z$ of smaller
#   dimension by minimising $\lVert x - f_\theta(g_\phi(x)) \rVert^2$ — no labels needed.
# * A linear autoencoder finds the PCA subspace and nothing better.
# * A convolutional autoencoder beats PCA at equal code size on held-out slices, in PSNR and in
#   SSIM at every size; its codes organise anatomy (axial level) and serve as features when
#   labels are few.
# * Its latent space is neither continuous nor complete, so it is not yet a generative model.
#
# **References.** Bourlard & Kamp (1988) and Baldi & Hornik (1989), linear autoencoders and
# PCA; Hinton & Salakhutdinov, *Science* 2006, deep autoencoders; Wang et al., *IEEE TIP* 2004,
# SSIM; Fonov et al., *NeuroImage* 2011, the MNI ICBM152 2009 template; Kingma & Welling,
# *ICLR* 2014, the VAE.
