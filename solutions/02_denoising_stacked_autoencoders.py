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
# wrong. Replace each `raise NotImplementedError()` with your code, and each `YOUR ANSWER HERE`
# with your answer in a few sentences; run the notebook top to bottom.
#
# Two written questions ask you to **predict before you run** a cell, or to **explain** a
# figure. A last, optional investigation asks for a **decision backed by a measurement**, made on the
# validation split: is modality dropout worth its price?
#
# **Points**, where your course grades this notebook: each task's heading says what it is worth.
# A check that passes earns its exercise's points; your teacher grades the written answers; the
# optional investigation is not graded.
#
# **Time:** about 50 minutes; Exercise 5 is optional, about 20 minutes more. Read lecture 02
# first. The notebook itself runs in well under a minute.

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
from course_lib.metrics import psnr
from course_lib.multimodal import predict_missing
from course_lib.plotting import image_grid
from course_lib.tolerances import assert_close
from course_lib.training import fit, single_threaded

x = brain_slices(8, size=64, seed=0)
print(tuple(x.shape))

# %% [markdown]
# ## Exercise 1 — masking noise, with the exact fraction (2 points)
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
# ## Exercise 2 — salt-and-pepper noise (2 points)
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
# **Question 1 (predict, then run; 2 points).** The next cell corrupts the eight slices of `x` (64 px) with
# your two functions at ν = 0.1, 0.2 and 0.4 and prints the mean PSNR of the corrupted slices
# against the clean ones. Before you run it, predict: (a) by how many dB does the PSNR of masking
# noise fall each time ν doubles? (b) At the same ν, is salt-and-pepper's PSNR higher or lower
# than masking's, and roughly by how much? Give the reason for each.

# %% [markdown]
# ### BEGIN SOLUTION
# (a) By about 3 dB. Masking sets round(νD) pixels to 0, so the squared error of a slice is the sum
# of $x_i^2$ over the masked pixels: on average ν times the slice's mean of $x^2$, proportional to
# ν. Doubling ν doubles the error, and $\mathrm{PSNR} = 10 \log_{10}(1/\mathrm{MSE})$ falls by
# $10 \log_{10} 2 \approx 3.0$ dB (2.9–3.2 dB here: the masked pixels are a random draw). (b) Lower,
# by about 4–5 dB. A pixel set to 0 costs $x_i^2$, but one set to 1 costs $(1 - x_i)^2$, and most of
# a slice is dark (background, CSF in T1): half the chosen pixels become salt, which costs nearly 1
# each, where masking them would have cost nearly nothing. Both errors grow in proportion to ν, so
# the gap stays the same at every ν.
# ### END SOLUTION

# %% tags=["nbval-ignore-output"]
g = torch.Generator().manual_seed(0)
levels = (0.1, 0.2, 0.4)
corrupted_psnr = {name: [psnr(corrupt(x, nu, g), x).mean().item() for nu in levels]
                  for name, corrupt in (("masking", my_masking_noise), ("salt & pepper", my_salt_and_pepper))}
for name, values in corrupted_psnr.items():
    print(f"{name:14s}", "   ".join(f"ν = {nu}: {v:5.2f} dB" for nu, v in zip(levels, values)))
mask_drops = [a - b for a, b in zip(corrupted_psnr["masking"], corrupted_psnr["masking"][1:])]
gaps = [m - sp for m, sp in zip(corrupted_psnr["masking"], corrupted_psnr["salt & pepper"])]
print("masking: PSNR lost per doubling of ν:", [round(d, 2) for d in mask_drops], "dB; 10·log10(2) = 3.01 dB")
print("masking minus salt & pepper at the same ν:", [round(d, 2) for d in gaps], "dB")
assert_close(mask_drops, [3.01, 3.01], 0.35, "PSNR lost per doubling of ν, masking (dB)")
assert all(3.5 < d < 6 for d in gaps), gaps

# %% [markdown]
# ## Exercise 3 — one stage of greedy layer-wise pretraining (3 points)
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
# Return a list with the mean minibatch loss of each epoch, as Python floats (the next cell
# prints how far it fell). The check verifies that the frozen stages and the stages above did
# not move, and that the new stage learned to reconstruct its clean input codes.

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
    with single_threaded():  # tiny models train fastest on one thread (course_lib.training.single_threaded)
        losses = my_pretrain_stage(stack, level, x_small, lambda h: my_masking_noise(h, 0.25), epochs=2, lr=3e-3)
    frozen_after = list(p for stage in stack.encoders[:level] for p in stage.parameters())
    unchanged = all(torch.equal(a, b) for a, b in zip(frozen_before, frozen_after))
    with torch.no_grad():
        clean_loss = stage_loss(stack, level, stack.encode(x_small, depth=level))
    print(f"stage {level + 1}: loss fell {losses[0] / losses[-1]:.1f}×, frozen stages unchanged: {unchanged}")
    assert unchanged and losses[-1] < losses[0] and torch.isfinite(clean_loss)

# %% [markdown]
# ## Exercise 4 — the modality-dropout batch (2 points)
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


# %% [markdown]
# **Question 2 (explain this figure; 2 points).** In the picture, the inputs of some samples miss a channel,
# but every target is the full pair. Why must the target be the full pair? What would a network
# learn if its target were its own (partly zeroed) input?

# %% [markdown]
# ### BEGIN SOLUTION
# The target decides what the network must produce, so it decides what it learns. With the full
# pair as target, a sample that shows only T1 is scored on its T2 channel too, and the only way to
# lower that error is to infer the T2 image from the T1 — the ability we want when a modality is
# missing at test time. If the target were the input itself, the zeroed channel would be a correct
# answer: the task would be plain reconstruction, which an autoencoder with enough capacity solves
# by copying (lecture 02, section 1), zeros included, and nothing would push it to fill in the
# missing modality.
# ### END SOLUTION

# %% [markdown]
# ## Exercise 5 (optional, not graded) — an investigation: is modality dropout worth it?
#
# Modality dropout hides a modality in two thirds of every batch. That has a price: the network
# sees complete pairs less often. Measure what it buys and what it costs, and decide whether you
# would train with it.
#
# Write `train_two_channel_ae(t1, t2, dropout, seed)`, which trains a two-channel
# `FullyConvolutionalAutoencoder((2, 32, 64))` (stride 2, as in lecture 02) on the pairs and returns
# it in eval mode:
#
# - call `seed_everything(seed)` before building the network, and use
#   `torch.Generator().manual_seed(seed)` for the dropout pattern;
# - Adam with learning rate $2 \cdot 10^{-3}$, 5 epochs in minibatches of 32 (`fit(step, (t1, t2),
#   epochs=5, batch_size=32, seed=seed, progress=False)`, whose `step` receives a pair of batches);
# - loss `reconstruction_loss(model(inputs), targets)`, where with `dropout=True` the inputs and
#   targets come from your `my_modality_dropout`, and with `dropout=False` both are the complete
#   pair `torch.cat([t1, t2], dim=1)`.
#
# The next cell trains both versions on 1,000 training pairs (32 px) and measures them on 300
# **validation** pairs: the PSNR of the missing modality predicted from the present one
# (`predict_missing`, both directions), and the PSNR of each channel when both are present. Two
# baselines need no training: the mean training image of the missing modality, and a black image.

# %%
def train_two_channel_ae(t1: torch.Tensor, t2: torch.Tensor, dropout: bool, seed: int = 0) -> FullyConvolutionalAutoencoder:
    ### BEGIN SOLUTION
    seed_everything(seed)
    model = FullyConvolutionalAutoencoder((2, 32, 64))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(seed)

    def step(pair):
        a, b = pair
        if dropout:
            inputs, targets = my_modality_dropout(a, b, generator)
        else:
            inputs = targets = torch.cat([a, b], dim=1)
        loss = reconstruction_loss(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    fit(step, (t1, t2), epochs=5, batch_size=32, seed=seed, progress=False)
    return model.eval()
    ### END SOLUTION


# %% tags=["nbval-ignore-output"]
t1_train, t2_train = paired_brain_slices(1000, size=32, seed=0)
t1_val, t2_val = paired_brain_slices(300, size=32, split="val", seed=2)
with single_threaded():
    models = {"no dropout": train_two_channel_ae(t1_train, t2_train, dropout=False),
              "modality dropout": train_two_channel_ae(t1_train, t2_train, dropout=True)}


def mean_psnr(guess, truth):
    return psnr(guess.clamp(0, 1), truth).mean().item()


table, predicted_t2 = {}, {}
for name, model in models.items():
    predicted_t2[name] = predict_missing(model, t1_val, "t1")
    with torch.no_grad():
        both = model(torch.cat([t1_val, t2_val], dim=1))
    table[name] = {"T1 → T2": mean_psnr(predicted_t2[name], t2_val),
                   "T2 → T1": mean_psnr(predict_missing(model, t2_val, "t2"), t1_val),
                   "both: T1": mean_psnr(both[:, :1], t1_val), "both: T2": mean_psnr(both[:, 1:], t2_val)}
baselines = {"mean training image": (t1_train.mean(0, keepdim=True), t2_train.mean(0, keepdim=True)),
             "black image": (torch.zeros(1, 1, 32, 32), torch.zeros(1, 1, 32, 32))}
for name, (guess_t1, guess_t2) in baselines.items():
    table[name] = {"T1 → T2": mean_psnr(guess_t2.expand_as(t2_val), t2_val),
                   "T2 → T1": mean_psnr(guess_t1.expand_as(t1_val), t1_val)}
print("PSNR (dB) on 300 validation pairs | missing modality: T1 → T2, T2 → T1 | both present: T1, T2")
for name, row in table.items():
    print(f"{name:20s} | {row['T1 → T2']:5.1f}  {row['T2 → T1']:5.1f} | "
          + (f"{row['both: T1']:5.1f}  {row['both: T2']:5.1f}" if "both: T1" in row else "    —      —"))
print("mean intensity of T2 predicted from T1:", {name: round(t2_hat.clamp(0, 1).mean().item(), 3)
                                                  for name, t2_hat in predicted_t2.items()},
      "| of the true T2:", round(t2_val.mean().item(), 3))
assert_close({name: table[name] for name in models},
             {"no dropout": {"T1 → T2": 9.78, "T2 → T1": 7.54, "both: T1": 26.83, "both: T2": 25.89},
              "modality dropout": {"T1 → T2": 20.02, "T2 → T1": 20.28, "both: T1": 24.95, "both: T2": 23.57}},
             {"no dropout": {"T1 → T2": 1.4, "T2 → T1": 1.8, "both: T1": 2.0, "both: T2": 1.7},
              "modality dropout": {"T1 → T2": 0.3, "T2 → T1": 1.0, "both: T1": 1.4, "both: T2": 1.5}},
             "validation PSNR (dB)")
with_dropout, without = table["modality dropout"], table["no dropout"]
assert with_dropout["T1 → T2"] > table["mean training image"]["T1 → T2"] + 3 > without["T1 → T2"] + 3
assert without["both: T1"] > with_dropout["both: T1"] + 1 and without["both: T2"] > with_dropout["both: T2"] + 1
assert predicted_t2["no dropout"].clamp(0, 1).mean() < 0.1 < predicted_t2["modality dropout"].clamp(0, 1).mean()
image_grid([t1_val[:6], predicted_t2["no dropout"][:6].clamp(0, 1), predicted_t2["modality dropout"][:6].clamp(0, 1),
            t2_val[:6]], row_titles=["T1 (given)", "T2, no dropout", "T2, dropout", "T2 true"])
plt.show()

# %% [markdown]
# **Your decision**, defended with what you measured:

# %% [markdown]
# ### BEGIN SOLUTION
# Yes, for a model that must fill in a missing contrast. Without modality dropout, given only T1
# the T2 channel scores 9.8–10.7 dB on the validation pairs (training seeds 0, 1, 2): worse than
# simply answering the mean training T2 image (15.3 dB), and only 1–2 dB above a black image
# (8.9 dB) — having only seen complete pairs, the network has learned to pass each channel
# through, and a zeroed channel comes out nearly dark. With dropout it reaches about 20 dB in both
# directions. The price is paid on complete pairs: there the network without dropout reconstructs
# both channels 1.9–2.9 dB better. So I would train with
# modality dropout whenever a modality may be missing at test time, and without it only for a
# model that will always see both.
# ### END SOLUTION
