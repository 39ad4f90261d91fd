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
# # Exercises 05 — CycleGAN
#
# Four pieces of the lecture, written by you: the cycle-consistency loss, the least-squares
# adversarial losses, the identity loss, and one generator update that combines them with
# $\lambda$. After each one a check cell runs your code on hidden cases against the library's
# reference and either prints a ✓ line or tells you *what* is wrong. At the end your generator
# step trains a CycleGAN for a few seconds, and your losses judge the trained checkpoint.
# Replace each `raise NotImplementedError()` with your code; run the notebook top to bottom.
#
# Read lecture 05 first. This notebook runs in well under a minute.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import matplotlib.pyplot as plt
import torch

from course_lib import zoo
from course_lib.checks import (
    check_cycle_consistency_loss, check_cyclegan_generator_step, check_identity_loss, check_lsgan_losses,
)
from course_lib.cyclegan import CycleGAN, GeneratorStep, cyclegan_discriminator_step, translate
from course_lib.evaluation import translation_scores
from course_lib.plotting import image_grid
from course_lib.recipes import translation as recipes05
from course_lib.tolerances import assert_close

# %% [markdown]
# ## Exercise 1 — the cycle-consistency loss
#
# Given $x$, its round trip $F(G(x))$, $y$ and its round trip $G(F(y))$ (all of shape
# (B, 1, S, S)), return
#
# $$L_{cyc} = \text{mean}\,|F(G(x)) - x| + \text{mean}\,|G(F(y)) - y|,$$
#
# each mean over the batch and the pixels.

# %%
def my_cycle_consistency_loss(x, x_cycled, y, y_cycled):
    ### BEGIN SOLUTION
    return (x_cycled - x).abs().mean() + (y_cycled - y).abs().mean()
    ### END SOLUTION


# %%
check_cycle_consistency_loss(my_cycle_consistency_loss)

# %% [markdown]
# ## Exercise 2 — the least-squares adversarial losses
#
# A PatchGAN gives a map of scores per image, shape (B, 1, h, w). With means over samples and
# patches:
#
# - the discriminator's loss $L_D = \tfrac12\,\text{mean}\,(D(y) - 1)^2 + \tfrac12\,\text{mean}\,D(G(x))^2$,
#   from the scores of real images and of generated ones;
# - the generator's loss $L_{GAN} = \text{mean}\,(D(G(x)) - 1)^2$, from the scores of generated images.

# %%
def my_lsgan_discriminator_loss(real_scores, fake_scores):
    ### BEGIN SOLUTION
    return 0.5 * (real_scores - 1).pow(2).mean() + 0.5 * fake_scores.pow(2).mean()
    ### END SOLUTION


def my_lsgan_generator_loss(fake_scores):
    ### BEGIN SOLUTION
    return (fake_scores - 1).pow(2).mean()
    ### END SOLUTION


# %%
check_lsgan_losses(my_lsgan_discriminator_loss, my_lsgan_generator_loss)

# %% [markdown]
# ## Exercise 3 — the identity loss
#
# Given $x$ and $F(x)$, $y$ and $G(y)$ — each generator fed an image that is already in its
# output domain — return $L_{id} = \text{mean}\,|G(y) - y| + \text{mean}\,|F(x) - x|$.

# %%
def my_identity_loss(x, f_of_x, y, g_of_y):
    ### BEGIN SOLUTION
    return (g_of_y - y).abs().mean() + (f_of_x - x).abs().mean()
    ### END SOLUTION


# %%
check_identity_loss(my_identity_loss)

# %% [markdown]
# ## Exercise 4 — one generator update
#
# `model` is a `CycleGAN` with generators `model.G` ($X \to Y$), `model.F` ($Y \to X$) and
# discriminators `model.D_X`, `model.D_Y`; `g_optimizer` holds the parameters of $G$ and $F$.
# On an unpaired batch `x` (from $X$), `y` (from $Y$):
#
# 1. translate: `fake_y` = $G(x)$, `fake_x` = $F(y)$;
# 2. the total loss $L = L_{GAN}(G, D_Y) + L_{GAN}(F, D_X) + \lambda_{cyc} L_{cyc} + \lambda_{id} L_{id}$,
#    with your three losses (the GAN terms score `fake_y` with $D_Y$ and `fake_x` with $D_X$;
#    the cycle loss needs $F(G(x))$ and $G(F(y))$; the identity loss $F(x)$ and $G(y)$);
# 3. clear the gradients, backward, `g_optimizer.step()`;
# 4. return `GeneratorStep(losses, fake_x, fake_y)`: a dict of Python floats (at least
#    `"cycle"`), and the two fakes **detached**, for the discriminators' step that follows.

# %%
def my_generator_step(model, g_optimizer, x, y, lambda_cyc=10.0, lambda_id=5.0):
    ### BEGIN SOLUTION
    fake_y, fake_x = model.G(x), model.F(y)
    adversarial = my_lsgan_generator_loss(model.D_Y(fake_y)) + my_lsgan_generator_loss(model.D_X(fake_x))
    cycle = my_cycle_consistency_loss(x, model.F(fake_y), y, model.G(fake_x))
    identity = my_identity_loss(x, model.F(x), y, model.G(y))
    total = adversarial + lambda_cyc * cycle + lambda_id * identity
    g_optimizer.zero_grad()
    total.backward()
    g_optimizer.step()
    losses = {"adversarial": adversarial.item(), "cycle": cycle.item(), "identity": identity.item()}
    return GeneratorStep(losses, fake_x.detach(), fake_y.detach())
    ### END SOLUTION


# %%
check_cyclegan_generator_step(my_generator_step)

# %% [markdown]
# ## Your step, training
#
# Your generator step alternates with the library's discriminator step for 40 steps on 8-slice
# minibatches of the lecture's unpaired training sets. A minute of this does not make a good
# translator — watch the cycle loss fall.

# %% tags=["nbval-ignore-output"]
seed_everything(0)
x_train, y_train = recipes05.cyclegan05_train_data()
model = CycleGAN(**recipes05.TRANSLATION05)
g_opt = torch.optim.Adam(model.generator_parameters(), lr=recipes05.CYCLEGAN05_LR, betas=(0.5, 0.999))
d_opt = torch.optim.Adam(model.discriminator_parameters(), lr=recipes05.CYCLEGAN05_D_LR, betas=(0.5, 0.999))
cycle_losses = []
for step in range(40):
    x, y = x_train[8 * step : 8 * step + 8], y_train[8 * step : 8 * step + 8]
    out = my_generator_step(model, g_opt, x, y, recipes05.CYCLEGAN05_LAMBDA_CYC, recipes05.CYCLEGAN05_LAMBDA_ID)
    cyclegan_discriminator_step(model, d_opt, x, y, out.fake_x, out.fake_y)
    cycle_losses.append(out.losses["cycle"])
first, last = sum(cycle_losses[:10]) / 10, sum(cycle_losses[-10:]) / 10
print(f"cycle loss, mean of the first 10 steps {first:.3f}, of the last 10 {last:.3f}")
assert last < first

plt.figure(figsize=(5, 3))
plt.plot(cycle_losses)
plt.xlabel("step")
plt.ylabel("L_cyc")
plt.show()

# %% [markdown]
# ## Your losses on the trained CycleGAN
#
# `zoo.load("cyclegan05")` is the lecture's CycleGAN, trained for 4 epochs on 4,000 + 4,000
# slices by `make checkpoints`. Your cycle and identity losses on slices from the held-out
# levels, beside those of the model you just trained:

# %% tags=["nbval-ignore-output"]
trained = zoo.load("cyclegan05")
test_t1, test_t2 = recipes05.translation05_test_data(100)
results = {}
with torch.no_grad():
    for name, m in (("40 steps (yours)", model.eval()), ("checkpoint", trained)):
        cycle = my_cycle_consistency_loss(test_t1, m.F(m.G(test_t1)), test_t2, m.G(m.F(test_t2)))
        identity = my_identity_loss(test_t1, m.F(test_t1), test_t2, m.G(test_t2))
        ssim_t2 = translation_scores(translate(m.G, test_t1), test_t2)["ssim"].mean()
        results[name] = (cycle.item(), identity.item(), ssim_t2.item())
        print(f"{name:17s} L_cyc {cycle:.3f}   L_id {identity:.3f}   SSIM of G(x) to the true T2 {ssim_t2:.3f}")
assert_close(results["checkpoint"], (0.047, 0.232, 0.904), (0.002, 0.002, 0.003), "checkpoint: L_cyc, L_id, SSIM")
assert results["40 steps (yours)"][2] < results["checkpoint"][2] - 0.1

image_grid([test_t1[:6], translate(model.G, test_t1[:6]), translate(trained.G, test_t1[:6]), test_t2[:6]],
           row_titles=["T1 input", "G, 40 steps", "G, checkpoint", "true T2"])
plt.show()
