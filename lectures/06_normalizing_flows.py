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
# # Lecture 06 — Normalizing flows
#
# **What you will build:** the exact density of a curved 2-D distribution from the change of
# variables, checked by autograd and by numerical integration; two learnable flows, RealNVP and
# MAF, trained by maximum likelihood on samples of that distribution; and a measurement of how
# far each one is from the truth, in nats. Then we time the two designs against each other and
# watch a Gaussian being bent, layer by layer, into a banana.
#
# **Time:** about 30 s to run top to bottom on a 2-core laptop. Everything is trained here, on
# screen: 2-D problems are small.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy import integrate, stats
from torch import nn

from course_lib.data.toys import banana
from course_lib.diagrams import coupling_layer_diagram, made_masks_diagram
from course_lib.flows import (
    MADE, AffineCoupling, Flow, MAFLayer, autograd_log_det, density_grid, kl_to_truth, maf, made_masks,
    realnvp, toy_density_integral, toy_log_prob, toy_map, toy_map_inverse, toy_map_log_det_inverse,
    train_flow,
)
from course_lib.plotting import density_contours, loss_curves, scatter_2d
from course_lib.training import NonFiniteLossError
from course_lib.widgets import flow_stepper

# %% [markdown]
# ## 1. A density you can write down
#
# Every generative model so far turned simple noise into data: a decoder $f_\theta(z)$ with
# $z \sim \mathcal{N}(0, I)$ (lectures 01–03), a generator $G(z)$ (lectures 04–05). What none of
# them gives is the number we would most like to have: the probability density $p_x(x)$ of a
# given image. A VAE bounds it from below; a GAN does not define it at all.
#
# A **normalizing flow** gets it exactly, at a price: the map from noise to data must be
# **invertible**. Then every data point $x$ has exactly one noise point $u = f^{-1}(x)$, and the
# density of $x$ follows from the density of $u$. We write $u$ for the base variable, with the
# simple base density $\pi_u = \mathcal{N}(0, I)$, and $x = f(u)$.
#
# The lecture's toy example bends a 2-D Gaussian into a banana:
#
# $$x = f(u) = \begin{pmatrix} u_1 \\ u_2 - u_1^2 - 1 \end{pmatrix}, \qquad
#   u = f^{-1}(x) = \begin{pmatrix} x_1 \\ x_2 + x_1^2 + 1 \end{pmatrix}.$$
#
# $f$ keeps the first coordinate and shifts the second down by $u_1^2 + 1$; the inverse shifts it
# back. Colour the base samples by $u_1$ and follow them through the map:

# %%
u = torch.randn(3000, 2, generator=torch.Generator().manual_seed(0))
x = toy_map(u)
assert torch.allclose(toy_map_inverse(x), u, atol=1e-5)  # f⁻¹(f(u)) = u
fig, (ax_u, ax_x) = plt.subplots(1, 2, figsize=(9, 4))
scatter_2d(u, values=u[:, 0], cmap="coolwarm", ax=ax_u, title="base samples u ~ π_u = N(0, I)", s=4)
scatter_2d(x, values=u[:, 0], cmap="coolwarm", ax=ax_x, title="mapped samples x = f(u)", colorbar_label="u₁", s=4)
plt.show()

# %% [markdown]
# ## 2. The change of variables
#
# **Total probability is preserved.** $f$ moves probability mass around but neither creates nor
# destroys it: $\int \pi_u(u)\,du = \int p_x(x)\,dx = 1$. In one dimension, the mass in a small
# interval $du$ around $u$ lands in the interval $dx$ around $x = f(u)$, so
# $p_x(x)\,|dx| = \pi_u(u)\,|du|$, that is $p_x(x) = \pi_u(f^{-1}(x))\,\left|\frac{d f^{-1}}{dx}\right|$.
# Where $f$ stretches space the density thins out; where it squeezes, the density piles up.
#
# **One dimension first.** Take $x = f(u) = e^u$ with $u \sim \mathcal{N}(0, 1)$. Then
# $u = f^{-1}(x) = \log x$ and $|d f^{-1}/dx| = 1/x$, so
#
# $$p_x(x) = \pi_u(\log x)\,\frac{1}{x}, \qquad x > 0,$$
#
# the log-normal density. Near $x = 0$ the exponential squeezes all of $u < 0$ into $(0, 1)$, and
# the factor $1/x$ piles the density up there. Check the formula against scipy's log-normal,
# and that it integrates to 1 — and what the bare $\pi_u(\log x)$, without the factor, integrates
# to: $\int_0^\infty \pi_u(\log x)\,dx = \int \pi_u(u)\,e^u\,du = \mathbb{E}[e^u] = e^{1/2}$.

# %%
def normal_pdf(t):
    return math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)


def lognormal_pdf(x):  # x = e^u: u = log x and |du/dx| = 1/x
    return normal_pdf(math.log(x)) / x


grid_1d = np.linspace(0.05, 6, 50)
agreement = max(abs(lognormal_pdf(v) - stats.lognorm(s=1).pdf(v)) for v in grid_1d)
mass_1d = integrate.quad(lognormal_pdf, 0, np.inf)[0]
mass_bare = integrate.quad(lambda v: normal_pdf(math.log(v)), 0, np.inf)[0]
print(f"largest difference from scipy's log-normal pdf on 50 points < 1e-12: {agreement < 1e-12}")
print(f"∫ p_x = {mass_1d:.6f}; without the factor 1/x: {mass_bare:.6f} (e^(1/2) = {math.exp(0.5):.6f})")
assert agreement < 1e-12 and abs(mass_1d - 1) < 1e-6 and abs(mass_bare - math.exp(0.5)) < 1e-6

# %% [markdown]
# In $D$ dimensions the stretch factor of a small volume is the absolute determinant of the
# Jacobian matrix $J(f^{-1}(x)) = \partial f^{-1}(x) / \partial x$:
#
# $$p_x(x) = \pi_u\!\left(f^{-1}(x)\right)\,\left|\det J\!\left(f^{-1}(x)\right)\right|,
# \qquad
# \log p_x(x) = \log \pi_u\!\left(f^{-1}(x)\right) + \log\left|\det J\!\left(f^{-1}(x)\right)\right|.$$
#
# **For the toy map,**
#
# $$J\!\left(f^{-1}(x)\right) = \begin{pmatrix} \partial u_1/\partial x_1 & \partial u_1/\partial x_2 \\
#   \partial u_2/\partial x_1 & \partial u_2/\partial x_2 \end{pmatrix}
#   = \begin{pmatrix} 1 & 0 \\ 2x_1 & 1 \end{pmatrix}, \qquad \det J = 1 \cdot 1 - 0 \cdot 2x_1 = 1 .$$
#
# The matrix is triangular, so the determinant is the product of its diagonal, and it is 1
# everywhere: the map is a **shear**. Each vertical line $x_1 = c$ slides down by $c^2 + 1$
# without being stretched, so no volume changes, and the log-det term is 0. Autograd agrees:
# `autograd_log_det` builds the full Jacobian of $f^{-1}$ at each point with
# `torch.func.jacrev` and takes its log-determinant.

# %%
points = torch.randn(200, 2, dtype=torch.float64) * 2
by_autograd = autograd_log_det(toy_map_inverse, points)
print("log |det J(f⁻¹(x))| by autograd at 200 points: min", f"{by_autograd.min().item():.1e},",
      "max", f"{by_autograd.max().item():.1e}")
assert by_autograd.abs().max() < 1e-12
assert torch.equal(toy_map_log_det_inverse(points), torch.zeros(200, dtype=torch.float64))

# %% [markdown]
# So $\log p_x(x) = \log \pi_u(f^{-1}(x))$ here: `toy_log_prob` is the exact log-density of the
# banana. Is it a density? Integrate it over the whole plane with adaptive quadrature
# (`scipy.integrate.quad`, inner integral over $x_2$, outer over $x_1$, both over the real line):

# %%
mass, quad_error = toy_density_integral()
print(f"∫∫ p_x(x) dx = {mass:.6f}  (quadrature error estimate < 1e-6: {quad_error < 1e-6})")
assert abs(mass - 1) < 1e-6

# %% [markdown]
# **Why the Jacobian term matters.** With a map that *does* change volume, forgetting it breaks
# normalisation. Stretch the first coordinate by $\sigma = 2$, $x_1 = 2u_1$: then
# $J(f^{-1})$ has diagonal $(1/2, 1)$, $\log|\det J| = -\log 2$, and only with that term does the
# density integrate to 1. Without it, the mass of the $x_1$ marginal alone is
# $\int \pi(x_1/2)\,dx_1 = 2$:

# %%
without_jacobian = integrate.quad(lambda x1: normal_pdf(x1 / 2), -np.inf, np.inf)[0]
with_jacobian, _ = toy_density_integral(sigma=2.0)
print(f"σ = 2: mass without the Jacobian term {without_jacobian:.4f}, with it {with_jacobian:.4f}")
assert abs(without_jacobian - 2) < 1e-6 and abs(with_jacobian - 1) < 1e-6

# %% [markdown]
# The analytic density, with samples of the map on top (every density picture in this lecture
# uses the same grid):

# %%
true_grid = density_grid(toy_log_prob)
fig = density_contours(true_grid, title="p_x(x) of the toy map, with samples x = f(u)")
fig.axes[0].scatter(x[:600, 0], x[:600, 1], s=2, color="white", alpha=0.5)
plt.show()

# %% [markdown]
# ## 3. Learning $f$: maximum likelihood and the triangular Jacobian
#
# Now turn it around: we have samples $x_1, \dots, x_N$ of an unknown distribution and want a
# flow $f_\theta$ whose density fits them. Since $\log p_x(x;\theta)$ is exact, we can maximise
# the likelihood directly:
#
# $$\theta^\star = \arg\max_\theta \sum_{n=1}^{N} \log p_x(x_n; \theta)
#   = \arg\max_\theta \sum_{n=1}^{N} \Big[\log \pi_u\!\left(f_\theta^{-1}(x_n)\right)
#     + \log\left|\det J\!\left(f_\theta^{-1}(x_n)\right)\right|\Big].$$
#
# **Maximum likelihood is minimum KL.** Divided by $N$, the sum estimates
# $\mathbb{E}_{p_\text{data}}[\log p_x(x;\theta)]$, and
#
# $$\mathbb{E}_{p_\text{data}}\big[\log p_x(x;\theta)\big]
#   = \mathbb{E}_{p_\text{data}}\big[\log p_\text{data}(x)\big]
#   - \mathbb{E}_{p_\text{data}}\Big[\log \frac{p_\text{data}(x)}{p_x(x;\theta)}\Big]
#   = -H(p_\text{data}) - \mathrm{KL}\big(p_\text{data} \,\|\, p_x(\cdot\,;\theta)\big).$$
#
# The entropy $H(p_\text{data})$ does not depend on $\theta$, so maximising the likelihood *is*
# minimising the forward KL from the data to the model — which is large wherever the data has
# mass and the model has little, so a flow is pushed to cover every mode (a GAN's generator
# minimises other divergences; lecture 04). For the toy map the entropy is known: $f$ preserves
# volume, so $H(p_x) = H(\pi_u) = 1 + \log 2\pi \approx 2.838$ nats, and a flow's held-out
# negative log-likelihood can never go below it on average — section 7 measures the gap.
#
# That asks three things of $f_\theta$: it must be **invertible**, its Jacobian determinant must
# be **cheap** (a general $D \times D$ determinant costs $O(D^3)$, hopeless for images), and it
# must still be **expressive**. The trick every design below uses is the one we just met: make
# the Jacobian **triangular**, so that its determinant is the product of its diagonal, and stack
# many such layers — a composition of invertible maps is invertible, and the log-dets add up.
#
# These two ideas — triangular Jacobians, stacked — run through a decade of designs, from NICE
# (2014) to Glow (2018); the appendix lists them in order. We build the two ends of that family
# that matter most: RealNVP's affine coupling and MAF.

# %% [markdown]
# ## 4. RealNVP: the affine coupling layer
#
# Pick a binary mask $m$ (1 = "kept"). The kept coordinates pass through unchanged and feed a
# small network that outputs a log-scale $s$ and a shift $t$ for the others:
#
# $$x = m \odot u + (1 - m) \odot \big(u \odot \exp(s(m \odot u)) + t(m \odot u)\big),$$
# $$u = m \odot x + (1 - m) \odot \big((x - t(m \odot x)) \odot \exp(-s(m \odot x))\big).$$

# %%
coupling_layer_diagram()
plt.show()

# %% [markdown]
# The inverse is easy because the kept half is the same on both sides, so $s$ and $t$ can be
# recomputed from $x$. The Jacobian $\partial x / \partial u$ is triangular (after ordering the
# kept coordinates first) with diagonal $1$ on the kept and $\exp(s_i)$ on the transformed
# coordinates, so $\log|\det \partial x / \partial u| = \sum_i (1 - m_i)\,s_i$ and the inverse has
# minus that. $s$ and $t$ can be any network at all — they never need to be inverted. The next
# coupling uses the opposite mask, so every coordinate gets transformed. Check a random layer
# against autograd:

# %%
torch.manual_seed(1)
coupling = AffineCoupling([1.0, 0.0], hidden=16).double()
with torch.no_grad():  # a new layer starts as the identity; give it random work to do
    for p in coupling.parameters():
        p.add_(0.5 * torch.randn_like(p))
u_test = torch.randn(100, 2, dtype=torch.float64)
x_test, log_det_fwd = coupling(u_test)
u_back, log_det_inv = coupling.inverse(x_test)
print("inverse recovers u:", torch.allclose(u_back, u_test, atol=1e-12),
      "| kept coordinate unchanged:", torch.equal(x_test[:, 0], u_test[:, 0]))
print("log-dets equal autograd's:",
      torch.allclose(log_det_fwd, autograd_log_det(lambda u: coupling(u)[0], u_test)),
      torch.allclose(log_det_inv, autograd_log_det(lambda x: coupling.inverse(x)[0], x_test)))
assert torch.allclose(u_back, u_test, atol=1e-12)
assert torch.allclose(log_det_fwd, autograd_log_det(lambda u: coupling(u)[0], u_test))

# %% [markdown]
# ## 5. MAF: the masked autoregressive flow
#
# MAF transforms *every* coordinate, each conditioned on all the ones before it:
#
# $$\mu_i = \psi_{\mu_i}(x_{1:i-1}), \quad \alpha_i = \psi_{\alpha_i}(x_{1:i-1}), \qquad
#   x_i = u_i \exp(\alpha_i) + \mu_i, \qquad u_i = (x_i - \mu_i) \exp(-\alpha_i).$$
#
# The Jacobian $\partial u / \partial x$ is lower triangular with diagonal $\exp(-\alpha_i)$, so
# $\log|\det J(f^{-1}(x))| = -\sum_i \alpha_i$. All the $\psi$'s are one MADE network: its
# weights are multiplied by 0/1 masks built from a *degree* per unit (inputs $1 \dots D$, hidden
# units in $1 \dots D-1$; a unit may see units of lower or equal degree, and output $d$ only units
# of degree below $d$). The figure draws such a network and only the connections its masks allow.

# %%
made_masks_diagram()
plt.show()

# %% [markdown]
# Here are the masks for $D = 3$ and one hidden layer of 4 units, in code, and the Jacobian of a
# MADE built with them — zero on and above the diagonal:

# %%
for i, mask in enumerate(made_masks(3, [4])):
    print(f"mask {i} (out × in):", mask.int().tolist())

made = MADE(3, [4])
with torch.no_grad():  # random weights, so that every allowed connection is used
    for p in made.parameters():
        p.normal_()
jacobian = torch.autograd.functional.jacobian(lambda x: made(x[None])[0][0], torch.randn(3))
print("which x_j each μ_i depends on (∂μ_i/∂x_j ≠ 0):", (jacobian != 0).int().tolist())
assert torch.equal(jacobian != 0, torch.tril(torch.ones(3, 3), -1).bool())

# %% [markdown]
# **The toy map is itself a one-step MAF.** Read $f$ again: $x_1 = u_1$ means $\mu_1 = 0$,
# $\alpha_1 = 0$; $x_2 = u_2 - x_1^2 - 1$ means $\mu_2 = -x_1^2 - 1$, $\alpha_2 = 0$ — a shift of
# the second coordinate that depends only on the first. So one MAF layer whose network can
# represent $-x_1^2 - 1$ *is* the toy map. Plug those functions in by hand and compare with the
# analytic density:

# %%
class ToyMapConditioner(nn.Module):
    """(μ, α) of the toy map seen as an autoregressive flow: μ = (0, −x₁² − 1), α = 0."""

    def forward(self, x):
        mu = torch.stack([torch.zeros_like(x[:, 0]), -x[:, 0] ** 2 - 1], dim=1)
        return mu, torch.zeros_like(x)


exact_layer = MAFLayer(2)
exact_layer.made = ToyMapConditioner()
exact_flow = Flow([exact_layer], dim=2)
print("log q = log p at 200 points:", torch.allclose(exact_flow.log_prob(points.float()), toy_log_prob(points.float())),
      "| sampling reproduces f(u):", torch.allclose(exact_flow(u)[0], toy_map(u), atol=1e-5))
assert torch.allclose(exact_flow.log_prob(points.float()), toy_log_prob(points.float()), atol=1e-5)

# %% [markdown]
# In two dimensions the two designs are close cousins: a coupling that keeps $x_1$ and
# transforms $x_2$ is exactly a MAF step, except that MAF also scales and shifts $x_1$ by
# learned constants. The difference shows in $D$ dimensions (section 8).
#
# ## 6. Training both on samples of the toy map
#
# We pretend not to know $f$ and fit both flows to 20,000 samples of it by maximum likelihood:
# Adam on the mean negative log-likelihood $-\frac{1}{B}\sum_b \log q_\theta(x_b)$, 10 epochs.
# Each flow has 4 layers (RealNVP: couplings with alternating masks; MAF: MADE layers with the
# order reversed in between), two hidden layers of 64 units, log-scales bounded to $\pm 3$.
#
# A floor to compare the loss with: on average over $p$, $-\log q = H(p) + \mathrm{KL}(p \,\|\, q)
# \ge H(p)$, the entropy of $p$. Our map preserves volume, so $H(p) = H(\pi_u) = \log(2\pi e)
# \approx 2.838$ nats.

# %% tags=["nbval-ignore-output"]
x_train = banana(20_000, seed=1)
flows, histories, train_seconds = {}, {}, {}
for name, make in [("RealNVP", realnvp), ("MAF", maf)]:
    seed_everything(0)
    flows[name] = make()
    start = time.perf_counter()
    histories[name] = train_flow(flows[name], x_train, epochs=10, batch_size=256, lr=3e-3)
    train_seconds[name] = time.perf_counter() - start
print({name: f"{s:.1f} s" for name, s in train_seconds.items()})

# %% tags=["nbval-ignore-output"]
entropy = math.log(2 * math.pi * math.e)
true_nll_train = -toy_log_prob(x_train).mean().item()
print(f"H(p) = {entropy:.3f} nats; the true p's own NLL on these 20,000 training points: {true_nll_train:.3f}")
for name, history in histories.items():
    print(f"{name}: NLL per point over the epochs {history['nll'][0]:.2f} → {history['nll'][-1]:.3f} nats")
    assert abs(history["nll"][-1] - true_nll_train) < 0.01
fig = loss_curves({name: h["nll"] for name, h in histories.items()}, title="training NLL (nats per point)")
fig.axes[0].axhline(entropy, color="black", linestyle="--", linewidth=1, label="H(p)")
fig.axes[0].legend()
plt.show()

# %% [markdown]
# The training NLL ends a little *below* $H(p)$. That is not a flow beating the truth: on these
# particular 20,000 points the true density itself scores 2.826, below its expectation $H(p)$ by
# sampling chance (the standard error of a mean of 20,000 values of $-\log p$ is 0.007 nats), and
# the flows end within 0.01 nats of it. A training loss mixes how well the model fits with how
# typical the training sample is. An honest measure needs fresh points — and the truth.
#
# ## 7. Measured against the truth
#
# Because the true $\log p$ is known, we can measure the distance of each learned $q$ from $p$:
#
# $$\mathrm{KL}(p \,\|\, q) = \mathbb{E}_{x \sim p}\big[\log p(x) - \log q(x)\big]
#   \approx \frac{1}{N}\sum_{n=1}^{N} \big[\log p(x_n) - \log q(x_n)\big], \quad x_n \sim p ,$$
#
# on $N$ = 100,000 fresh samples of the toy map (never seen in training), with the Monte-Carlo
# standard error. KL is 0 exactly when $q = p$; our target is below 0.005 nats.

# %% tags=["nbval-ignore-output"]
x_eval = banana(100_000, seed=2)
kl = {name: kl_to_truth(flow.log_prob, x_eval) for name, flow in flows.items()}
nll_truth = -toy_log_prob(x_eval).mean().item()
print(f"the true density's negative log-likelihood on these points: {nll_truth:.4f} nats "
      f"(its expectation, the entropy 1 + log 2π = {1 + math.log(2 * math.pi):.4f})")
for name, estimate in kl.items():
    with torch.no_grad():
        nll = -flows[name].log_prob(x_eval).mean().item()
    print(f"{name}: held-out NLL {nll:.4f} nats = truth's {nll_truth:.4f} + KL(p ‖ q_{name}) {estimate.kl:.4f} "
          f"± {estimate.stderr:.4f}")
    assert 0 < estimate.kl < 0.005 and abs(nll - nll_truth - estimate.kl) < 1e-4
kl_untrained = kl_to_truth(realnvp().log_prob, x_eval).kl
print(f"for scale: an untrained flow (q = N(0, I)) is {kl_untrained:.1f} nats away")
assert kl_untrained > 2.5

# %% [markdown]
# Both flows are within a thousandth of a nat of the truth. The pictures say the same: the
# learned contours (white lines) sit on the true density, and samples from the flows cover the
# banana, tails included.

# %%
fig, axes = plt.subplots(2, 2, figsize=(9, 8))
for col, (name, flow) in enumerate(flows.items()):
    density_contours(true_grid, ax=axes[0, col], title=f"{name}: learned q (lines) over true p")
    density_contours(density_grid(flow.log_prob), ax=axes[0, col], filled=False, label="learned q")
    with torch.no_grad():
        samples = flow.sample(3000, generator=torch.Generator().manual_seed(4))
    axes[1, col].scatter(x_eval[:3000, 0], x_eval[:3000, 1], s=2, alpha=0.4, label="true p")
    axes[1, col].scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, label=f"{name} samples")
    axes[1, col].set(xlim=(-4, 4), ylim=(-14, 4), xlabel="x₁", ylabel="x₂")
    axes[1, col].legend(markerscale=4, fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 8. The asymmetry: density in one pass, sampling in $D$
#
# A RealNVP coupling computes $s$ and $t$ from the kept half, which is known in *both*
# directions, so density evaluation and sampling each take one network pass per layer. A MAF
# layer computes $\mu_i, \alpha_i$ from $x_{1:i-1}$: going from $x$ to $u$ (density), all of $x$
# is known and one MADE pass gives every $\mu_i, \alpha_i$; going from $u$ to $x$ (sampling),
# $x_i$ can only be computed once $x_{1:i-1}$ exist, so a layer needs $D$ passes, one per
# coordinate. Count the passes:

# %%
calls = []
layer = MAFLayer(8)
layer.made.register_forward_hook(lambda *args: calls.append(1))
layer.inverse(torch.randn(5, 8))
density_passes = len(calls)
calls.clear()
layer(torch.randn(5, 8))
print(f"one MAF layer in D = 8: density {density_passes} MADE pass, sampling {len(calls)} passes")
assert (density_passes, len(calls)) == (1, 8)

# %% [markdown]
# And time it: 10,000 points through untrained 4-layer flows of growing dimension (wall times
# on this machine; they vary from run to run, the trend does not).

# %% tags=["nbval-ignore-output"]
def best_time(call, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


print(f"{'D':>3} | {'RealNVP density':>15} {'sampling':>9} | {'MAF density':>11} {'sampling':>9}  (ms)")
with torch.no_grad():
    for dim in (2, 8, 32):
        points_d = torch.randn(10_000, dim)
        row = []
        for make in (realnvp, maf):
            flow = make(dim=dim)
            row += [best_time(lambda: flow.log_prob(points_d)), best_time(lambda: flow.sample(10_000))]
        print(f"{dim:>3} | {1e3 * row[0]:>15.1f} {1e3 * row[1]:>9.1f} | {1e3 * row[2]:>11.1f} {1e3 * row[3]:>9.1f}")

# %% [markdown]
# Density costs about the same for both; MAF's sampling time grows with $D$ (about $D$ times
# RealNVP's at $D = 32$ in `python -m benchmarks flows`). Which design to pick depends on what
# you need fast: MAF for density estimation (e.g. scoring how typical a scan is), IAF for
# sampling, RealNVP and Glow when both matter — paid for with less flexible layers, so more of
# them.
#
# ## 9. Watching the warp
#
# The trained MAF is a chain of 7 layers (4 MADE layers and 3 order reversals). Push base
# samples through them one at a time: the slider steps through the layers, colours follow each
# point's $u_1$. The static strip below shows the same stages.

# %% tags=["nbval-ignore-output"]
flow_stepper(flows["MAF"], n=2000, seed=0)

# %%
u_show = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
stages = flows["MAF"].stages(u_show)
names = [type(layer).__name__ for layer in flows["MAF"].layers]
print(len(stages), "stages:", ["u"] + names)
assert torch.allclose(stages[-1], flows["MAF"](u_show)[0])
fig, axes = plt.subplots(1, 4, figsize=(14, 3.4), sharex=True, sharey=True)
for ax, step in zip(axes, (0, 1, 3, len(names))):
    ax.scatter(*stages[step].T, c=u_show[:, 0], cmap="coolwarm", s=3)
    ax.set(title="u" if step == 0 else f"after {step} layer{'s' * (step > 1)}", xlim=(-4, 4), ylim=(-12, 4))
fig.tight_layout()
plt.show()

# %% [markdown]
# Look at the colours: the learned flow is **not** the toy map. The toy map keeps $u_1$ as the
# position along the banana; the MAF ends up using $u_1$ mostly for the position *across* it.
# Both push $\mathcal{N}(0, I)$ onto the same density — a rotation of $u$ leaves $\pi_u$ unchanged,
# so many maps give one $p_x$ — and maximum likelihood only sees the density. The map itself is
# not identifiable from data.
#
# ## 10. Numerical safety
#
# A flow multiplies by $\exp(s)$ or $\exp(\alpha)$ in every layer. If training pushes a log-scale
# to large values, $\exp$ overflows to $\infty$, the next layer computes $\infty - \infty$ = NaN,
# and from then on every gradient is NaN. Two defences are built in:
#
# * **bounded log-scales**: the network's raw output $\hat s$ becomes $s = b \tanh(\hat s / b)$
#   with $b = 3$, so a layer scales by at most $e^{3} \approx 20$ either way;
# * **a guard in the training loop**: a NaN or infinite loss stops training with an error that
#   names the step, instead of training on garbage.
#
# Remove the bound and take a far too large learning rate:

# %% tags=["nbval-ignore-output"]
seed_everything(0)
stopped = None
try:
    train_flow(realnvp(scale_bound=None), banana(4000, seed=1), epochs=3, lr=0.3, progress=False)
except NonFiniteLossError as error:
    stopped = error
    print("NonFiniteLossError:", error)
assert stopped is not None, "this learning rate should have blown the loss up"  # the step it happens at varies

# %% [markdown]
# Bad input is refused at the door with a clear message, rather than producing a NaN density:

# %%
for bad in (torch.tensor([[0.0, float("nan")]]), torch.zeros(3, 5)):
    try:
        flows["MAF"].log_prob(bad)
    except ValueError as error:
        print("ValueError:", error)

# %% [markdown]
# ## Summary
#
# * An invertible map $x = f(u)$ of a simple base density gives an exact density,
#   $\log p_x(x) = \log \pi_u(f^{-1}(x)) + \log|\det J(f^{-1}(x))|$. The Jacobian term keeps the
#   total probability at 1 (we measured it with and without).
# * Flows are trained by plain maximum likelihood. Triangular Jacobians make the determinant a
#   product of the diagonal: affine couplings (RealNVP) and autoregressive layers (MAF).
# * On the toy map both reach $\mathrm{KL}(p\,\|\,q) < 0.005$ nats in about 5 s of training; the
#   toy map is itself a one-step MAF.
# * MAF evaluates densities in one pass but samples in $D$ passes; RealNVP does both in one.
#
# **In medical imaging**, flows are used where an exact likelihood is worth the invertibility
# constraint: scoring how typical a scan is for out-of-distribution and anomaly detection,
# density models of image features, and invertible networks for reconstruction. Be aware that
# likelihoods of image flows are known to be fooled — a flow can give higher likelihood to
# images from a different dataset than its own (Nalisnick et al., 2019) — so such scores need
# to be validated on the task.
#
# **References.** Dinh, Krueger, Bengio: NICE, 2014. Germain, Gregor, Murray, Larochelle: MADE,
# ICML 2015. van den Oord et al.: Pixel recurrent neural networks, ICML 2016; WaveNet, 2016;
# Parallel WaveNet, 2017. Kingma et al.: Improving variational inference with inverse
# autoregressive flow, NeurIPS 2016. Dinh, Sohl-Dickstein, Bengio: Density estimation using
# Real NVP, ICLR 2017. Papamakarios, Pavlakou, Murray: Masked autoregressive flow for density
# estimation, NeurIPS 2017. Kingma, Dhariwal: Glow, NeurIPS 2018. Nalisnick et al.: Do deep
# generative models know what they don't know?, ICLR 2019. Papamakarios et al.: Normalizing
# flows for probabilistic modeling and inference, JMLR 2021. Jiang: Normalizing flows
# tutorial, part 2 (the MAF figures of the source lecture).

# %% [markdown]
# ## Appendix: the lineage of flows
#
# The papers the source lecture lists, in order.
#
# * **NICE** (Dinh et al., 2014) splits the variables in two halves and shifts one half by a
#   neural-network function of the other — an *additive coupling*. Its Jacobian is triangular
#   with unit diagonal, so the map preserves volume, like our toy map.
# * **MADE** (Germain et al., 2015) masks the weights of an autoencoder so that output $i$ only
#   depends on inputs $1, \dots, i-1$. One pass of the network then gives all the conditionals
#   of an autoregressive model $p(x) = \prod_i p(x_i \mid x_{1:i-1})$.
# * **PixelRNN/PixelCNN and WaveNet** (van den Oord et al., 2016) are autoregressive models of
#   pixels and of raw audio. Their likelihoods are exact, but generating one sample takes one
#   network pass per pixel or per audio sample.
# * **IAF** (Kingma et al., 2016) is an autoregressive flow in the *sampling* direction:
#   $x_i = u_i \exp(\alpha_i) + \mu_i$ with $\mu_i, \alpha_i$ functions of $u_{1:i-1}$. Sampling
#   takes one pass, but the density of a new point takes $D$; it was built to make VAE
#   posteriors more flexible.
# * **RealNVP** (Dinh et al., 2017) makes the coupling affine — a scale *and* a shift — so that
#   the flow can change volume. Both directions cost one pass; stacking couplings with
#   alternating halves (and a multi-scale architecture) models natural images.
# * **MAF** (Papamakarios et al., 2017) stacks MADEs as a flow in the *density* direction, the
#   mirror image of IAF: the density of any point takes one pass, sampling takes $D$. Its
#   authors show that IAF, MAF and RealNVP are members of one family.
# * **Parallel WaveNet** (van den Oord et al., 2017) uses that mirror symmetry: a slow-sampling
#   autoregressive teacher trains a fast-sampling IAF student, which put WaveNet into production.
# * **Glow** (Kingma and Dhariwal, 2018) adds invertible 1×1 convolutions and activation
#   normalisation to RealNVP. The 1×1 convolution maps the channels at every pixel by one learned
#   invertible matrix $W$ (adding $\log|\det W|$ per pixel to the log-determinant). It
#   generalises the fixed permutation that earlier flows put between couplings (reversing the
#   channels, as our `Reverse` layer reverses coordinates): that is the special case of $W$ a
#   permutation matrix. Glow generated sharp high-resolution faces and interpolated smoothly
#   between them.
