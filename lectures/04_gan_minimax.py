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
# # Lecture 04 — The GAN minimax game
#
# **What you will build:** the discriminator's and the generator's losses from logits; the
# reason the generator's original loss stalls, measured; the alternating training algorithm of
# the original paper; mode coverage on the 8-Gaussian ring and the 25-Gaussian grid, counted
# exactly as in the VEEGAN and PacGAN papers and put beside their tables; and a DCGAN on brain
# slices, judged by pixel distance, by a Fréchet distance of anatomical features, and by its
# nearest training slices; conditional GANs that sample the mode or the brain level you ask for;
# and what "similar" means for images — pixels, features, a discriminator's layer — with a VAE
# that learns from the last.
#
# **Time:** about 70 s top to bottom on a 2-core laptop. The toy GANs (about a minute each), the
# DCGAN and the conditional DCGAN (about 20 minutes each) and the VAE of section 7 were trained
# beforehand by `make checkpoints` with the same library code; this notebook trains three small
# GANs on screen and loads the rest.
#
# A VAE (lecture 03) learns a density by maximising a bound on the likelihood. A generative
# adversarial network (Goodfellow et al., 2014) learns to *sample* without ever writing down a
# density: a generator $G$ turns noise $z$ into a sample $G(z)$, and a discriminator $D$ is
# trained to tell those samples from real data. Each one's loss is the other's gain.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import math

import matplotlib.pyplot as plt
import torch

from course_lib import zoo
from course_lib.conditional_gan import conditional_mode_accuracy
from course_lib.data import LEVEL_BANDS, brain_slices
from course_lib.diagrams import gan_loop_diagram
from course_lib.gan import (
    MLPDiscriminator, MLPGenerator, discriminator_loss, gan_training_step, generator_logit_gradient,
    generator_loss, mixture_sampler, sample_latent,
)
from course_lib.evaluation import (
    band_accuracy, box_smooth, frechet_distance, level_coverage, mode_coverage, nearest_neighbour_mse,
    nearest_neighbours, precision_recall, slice_features,
)
from course_lib.gan_theory import mixture_log_density, optimal_discriminator_logit
from course_lib.learned_similarity import discriminator_layer, inception_score, sharpness
from course_lib.plotting import image_grid
from course_lib.recipes import gan as recipes04, vae as recipes03
from course_lib.tolerances import assert_close
from course_lib.training import single_threaded
from course_lib.vae import sample_prior

# %% [markdown]
# ## 1. The game
#
# $D(x) \in (0, 1)$ is the probability that $x$ is real. With real data $x \sim p_\text{data}$
# and noise $z \sim p_z$ (uniform on $[-1, 1]^d$ in the original paper, Gaussian here), the
# two players share one **value function**
#
# $$V(D, G) = \mathbb{E}_{x}[\log D(x)] + \mathbb{E}_{z}[\log(1 - D(G(z)))], \qquad
# \min_G \max_D V(D, G).$$
#
# $D$ maximises $V$: it wants $D(x) \to 1$ on real and $D(G(z)) \to 0$ on generated samples.
# That is exactly logistic regression — **binary cross-entropy with label 1 for real and 0 for
# generated samples**, on a batch that is half real, half generated:
#
# $$L_D = \tfrac12\big(\text{mean}[-\log D(x)] + \text{mean}[-\log(1 - D(G(z)))]\big) = -\tfrac12 \hat V(D, G).$$

# %%
gan_loop_diagram()
plt.show()

# %% [markdown]
# Networks output a **logit** $l$ with $D = \sigma(l)$. Computing $\log\sigma(l)$ from
# $\sigma(l)$ fails for confident discriminators: at $l = -120$, $\sigma(l)$ rounds to 0 and its log
# to $-\infty$. The stable forms are $\log \sigma(l) = -\operatorname{softplus}(-l)$ and
# $\log(1 - \sigma(l)) = -\operatorname{softplus}(l)$; every loss in `course_lib.gan` takes logits.

# %%
real_logits = torch.tensor([4.0, 2.0, -120.0])
fake_logits = torch.tensor([-3.0, 0.0, 120.0])
naive = -0.5 * (torch.log(torch.sigmoid(real_logits)).mean() + torch.log(1 - torch.sigmoid(fake_logits)).mean())
print("naive log(sigmoid):", naive.item(), "| stable, from logits:", round(discriminator_loss(real_logits, fake_logits).item(), 3))
assert torch.isinf(naive) and torch.isfinite(discriminator_loss(real_logits, fake_logits))

# %% [markdown]
# ### What the game minimises: the optimal discriminator
#
# Fix $G$ and write its samples' density $p_g$. Then $V$ is one integral over $x$,
#
# $$V(D, G) = \int \big[\,p_\text{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\,\big]\,dx ,$$
#
# and $D$ may choose its value at every $x$ separately. The integrand has the form
# $a \log y + b \log(1 - y)$, whose derivative $a/y - b/(1 - y)$ vanishes at $y = a/(a + b)$ — a
# maximum. So the **optimal discriminator** is
#
# $$D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}, \qquad
#   \operatorname{logit} D^*(x) = \log p_\text{data}(x) - \log p_g(x):$$
#
# a perfect $D$ outputs the log-density ratio. Put it back into $V$ and write
# $m = \tfrac12(p_\text{data} + p_g)$, so that $D^* = p_\text{data}/(2m)$ and $1 - D^* = p_g/(2m)$:
#
# $$V(D^*, G) = \mathbb{E}_{p_\text{data}}\Big[\log \tfrac{p_\text{data}}{m}\Big] - \log 2
#   + \mathbb{E}_{p_g}\Big[\log \tfrac{p_g}{m}\Big] - \log 2
#   = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \,\|\, p_g),$$
#
# with the **Jensen–Shannon divergence** $\mathrm{JSD}(p\,\|\,q) = \tfrac12\mathrm{KL}(p\,\|\,m) +
# \tfrac12\mathrm{KL}(q\,\|\,m)$, which is $\ge 0$ and $0$ only when $p = q$. Against a perfect
# discriminator the generator therefore minimises a divergence to the data, and its best reply
# is $p_g = p_\text{data}$, where $D^* = \tfrac12$ everywhere and $V = -\log 4$ (Goodfellow et al.,
# 2014, Theorem 1).
#
# **Check it on the ring**, where both densities are known exactly (`course_lib.gan_theory`).
# Take a collapsed generator that puts all its mass on every other mode, ¼ on each. Where it
# samples, $D^* = \frac{1/8}{1/8 + 1/4} = \frac13$; on the four modes it misses, $D^* = 1$. So
# $V(D^*, G) = \tfrac12\log\tfrac13 + \tfrac12\log 1 + \log\tfrac23 = \log 2 - \tfrac32\log 3$.
# The cell estimates $V$ with the lecture's own loss from $D^*$'s logits, on samples drawn
# mode by mode (so that every mode gets exactly its share and the estimate is exact), and
# compares it with that closed form, with $-\log 4$ for $p_g = p_\text{data}$, and with
# discriminators that are not optimal.

# %%
ring64 = recipes04.toy_modes("ring").double()
half_ring = torch.tensor([0.25, 0.0] * 4, dtype=torch.float64)  # the collapsed generator's mode weights
per_mode, std = 2000, 0.01
rng = torch.Generator().manual_seed(0)
x_data = ring64.repeat_interleave(per_mode, 0) + std * torch.randn(8 * per_mode, 2, generator=rng, dtype=torch.float64)
x_collapsed = ring64[::2].repeat_interleave(2 * per_mode, 0) + std * torch.randn(8 * per_mode, 2, generator=rng,
                                                                                 dtype=torch.float64)


def log_densities(x):  # (log p_data(x), log p_g(x)): the ring, and the generator collapsed onto every other mode
    return mixture_log_density(x, ring64, std), mixture_log_density(x, ring64, std, half_ring)


on_data, on_collapsed = log_densities(x_data), log_densities(x_collapsed)
star_real, star_fake = optimal_discriminator_logit(*on_data), optimal_discriminator_logit(*on_collapsed)


def value(change=lambda logit: logit):  # V(D, G) = −2 L_D, for D's logits = change(D*'s logits)
    return (-2 * discriminator_loss(change(star_real), change(star_fake))).item()


closed_form, v_star = math.log(2) - 1.5 * math.log(3), value()
print(f"collapsed G: V(D*, G) = {v_star:.4f}; closed form log 2 − 3/2 log 3 = {closed_form:.4f}; "
      f"so JSD = (V + log 4) / 2 = {(closed_form + math.log(4)) / 2:.4f} nats (log 2 = {math.log(2):.4f} is the maximum)")
perfect = (-2 * discriminator_loss(torch.zeros(len(x_data), dtype=torch.float64),
                                   torch.zeros(len(x_data), dtype=torch.float64))).item()
print(f"p_g = p_data: D* = 1/2 everywhere, V = {perfect:.4f} = −log 4 = {-math.log(4):.4f}")
others = {"D* with logits halved": lambda logit: 0.5 * logit, "D* shifted by +1 logit": lambda logit: logit + 1}
for name, change in others.items():
    print(f"{name:24s} V = {value(change):.4f} < V(D*, G)")
    assert value(change) < v_star
assert abs(v_star - closed_form) < 1e-6 and abs(perfect + math.log(4)) < 1e-12

# %% [markdown]
# ## 2. The generator's two losses, and why the first one stalls
#
# $G$ only appears in the second term of $V$, so the minimax game asks $G$ to
# **minimise $\log(1 - D(G(z)))$**. Goodfellow et al. noticed at once that this works badly
# in practice and proposed to **minimise $-\log D(G(z))$** instead: the same cross-entropy as
# $D$'s, with the label of the generated samples *flipped* to "real". Both are minimised by
# fooling $D$; they differ in how hard they push. Per sample, with $D = \sigma(l)$:
#
# $$\frac{\partial}{\partial l}\log(1 - \sigma(l)) = -\sigma(l) = -D(G(z)), \qquad
# \frac{\partial}{\partial l}\big(-\log\sigma(l)\big) = -(1 - D(G(z))).$$
#
# Early in training $D$ rejects the generated samples confidently, $D(G(z)) \approx 0$: the
# minimax loss then gives the generator almost **no gradient** exactly when it is worst, while
# the flipped-label loss gives almost the largest possible.

# %%
d_values = torch.logspace(-6, -1e-4, 200)
logits = torch.logit(d_values).requires_grad_()
for kind in ("minimax", "non_saturating"):
    (autograd_grad,) = torch.autograd.grad(generator_loss(logits, kind) * len(logits), logits)
    assert torch.allclose(autograd_grad.abs().double(), generator_logit_gradient(d_values, kind), rtol=1e-4)
print("the closed forms agree with autograd on 200 values of D(G(z)) for both losses")

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(5.5, 3.5))
for kind, label in (("minimax", "minimax: min log(1 − D(G(z)))"), ("non_saturating", "flipped label: min −log D(G(z))")):
    ax.plot(d_values, generator_logit_gradient(d_values, kind), label=label)
ax.set(xscale="log", yscale="log", xlabel="D(G(z))  (0 = confidently rejected)", ylabel="|∂ loss / ∂ logit|",
       title="gradient reaching the generator, per sample")
ax.axvspan(1e-6, 1e-2, color="grey", alpha=0.15, label="early training")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **The experiment.** On the 8-Gaussian ring, give $D$ a head start: 300 steps against an
# untrained generator, until it rejects the fakes confidently. Then run the alternating
# algorithm for 1,500 rounds from that same state, once with each generator loss, and watch the
# norm of the generator's gradient and where its samples end up.

# %% tags=["nbval-ignore-output"]
ring_modes = recipes04.toy_modes("ring")
ring_sampler = mixture_sampler(ring_modes, std=0.01)  # fresh ring samples on every call
seed_everything(0)
start_g, start_d = MLPGenerator(), MLPDiscriminator()
rng = torch.Generator().manual_seed(0)
d_opt = torch.optim.Adam(start_d.parameters(), lr=1e-3, betas=(0.5, 0.999))
with single_threaded():  # tiny networks train fastest on one thread
    for _ in range(300):  # D alone: G does not move
        fake = start_g(sample_latent(256, 2, generator=rng)).detach()
        loss = discriminator_loss(start_d(ring_sampler(256, rng)), start_d(fake))
        d_opt.zero_grad()
        loss.backward()
        d_opt.step()
with torch.no_grad():
    print("after D's head start: mean D(G(z)) =", f"{torch.sigmoid(start_d(start_g(sample_latent(2500, 2, generator=rng)))).mean():.1e}")

# %% tags=["nbval-ignore-output"]
head_start = {}
for kind in ("minimax", "non_saturating"):
    g_net, d_net = MLPGenerator(), MLPDiscriminator()
    g_net.load_state_dict(start_g.state_dict())
    d_net.load_state_dict(start_d.state_dict())
    g_opt = torch.optim.Adam(g_net.parameters(), lr=1e-3, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d_net.parameters(), lr=1e-3, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(1)
    norms = []
    with single_threaded():
        for _ in range(1500):
            step = gan_training_step(g_net, d_net, g_opt, d_opt, [ring_sampler(256, rng)],
                                     lambda n: sample_latent(n, 2, generator=rng), kind)
            norms.append(step["g_grad_norm"])
    with torch.no_grad():
        samples = g_net(sample_latent(2500, 2, generator=torch.Generator().manual_seed(2)))
        fooled = torch.sigmoid(d_net(samples)).mean().item()
    head_start[kind] = {"norms": torch.tensor(norms), "samples": samples, "fooled": fooled,
                        "distance": torch.cdist(samples, ring_modes).min(1).values.median().item()}
    print(f"{kind:15s} median ‖∇G‖, rounds 1–100: {head_start[kind]['norms'][:100].median():.1e}, rounds 1001–1500: "
          f"{head_start[kind]['norms'][1000:].median():.1e}; after 1,500 rounds mean D(G(z)) = {fooled:.1e}, "
          f"median distance to the nearest mode {head_start[kind]['distance']:.2f}")
minimax, flipped = head_start["minimax"], head_start["non_saturating"]
early = (minimax["norms"][:100].median() / flipped["norms"][:100].median()).item()
stuck = minimax["fooled"] < 1e-3 and minimax["distance"] > 1.0
print(f"rounds 1–100: the minimax generator's gradient is {early:.3f} × the flipped-label one's; after 1,500 rounds "
      f"it is {'still stuck: D rejects its samples, far from the ring' if stuck else 'out of the trap'}")
# What holds on every seed (10 seeds, `python -m benchmarks gan_stall`: ratios 0.004–0.11; the
# flipped-label generator on the ring with D fooled ≥ 0.3 in all ten). Whether the minimax one stays stuck does not.
assert early < 0.2
assert flipped["fooled"] > 0.1 and flipped["distance"] < 1.0

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for kind, colour in (("minimax", "C0"), ("non_saturating", "C1")):
    axes[0].plot(head_start[kind]["norms"], color=colour, lw=0.8, label=kind)
    axes[1 if kind == "minimax" else 2].scatter(*head_start[kind]["samples"].T, s=2, color=colour)
axes[0].set(yscale="log", xlabel="round", ylabel="‖∇θ_G loss‖", title="the generator's gradient")
axes[0].legend()
for ax, kind in zip(axes[1:], ("minimax", "non_saturating")):
    ax.scatter(*ring_modes.T, marker="x", color="k", s=40)
    lim = 1.1 * head_start[kind]["samples"].abs().max().item() if kind == "minimax" else 1.6
    ax.set(title=f"{kind}: samples after 1,500 rounds", aspect="equal", xlim=(-lim, lim), ylim=(-lim, lim))
plt.tight_layout()
plt.show()

# %% [markdown]
# With $D$ ahead, the minimax generator's first steps are much weaker than the flipped-label
# one's: over ten seeds (`python -m benchmarks gan_stall`), its median gradient in the first
# 100 rounds was 9 to 300 times smaller, every time. What happens next is luck. In 8 of the 10
# runs it never recovered: $D$ grew ever more certain, the gradient faded towards zero, and
# after 1,500 rounds $D$ still rejected every sample, far from the data. In the other 2, Adam —
# which divides each step by a running average of the gradient's size — blew the faint signal
# up enough to reach the ring. The run above may go either way on your computer: the game is
# chaotic enough that the number of threads changes its course. The flipped-label generator got
# a strong signal from the first round and reached the ring, fooling $D$ a good part of the time,
# in all ten runs (1,500 constant-rate rounds are not enough to hit modes of σ = 0.01
# precisely; section 4 trains properly). The fixed points of the game are the same for both
# losses (derived next); only the dynamics differ — and a loss that works only with luck is not
# one to rely on. From here on we use the flipped-label loss, as nearly everyone does.
#
# ### Why both generator losses share a fixed point
#
# Hold $D$ at its optimum $D^*$ for the current $G$ (section 1) and ask what each loss moves
# $p_g$ towards.
#
# * **Minimax loss.** $\mathbb{E}_{z}[\log(1 - D^*(G(z)))]$ is the only part of $V(D^*, G)$ that
#   depends on $G$, so the generator descends $-\log 4 + 2\,\mathrm{JSD}(p_\text{data}\,\|\,p_g)$,
#   minimised only by $p_g = p_\text{data}$.
# * **Flipped-label loss.** Write $-\log D^* = \log 2 + \log(m / p_\text{data})$. Then
#   $\mathbb{E}_{p_g}[-\log D^*] = \log 2 + \mathrm{KL}(p_g\,\|\,p_\text{data}) - \mathrm{KL}(p_g\,\|\,m)$,
#   and differentiating with $D^*$ held fixed gives the gradient of
#   $\mathrm{KL}(p_g\,\|\,p_\text{data}) - 2\,\mathrm{JSD}(p_\text{data}\,\|\,p_g)$ (Arjovsky and Bottou,
#   2017). This is $0$ at $p_g = p_\text{data}$, and for a small change $\delta = p_g - p_\text{data}$
#   it is $\tfrac12\int\delta^2/p_\text{data} - 2\cdot\tfrac18\int\delta^2/p_\text{data}
#   = \tfrac14\int\delta^2/p_\text{data}\,dx \ge 0$: a minimum.
#
# So at $p_g = p_\text{data}$ with $D^* = \tfrac12$ neither player can improve, whichever generator
# loss is used: the same fixed point. The landscapes differ. The reverse KL in the flipped-label
# loss punishes samples where there is no data hard, and missing modes only mildly — one reason
# for the mode collapse of section 4.
#
# On section 1's collapsed generator, $D^* = \tfrac13$ on every sample it draws, so its
# flipped-label loss is $-\log\tfrac13 = \log 3$; the two KLs are $\log 2$ (it doubles the weight of
# the modes it keeps) and $\log\tfrac43$. The identity, checked with the lecture's generator loss:

# %%
flipped_at_d_star = generator_loss(star_fake, "non_saturating").item()
log_p_data_c, log_p_g_c = on_collapsed  # at the collapsed generator's samples
kl_g_data = (log_p_g_c - log_p_data_c).mean().item()
kl_g_m = (log_p_g_c - (torch.logaddexp(log_p_data_c, log_p_g_c) - math.log(2))).mean().item()
print(f"E_pg[−log D*] = {flipped_at_d_star:.4f} (log 3 = {math.log(3):.4f}); "
      f"log 2 + KL(p_g‖p_data) − KL(p_g‖m) = {math.log(2):.4f} + {kl_g_data:.4f} − {kl_g_m:.4f} "
      f"= {math.log(2) + kl_g_data - kl_g_m:.4f}")
assert abs(flipped_at_d_star - math.log(3)) < 1e-6 and abs(math.log(2) + kl_g_data - kl_g_m - math.log(3)) < 1e-6

# %% [markdown]
# ## 3. The training algorithm
#
# Algorithm 1 of Goodfellow et al. (2014), for each round:
#
# 1. **$k$ times:** draw $m$ noise samples and $m$ data samples; update $D$ by one step on $L_D$
#    (the generated samples are *detached*: $D$'s step must not move $G$);
# 2. **once:** draw $m$ fresh noise samples; update $G$ by one step on its loss, through the
#    updated $D$ ($D$'s optimiser does not step: $G$'s step must not move $D$).
#
# `course_lib.gan.gan_training_step` is exactly this (you write it in the exercises). The
# paper used $k = 1$; larger $k$ keeps $D$ nearer its optimum — and, as section 2 showed,
# a $D$ that is too good starves the minimax generator.
#
# ## 4. Mode collapse, counted as in the literature
#
# A generator that fools $D$ with samples from only some of the data's modes has no reason to
# move to the others: **mode collapse**. VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et al.,
# 2018) measure it on two mixtures with known modes — 8 Gaussians on a ring of radius 1
# (σ = 0.01) and 25 on a 5×5 grid of spacing 2 (σ = 0.05) — from 2,500 generated samples:
#
# - a sample is **high quality** when it is within 3σ of its nearest mode;
# - a mode is **captured** when it is the nearest mode of at least one high-quality sample.
#
# Our toy GANs (`zoo.load("gan04_ring")`, `zoo.load("gan04_grid")`) are the MLPs above, trained
# with the flipped-label loss and the recipe `recipes04.GAN04_TOY_RECIPE`, which adds two things the
# original paper did not have. An R1 gradient penalty on $D$ (Mescheder et al., 2018),
# $\tfrac{\gamma}{2}\,\mathbb{E}_x\|\nabla_x l(x)\|^2$ on real samples, keeps $D$'s surface smooth
# where the data are; in the search for this recipe, generators trained without it dropped up
# to five of the grid's 25 modes. And the generator we keep is an exponential moving average
# (EMA) of $G$'s weights over the last 1,200 steps, $\bar\theta_t = \beta\,\bar\theta_{t-1} +
# (1-\beta)\,\theta_t$ with $\beta = 0.995$ (Yazıcı et al., 2019): the players never quite
# settle, and the average jitters less than the last step. Their samples over training (of $G$
# itself):

# %% tags=["nbval-ignore-output"]
toys = {"ring": zoo.load("gan04_ring"), "grid": zoo.load("gan04_grid")}
fig, axes = plt.subplots(2, len(toys["ring"].snapshot_steps), figsize=(2.3 * len(toys["ring"].snapshot_steps), 4.8))
for row, (name, model) in enumerate(toys.items()):
    lim = 1.5 if name == "ring" else 5.5
    for col, (step, samples) in enumerate(zip(model.snapshot_steps.tolist(), model.snapshots)):
        ax = axes[row, col]
        ax.scatter(*samples.T, s=1, alpha=0.5)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"{name}, step {step:,}", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# The count on 2,500 fresh samples of each, beside the published tables (the numbers of the
# papers are means over their runs; ours are one seed each — `python -m benchmarks gan_toy`
# runs five seeds of each and reports mean ± sd):

# %% tags=["nbval-ignore-output"]
ours = {}
for name, model in toys.items():
    with torch.no_grad():
        samples = model.generator(sample_latent(2500, model.generator.latent_dim, generator=torch.Generator().manual_seed(7)))
    ours[name] = mode_coverage(samples, recipes04.toy_modes(name), recipes04.TOY_STD[name])
published = [  # (paper, method, toy, modes, high-quality %)
    ("PacGAN, Table 1", "GAN", "ring", 6.3, 98.2), ("PacGAN, Table 1", "PacGAN3", "ring", 7.8, 97.7),
    ("VEEGAN, Table 1", "GAN", "ring", 1, 99.3), ("VEEGAN, Table 1", "VEEGAN", "ring", 8, 52.9),
    ("PacGAN, Table 1", "GAN", "grid", 17.3, 94.8), ("PacGAN, Table 1", "PacGAN4", "grid", 24.8, 93.6),
]
print(f"{'source':18s} {'method':18s} {'toy':5s} {'modes':>6s} {'high quality':>13s}")
for source, method, toy, modes, hq in published:
    print(f"{source:18s} {method:18s} {toy:5s} {modes:6.1f} {hq:12.1f} %")
for name, cov in ours.items():
    print(f"{'this course':18s} {'GAN+R1+EMA, 1 seed':18s} {name:5s} {cov.modes:6d} {100 * cov.high_quality:12.1f} %")
assert ours["ring"].modes == 8 and ours["grid"].modes >= 24
assert_close({name: cov.high_quality for name, cov in ours.items()}, {"ring": 0.970, "grid": 0.960}, 0.015,
             "high-quality fraction")

# %% [markdown]
# How to read this table:
#
# - The published GAN on the ring captures few modes with very high quality (up to 99 %): it
#   collapsed onto one or a few modes and places them precisely. VEEGAN captures all eight but
#   half of its samples miss them. **Both numbers are needed**: modes alone reward a spray of
#   samples, quality alone rewards collapse.
# - Our generator captures every mode on both toys; what it loses is quality — a few per cent of
#   its samples sit on thin "bridges" between modes. A generator is a continuous map from a
#   connected latent space, so it cannot put *zero* mass between separated modes; it can only
#   make the bridges steep. The penalty helps coverage; sharpening the bridges further is what
#   the published GAN buys by collapsing.
#
# Where do the bridge samples come from? Send 100,000 fresh noise vectors through the ring's
# generator and label each $z$ by the mode its sample lands nearest. The labels cut the noise
# plane into eight regions; call $z$ a *border* point when a step of 0.02 in one of eight
# directions lands in another region.

# %% tags=["nbval-ignore-output"]
ring_generator = toys["ring"].generator
modes = recipes04.toy_modes("ring")
z = sample_latent(100_000, 2, generator=torch.Generator().manual_seed(8))
with torch.no_grad():
    distances = torch.cdist(ring_generator(z), modes)
    nearest = distances.argmin(1)
    border = torch.zeros(len(z), dtype=torch.bool)
    for k in range(8):
        step = 0.02 * torch.tensor([math.cos(k * math.pi / 4), math.sin(k * math.pi / 4)])
        border |= torch.cdist(ring_generator(z + step), modes).argmin(1) != nearest
miss = distances.min(1).values > 3 * recipes04.TOY_STD["ring"]
print(f"misses: {miss.float().mean():.1%} of all samples")
print(f"border points: {border.float().mean():.1%} of the noise, {(miss & border).sum() / miss.sum():.0%} of the misses; "
      f"{miss[border].float().mean():.0%} of them miss, against {miss[~border].float().mean():.2%} elsewhere")
assert (miss & border).sum() > 0.8 * miss.sum() and miss[border].float().mean() > 50 * miss[~border].float().mean()
assert_close(miss.float().mean().item(), 0.028, 0.003, "fraction of samples that miss a mode")

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(*z[~miss][:20_000].T, c=nearest[~miss][:20_000], cmap="tab10", s=1)
ax.scatter(*z[miss].T, c="black", s=2, label="misses (> 3σ from every mode)")
ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xlabel="$z_1$", ylabel="$z_2$",
       title="noise plane of the ring's G, coloured by the mode hit")
ax.legend(loc="lower left", fontsize=8)
plt.show()

# %% [markdown]
# The misses are the generator's trips from one region to the next: almost all of them come
# from the thin band of noise along the borders, and away from the borders practically every
# sample is good. Training can only make the bands thinner, never remove them. Where the
# borders lie matters too. This generator has cut the plane into parallel stripes, so no two
# borders meet. An earlier recipe (R1 weight γ = 0.1, the rate decaying after 60 % of the steps,
# no averaging) reached 96.3 % high quality on the ring over five seeds; its generator's borders
# crowded together near the origin, where the Gaussian noise is densest — 45 % of its misses
# came from the 12 % of noise with $|z| < 0.5$. In the search for our recipe
# we also gave the generator 4- and 8-dimensional noise, in which the regions need not meet at a
# point; with that earlier recipe, high quality *fell*, to 95.7 % (3 seeds) and 94.7 % (5 seeds):
# the extra room did not help this small generator within its 12,000 steps. Uniform noise on
# $[-1, 1]^2$, the original paper's choice, did far worse (68 % and 72 % in two seeds).
#
# ## 5. A DCGAN on brain slices
#
# On images, $G$ and $D$ become convolutional (Radford et al., 2016): $G$ maps $z \in
# \mathbb{R}^{64}$ through transposed convolutions to a 64 px slice, $D$ mirrors it. Trained for
# 60 epochs on 4,000 slices with the flipped-label loss (`zoo.load("dcgan04")`); the fixed noise
# batch's samples at six points of training:

# %% tags=["nbval-ignore-output"]
dcgan = zoo.load("dcgan04")
image_grid(list(dcgan.snapshots), row_titles=[f"epoch {e}" for e in dcgan.snapshot_epochs.tolist()])
plt.show()

# %% [markdown]
# How good are the samples? The seeds distinguish **pixel similarity** (MSE) from **semantic
# similarity**. Pixel distances compare *pairs* of images; a generated slice has no partner, so
# we can only ask how far it is from the *nearest* real one. Semantic similarity compares
# *sets*: the **Fréchet distance** (Heusel et al., 2017) fits a Gaussian to the features of each
# set and measures
#
# $$\mathrm{FD} = \|\mu_r - \mu_g\|^2 + \operatorname{Tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2}\big).$$
#
# FID uses Inception features from ImageNet photographs, which know nothing of brain MR. Ours come
# from a small network trained on the course's slices to tell their axial level
# (`zoo.load("features04")`): its features describe anatomy.
#
# **Against which real slices?** The DCGAN learnt the *training* levels, so the fair reference is
# the population it models: fresh real slices of those levels (new warps, bias fields and noise —
# slices no model was trained on). The floor is the distance between two such fresh real sets,
# computed the same way. The held-out levels are a different population — other parts of the
# brain — and we compute the distances to them too, to see what a wrong reference does.

# %% tags=["nbval-ignore-output"]
features = zoo.load("features04")
real_a = brain_slices(1000, size=64, seed=21)  # fresh slices of the training levels
real_b = brain_slices(1000, size=64, seed=22)
held_out_a = brain_slices(1000, size=64, split="test", seed=1)  # the wrong reference: other levels
held_out_b = brain_slices(1000, size=64, split="test", seed=2)
g = torch.Generator().manual_seed(3)
with torch.no_grad():
    gan_samples = dcgan.generator(torch.randn(1000, 64, generator=g))
    vae_samples = sample_prior(zoo.load(f"vae03_conv_k{recipes03.VAE03_LATENT}"), 1000, generator=g)
sets = {"real B, training levels": real_b, "held-out B, held-out levels": held_out_b, "DCGAN samples": gan_samples,
        "VAE prior samples (lecture 03)": vae_samples}
feats = {name: slice_features(features, images) for name, images in sets.items()}
feats_a = {"training-level real A": slice_features(features, real_a), "held-out A": slice_features(features, held_out_a)}
fd = {ref: {name: frechet_distance(f_ref, f) for name, f in feats.items()} for ref, f_ref in feats_a.items()}
print(f"{'Fréchet distance to':32s} {'training-level real A':>22s} {'held-out A':>11s}")
for name in sets:
    print(f"  {name:30s} {fd['training-level real A'][name]:22.2f} {fd['held-out A'][name]:11.2f}")
right, wrong = fd["training-level real A"], fd["held-out A"]
assert right["real B, training levels"] < right["DCGAN samples"] < right["VAE prior samples (lecture 03)"]
assert wrong["DCGAN samples"] > 4 * right["DCGAN samples"] and wrong["held-out B, held-out levels"] < 0.5
assert_close(fd, {"training-level real A": {"real B, training levels": 0.25, "held-out B, held-out levels": 13.41,
                                            "DCGAN samples": 3.47, "VAE prior samples (lecture 03)": 13.43},
                  "held-out A": {"real B, training levels": 12.91, "held-out B, held-out levels": 0.12,
                                 "DCGAN samples": 14.88, "VAE prior samples (lecture 03)": 25.27}},
             {"training-level real A": {"real B, training levels": 0.02, "held-out B, held-out levels": 0.2,
                                        "DCGAN samples": 0.7, "VAE prior samples (lecture 03)": 1.2},
              "held-out A": {"real B, training levels": 0.2, "held-out B, held-out levels": 0.02,
                             "DCGAN samples": 2.5, "VAE prior samples (lecture 03)": 1.2}},
             "Fréchet distance")

# %% [markdown]
# Against the right reference (left column) the DCGAN's samples are 3.5 from real slices, where
# two real sets of the same levels are 0.25 apart: well above the floor, and far closer than the
# VAE's blurry samples. Now the right-hand column. Two held-out sets are only 0.12 apart, but real
# training-level slices are 12.9 from them — the two are different parts of the brain — and the
# DCGAN's distance grows fourfold, to about 15. Judged against held-out slices, most of its
# Fréchet distance would measure the choice of reference, not the generator:
# **a generator is judged against real data of the population it models**, and the floor is
# computed the same way. Held-out levels are what you evaluate *reconstruction* on (lectures 01–03).
#
# One number mixes two failures: samples that look unreal (fidelity) and samples that miss part of
# the data (diversity). **Precision and recall** (Kynkäänniemi et al., 2019) separate them. Around
# every real feature vector draw a ball reaching to its 3rd-nearest real neighbour; precision is
# the share of samples inside the union of these balls. Recall swaps the roles: the share of real
# slices inside the balls around the samples. And, as the toys' mode count did, ask how the
# samples spread over the brain's levels: the feature network assigns each slice one of 8 level
# bins; we compare the samples' histogram with the real one by the total variation
# $\tfrac12\sum_b |p_b - r_b|$ (0: the same spread; 1: disjoint).

# %% tags=["nbval-ignore-output"]
quality = {}
for name, key in (("real B (ceiling)", "real B, training levels"), ("DCGAN samples", "DCGAN samples"),
                  ("VAE prior samples", "VAE prior samples (lecture 03)")):
    pr = precision_recall(feats_a["training-level real A"], feats[key])
    images = sets[key]
    quality[name] = {"precision": pr.precision, "recall": pr.recall,
                     "level TV": level_coverage(features, images, real_a).total_variation}
    print(f"{name:18s} precision {pr.precision:.2f}  recall {pr.recall:.2f}  "
          f"level-histogram TV to real A {quality[name]['level TV']:.2f}")
dc, va, ceiling = quality["DCGAN samples"], quality["VAE prior samples"], quality["real B (ceiling)"]
assert dc["precision"] > 2 * va["precision"] and dc["recall"] > va["recall"] + 0.2
assert ceiling["precision"] > dc["precision"] + 0.3 and ceiling["level TV"] < dc["level TV"] < va["level TV"]
assert_close(quality, {"real B (ceiling)": {"precision": 0.914, "recall": 0.907, "level TV": 0.05},
                       "DCGAN samples": {"precision": 0.435, "recall": 0.71, "level TV": 0.106},
                       "VAE prior samples": {"precision": 0.141, "recall": 0.327, "level TV": 0.303}},
             {"real B (ceiling)": {"precision": 0.01, "recall": 0.01, "level TV": 0.01},
              "DCGAN samples": {"precision": 0.07, "recall": 0.08, "level TV": 0.04},
              "VAE prior samples": {"precision": 0.03, "recall": 0.12, "level TV": 0.06}},
             "precision, recall, level TV")

# %% [markdown]
# Two real sets reach about 0.91 each way (finite sets never cover each other completely). The
# DCGAN's recall is fairly high — its samples spread over most of the real slices' variety, and
# over the levels almost as real slices do — but fewer than half its samples fall among real
# slices: fidelity, not diversity, is what it lacks. The VAE is low on both: its blur puts most
# samples off the real manifold, and its level histogram is skewed (one bin of eight nearly
# empty on every sampling seed we tried).
#
# **Is the GAN memorising?** If $G$ had learnt to reproduce its training slices, every sample
# would sit very close to one of them — closer than a new real slice does. The yardstick must be
# fresh real slices *of the training levels*: held-out levels are farther from the training set
# for reasons that have nothing to do with the generator. Compare the pixel distance (MSE) from
# each sample to its nearest training slice with the same distance for those real slices, and
# look at samples beside their nearest training slices.

# %% tags=["nbval-ignore-output"]
x_train = recipes04.dcgan04_train_data()
nearest_mse = {name: nearest_neighbour_mse(images[:300], x_train)
               for name, images in (("DCGAN samples", gan_samples), ("fresh training-level slices", real_a),
                                    ("held-out-level slices", held_out_a))}
for name, m in nearest_mse.items():
    print(f"{name:28s} MSE to the nearest training slice: median {m.median():.4f}, min {m.min():.4f}")
assert nearest_mse["DCGAN samples"].median() > nearest_mse["fresh training-level slices"].median()
assert_close({name: v.median().item() for name, v in nearest_mse.items()},
             {"DCGAN samples": 0.0139, "fresh training-level slices": 0.0101, "held-out-level slices": 0.0138}, 0.001,
             "median MSE to the nearest training slice")

# %% [markdown]
# Typical samples are *farther* from the training set than fresh real slices of the same levels:
# no sign of copying. (Against held-out slices the medians would look alike, 0.014 both — a
# coincidence of two different effects.) The *minimum* deserves a look — the samples nearest to a
# training slice, beside it (left), and three typical samples (right):

# %% tags=["nbval-ignore-output"]
closest = nearest_mse["DCGAN samples"].argsort()
shown = torch.cat([closest[:3], closest[len(closest) // 2 : len(closest) // 2 + 3]])
_, index = nearest_neighbours(gan_samples[shown], x_train)
image_grid([gan_samples[shown], x_train[index[:, 0]]], row_titles=["DCGAN sample", "nearest training slice"],
           col_titles=["closest", "2nd", "3rd", "typical", "typical", "typical"])
plt.show()

# %% [markdown]
# Even the closest samples are not copies: they share the level and outline of their
# neighbour, not its details. A GAN trained longer, or on fewer slices, can start to reproduce
# its training images; this check is how you would notice.
#
# ### Ethics: memorisation, privacy and sharing synthetic data
#
# Synthetic scans are often proposed as a way to share medical data without sharing patients.
# The check above shows why that needs evidence, not assumption.
#
# * **A generator can leak its training data.** A model that reproduces a training image hands
#   out a patient's scan; large image generators have been shown to regurgitate training
#   images verbatim (Carlini et al., 2023), and nearest-neighbour checks like ours catch only
#   near-copies in pixel space, not a rare patient's distinctive anatomy reappearing in another
#   slice. Medical images also identify people: faces reconstructed from head MR can be matched
#   to photographs (Schwarz et al., 2019), which is why brain scans are defaced before sharing.
# * **"Synthetic" is not "anonymous".** Privacy is a property of the training procedure, not of
#   the images: only a formal guarantee such as differential privacy (Dwork and Roth, 2014),
#   built into training (e.g. Xie et al., 2018), bounds what a generator can reveal about any
#   one patient, and it costs fidelity. Without it, synthetic data can offer less protection
#   than expected (Stadler et al., 2022). Treat a generator trained on patient data as patient
#   data: under the same data-use agreement, ethics approval and consent as its training set.
# * **Say what is synthetic.** A synthetic set used to train or test another model must be
#   labelled as such, with the generator and its training data documented; a model validated
#   only on synthetic images has not been validated on patients (Chen et al., 2021).
#
# This course's data is an averaged template, not a person, so none of this bites here — it is
# why the course can ship its data at all.

# %% [markdown]
# ## 6. Conditional GANs: samples on demand
#
# The GANs above draw from the whole data distribution; we cannot ask for an inferior slice, or a
# point of mode 3. A **conditional GAN** (Mirza & Osindero, 2014) tells both players a condition
# $y$ — a class, a level band, a whole image. The generator draws $G(z \mid y)$; the
# discriminator judges *pairs*, $D(x \mid y)$: "is $x$ a real sample *of class $y$*?". The value
# function is the same game on the joint distribution of $(x, y)$:
#
# $$\min_G \max_D V(D, G) = \mathbb{E}_{x, y \sim p_\text{data}}\big[\log D(x \mid y)\big]
#   + \mathbb{E}_{z \sim p_z,\, y \sim p(y)}\big[\log\big(1 - D(G(z \mid y) \mid y)\big)\big].$$
#
# Nothing else changes: the losses are those of section 2, computed on conditional logits, and
# each round of the algorithm is played with the labels of its minibatch — the real pairs
# $(x, y)$ against the generated pairs $(G(z \mid y), y)$ with the *same* $y$. A generator that
# ignored $y$ would lose: $D$ would see samples of the wrong class paired with $y$. In code the
# condition is a one-hot vector concatenated to $z$ and to $x$ (`course_lib.conditional_gan`).
#
# On the ring, with the mode as condition ($y \in \{0, \dots, 7\}$): the lecture's toy recipe,
# 2,000 rounds instead of 12,000 (every class is a single Gaussian, a much easier target), trained
# here on screen in about 10 s.

# %% tags=["nbval-ignore-output"]
seed_everything(0)  # the training seed: train_cgan04_toy seeds its own generators from it
cgan = recipes04.train_cgan04_toy("ring", seed=torch.initial_seed())["generator"]
asked = torch.arange(2000) % len(ring_modes)
with torch.no_grad():
    conditional_samples = cgan(torch.randn(2000, 2, generator=torch.Generator().manual_seed(4)), asked)
hits = conditional_mode_accuracy(conditional_samples, asked, ring_modes, recipes04.TOY_STD["ring"])
print(f"samples within 3σ of the mode they were asked for: {100 * hits:.1f} %")
assert_close(hits, 0.995, 0.01, "toy cGAN conditional accuracy")

fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(*conditional_samples.T, c=asked, cmap="tab10", s=2)
ax.scatter(*ring_modes.T, marker="x", color="k", s=40)
for k, (mx, my) in enumerate(ring_modes.tolist()):
    ax.annotate(f"y = {k}", (1.25 * mx, 1.25 * my), ha="center", va="center", fontsize=8)
ax.set(aspect="equal", xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), title="G(z | y), coloured by the condition y")
plt.show()

# %% [markdown]
# Every condition lands on its own mode: the cGAN cannot drop a mode it is asked for by name.
#
# **On slices, with the band of axial level as condition.** The same DCGAN, with $y$ (one of four
# bands, as for lecture 03's conditional VAE) appended to $z$, and a *projection* discriminator
# (Miyato & Koyama, 2018), $l(x \mid y) = w^\top\phi(x) + b + e_y^\top\phi(x)$ with a learnt
# vector $e_y$ per band: trained like section 5's DCGAN for 60 epochs on the same 4,000 slices,
# now with their bands (`zoo.load("cdcgan04")`). Did we get what we asked for? The judge is the
# feature network of section 5, which reads a slice's level bin (of 8; two bins make a band). It
# errs too, so we score real slices of the training levels the same way: their agreement is the
# ceiling.

# %% tags=["nbval-ignore-output"]
cdcgan = zoo.load("cdcgan04")
bands_asked = torch.arange(len(LEVEL_BANDS)).repeat_interleave(100)
real_c, meta_c = brain_slices(400, size=64, seed=24, return_meta=True)
ceiling = band_accuracy(features, real_c, meta_c["band"])
band_hits = []
for s in range(5):
    with torch.no_grad():
        by_band = cdcgan.generator(torch.randn(len(bands_asked), 64, generator=torch.Generator().manual_seed(s)),
                                   bands_asked)
    band_hits.append(band_accuracy(features, by_band, bands_asked))
    if s == 0:
        first_by_band = by_band
band_hits = torch.tensor(band_hits)
# y ~ p(y): bands drawn as often as the training levels hold them (resampled from the fresh real slices' bands)
y_data = meta_c["band"][torch.randint(len(meta_c["band"]), (1000,), generator=torch.Generator().manual_seed(7))]
with torch.no_grad():
    cgan_samples = cdcgan.generator(torch.randn(1000, 64, generator=torch.Generator().manual_seed(8)), y_data)
fd_cgan = frechet_distance(feats_a["training-level real A"], slice_features(features, cgan_samples))
print(f"conditional accuracy (the judge reads the requested band): {100 * band_hits.mean():.1f} ± "
      f"{100 * band_hits.std():.1f} % over 5 sets of 400 samples; real slices: {100 * ceiling:.1f} %; chance 25 %")
print(f"Fréchet distance to training-level real A: conditional DCGAN {fd_cgan:.2f}, "
      f"DCGAN {fd['training-level real A']['DCGAN samples']:.2f}, floor {fd['training-level real A']['real B, training levels']:.2f}")
assert (band_hits > 0.85).all() and fd_cgan < fd["training-level real A"]["DCGAN samples"]
assert_close([band_hits.mean().item(), ceiling, fd_cgan], [0.961, 0.9525, 2.69], [0.03, 0.0001, 0.5],
             "cDCGAN conditional accuracy, real ceiling, cDCGAN FD")

# %%
image_grid([first_by_band[bands_asked == b][:8] for b in range(len(LEVEL_BANDS))], row_titles=list(LEVEL_BANDS),
           suptitle="conditional DCGAN: G(z | y) for each requested band y")
plt.show()

# %% [markdown]
# The judge reads the requested band off about 96 % of the generated slices — as often as off
# real slices of the training levels (95 %): within what this judge can tell, the conditional
# DCGAN gives what it is asked for. Lecture 03's conditional VAE reached about two thirds with a
# cruder judge (the band of the nearest real slice). Conditioning also helped the samples
# themselves: their Fréchet distance to the right reference fell from 3.5 to about 2.7 (and
# their precision rose from 0.44 to 0.66 in `python -m benchmarks conditional_gan`), with the
# same network, data and training length — telling $G$ the band takes one decision off its
# hands. (One training seed: the five noise sets show the spread of the sampling, not of the
# training. On the toys, five training seeds each: 99.4 ± 0.2 % on the ring and 99.3 ± 0.4 % on
# the grid, every mode on every seed.)
#
# *Case study from the literature: low-dose PET with a 3D conditional GAN (appendix).*
#
# *Case study from the literature: the adversarial loss as a judge of segmentations and of domains (appendix).*

# %% [markdown]
# ## 7. What is "similar"? Pixels, features and a discriminator's eye
#
# Section 5 judged samples two ways: by pixel distance to the nearest training slice and by a
# distance between *features*. The choice matters beyond evaluation: it is what a model is
# trained to minimise. The image-similarity measures in use, from cheap to expensive:
#
# - **pixel norms** — MSE, L1, PSNR (lectures 01–03): every pixel compared with the pixel at the
#   same place;
# - **semantic features** — distances between the activations of a trained network (our level
#   network; Inception in FID);
# - **discriminator layers** — the features a GAN's discriminator learnt in order to tell real
#   from generated images (Larsen et al., 2016);
# - **human evaluation** — readers asked to rate images or to tell real from synthetic; the
#   reference for all the others, and the only one a radiologist trusts, but slow and costly
#   (not measurable in a notebook).
#
# A test the measures disagree on: shift a slice by one pixel — the same anatomy, moved — or
# blur it with a 3 × 3 box. Which copy is *closer* to the original? For 300 fresh slices, each
# measure's squared distance from the original to each copy: the share of slices on which it
# calls the shifted copy the closer one, and the median ratio blur distance / shift distance
# (how heavily it weighs a blur against a shift).

# %% tags=["nbval-ignore-output"]
originals = real_a[:300]
shifted = torch.roll(originals, shifts=1, dims=-1)
blurred = box_smooth(originals, 3)
dis_l = discriminator_layer(dcgan.discriminator, blocks=3)  # Dis_l: the DCGAN discriminator's first 3 blocks
measures = {"pixel MSE": lambda x: x.flatten(1), "discriminator layer 3": lambda x: dis_l(x).flatten(1).detach(),
            "level-network features": lambda x: slice_features(features, x)}
shift_closer, blur_weight = {}, {}
for name, embed in measures.items():
    base = embed(originals)
    d_shift, d_blur = (embed(shifted) - base).pow(2).sum(1), (embed(blurred) - base).pow(2).sum(1)
    shift_closer[name] = (d_shift < d_blur).float().mean().item()
    blur_weight[name] = (d_blur / d_shift).median().item()
    print(f"{name:24s} shifted copy closer on {100 * shift_closer[name]:5.1f} % of the slices; "
          f"blur / shift distance {blur_weight[name]:.2f} (median)")
assert shift_closer["pixel MSE"] < 0.05 and shift_closer["level-network features"] > 0.8
assert blur_weight["pixel MSE"] < blur_weight["discriminator layer 3"] < blur_weight["level-network features"]
assert_close([shift_closer["level-network features"], *blur_weight.values()], [0.91, 0.17, 0.50, 2.84],
             [0.03, 0.01, 0.03, 0.15], "level network's shift preference; blur / shift weights")

# %% [markdown]
# Pixel MSE prefers the blurred copy on every slice: a one-pixel shift moves every edge, a blur
# only softens it. The level network, whose features are averaged over the whole image, prefers
# the shifted copy on most slices: it recognises the same anatomy moved, and notices anatomy
# dissolving in the blur. The discriminator's third layer sits in between. It is still a map of
# 8 × 8 positions, so it too calls the blurred copy closer — but it charges a blur, relative to a
# shift, about three times as much as pixel MSE does. A model trained on pixel error learns to
# blur when it is unsure where an edge lies (lecture 03's blurry samples); a feature distance
# makes the blur costlier.
#
# **And the Inception score?** IS $= \exp\big(\mathbb{E}_x \mathrm{KL}[p(y \mid x)\,\|\,p(y)]\big)$
# (Salimans et al., 2016) rewards confident, evenly used classes of an ImageNet classifier. On MR
# its 1,000 classes mean nothing — every slice is some "object" of no class. Worse, it never
# looks at real data. Computed with our level network in place of Inception (8 level bins, so at
# most 8): real slices, the two generators, and a "generator" that only replays one training
# slice per level bin.

# %% tags=["nbval-ignore-output"]
with torch.no_grad():  # x_train: the DCGAN's training slices (section 5)
    train_bins = torch.cat([features(chunk).argmax(1) for chunk in x_train.split(500)])
replayed = x_train[torch.stack([torch.nonzero(train_bins == b)[0, 0] for b in range(features.n_levels)])]
score_sets = {"real slices (real A)": real_a, "DCGAN samples": gan_samples, "VAE prior samples": vae_samples,
              "replay 8 training slices": replayed.repeat(125, 1, 1, 1)}
scores_is = {}
for name, images in score_sets.items():
    with torch.no_grad():
        probabilities = torch.cat([features(chunk).softmax(1) for chunk in images.split(250)])
    scores_is[name] = inception_score(probabilities)
    print(f"{name:26s} level-network 'inception score' {scores_is[name]:.2f} (max 8)")
assert scores_is["replay 8 training slices"] > scores_is["real slices (real A)"] > scores_is["VAE prior samples"]
assert_close(scores_is, {"real slices (real A)": 6.01, "DCGAN samples": 4.51, "VAE prior samples": 3.20,
                         "replay 8 training slices": 6.27},
             {"real slices (real A)": 0.01, "DCGAN samples": 0.25, "VAE prior samples": 0.1,
              "replay 8 training slices": 0.01}, "level-network inception scores")

# %% [markdown]
# Eight copied training slices beat real data: the score is blind to memorisation and to
# diversity *within* a class, and it compares with no reference at all. Fréchet distance,
# precision and recall against the right reference (section 5) and the memorisation check are
# what we report.
#
# **Learned similarity in the loss.** Larsen et al. (2016) replaced the VAE's pixel
# reconstruction term by the distance in a discriminator layer $l$,
#
# $$\mathcal{L}_\text{llike}^{\mathrm{Dis}_l} = -\mathbb{E}_{q_\phi(z|x)}\big[\log \mathcal{N}(\mathrm{Dis}_l(x) \mid \mathrm{Dis}_l(\tilde x), I)\big]
#   = \tfrac12\,\lVert \mathrm{Dis}_l(x) - \mathrm{Dis}_l(\tilde x)\rVert^2 + \text{const}, \qquad \tilde x = \mathrm{Dec}(z),$$
#
# and trained the discriminator at the same time (the VAE-GAN). We take the simpler, stable half
# of the idea: lecture 03's VAE recipe, *plus* $w\,\mathcal{L}_\text{llike}^{\mathrm{Dis}_l}$ with
# $\mathrm{Dis}_l$ the first three blocks of section 5's trained discriminator, fixed
# (`zoo.load("vae04_learned_similarity")`; $w = 0.02$, chosen among 0, 0.01, 0.02 and 0.04 by
# the Fréchet distance to a separate selection set of fresh slices). Measured against the plain
# VAE, on the same terms as section 5: sharpness (the mean squared difference of neighbouring
# pixels, beside real slices'), Fréchet distance to the right reference, and the memorisation
# check.

# %% tags=["nbval-ignore-output"]
similarity_vae = zoo.load("vae04_learned_similarity")
similarity_samples = sample_prior(similarity_vae, 1000, generator=torch.Generator().manual_seed(3))
x_vae_train, _ = recipes03.vae03_train_data()
similarity_table = {}
for name, images in (("real B (ceiling)", real_b), ("VAE (pixel error)", vae_samples),
                     ("VAE + learned similarity", similarity_samples)):
    f_images = slice_features(features, images)
    similarity_table[name] = {
        "sharpness": sharpness(images), "FD": frechet_distance(feats_a["training-level real A"], f_images),
        "precision": precision_recall(feats_a["training-level real A"], f_images).precision,
        "nearest-train MSE": nearest_neighbour_mse(images[:300], x_vae_train).median().item()}
    row = similarity_table[name]
    print(f"{name:26s} sharpness {1e3 * row['sharpness']:.2f}e-3  FD {row['FD']:6.2f}  precision "
          f"{row['precision']:.2f}  median MSE to nearest training slice {row['nearest-train MSE']:.4f}")
plain_vae, similar = similarity_table["VAE (pixel error)"], similarity_table["VAE + learned similarity"]
assert plain_vae["sharpness"] < similar["sharpness"] < similarity_table["real B (ceiling)"]["sharpness"]
assert similar["FD"] < plain_vae["FD"]
assert similar["nearest-train MSE"] > similarity_table["real B (ceiling)"]["nearest-train MSE"]
assert_close({name: [row["sharpness"] * 1e3, row["FD"]] for name, row in similarity_table.items()},
             {"real B (ceiling)": [4.40, 0.25], "VAE (pixel error)": [1.66, 13.43], "VAE + learned similarity": [2.18, 11.35]},
             {"real B (ceiling)": [0.02, 0.02], "VAE (pixel error)": [0.05, 1.2],
              "VAE + learned similarity": [0.07, 0.7]}, "sharpness (×10⁻³), FD")

# %%
image_grid([vae_samples[:8], similarity_samples[:8], real_b[:8]],
           row_titles=["VAE (pixel error)", "VAE + learned similarity", "real slices"],
           suptitle="prior samples, same noise z for both VAEs")
plt.show()

# %% [markdown]
# The feature term makes the samples sharper — a third more neighbour-to-neighbour contrast,
# still half of real slices' — and moves them towards real slices in the level network's
# features, without copying training slices (they stay farther from their nearest training slice
# than fresh real slices are). On three training seeds of both VAEs (`python -m benchmarks
# vae_variants`) the Fréchet distance was 12.1 ± 0.6 against 13.4 ± 0.3, lower on every seed;
# the shipped pair is the widest gap of the three. It is a modest step:
# the DCGAN's samples are at 3.5. The full VAE-GAN also trains the discriminator against the
# VAE's own reconstructions and samples, which is what pushes Larsen et al.'s faces to GAN
# quality; our first tries at that joint game on slices were won outright by the discriminator
# within an epoch, and we leave it out rather than tune a third game here.

# %% [markdown]
# ## Summary
#
# As the seeds' summary slide has it:
#
# - **High-quality samples are possible**: after 20 minutes of CPU training the DCGAN's samples
#   are grainy, but not blurred like the VAE's; they spread over the brain's levels almost as
#   real slices do, are closer to real slices in anatomical features (Fréchet distance 3.5
#   against the VAE's 13.4) and have over twice the VAE's recall and about three times its precision,
#   without being copies of their training slices. They are still well above the real-vs-real
#   floor (0.25), and most of them fall outside the real manifold: more training, more capacity.
# - **Measure against the right reference**: the population the generator models, with the
#   floor computed the same way; the held-out levels would have quadrupled the DCGAN's distance.
# - **GANs are difficult to train**: when $D$ is ahead, the generator's original loss gives it
#   a gradient tens of times weaker, and in most runs it stalls for good; the flipped-label loss
#   fixes that, but mode dropping and bridges between modes remain, and we
#   needed a gradient penalty to keep every mode.
# - **Conditioning** is the same game on pairs $(x, y)$: the toy cGAN puts 99.5 % of its samples
#   on the mode asked for, and the conditional DCGAN gives the requested band of the brain as
#   often as real slices show it to the judge (96 % against 95 %), with a lower Fréchet distance
#   than the unconditional DCGAN.
# - **Similarity is a choice**: pixel error prefers a blur to a one-pixel shift on every slice;
#   learned features charge a blur, relative to a shift, 3 (a discriminator layer) to 17 (the level
#   network) times as much as pixel error does. A VAE trained with a
#   discriminator layer's distance gives sharper, closer samples (FD 12.1 ± 0.6 against 13.4 ± 0.3
#   over three seeds); an
#   Inception-style score rewarded a replay of eight training slices above real data.
# - **No inference**: there is no encoder. Given a slice $x$, nothing tells us which $z$ would
#   produce it; lecture 03's VAE had $q_\phi(z \mid x)$ for that, and lecture 06's flows invert
#   exactly.
#
# Lecture 05 uses the adversarial loss for something else than sampling from noise: translating
# T1 slices into T2 without pairs.
#
# **References.** Goodfellow et al. (2014), *Generative adversarial nets*, NeurIPS. Radford, Metz &
# Chintala (2016), *Unsupervised representation learning with deep convolutional GANs*, ICLR.
# Srivastava et al. (2017), *VEEGAN*, NeurIPS. Lin, Khetan, Fanti & Oh (2018), *PacGAN*, NeurIPS.
# Mescheder, Geiger & Nowozin (2018), *Which training methods for GANs actually converge?*, ICML.
# Heusel et al. (2017), *GANs trained by a two time-scale update rule converge to a local Nash
# equilibrium* (FID), NeurIPS. Mirza & Osindero (2014), *Conditional generative adversarial nets*,
# arXiv:1411.1784. Miyato & Koyama (2018), *cGANs with projection discriminator*, ICLR. Larsen,
# Sønderby, Larochelle & Winther (2016), *Autoencoding beyond pixels using a learned similarity
# metric*, ICML. Salimans et al. (2016), *Improved techniques for training GANs* (Inception
# score), NeurIPS. Johnson, Alahi & Fei-Fei (2016), *Perceptual losses for real-time style
# transfer and super-resolution*, ECCV.
# Arjovsky & Bottou (2017), *Towards principled methods for training generative adversarial
# networks*, ICLR. On ethics: Carlini et al. (2023), *Extracting training data from diffusion
# models*, USENIX Security. Schwarz et al. (2019), *Identification of anonymous MRI research
# participants with face-recognition software*, New England Journal of Medicine 381. Dwork &
# Roth (2014), *The algorithmic foundations of differential privacy*. Xie et al. (2018),
# *Differentially private generative adversarial network*, arXiv:1802.06739. Stadler, Oprisanu &
# Troncoso (2022), *Synthetic data — anonymisation groundhog day*, USENIX Security. Chen et al.
# (2021), *Synthetic data in machine learning for medicine and healthcare*, Nature Biomedical
# Engineering 5.

# %% [markdown]
# ## Appendix: case studies
#
# Published medical applications of this lecture's methods, with the figures the source lectures
# give.
#
# > **Case study — low-dose PET with a 3D conditional GAN** (Wang, Yu, Wang, Zu, Lalush, Lin,
# > Wu, Zhou, Shen & Zhou: *3D conditional generative adversarial networks for high-quality PET
# > image estimation at low dose*, NeuroImage, 2018). PET images metabolism in 3D, for cancer
# > diagnosis and therapy response, at the price of a radiation dose. Scan at low dose (L-PET) and
# > estimate the full-dose image (F-PET): a conditional GAN in which the condition $y$ is the
# > whole L-PET volume instead of our band label. $G$ produces an F-PET volume for that $y$; $D$
# > judges real or generated F-PET volumes *given* the same L-PET — the $D(x \mid y)$ of
# > section 6. Each training L-PET has its F-PET partner, the paired setting of lecture 05's
# > pix2pix, in 3D. The source gives no figures.
#
# > **Case study — the adversarial loss as a judge of segmentations and of domains.** Kohl et al.
# > (2017, NIPS workshop; *Adversarial networks for the detection of aggressive prostate cancer*)
# > let a segmentation network play the generator: from T2-weighted, ADC and b1500 MR it outputs
# > a mask, and a discriminator learns to tell its masks from experts', next to a voxel-wise
# > cross-entropy to the ground truth (as pix2pix adds L1 to its GAN loss). Kamnitsas et al.
# > (*Unsupervised domain adaptation in brain lesion segmentation with adversarial networks*)
# > turn the game onto features: a discriminator guesses from the segmenter's internal feature
# > maps which scanner protocol a scan came from, and the segmenter learns, besides its labels on
# > the source domain (S), to make the two domains indistinguishable — so that it also works on
# > an unlabelled target domain (T). Dice similarity (DSC, %, with the figure in brackets as
# > given in the source):
# >
# > | training | DSC |
# > |---|---|
# > | on S | 15.7 (13.5) |
# > | on S, without the GE/SWI channel | 59.7 (22.1) |
# > | on S, adversarial adaptation to T | 62.7 (19.8) |
# > | on T | 63.5 (20.2) |
# > | on S + T | 66.5 (17.7) |
# > | on S + T, GE and SWI as separate channels | 64.7 (19.2) |
# >
# > Adaptation without a single target label comes within a point of training on labelled target
# > data.
