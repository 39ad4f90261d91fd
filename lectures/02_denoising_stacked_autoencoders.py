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
# # Lecture 02 — Denoising, stacked and multimodal autoencoders
#
# **What you will build:** an over-complete autoencoder that turns out to be a copying machine;
# the denoising objective that stops it copying, tested on three kinds of corruption; a stack of
# autoencoders trained one layer at a time and then used to detect white-matter lesions from a
# few labels; and a two-modality autoencoder that fills in a missing T2 image from the T1.
#
# **Time:** about 75 s to run top to bottom on a 2-core laptop. The models were trained
# beforehand by `make checkpoints` with the same library code (about 4 minutes in all); this
# notebook trains two of them briefly on screen and loads the rest. The few-label experiment of
# section 3 runs here in full.
#
# In lecture 01 the code $z$ was *smaller* than the image, and that bottleneck is what forced the
# network to keep only what matters. This lecture asks what else can force it.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import matplotlib.pyplot as plt
import torch

from course_lib import default_device, zoo
from course_lib.autoencoders import reconstruct_all, train_autoencoder
from course_lib.corruptions import CORRUPTIONS, corrupt, random_level_corruption
from course_lib.denoising import FullyConvolutionalAutoencoder, evaluate_denoising, noise_gain
from course_lib.diagrams import denoising_diagram, stacked_pretraining_diagram
from course_lib.multimodal import MODALITY_GROUPS, modality_dropout, predict_missing
from course_lib.stacked import label_efficiency
from course_lib.data import brain_slices, paired_brain_slices
from course_lib.metrics import psnr, ssim
from course_lib.tolerances import assert_close
from course_lib.plotting import image_grid
from course_lib.recipes import autoencoders as recipes01, denoising_stacked as recipes02

x_train = recipes01.ae01_train_data()  # lecture 01's 2,000 training slices (64 px, T1)
x_test = brain_slices(500, size=64, split="test", seed=1)  # held-out levels, never trained on
print(tuple(x_train.shape), tuple(x_test.shape), x_test.dtype)

# %% [markdown]
# ## 1. An over-complete autoencoder can learn the identity
#
# Give the code *more* numbers than the image has pixels and nothing stops the network from
# copying its input. Our over-complete autoencoder is a `FullyConvolutionalAutoencoder` (no linear
# bottleneck: its code is itself an image of several channels) with one stage: a 3×3 convolution
# to 16 channels at full resolution (the code $h$ has $16 \times 64 \times 64 = 65{,}536$
# numbers for $4{,}096$ pixels), a LeakyReLU, and a 3×3 transposed convolution back.
# Copying is not just possible, it is two weights away — a kernel that is 1 at its centre and 0
# elsewhere, once in and once out:

# %%
copier = FullyConvolutionalAutoencoder((1, 16), stride=1)
with torch.no_grad():
    for p in copier.parameters():
        p.zero_()
    copier.encoders[0][0].weight[0, 0, 1, 1] = 1.0  # h₀ = LeakyReLU(x) = x, since x ≥ 0
    copier.decoders[0].weight[0, 0, 1, 1] = 1.0  # x′ = h₀
    noise_image = torch.rand(1, 1, 64, 64)
    print("max |x′ − x| on brain slices:", (copier(x_test) - x_test).abs().max().item())
    print("max |x′ − x| on pure noise:  ", (copier(noise_image) - noise_image).abs().max().item())

# %% [markdown]
# Does training find something like this? We train the same architecture on the 2,000 slices
# with the plain reconstruction loss $\|x - x'\|^2$ — two epochs on screen, to see how fast the
# loss falls; the model used below had ten (`zoo.load("ae02_overcomplete")`).

# %% tags=["nbval-ignore-output"]
seed_everything(0)
demo = FullyConvolutionalAutoencoder(recipes02.AE02_CHANNELS, stride=1)
demo_history = train_autoencoder(demo, x_train, epochs=2, lr=recipes02.AE02_LR, device=default_device())
print("loss per image after 2 epochs:", round(demo_history["loss"][-1], 1))

# %%
assert demo_history["loss"][-1] < demo_history["loss"][0] / 2
overcomplete = zoo.load("ae02_overcomplete")
bottleneck = zoo.load("ae01_conv_k32")  # lecture 01: a 32-number code

# %% [markdown]
# Now the test. Add Gaussian noise ($\sigma = 0.1$) to the held-out slices and ask each
# autoencoder $A$ how much of it comes out again. The **noise gain**
# $\|A(\tilde x) - A(x)\| \,/\, \|\tilde x - x\|$ is 1 for a copying machine and 0 for a network
# whose output ignores the noise.

# %% tags=["nbval-ignore-output"]
g = torch.Generator().manual_seed(0)
x_noisy = corrupt(x_test, "gaussian", 0.1, g)
rows = {}
for name, model in (("over-complete AE (65,536 numbers)", overcomplete), ("bottleneck AE, lecture 01 (32)", bottleneck)):
    clean_out = reconstruct_all(model, x_test)
    rows[name] = {"PSNR on clean slices": psnr(clean_out, x_test).mean().item(),
                  "noise gain": noise_gain(model, x_test, x_noisy).mean().item()}
    print(f"{name:36s} PSNR on clean slices {rows[name]['PSNR on clean slices']:5.1f} dB,"
          f" noise gain {rows[name]['noise gain']:.2f}")
assert_close(rows, {"over-complete AE (65,536 numbers)": {"PSNR on clean slices": 36.2, "noise gain": 1.02},
                    "bottleneck AE, lecture 01 (32)": {"PSNR on clean slices": 23.3, "noise gain": 0.15}},
             {"over-complete AE (65,536 numbers)": {"PSNR on clean slices": 0.1, "noise gain": 0.01},
              "bottleneck AE, lecture 01 (32)": {"PSNR on clean slices": 0.1, "noise gain": 0.01}},
             "PSNR dB and noise gain")
assert rows["over-complete AE (65,536 numbers)"]["noise gain"] > 0.9
assert rows["bottleneck AE, lecture 01 (32)"]["noise gain"] < 0.3

# %% tags=["nbval-ignore-output"]
with torch.no_grad():
    passed_through = reconstruct_all(overcomplete, x_noisy[:4]) - reconstruct_all(overcomplete, x_test[:4])
    picture = [x_test[:4], x_noisy[:4], reconstruct_all(overcomplete, x_noisy[:4]),
               0.5 + 2 * passed_through, 0.5 + 2 * (x_noisy[:4] - x_test[:4]), reconstruct_all(bottleneck, x_noisy[:4])]
image_grid(picture, row_titles=["clean x", "noisy x̃", "over-complete A(x̃)", "A(x̃) − A(x)", "noise x̃ − x", "bottleneck A(x̃)"])
plt.show()

# %% [markdown]
# The over-complete autoencoder reconstructs the anatomy almost perfectly — and the noise
# just as faithfully: rows 4 and 5 are the same picture. It has learned to copy, and a copy
# tells us nothing about brains. The bottleneck autoencoder of lecture 01 drops the noise, but it
# also drops detail of the anatomy (its clean PSNR is far lower): the bottleneck cannot tell
# noise from fine structure, it only keeps what is common.
#
# ## 2. The denoising autoencoder
#
# Vincent et al. (2008) changed the *task* instead of the architecture: corrupt the input,
# $\tilde x \sim q(\tilde x \mid x)$, and still ask for the clean $x$:
#
# $$L = \frac{1}{B}\sum_b \big\| x_b - f_\theta(g_\phi(\tilde x_b)) \big\|^2 .$$

# %%
denoising_diagram()
plt.show()

# %% [markdown]
# Copying $\tilde x$ now costs exactly the noise, so the identity is no longer a solution; the
# network must learn what a slice looks like to undo the corruption. Three corruptions, each a
# function in `course_lib.autoencoders` (you will write two of them in the exercises):
#
# - **masking noise**: a random fraction $\nu$ of each image's pixels set to 0 — the seeds' "as
#   many as half of them"; we set *exactly* round(νD) of the $D$ pixels, chosen anew per image;
# - **additive Gaussian**: $\tilde x = x + \sigma\varepsilon$, $\varepsilon \sim \mathcal N(0, I)$;
# - **salt-and-pepper**: a fraction $\nu$ of the pixels set to 0 or 1 by a fair coin.

# %% tags=["nbval-ignore-output"]
levels = {"masking": (0.1, 0.25, 0.5, 0.75), "gaussian": (0.05, 0.1, 0.2, 0.3), "salt_and_pepper": (0.05, 0.1, 0.2, 0.3)}
g = torch.Generator().manual_seed(1)
examples = [torch.cat([corrupt(x_test[3:4], kind, level, g) for level in lv]) for kind, lv in levels.items()]
image_grid([e.clamp(0, 1) for e in examples], row_titles=[k.replace("_", " ") for k in levels],
           col_titles=["level 1", "level 2", "level 3", "level 4"])
plt.show()

# %% [markdown]
# One denoising autoencoder per corruption, with *the over-complete architecture of section 1*,
# trained on levels drawn uniformly up to ν = 0.5 (masking), σ = 0.3 and ν = 0.3. Two epochs of
# the Gaussian one on screen, then the ten-epoch checkpoints:

# %% tags=["nbval-ignore-output"]
seed_everything(0)
demo_dae = FullyConvolutionalAutoencoder(recipes02.AE02_CHANNELS, stride=1)
dae_history = train_autoencoder(demo_dae, x_train, epochs=2, lr=recipes02.AE02_LR, device=default_device(),
                                corrupt=random_level_corruption("gaussian", recipes02.DAE02_MAX_LEVEL["gaussian"]))

# %% tags=["nbval-ignore-output"]
assert dae_history["loss"][-1] < dae_history["loss"][0]
daes = {kind: zoo.load(f"dae02_{kind}") for kind in CORRUPTIONS}
results = {kind: evaluate_denoising(daes[kind], x_test, kind, levels[kind], seed=2) for kind in CORRUPTIONS}
for kind, rows_ in results.items():
    for r in rows_:
        print(f"{kind:16s} level {r['level']:.2f}: PSNR {r['psnr_in']:5.1f} → {r['psnr_out']:5.1f} dB, "
              f"SSIM {r['ssim_in']:.3f} → {r['ssim_out']:.3f}")
assert_close({kind: [(r["psnr_in"], r["psnr_out"], r["ssim_in"], r["ssim_out"]) for r in rs] for kind, rs in results.items()},
             {"masking": [(17.1, 23.6, 0.607, 0.769), (13.1, 23.6, 0.470, 0.735), (10.1, 19.1, 0.328, 0.626),
                          (8.3, 12.4, 0.190, 0.405)],
              "gaussian": [(26.0, 27.9, 0.724, 0.885), (20.0, 26.8, 0.512, 0.819), (14.0, 23.8, 0.290, 0.657),
                           (10.5, 20.9, 0.182, 0.516)],
              "salt_and_pepper": [(17.0, 25.9, 0.548, 0.783), (14.0, 24.7, 0.372, 0.706), (10.9, 22.3, 0.221, 0.591),
                                  (9.2, 19.9, 0.151, 0.489)]},
             (0.1, 0.1, 0.002, 0.002), "PSNR in, out (dB) and SSIM in, out")
gaussian_02 = next(r for r in results["gaussian"] if r["level"] == 0.2)
assert gaussian_02["psnr_out"] - gaussian_02["psnr_in"] >= 6
assert all(r["psnr_out"] > r["psnr_in"] and r["ssim_out"] > r["ssim_in"] for rs in results.values() for r in rs)

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for (kind, rows_), colour in zip(results.items(), ("C0", "C1", "C2")):
    lv = [r["level"] for r in rows_]
    for ax, metric in zip(axes, ("psnr", "ssim")):
        ax.plot(lv, [r[f"{metric}_in"] for r in rows_], "--", color=colour, marker="o", label=f"{kind}: input")
        ax.plot(lv, [r[f"{metric}_out"] for r in rows_], "-", color=colour, marker="s", label=f"{kind}: DAE output")
axes[0].set(xlabel="corruption level (ν or σ)", ylabel="PSNR to clean x (dB)", title="PSNR, held-out slices")
axes[1].set(xlabel="corruption level (ν or σ)", ylabel="SSIM to clean x", title="SSIM, held-out slices")
axes[1].legend(fontsize=7, loc="upper right")
plt.tight_layout()
plt.show()

# %% tags=["nbval-ignore-output"]
g = torch.Generator().manual_seed(3)
picture, titles = [], []
for kind, level in (("masking", 0.5), ("gaussian", 0.2), ("salt_and_pepper", 0.2)):
    noisy = corrupt(x_test[:4], kind, level, g)
    picture += [noisy.clamp(0, 1), reconstruct_all(daes[kind], noisy)]
    titles += [f"{kind.replace('_', ' ')} {level}", "restored"]
image_grid([x_test[:4], *picture], row_titles=["clean", *titles])
plt.show()

# %% [markdown]
# And the copying test of section 1, on the Gaussian DAE — the same network, the same data, only
# the task changed:

# %% tags=["nbval-ignore-output"]
gain_dae = noise_gain(daes["gaussian"], x_test, x_noisy).mean().item()
clean_dae = psnr(reconstruct_all(daes["gaussian"], x_test), x_test).mean().item()
print(f"noise gain at σ = 0.1: over-complete AE {rows['over-complete AE (65,536 numbers)']['noise gain']:.2f}, "
      f"denoising AE {gain_dae:.2f}")
print(f"PSNR on clean slices: over-complete AE {rows['over-complete AE (65,536 numbers)']['PSNR on clean slices']:.1f} dB, "
      f"denoising AE {clean_dae:.1f} dB")
assert_close([gain_dae, clean_dae], [0.25, 28.4], [0.01, 0.1], "denoising AE: noise gain, PSNR on clean slices")
assert gain_dae < 0.4 and clean_dae < rows["over-complete AE (65,536 numbers)"]["PSNR on clean slices"]

# %% [markdown]
# What the numbers say:
#
# - The gains are large — about 10 dB for Gaussian noise at σ = 0.2 — even though each output
#   pixel sees only a 5×5 neighbourhood of its input. Brain slices are smooth almost everywhere,
#   and the network has learned to average along tissue, not across edges.
# - How the gain depends on the strength differs by corruption. For Gaussian noise it grows
#   with σ (2 dB at 0.05, 10 dB at 0.3). For masking it peaks in the middle (10.5 dB at
#   ν = 0.25) and falls to 4 dB at ν = 0.75, beyond the strongest level the DAE was trained on:
#   with three pixels in four gone, too little is left within two pixels to inpaint from.
#   Salt-and-pepper gains about 11 dB at every level above 0.05.
# - The DAE pays for its robustness on clean inputs: it smooths a clean slice too (its PSNR on
#   clean slices, above, is several dB under the copying machine's). That is the price of
#   having learned *something* about the data.
#
# ## 3. Stacked autoencoders and greedy layer-wise pretraining
#
# A stack of autoencoders builds a hierarchy of codes $h_1, h_2, \dots$: each stage is a small
# autoencoder of the codes below it. Before end-to-end training of deep networks worked well,
# Bengio et al. (2007) and Vincent et al. (2010) trained such stacks **greedily**:
#
# 1. train stage 1 as a (denoising) autoencoder of the images $x$;
# 2. freeze it; compute its codes $h_1$; train stage 2 as an autoencoder of $h_1$;
# 3. … and so on; finally put a classifier on top and **fine-tune** everything with labels.

# %%
stacked_pretraining_diagram()
plt.show()

# %% [markdown]
# The hope: the unlabelled images teach the features, so that only a few labels are needed. We
# test it on a task the data module can set, with its ground truth known: does this slice contain
# a white-matter lesion? The stack has three stride-2 stages (1 → 16 → 32 → 64 channels) on
# 32 px slices, each pretrained as a denoising AE (masking ν = 0.25) on 2,000 *unlabelled*
# slices, half of which were drawn with lesions (`zoo.load("sae02_stack")`, 13 s with
# `make checkpoints`). The classifier head is a global maximum of each final channel and a
# linear layer: a lesion is small and may be anywhere.

# %% tags=["nbval-ignore-output"]
x_pool, y_pool = recipes02.sae02_labelled_data("train")
x_lesion_test, y_lesion_test = recipes02.sae02_labelled_data("test")
lesion_examples = x_pool[y_pool == 1][:6]
image_grid(lesion_examples, nrow=6, suptitle="training slices with a lesion (32 px)")
plt.show()

# %% tags=["nbval-ignore-output"]
pretrained_stack = zoo.load("sae02_stack")
print("labelled pool:", len(y_pool), "slices,", round(y_pool.float().mean().item(), 3), "with a lesion;",
      "held out:", len(y_lesion_test), "slices,", round(y_lesion_test.float().mean().item(), 3), "with a lesion")
with torch.no_grad():
    stage1_out = pretrained_stack.decoders[0](pretrained_stack.encoders[0](x_lesion_test))
stage1_psnr = psnr(stage1_out, x_lesion_test).mean().item()
print("stage-1 reconstruction PSNR of held-out slices:", round(stage1_psnr, 1), "dB")
assert_close(stage1_psnr, 18.4, 0.1, "stage-1 reconstruction PSNR (dB)")

# %% [markdown]
# Now the measurement: for 20, 50, 100 and 500 labelled slices, five seeds each, fine-tune the
# pretrained stack with a classifier head — and the *same* network from random initialisation,
# with the same images and the same 200 Adam steps. Accuracy on the 1,000 held-out slices
# (chance: about 50 %). This is the slow cell (40 fine-tunings).

# %% tags=["nbval-ignore-output"]
n_labels = (20, 50, 100, 500)
accuracy = label_efficiency(pretrained_stack, x_pool, y_pool, x_lesion_test, y_lesion_test,
                            n_labels=n_labels, seeds=range(5))
for i, n in enumerate(n_labels):
    print(f"{n:4d} labels: pretrained {100 * accuracy['pretrained'][i].mean():.0f} ± "
          f"{100 * accuracy['pretrained'][i].std():.0f} %, from scratch {100 * accuracy['scratch'][i].mean():.0f} ± "
          f"{100 * accuracy['scratch'][i].std():.0f} %")
assert accuracy["pretrained"][-1].mean() > accuracy["scratch"][-1].mean()
assert accuracy["pretrained"][-1].std() < accuracy["scratch"][-1].std()
assert_close(accuracy["pretrained"].mean(1).tolist(), [0.50, 0.53, 0.57, 0.66], 0.03, "pretrained: mean accuracy")
assert_close(accuracy["scratch"].mean(1).tolist(), [0.50, 0.55, 0.57, 0.61], 0.03, "from scratch: mean accuracy")
assert accuracy["pretrained"][0].mean() < 0.56 and accuracy["scratch"][0].mean() < 0.56

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(5.5, 3.6))
for name, marker in (("pretrained", "o"), ("scratch", "s")):
    ax.errorbar(n_labels, 100 * accuracy[name].mean(1), yerr=100 * accuracy[name].std(1), marker=marker,
                capsize=3, label="greedy pretraining + fine-tuning" if name == "pretrained" else "random init")
ax.axhline(100 * max(y_lesion_test.float().mean().item(), 1 - y_lesion_test.float().mean().item()), color="grey",
           ls=":", label="always the majority class")
ax.set(xscale="log", xlabel="labelled slices", ylabel="held-out accuracy (%)", title="lesion present? (mean ± sd, 5 seeds)")
ax.set_xticks(n_labels, [str(n) for n in n_labels], minor=False)
ax.minorticks_off()
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# What this measurement shows — and why:
#
# - **With 20 or 50 labels, neither network does meaningfully better than always answering "no
#   lesion"** (the dotted line), and with 100 both are only a few points above it. The features matter less than the
#   labels here: ten positive examples cannot define "a small dark blob inside white matter"
#   against all the other dark spots of a slice (sulci, ventricles, noise).
# - **With 500 labels, the pretrained start is a little better and much more reproducible** —
#   but how much better depends on the pretraining run, which one shipped stack cannot show.
#   `python -m benchmarks stacked` pretrains the stack under three seeds and fine-tunes each
#   with ten: at 500 labels the pretrained starts reached 66.1, 64.9 and 62.1 % against 60.9 %
#   from scratch (the shipped stack is the first, the luckiest), and their spread over
#   fine-tuning seeds was less than half of scratch's (sd 2.4–2.7 against 5.9 points) every
#   time. The gain of the third, 1 point, is within the noise of ten runs.
# - **Why it helps so little:** the autoencoders were trained to reconstruct *pixels*, and a
#   lesion is a tiny fraction of them. A reconstruction objective spends its capacity on what
#   dominates the squared error — the anatomy — and is nearly indifferent to a small blob.
#   Unsupervised pretraining helps when the features the task needs are also the features that
#   explain the images; for small lesions that is only partly true. (Greedy pretraining has since
#   given way to end-to-end training with better initialisations and normalisation; the idea that
#   survives is pretraining on unlabelled data with a *task-relevant* objective.)
#
# ## 4. The multimodal autoencoder
#
# Ngiam et al. (2011) trained one autoencoder on two modalities — audio and video of speech —
# and made it useful when one modality is missing with a simple trick in the training data:
# one third of the examples show only video, one third only audio, one third both, and the
# target is always *both*. Here the two modalities are T1 and the (synthetic) T2-like contrast
# of the same anatomy, as two input channels; a missing modality is a channel of zeros.

# %%
t1_pairs, t2_pairs = paired_brain_slices(2000, size=64, seed=0)  # the multimodal AE's training pairs
inputs, targets, group = modality_dropout(t1_pairs[:6], t2_pairs[:6], torch.Generator().manual_seed(0))
print("inputs", tuple(inputs.shape), "targets", tuple(targets.shape))
print("groups:", [MODALITY_GROUPS[i] for i in group])
print("channel sums per sample (T1, T2):", inputs.flatten(2).sum(2).round().int().tolist())

# %% [markdown]
# The model is a two-stage `FullyConvolutionalAutoencoder` with channels 2 → 32 → 64 (stride 2),
# trained for ten epochs on 2,000 paired training slices with these batches (`zoo.load("mmae02")`,
# 43 s). At test time we give it only T1 and read off its T2 channel, and the other way round,
# on held-out pairs — whose true partner we know. The naive baseline: the mean T2 (T1) image of
# the training set, which ignores the input altogether.

# %% tags=["nbval-ignore-output"]
multimodal = zoo.load("mmae02")
t1_test, t2_test = paired_brain_slices(500, size=64, split="test", seed=1)
mean_t1, mean_t2 = t1_pairs.mean(0, keepdim=True).expand_as(t1_test), t2_pairs.mean(0, keepdim=True).expand_as(t2_test)
predicted_t2, predicted_t1 = predict_missing(multimodal, t1_test, "t1"), predict_missing(multimodal, t2_test, "t2")
translation = {
    "T1 → T2, multimodal AE": (predicted_t2, t2_test),
    "T1 → T2, mean T2 image": (mean_t2, t2_test),
    "T2 → T1, multimodal AE": (predicted_t1, t1_test),
    "T2 → T1, mean T1 image": (mean_t1, t1_test),
}
scores = {name: (psnr(guess, truth).mean().item(), ssim(guess, truth).mean().item())
          for name, (guess, truth) in translation.items()}
for name, (p, s) in scores.items():
    print(f"{name:24s} PSNR {p:5.1f} dB, SSIM {s:.3f} against the true partner")
assert_close(scores, {"T1 → T2, multimodal AE": (21.1, 0.654), "T1 → T2, mean T2 image": (14.4, 0.165),
                      "T2 → T1, multimodal AE": (22.5, 0.614), "T2 → T1, mean T1 image": (13.4, 0.294)},
             (0.1, 0.002), "(PSNR dB, SSIM) against the true partner")
assert scores["T1 → T2, multimodal AE"][0] > scores["T1 → T2, mean T2 image"][0] + 4
assert scores["T1 → T2, multimodal AE"][1] > scores["T1 → T2, mean T2 image"][1] + 0.3
assert scores["T2 → T1, multimodal AE"][1] > scores["T2 → T1, mean T1 image"][1] + 0.2

# %% tags=["nbval-ignore-output"]
image_grid([t1_test[:5], predicted_t2[:5].clamp(0, 1), t2_test[:5], mean_t2[:5]],
           row_titles=["T1 (given)", "T2 predicted", "T2 true", "mean T2"])
plt.show()

# %% [markdown]
# The predicted T2 follows the input's anatomy — ventricles, grey/white boundaries — where the
# mean image cannot. It is blurrier than the truth: the squared error rewards the average of
# all T2 images compatible with the T1, and the average is smooth. The T2 here is synthesised
# from tissue maps, so it is an easier target than a real acquisition; lecture 05 returns to
# T1 → T2 translation without any pairs at all.
#
# ## Summary
#
# - An over-complete autoencoder can copy, and does: noise gain ≈ 1. Making the code *smaller*
#   (lecture 01) or the task *harder* (denoising) are two ways to make it learn something.
# - A denoising autoencoder reconstructs the clean $x$ from $\tilde x \sim q(\tilde x \mid x)$;
#   with the same over-complete network it removes most of the noise and gains about 10 dB at
#   σ = 0.2.
# - Greedy layer-wise pretraining trains a stack one stage at a time on the codes of the frozen
#   stages below. On lesion detection it helped only once there were a few hundred labels, and
#   then by 1 to 5 points depending on the pretraining run, with half the spread of a random
#   start — a pixel-reconstruction objective barely notices a small lesion.
# - Modality dropout teaches one network to fill in a missing modality from the present one.
#
# None of these autoencoders can *generate* a new slice: there is no distribution over codes to
# sample from. Lecture 03 adds one — the variational autoencoder.
#
# **References.** Vincent, Larochelle, Bengio & Manzagol (2008), *Extracting and composing robust
# features with denoising autoencoders*, ICML. Vincent et al. (2010), *Stacked denoising
# autoencoders*, JMLR 11. Bengio, Lamblin, Popovici & Larochelle (2007), *Greedy layer-wise
# training of deep networks*, NeurIPS. Ngiam et al. (2011), *Multimodal deep learning*, ICML.
