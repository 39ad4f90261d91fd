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
# # Exercises 03 — The VAE and the reparametrization trick
#
# Five pieces of the lecture, written by you: the reparametrization, the closed-form KL, the
# negative ELBO with its reduction, the conditioning of a conditional VAE, and the AR-VAE's
# attribute loss. After each one a check cell runs your code on hidden cases against the
# library's reference and either prints a ✓ line or tells you *what* is wrong. Your functions
# then train a small conditional VAE that generates slices of a requested level, and a small
# VAE whose first latent coordinate follows the slice's level.
# Replace each `raise NotImplementedError()` with your code; run the notebook top to bottom.
#
# Read lecture 03 first. This notebook runs in well under a minute.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import math

import matplotlib.pyplot as plt
import torch

from course_lib.checks import (
    check_attribute_regularization, check_cvae_condition, check_kl_divergence, check_negative_elbo,
    check_reparametrize,
)
from course_lib.data import LEVEL_BANDS, brain_slices
from course_lib.evaluation import nearest_neighbours, rank_correlation
from course_lib.plotting import image_grid
from course_lib.training import fit
from course_lib.vae import ConvVAE

# %% [markdown]
# ## Exercise 1 — the reparametrization trick
#
# Write `reparametrize(mu, logvar)` returning one sample $z = \mu + \sigma \odot \varepsilon$ with
# $\varepsilon \sim \mathcal{N}(0, I)$, for `mu` and `logvar` $= \log \sigma^2$ of shape `(B, k)`.
# Gradients must reach both `mu` and `logvar` (so: no `torch.normal(mu, ...)`), and every call
# must draw fresh noise.

# %%
def reparametrize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps
    ### END SOLUTION


# %%
check_reparametrize(reparametrize)

# %% [markdown]
# ## Exercise 2 — the KL divergence to the prior
#
# Write `kl_divergence(mu, logvar)`: $\mathrm{KL}[\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\|\, \mathcal{N}(0, I)]$
# in closed form, **one value per row** (shape `(B,)`), summed over the latent dimensions:
#
# $$\mathrm{KL} = \frac12 \sum_{j=1}^{k} \left(\mu_j^2 + \sigma_j^2 - \log \sigma_j^2 - 1\right).$$

# %%
def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)
    ### END SOLUTION


# %%
check_kl_divergence(kl_divergence)

# %% [markdown]
# ## Exercise 3 — the negative ELBO, with its reduction
#
# With the Gaussian decoder $p_\theta(x \mid z) = \mathcal{N}(f(z), \sigma_x^2 I)$ and $D$ pixels per image,
#
# $$-\mathcal{L} = \frac{1}{B}\sum_{b=1}^{B}\left[\frac{\lVert x_b - \hat x_b \rVert^2}{2\sigma_x^2}
#   + \frac{D}{2}\log(2\pi\sigma_x^2) + \mathrm{KL}_b\right],$$
#
# where $\hat x_b = f(z_b)$ is the decoded sample and $\mathrm{KL}_b$ the KL of image $b$. Write
# `negative_elbo(x_hat, x, mu, logvar, sigma_x)` returning this scalar tensor (in nats per
# image): per image, sum over pixels and latent dimensions; then average over the batch. You may
# call your `kl_divergence`.

# %%
def negative_elbo(x_hat, x, mu, logvar, sigma_x: float) -> torch.Tensor:
    ### BEGIN SOLUTION
    d = x[0].numel()
    reconstruction = (x - x_hat).pow(2).flatten(1).sum(dim=1) / (2 * sigma_x**2) + 0.5 * d * math.log(2 * math.pi * sigma_x**2)
    return (reconstruction + kl_divergence(mu, logvar)).mean()
    ### END SOLUTION


# %%
check_negative_elbo(negative_elbo)

# %% [markdown]
# ## Exercise 4 — conditioning a conditional VAE
#
# A CVAE gives the condition $c$ to the encoder, $q_\phi(z \mid x, c)$, and to the decoder,
# $p_\theta(x \mid z, c)$. The usual way: append $c$, **one-hot**, to the features the network
# works on. Write `condition(h, labels, n_classes)`: for features `h` of shape `(B, F)` and
# integer `labels` of shape `(B,)` in $0 \dots C-1$, return `[h, one_hot(labels)]` of shape
# `(B, F + C)`, with gradients still flowing to `h`.

# %%
def condition(h: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    ### BEGIN SOLUTION
    code = torch.zeros(len(labels), n_classes, dtype=h.dtype)
    code[torch.arange(len(labels)), labels] = 1.0
    return torch.cat([h, code], dim=1)
    ### END SOLUTION


# %%
check_cvae_condition(condition)

# %% [markdown]
# ## Putting it together: your conditional VAE
#
# Your `condition` goes into a small convolutional CVAE (32-px slices, 8 latent dimensions),
# your `reparametrize` draws its codes and your `negative_elbo` is its loss. Ten epochs on 1,500
# slices, then ask it for slices of each band and check the band of the nearest real slice — a
# fresh slice of the training levels, the population the model learnt (lecture 03, section 5).

# %% tags=["nbval-ignore-output"]
class MyCVAE(ConvVAE):
    def _condition(self, features, labels):
        return condition(features, labels, self.n_classes)

    def forward(self, x, labels=None, generator=None):
        mu, logvar = self.encode(x, labels)
        return self.decode(reparametrize(mu, logvar), labels), mu, logvar


x_train, meta_train = brain_slices(1500, size=32, seed=0, return_meta=True)
x_reference, meta_reference = brain_slices(400, size=32, seed=21, return_meta=True)  # fresh training-level slices
seed_everything(0)
my_cvae = MyCVAE(8, size=32, n_classes=len(LEVEL_BANDS))
optimizer = torch.optim.Adam(my_cvae.parameters(), lr=2e-3)


def step(batch):
    x, labels = batch
    x_hat, mu, logvar = my_cvae(x, labels)
    loss = negative_elbo(x_hat, x, mu, logvar, 1.0)  # σ_x = 1, as the lecture's main model
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


history = fit(step, (x_train, meta_train["band"]), epochs=10, batch_size=64, progress=False)
my_cvae.eval()
requested = torch.arange(len(LEVEL_BANDS)).repeat_interleave(25)
with torch.no_grad():
    samples = my_cvae.decode(torch.randn(len(requested), 8), requested)
_, nearest = nearest_neighbours(samples, x_reference)
agreement = (meta_reference["band"][nearest[:, 0]] == requested).float().mean().item()
print(f"negative ELBO {history['loss'][0]:.0f} → {history['loss'][-1]:.0f} nats/image; "
      f"nearest real slice has the requested band: {100 * agreement:.0f} % (chance 25 %)")
assert agreement > 0.4  # chance is 0.25
image_grid([samples[requested == b][:8] for b in range(len(LEVEL_BANDS))], row_titles=list(LEVEL_BANDS),
           suptitle="your conditional VAE: samples per requested band")
plt.show()


# %% [markdown]
# ## Exercise 5 — the attribute-regularisation loss
#
# For a batch of one latent coordinate `z_r` (shape `(B,)`) and the attribute `attribute` it
# should follow (shape `(B,)`), return the AR-VAE's loss (lecture 03, section 8)
#
# $$D_r[i, j] = z_{r,i} - z_{r,j}, \quad D_a[i, j] = a_i - a_j, \quad
#   L_r = \frac{1}{B^2}\sum_{i,j}\big|\tanh(\delta\, D_r[i, j]) - \operatorname{sign}(D_a[i, j])\big|,$$
#
# a 0-d tensor through which the gradient reaches `z_r`. Broadcasting builds the $B \times B$
# matrices without a loop: `v[:, None] - v[None, :]`.

# %%
def my_attribute_regularization(z_r: torch.Tensor, attribute: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    ### BEGIN SOLUTION
    code_order = torch.tanh(delta * (z_r[:, None] - z_r[None, :]))
    attribute_order = torch.sign(attribute[:, None] - attribute[None, :])
    return (code_order - attribute_order).abs().mean()
    ### END SOLUTION


# %%
check_attribute_regularization(my_attribute_regularization)

# %% [markdown]
# ## Your AR-VAE
#
# Your reparametrization, ELBO and attribute loss train a small VAE (32 px, 8 latent dimensions,
# 10 epochs) with $\gamma = 10$ on $z_0$ and the slice's axial level as attribute. On held-out
# levels, how well does $\mu_0$ rank the slices by level — and how well does the best coordinate
# of the same VAE trained without the attribute loss ($\gamma = 0$)?

# %% tags=["nbval-ignore-output"]
x_test, meta_test = brain_slices(300, size=32, split="test", seed=1, return_meta=True)
rank = {}
for gamma in (0.0, 10.0):
    seed_everything(0)
    my_vae = ConvVAE(8, size=32)
    optimizer = torch.optim.Adam(my_vae.parameters(), lr=2e-3)

    def step(batch):
        x, level = batch
        mu, logvar = my_vae.encode(x)
        z = reparametrize(mu, logvar)
        loss = negative_elbo(my_vae.decode(z), x, mu, logvar, 1.0) + gamma * my_attribute_regularization(z[:, 0], level)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    fit(step, (x_train, meta_train["level"]), epochs=10, batch_size=64, progress=False)
    my_vae.eval()
    with torch.no_grad():
        mu_test, _ = my_vae.encode(x_test)
    rho = [abs(rank_correlation(mu_test[:, j], meta_test["level"])) for j in range(8)]
    rank[gamma] = rho[0] if gamma > 0 else max(rho)
print(f"|ρ(μ, level)| on held-out levels: AR-VAE's z_0 {rank[10.0]:.3f}; plain VAE's best coordinate {rank[0.0]:.3f}")
assert rank[10.0] > 0.5
