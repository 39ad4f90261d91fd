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
# # Exercises 04 — The GAN minimax game
#
# Five pieces of the lecture, written by you: the discriminator's loss, the generator's two
# losses, one round of the alternating training algorithm, the mode-coverage count, and the
# conditional GAN's discriminator loss. After each one a check cell runs your code on hidden
# cases against the library's reference and either prints a ✓ line or tells you *what* is wrong.
# Your own pieces then train a GAN on the 8-Gaussian ring and count its modes, and a
# conditional GAN that puts each sample on the mode you ask for. Replace each `raise NotImplementedError()` with your
# code; run the notebook top to bottom.
#
# Read lecture 04 first. This notebook runs in well under a minute.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import matplotlib.pyplot as plt
import torch
from torch.nn.functional import softplus

from course_lib.checks import (
    check_conditional_discriminator_loss, check_discriminator_loss, check_gan_step, check_generator_loss,
    check_mode_coverage,
)
from course_lib.conditional_gan import (
    ConditionalMLPDiscriminator, ConditionalMLPGenerator, conditional_mode_accuracy, labelled_mixture_sampler,
)
from course_lib.data import ring_gaussians
from course_lib.gan import MLPDiscriminator, MLPGenerator, generator_loss, mixture_sampler, sample_latent
from course_lib.training import single_threaded

# %% [markdown]
# ## Exercise 1 — the discriminator's loss
#
# From the logits $l$ of $D$ ($D = \sigma(l)$) on a batch of $m$ real and $m$ generated samples,
# return the binary cross-entropy with label 1 for real and 0 for generated samples, averaged
# over all $2m$ samples:
#
# $$L_D = \tfrac12\big(\text{mean}[-\log\sigma(l_\text{real})] + \text{mean}[-\log(1 - \sigma(l_\text{fake}))]\big).$$
#
# Use the stable forms $-\log\sigma(l) = \operatorname{softplus}(-l)$ and
# $-\log(1-\sigma(l)) = \operatorname{softplus}(l)$ (`softplus` is imported): the check includes
# logits of ±120.

# %%
def my_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    return 0.5 * (softplus(-real_logits).mean() + softplus(fake_logits).mean())
    ### END SOLUTION


# %%
check_discriminator_loss(my_discriminator_loss)

# %% [markdown]
# ## Exercise 2 — the generator's two losses
#
# From the logits of $D$ on generated samples, return the mean over the batch of
#
# - `kind="minimax"`: $\log(1 - D(G(z)))$, $G$'s part of $V$ (to be *minimised*);
# - `kind="non_saturating"`: $-\log D(G(z))$, the cross-entropy against the flipped label 1.
#
# Any other `kind` raises a `ValueError` that names the two kinds.

# %%
def my_generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    ### BEGIN SOLUTION
    if kind == "minimax":
        return -softplus(fake_logits).mean()
    if kind == "non_saturating":
        return softplus(-fake_logits).mean()
    raise ValueError(f"unknown generator loss {kind!r}; expected 'minimax' or 'non_saturating'")
    ### END SOLUTION


# %%
check_generator_loss(my_generator_loss)

# %% [markdown]
# ## Exercise 3 — one round of the alternating algorithm
#
# With $k = 1$ and $m$ = `len(real)`:
#
# 1. **D's step:** draw $m$ noise vectors with `latent(m)`, generate, and **detach** the fakes;
#    compute your discriminator loss on $D$'s logits for `real` and the fakes; clear $D$'s
#    gradients, backward, `d_optimizer.step()`.
# 2. **G's step:** draw $m$ **fresh** noise vectors; your non-saturating loss on $D$'s logits
#    for $G$'s new samples (through the *updated* $D$); clear $G$'s gradients, backward,
#    `g_optimizer.step()`.
#
# Return the two losses as Python floats `(d_loss, g_loss)`. The check spies on both
# optimisers: $G$ must not move during $D$'s step, nor $D$ during $G$'s.

# %%
def my_gan_step(generator, discriminator, g_optimizer, d_optimizer, real, latent):
    ### BEGIN SOLUTION
    m = len(real)
    fake = generator(latent(m)).detach()
    d_loss = my_discriminator_loss(discriminator(real), discriminator(fake))
    d_optimizer.zero_grad()
    d_loss.backward()
    d_optimizer.step()
    g_loss = my_generator_loss(discriminator(generator(latent(m))), "non_saturating")
    g_optimizer.zero_grad()
    g_loss.backward()
    g_optimizer.step()
    return d_loss.item(), g_loss.item()
    ### END SOLUTION


# %%
check_gan_step(my_gan_step)

# %% [markdown]
# ## Exercise 4 — the mode-coverage count
#
# Given 2-D `samples` (N, 2), the mixture's `modes` (K, 2) and its σ, return
# `(modes_captured, high_quality_fraction)`: a sample is **high quality** when its (Euclidean)
# distance to its nearest mode is at most 3σ; a mode is **captured** when it is the nearest mode
# of at least one high-quality sample. `torch.cdist` gives all sample–mode distances.

# %%
def my_mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float) -> tuple[int, float]:
    ### BEGIN SOLUTION
    nearest_distance, nearest_mode = torch.cdist(samples, modes).min(dim=1)
    good = nearest_distance <= 3 * std
    return int(nearest_mode[good].unique().numel()), good.float().mean().item()
    ### END SOLUTION


# %%
check_mode_coverage(my_mode_coverage)

# %% [markdown]
# ## Your GAN on the ring
#
# Everything together: your step trains a small GAN on the 8-Gaussian ring (σ = 0.01) for 3,000
# rounds, and your count judges it. This is the plain recipe of the original paper (no penalty,
# constant learning rate), so do not expect the lecture's numbers — look at which modes it finds.

# %% tags=["nbval-ignore-output"]
seed_everything(0)
ring = ring_gaussians(1, seed=0)
sampler = mixture_sampler(ring.modes, 0.01)
generator, discriminator = MLPGenerator(hidden=64), MLPDiscriminator(hidden=64)
g_opt = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
d_opt = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
rng = torch.Generator().manual_seed(0)
with single_threaded():  # tiny networks train fastest on one thread (see course_lib.training.single_threaded)
    losses = [my_gan_step(generator, discriminator, g_opt, d_opt, sampler(128, rng),
                          lambda n: sample_latent(n, 2, generator=rng)) for _ in range(3000)]
with torch.no_grad():
    samples = generator(sample_latent(2500, 2, generator=torch.Generator().manual_seed(1)))
modes, hq = my_mode_coverage(samples, ring.modes, 0.01)
print(f"your GAN: {modes} of 8 modes, {100 * hq:.1f} % high-quality samples")
assert all(torch.isfinite(torch.tensor(losses)).flatten()) and modes >= 1

fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
axes[0].plot([d for d, _ in losses], lw=0.5, label="D loss")
axes[0].plot([g for _, g in losses], lw=0.5, label="G loss")
axes[0].axhline(torch.log(torch.tensor(2.0)).item(), color="k", ls=":", label="log 2 (D guesses)")
axes[0].set(xlabel="round", title="losses")
axes[0].legend()
axes[1].scatter(*samples.T, s=2, alpha=0.5)
axes[1].scatter(*ring.modes.T, marker="x", color="k")
axes[1].set(aspect="equal", xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), title="2,500 samples and the 8 modes")
plt.show()


# %% [markdown]
# ## Exercise 5 — the conditional discriminator's loss
#
# In a conditional GAN the discriminator judges pairs: `discriminator(x, labels)` returns the
# logits of $D(x \mid y)$, one per sample. Given a batch of `real` samples, as many generated
# ones `fake` = $G(z \mid y)$, and the integer `labels` $y$ that *both* halves belong to, return
#
# $$L_D = \tfrac12\big(\text{mean}[-\log D(x \mid y)] + \text{mean}[-\log(1 - D(G(z \mid y) \mid y))]\big),$$
#
# the loss of Exercise 1 on conditional logits. Only $D$ may learn from it: no gradient may reach
# the generator through `fake`. (You may call your `my_discriminator_loss`.)

# %%
def my_conditional_discriminator_loss(discriminator, real, fake, labels):
    ### BEGIN SOLUTION
    return my_discriminator_loss(discriminator(real, labels), discriminator(fake.detach(), labels))
    ### END SOLUTION


# %%
check_conditional_discriminator_loss(my_conditional_discriminator_loss)

# %% [markdown]
# ## Your conditional GAN on the ring
#
# Your loss trains a conditional GAN on the ring, the condition being the mode each point was
# drawn from: 1,500 rounds, one discriminator step (your loss) and one generator step (the
# flipped-label loss on $D(G(z \mid y) \mid y)$) each. Then ask for 250 samples of every mode and
# count how many land within 3σ of the mode asked for.

# %% tags=["nbval-ignore-output"]
seed_everything(0)
labelled = labelled_mixture_sampler(ring.modes, 0.01)
c_generator, c_discriminator = ConditionalMLPGenerator(n_classes=8, hidden=64), ConditionalMLPDiscriminator(8, 64)
cg_opt = torch.optim.Adam(c_generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
cd_opt = torch.optim.Adam(c_discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
rng = torch.Generator().manual_seed(0)
with single_threaded():
    for _ in range(1500):
        x, y = labelled(128, rng)
        d_loss = my_conditional_discriminator_loss(c_discriminator, x, c_generator(sample_latent(128, 2, generator=rng), y), y)
        cd_opt.zero_grad()
        d_loss.backward()
        cd_opt.step()
        g_loss = generator_loss(c_discriminator(c_generator(sample_latent(128, 2, generator=rng), y), y))
        cg_opt.zero_grad()
        g_loss.backward()
        cg_opt.step()
asked = torch.arange(2000) % 8
with torch.no_grad():
    conditional_samples = c_generator(sample_latent(2000, 2, generator=torch.Generator().manual_seed(1)), asked)
accuracy = conditional_mode_accuracy(conditional_samples, asked, ring.modes, 0.01)
print(f"your conditional GAN: {100 * accuracy:.1f} % of the samples within 3σ of the mode asked for")
assert accuracy > 0.5

plt.figure(figsize=(4, 4))
plt.scatter(*conditional_samples.T, c=asked, cmap="tab10", s=2)
plt.scatter(*ring.modes.T, marker="x", color="k")
plt.gca().set(aspect="equal", xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), title="G(z | y), coloured by y")
plt.show()
