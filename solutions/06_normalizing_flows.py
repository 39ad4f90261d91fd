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
# # Exercises 06 — Normalizing flows
#
# Four pieces of the lecture, written by you: the toy map with its inverse and log-determinant,
# the change-of-variables log-density, the inverse of an affine coupling layer, and the masks
# of MADE. After each one a check cell runs your code on hidden cases against the library's
# reference and either prints a ✓ line or tells you *what* is wrong. At the end, your coupling
# inverse trains a real flow.
# Replace each `raise NotImplementedError()` with your code; run the notebook top to bottom.
#
# Read lecture 06 first. This notebook runs in well under a minute.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import math

import matplotlib.pyplot as plt
import torch

from course_lib.checks import check_change_of_variables, check_coupling_inverse, check_made_masks, check_toy_map
from course_lib.data.toys import banana
from course_lib.flows import AffineCoupling, Flow, kl_to_truth, toy_map_inverse, toy_map_log_det_inverse, train_flow

# %% [markdown]
# ## Exercise 1 — the toy map, its inverse and its log-determinant
#
# The lecture's map with one extra knob, a width $\sigma > 0$ for the first coordinate:
#
# $$x = f(u) = \begin{pmatrix} \sigma u_1 \\ u_2 - x_1^2 - 1 \end{pmatrix}
#   \qquad (\sigma = 1 \text{ is the lecture's map}).$$
#
# Write `toy_forward(u, sigma)` ($u$ of shape `(n, 2)` → $x$ of shape `(n, 2)`), its inverse
# `toy_inverse(x, sigma)`, and `toy_log_det_inverse(x, sigma)`: $\log|\det J(f^{-1}(x))|$, one
# value per point, shape `(n,)`. Work out $J(f^{-1})$ on paper first: which entries are zero?
# (With $\sigma \neq 1$ the map changes area, so the sign of the log-det matters.)

# %%
def toy_forward(u: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    ### BEGIN SOLUTION
    x1 = sigma * u[:, 0]
    return torch.stack([x1, u[:, 1] - x1**2 - 1], dim=1)
    ### END SOLUTION


def toy_inverse(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    ### BEGIN SOLUTION
    return torch.stack([x[:, 0] / sigma, x[:, 1] + x[:, 0] ** 2 + 1], dim=1)
    ### END SOLUTION


def toy_log_det_inverse(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    ### BEGIN SOLUTION
    # J(f⁻¹) = [[1/σ, 0], [2x₁, 1]] is triangular: det = 1/σ everywhere.
    return torch.full((x.shape[0],), -math.log(sigma), dtype=x.dtype)
    ### END SOLUTION


# %%
check_toy_map(toy_forward, toy_inverse, toy_log_det_inverse)

u = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
for ax, sigma in zip(axes, (0.5, 1.0, 2.0)):
    x = toy_forward(u, sigma)
    ax.scatter(x[:, 0], x[:, 1], c=u[:, 0], cmap="coolwarm", s=3)
    ax.set(title=f"σ = {sigma}: log |det J(f⁻¹)| = {toy_log_det_inverse(x[:1], sigma).item() + 0.0:+.3f}", xlabel="x₁")
axes[0].set_ylabel("x₂")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Exercise 2 — the change of variables
#
# Write `log_prob(x, inverse, log_det_inverse)` for any invertible map given by its inverse
# $f^{-1}$ and its $\log|\det J(f^{-1}(x))|$ (both are functions of a batch `x` of shape
# `(n, D)`), with the base density $\pi_u = \mathcal{N}(0, I)$ in $D$ dimensions:
#
# $$\log p_x(x) = \log \pi_u\!\left(f^{-1}(x)\right) + \log\left|\det J\!\left(f^{-1}(x)\right)\right|,
#   \qquad \log \pi_u(u) = -\tfrac{1}{2}\lVert u \rVert^2 - \tfrac{D}{2}\log 2\pi .$$
#
# Return one value per point, shape `(n,)`. Write the Gaussian yourself (no `torch.distributions`).

# %%
def log_prob(x: torch.Tensor, inverse, log_det_inverse) -> torch.Tensor:
    ### BEGIN SOLUTION
    u = inverse(x)
    log_base = -0.5 * u.pow(2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
    return log_base + log_det_inverse(x)
    ### END SOLUTION


# %%
check_change_of_variables(log_prob)

# Your density of the σ = 2 map, summed on a fine grid (a Riemann sum), must have mass ≈ 1.
x1, x2 = torch.meshgrid(torch.linspace(-10, 10, 500), torch.linspace(-110, 6, 800), indexing="ij")
grid = torch.stack([x1.flatten(), x2.flatten()], dim=1)
density = log_prob(grid, lambda x: toy_map_inverse(x, 2.0), lambda x: toy_map_log_det_inverse(x, 2.0)).exp()
cell_area = (20 / 499) * (116 / 799)
print(f"mass of your σ = 2 density on the grid: {(density.sum() * cell_area).item():.3f}")

# %% [markdown]
# ## Exercise 3 — the inverse of an affine coupling layer
#
# A RealNVP coupling layer (`course_lib.flows.AffineCoupling`) keeps the coordinates where its
# mask is 1 and transforms the others:
#
# $$x = m \odot u + (1 - m) \odot \big(u \odot \exp(s) + t\big), \qquad \text{with } (s, t) \text{ computed from } m \odot u .$$
#
# `layer.scale_and_shift(kept)` computes them: it returns $s$ and $t$, both of the input's shape and already 0
# where $m = 1$; `layer.mask` is $m$. Write `coupling_inverse(layer, x)` returning the pair
# `(u, log_det)`: $u = f^{-1}(x)$ of shape `(n, D)` and $\log|\det \partial u / \partial x|$ of
# shape `(n,)`. Which values can you feed the network, knowing only $x$?

# %%
def coupling_inverse(layer: AffineCoupling, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    ### BEGIN SOLUTION
    s, t = layer.scale_and_shift(x * layer.mask)  # the kept half is the same in u and in x
    u = (x - t) * torch.exp(-s)  # s = t = 0 where the mask is 1, so those pass unchanged
    return u, -s.sum(dim=1)
    ### END SOLUTION


# %%
check_coupling_inverse(coupling_inverse)

# %% [markdown]
# ## Exercise 4 — the masks of MADE
#
# MADE turns an ordinary MLP into an autoregressive one by multiplying each weight matrix by a
# 0/1 mask. Give every unit a degree: inputs $1, \dots, D$; the $k$-th unit ($k = 0, 1, \dots$) of
# every hidden layer $1 + (k \bmod (D - 1))$; outputs $1, \dots, D$. Then
#
# * a hidden unit of degree $m$ connects to the units of the layer below with degree $\le m$;
# * output $d$ connects to the last hidden units with degree $< d$ (strictly).
#
# Write `made_masks(dim, hidden_sizes)` returning one mask per linear layer (the hidden layers
# and the output layer), each shaped like an `nn.Linear` weight: `(out_features, in_features)`.
# The check builds a network with your masks and tests, through its Jacobian, that output $d$
# depends on every $x_j$ with $j < d$ and on nothing else.

# %%
def made_masks(dim: int, hidden_sizes: list[int]) -> list[torch.Tensor]:
    ### BEGIN SOLUTION
    inputs = torch.arange(1, dim + 1)
    degrees = [inputs] + [1 + torch.arange(h) % (dim - 1) for h in hidden_sizes]
    masks = [(later[:, None] >= earlier[None, :]).float() for earlier, later in zip(degrees, degrees[1:])]
    masks.append((inputs[:, None] > degrees[-1][None, :]).float())
    return masks
    ### END SOLUTION


# %%
check_made_masks(made_masks)

for i, mask in enumerate(made_masks(3, [4])):
    print(f"mask {i}:", mask.int().tolist())

# %% [markdown]
# ## Putting it together: your inverse trains a RealNVP
#
# The density direction of a flow is the inverse, so the inverse is what maximum likelihood
# trains. Swap your `coupling_inverse` into four coupling layers, train them on samples of the
# toy map for a few seconds, and measure the distance to the truth (lecture 06, section 7).

# %% tags=["nbval-ignore-output"]
class MyCoupling(AffineCoupling):
    def inverse(self, x):
        return coupling_inverse(self, x)


seed_everything(0)
my_flow = Flow([MyCoupling([1.0, 0.0] if k % 2 == 0 else [0.0, 1.0]) for k in range(4)], dim=2, name="your RealNVP")
history = train_flow(my_flow, banana(10_000, seed=1), epochs=6, progress=False)
estimate = kl_to_truth(my_flow.log_prob, banana(50_000, seed=2))
print(f"training NLL {history['nll'][0]:.2f} → {history['nll'][-1]:.2f} nats; KL(p ‖ q) = {estimate.kl:.3f} nats")
assert estimate.kl < 0.01
