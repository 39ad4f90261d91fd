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
# # Exercises 07 — Diffusion models
#
# Five pieces of the lecture, written by you: the forward process in closed form, the
# ε-prediction loss, one ancestral (DDPM) step, one deterministic (DDIM) step, and the
# classifier-free guidance combination. After each one a check cell runs your code on hidden
# cases against the library's reference and either prints a ✓ line or tells you *what* is wrong.
# At the end, your functions train a diffusion model of the 8-Gaussian ring and sample from it.
# Replace each `raise NotImplementedError()` with your code; run the notebook top to bottom.
#
# Read lecture 07 first. This notebook runs in well under a minute.
#
# **Conventions.** A schedule is given as the tensor `alpha_bar` of $\bar\alpha_0, \dots,
# \bar\alpha_T$ (float64, $\bar\alpha_0 = 1$), so `alpha_bar[t]` is $\bar\alpha_t$ and step 0 is
# the data itself. $\alpha_t = \sqrt{\bar\alpha_t}$ scales the signal, $\sigma_t =
# \sqrt{1 - \bar\alpha_t}$ the noise. Return tensors of the dtype of the data you were given.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import math

import matplotlib.pyplot as plt
import torch

from course_lib.checks import (
    check_ddim_step, check_ddpm_step, check_epsilon_loss, check_forward_noising, check_guidance,
)
from course_lib.diffusion import ToyDenoiser, cosine_schedule
from course_lib.evaluation import mode_coverage
from course_lib.recipes import diffusion as recipes07, gan as recipes04
from course_lib.training import single_threaded

# %% [markdown]
# ## Exercise 1 — noising in closed form
#
# Write `forward_noising(x0, t, alpha_bar, noise)`: the draw $x_t = \alpha_t x_0 + \sigma_t
# \varepsilon$ of $q(x_t \mid x_0)$, where every sample `x0[i]` has its own step `t[i]` (a
# LongTensor of shape `(B,)`) and `noise` is $\varepsilon$, shaped like `x0`. `x0` may be a
# batch of points `(B, 2)` or of images `(B, 1, H, W)`: make each sample's two coefficients
# broadcast over all of its other dimensions.

# %%
def forward_noising(x0: torch.Tensor, t: torch.Tensor, alpha_bar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    a = alpha_bar[t].to(x0.dtype).view(-1, *([1] * (x0.ndim - 1)))
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
    ### END SOLUTION


# %%
check_forward_noising(forward_noising)

# %% [markdown]
# ## Exercise 2 — the ε-prediction loss
#
# Write `epsilon_loss(eps_pred, eps)`: Ho et al.'s simple loss
# $\|\varepsilon - \varepsilon_\theta\|^2$, averaged over **every element** of the batch (not
# summed per sample), as a scalar that gradients flow through.

# %%
def epsilon_loss(eps_pred: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    return ((eps - eps_pred) ** 2).mean()
    ### END SOLUTION


# %%
check_epsilon_loss(epsilon_loss)

# %% [markdown]
# ## Exercise 3 — one ancestral (DDPM) step
#
# Write `ddpm_step(x_t, eps_pred, t, s, alpha_bar, noise)` for integer steps $0 \le s < t$:
# first $\hat x_0 = (x_t - \sigma_t \varepsilon_\theta)/\alpha_t$, then a draw of the forward
# process's posterior with $\hat x_0$ in place of $x_0$, using `noise` as $z$:
#
# $$x_s = \frac{\alpha_s \beta_{t|s}}{\sigma_t^2}\hat x_0 + \frac{\alpha_{t|s}\sigma_s^2}{\sigma_t^2} x_t
#   + \sqrt{\frac{\sigma_s^2 \beta_{t|s}}{\sigma_t^2}}\; z,
# \qquad \alpha_{t|s} = \frac{\alpha_t}{\alpha_s},\ \beta_{t|s} = 1 - \alpha_{t|s}^2 .$$
#
# It must work for jumps ($s < t - 1$), not only for $s = t - 1$. What does it return at $s = 0$?

# %%
def ddpm_step(x_t: torch.Tensor, eps_pred: torch.Tensor, t: int, s: int, alpha_bar: torch.Tensor,
              noise: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    a_t, a_s = alpha_bar[t].item(), alpha_bar[s].item()
    sigma2_t, sigma2_s = 1 - a_t, 1 - a_s
    x0_hat = (x_t - math.sqrt(sigma2_t) * eps_pred) / math.sqrt(a_t)
    alpha_ts = math.sqrt(a_t / a_s)
    beta_ts = 1 - a_t / a_s
    mean = (math.sqrt(a_s) * beta_ts / sigma2_t) * x0_hat + (alpha_ts * sigma2_s / sigma2_t) * x_t
    return mean + math.sqrt(sigma2_s * beta_ts / sigma2_t) * noise
    ### END SOLUTION


# %%
check_ddpm_step(ddpm_step)

# %% [markdown]
# ## Exercise 4 — one deterministic (DDIM) step
#
# Write `ddim_step(x_t, eps_pred, t, s, alpha_bar)`: keep the predicted noise, rescale the
# predicted clean point, $x_s = \alpha_s \hat x_0 + \sigma_s \varepsilon_\theta$. No randomness.

# %%
def ddim_step(x_t: torch.Tensor, eps_pred: torch.Tensor, t: int, s: int, alpha_bar: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    a_t, a_s = alpha_bar[t].item(), alpha_bar[s].item()
    x0_hat = (x_t - math.sqrt(1 - a_t) * eps_pred) / math.sqrt(a_t)
    return math.sqrt(a_s) * x0_hat + math.sqrt(1 - a_s) * eps_pred
    ### END SOLUTION


# %%
check_ddim_step(ddim_step)

# %% [markdown]
# ## Exercise 5 — classifier-free guidance
#
# Write `guided_epsilon(eps_cond, eps_uncond, w)`: $\tilde\varepsilon = (1 + w)\,\varepsilon_\theta(x_t, y)
# - w\,\varepsilon_\theta(x_t, \varnothing)$ (Ho & Salimans, 2021). At $w = 0$ it must be the
# conditional prediction.

# %%
def guided_epsilon(eps_cond: torch.Tensor, eps_uncond: torch.Tensor, w: float) -> torch.Tensor:
    ### BEGIN SOLUTION
    return (1 + w) * eps_cond - w * eps_uncond
    ### END SOLUTION


# %%
check_guidance(guided_epsilon)

# %% [markdown]
# ## Putting it together: your diffusion model of the ring
#
# Your `forward_noising` and `epsilon_loss` train the lecture's denoising network on the 8-Gaussian
# ring (divided by its standard deviation), and your `ddpm_step` samples from it: 100 ancestral
# steps, the last one jumping from $t = 20$ to $\hat x_0$, as in the lecture. A few thousand steps
# of training — a tenth of the lecture's checkpoint — already find every mode.

# %% tags=["nbval-ignore-output"]
schedule = cosine_schedule(1000, sigma_min=1e-3)
alpha_bar = schedule.alpha_bar
scale = recipes07.toy_scale("ring")
draw = recipes07.toy_data("ring")
seed_everything(0)
net = ToyDenoiser(fourier=4)
optimiser = torch.optim.Adam(net.parameters(), lr=2e-3)
rng = torch.Generator().manual_seed(1)
n_steps, losses = 2500, []
with single_threaded():
    for step in range(n_steps):
        x0 = draw(256, rng) / scale
        t = torch.randint(1, schedule.T + 1, (len(x0),), generator=rng)
        eps = torch.randn(x0.shape, generator=rng)
        loss = epsilon_loss(net(forward_noising(x0, t, alpha_bar, eps), schedule.log_snr(t)), eps)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        for group in optimiser.param_groups:  # a cosine decay of the learning rate to 0
            group["lr"] = 2e-3 * 0.5 * (1 + math.cos(math.pi * (step + 1) / n_steps))
        losses.append(loss.item())

    steps = [round(v) for v in torch.linspace(schedule.T, 20, 100).tolist()] + [0]
    x = torch.randn(2500, 2, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        for t, s in zip(steps[:-1], steps[1:]):
            eps_pred = net(x, schedule.log_snr(torch.full((len(x),), t)))
            x = ddpm_step(x, eps_pred, t, s, alpha_bar, torch.randn(x.shape, generator=rng))
samples = x * scale
coverage = mode_coverage(samples, recipes04.toy_modes("ring"), recipes04.TOY_STD["ring"])
print(f"loss {sum(losses[:100]) / 100:.3f} → {sum(losses[-100:]) / 100:.3f}; "
      f"{coverage.modes} of 8 modes, {coverage.high_quality:.0%} high quality")
assert coverage.modes == 8
plt.figure(figsize=(4.5, 4.5))
plt.scatter(*samples.T, s=1)
plt.scatter(*recipes04.toy_modes("ring").T, marker="x", color="C3", s=40)
plt.gca().set(title="your sampler, your training", aspect="equal")
plt.show()
