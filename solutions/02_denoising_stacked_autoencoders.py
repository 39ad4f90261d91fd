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
# # Exercises 02 — Denoising, stacked and multimodal autoencoders
#
# Four pieces of the lecture, written by you: masking noise with an exact fraction,
# salt-and-pepper noise, one stage of greedy layer-wise pretraining, and the modality-dropout
# batch of the multimodal autoencoder. After each one a check cell runs your code on hidden
# cases against the library's reference and either prints a ✓ line or tells you *what* is
# wrong. Replace each `raise NotImplementedError()` with your code; run the notebook top to
# bottom.
#
# Read lecture 02 first. This notebook runs in well under a minute.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import matplotlib.pyplot as plt
import torch

from course_lib.autoencoders import reconstruction_loss
from course_lib.denoising import FullyConvolutionalAutoencoder
from course_lib.stacked import stage_loss
from course_lib.checks import check_masking_noise, check_modality_dropout, check_pretrain_stage, check_salt_and_pepper
from course_lib.data import brain_slices, paired_brain_slices
from course_lib.plotting import image_grid

x = brain_slices(8, size=64, seed=0)
print(tuple(x.shape))

# %% [markdown]
# ## Exercise 1 — masking noise, with the exact fraction
#
# Set **exactly** $k = \mathrm{round}(\nu D)$ of each sample's $D$ inputs to zero and leave the
# others as they are. The $k$ inputs are a uniformly random subset, drawn anew for every sample.
# Two hints: `torch.rand(B, D, generator=generator).argsort(dim=1)` gives one random permutation
# per row; and drawing each input independently with probability ν does **not** give an exact
# count. Take all random numbers from `generator`, and do not modify `x` in place — the clean
# `x` is the DAE's target.

# %%
def my_masking_noise(x: torch.Tensor, nu: float, generator: torch.Generator | None = None) -> torch.Tensor:
    ### BEGIN SOLUTION
    b, d = len(x), x[0].numel()
    k = round(nu * d)
    chosen = torch.rand(b, d, generator=generator).argsort(dim=1)[:, :k]  # k random positions per sample
    mask = torch.ones(b, d, dtype=torch.bool).scatter(1, chosen, False)
    return (x.flatten(1) * mask).view_as(x)
    ### END SOLUTION


# %%
check_masking_noise(my_masking_noise)

# %% [markdown]
# ## Exercise 2 — salt-and-pepper noise
#
# Choose exactly round(νD) inputs per sample as before; set each chosen input to 0 (pepper) or
# 1 (salt) by a fair coin, independently. All other inputs stay as they were.

# %%
def my_salt_and_pepper(x: torch.Tensor, nu: float, generator: torch.Generator | None = None) -> torch.Tensor:
    ### BEGIN SOLUTION
    b, d = len(x), x[0].numel()
    chosen = torch.rand(b, d, generator=generator).argsort(dim=1).argsort(dim=1) < round(nu * d)
    coin = (torch.rand(b, d, generator=generator) < 0.5).to(x.dtype)
    return torch.where(chosen, coin, x.flatten(1)).view_as(x)
    ### END SOLUTION


# %%
check_salt_and_pepper(my_salt_and_pepper)

# %% [markdown]
# Your two corruptions on a slice, at ν = 0.25 and 0.5:

# %% tags=["nbval-ignore-output"]
g = torch.Generator().manual_seed(0)
rows = [x[:1].expand(4, -1, -1, -1),
        torch.cat([my_masking_noise(x[:1], nu, g) for nu in (0.1, 0.25, 0.5, 0.75)]),
        torch.cat([my_salt_and_pepper(x[:1], nu, g) for nu in (0.05, 0.1, 0.2, 0.3)])]
image_grid(rows, row_titles=["clean", "masking", "salt & pepper"], col_titles=["level 1", "level 2", "level 3", "level 4"])
plt.show()

# %% [markdown]
# ## Exercise 3 — one stage of greedy layer-wise pretraining
#
# Write `my_pretrain_stage(stack, level, x, corrupt, epochs, lr)`, which trains stage `level`
# (0-based) of a stack — a `FullyConvolutionalAutoencoder` with several stages — as a denoising
# autoencoder of the codes below it:
#
# 1. compute the codes of the **frozen** stages, $h = $ `stack.encode(x, depth=level)`, without
#    gradients (for level 0 they are the images themselves);
# 2. optimise only `stack.encoders[level]` and `stack.decoders[level]` (Adam, learning rate `lr`),
#    for `epochs` passes over $h$ in shuffled minibatches of 16;
# 3. on each minibatch, the loss is the reconstruction of the *clean* codes from corrupted ones:
#    $\|h - \mathrm{dec}_\ell(\mathrm{enc}_\ell(\mathrm{corrupt}(h)))\|^2$ (per-sample sum, batch mean:
#    `reconstruction_loss`).
#
# Return the mean loss of each epoch. The check verifies that the frozen stages and the stages
# above did not move, and that the new stage learned to reconstruct its clean input codes.

# %%
def my_pretrain_stage(stack: FullyConvolutionalAutoencoder, level: int, x: torch.Tensor, corrupt,
                      epochs: int = 5, lr: float = 3e-3) -> list[float]:
    ### BEGIN SOLUTION
    with torch.no_grad():
        h = stack.encode(x, depth=level)
    encoder, decoder = stack.encoders[level], stack.decoders[level]
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for batch in h[torch.randperm(len(h))].split(16):
            loss = reconstruction_loss(decoder(encoder(corrupt(batch))), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(h))
    return losses
    ### END SOLUTION


# %%
check_pretrain_stage(my_pretrain_stage)

# %% [markdown]
# Now pretrain a whole stack, greedily, with your function and your masking noise: three stages
# on 32 px slices, two epochs each. Watch each stage's loss on *its own* input codes fall, while
# the stages below stay exactly as they were.

# %% tags=["nbval-ignore-output"]
seed_everything(0)
x_small = brain_slices(400, size=32, seed=0)
stack = FullyConvolutionalAutoencoder((1, 8, 16, 32))
for level in range(stack.depth):
    frozen_before = [p.clone() for stage in stack.encoders[:level] for p in stage.parameters()]
    losses = my_pretrain_stage(stack, level, x_small, lambda h: my_masking_noise(h, 0.25), epochs=2, lr=3e-3)
    frozen_after = list(p for stage in stack.encoders[:level] for p in stage.parameters())
    unchanged = all(torch.equal(a, b) for a, b in zip(frozen_before, frozen_after))
    with torch.no_grad():
        clean_loss = stage_loss(stack, level, stack.encode(x_small, depth=level))
    print(f"stage {level + 1}: loss fell {losses[0] / losses[-1]:.1f}×, frozen stages unchanged: {unchanged}")
    assert unchanged and losses[-1] < losses[0] and torch.isfinite(clean_loss)

# %% [markdown]
# ## Exercise 4 — the modality-dropout batch
#
# Given a batch of T1 images `t1` and their T2 partners `t2` (each `(B, 1, H, W)`), return
# `(inputs, targets)`, both `(B, 2, H, W)` with T1 in channel 0 and T2 in channel 1:
#
# - exactly ⌊B/3⌋ samples show **only T1** (their T2 channel is zeros), ⌊B/3⌋ **only T2**, and the
#   rest **both**; which sample gets which is random: use `torch.randperm(B, generator=generator)`;
# - the targets are always the full pair.

# %%
def my_modality_dropout(t1: torch.Tensor, t2: torch.Tensor, generator: torch.Generator | None = None):
    ### BEGIN SOLUTION
    b = len(t1)
    order = torch.randperm(b, generator=generator)
    keep_t1, keep_t2 = torch.ones(b, 1, 1, 1), torch.ones(b, 1, 1, 1)
    keep_t2[order[: b // 3]] = 0  # only T1
    keep_t1[order[b // 3 : 2 * (b // 3)]] = 0  # only T2
    return torch.cat([t1 * keep_t1, t2 * keep_t2], dim=1), torch.cat([t1, t2], dim=1)
    ### END SOLUTION


# %%
check_modality_dropout(my_modality_dropout)

# %% [markdown]
# Your batch, on six training pairs: each column one sample, the input's two channels above
# the target's.

# %% tags=["nbval-ignore-output"]
t1, t2 = paired_brain_slices(6, size=64, seed=0)
inputs, targets = my_modality_dropout(t1, t2, torch.Generator().manual_seed(0))
image_grid([inputs[:, :1], inputs[:, 1:], targets[:, :1], targets[:, 1:]],
           row_titles=["input T1", "input T2", "target T1", "target T2"])
plt.show()
