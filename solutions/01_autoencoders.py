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
# # Exercises 01 — Autoencoders
#
# Three pieces of the lecture, written by you: the reconstruction loss, the linear autoencoder,
# and one training step. After each one a check cell runs your code on hidden cases against
# the library's reference and either prints a ✓ line or tells you *what* is wrong.
# Replace each `raise NotImplementedError()` with your code; run the notebook top to bottom.
#
# Read lecture 01 first. This notebook runs in well under a minute.

# %%
from course_lib import seed_everything

seed_everything(0)

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn

from course_lib.autoencoders import ConvAutoencoder, reconstruct_all, pca_fit
from course_lib.checks import check_linear_autoencoder, check_reconstruction_loss, check_train_step
from course_lib.data import brain_slices
from course_lib.metrics import psnr, ssim
from course_lib.plotting import loss_curves
from course_lib.training import fit

x_train = brain_slices(1000, size=32, seed=0)
x_test = brain_slices(300, size=32, split="test", seed=1)
print("train", tuple(x_train.shape), "| test", tuple(x_test.shape))

# %% [markdown]
# ## Exercise 1 — the reconstruction loss
#
# Implement
#
# $$\mathcal{L} = \frac{1}{B}\sum_{b=1}^{B} \lVert x_b - x'_b \rVert^2 ,$$
#
# for a batch `x` of any shape `(B, ...)` and its reconstruction `x_hat` of the same shape:
# square the errors, **sum over everything except the batch dimension**, then **average over
# the batch**. Return a 0-d tensor that autograd can differentiate (no `.item()`).

# %%
def my_reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    ### BEGIN SOLUTION
    return (x - x_hat).pow(2).flatten(1).sum(dim=1).mean()
    ### END SOLUTION


# %%
check_reconstruction_loss(my_reconstruction_loss)

# %% [markdown]
# ## Exercise 2 — a linear autoencoder
#
# Write the autoencoder with an affine encoder $z = W_e x + b_e$ and an affine decoder
# $x' = W_d z + b_d$ — no activation function anywhere. `encode` takes a batch `(B, n_inputs)`
# (flatten anything else) and returns `(B, latent_dim)`; `decode` maps codes back to
# `(B, n_inputs)`; `forward` returns the reconstruction in the input's shape.
# The check trains your model on a small problem and compares its error with PCA's.

# %%
class MyLinearAutoencoder(nn.Module):
    def __init__(self, n_inputs: int, latent_dim: int) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.encoder = nn.Linear(n_inputs, latent_dim)
        self.decoder = nn.Linear(latent_dim, n_inputs)
        ### END SOLUTION

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return self.encoder(x.flatten(1))
        ### END SOLUTION

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return self.decoder(z)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return self.decode(self.encode(x)).view_as(x)
        ### END SOLUTION


# %%
check_linear_autoencoder(MyLinearAutoencoder)

# %% [markdown]
# Now watch gradient descent find PCA's subspace on brain slices (32 px, $k = 4$). We track the
# ratio of the linear autoencoder's error to PCA's and the cosines of the principal angles
# between the two subspaces (lecture 01, section 3).

# %% tags=["nbval-ignore-output"]
K = 4
pca = pca_fit(x_train, K)
flat = x_train.flatten(1)
seed_everything(0)
linear_ae = MyLinearAutoencoder(32 * 32, K)
with torch.no_grad():
    linear_ae.decoder.bias.copy_(pca.mean)  # start at the mean image: the directions are what is learned
optimizer = torch.optim.Adam(linear_ae.parameters(), lr=0.02)
pca_error = my_reconstruction_loss(pca.reconstruct(flat), flat).item()
trace = {"error ratio": [], "cosines": []}
for step in range(1500):
    optimizer.zero_grad()
    loss = my_reconstruction_loss(linear_ae(flat), flat)
    loss.backward()
    optimizer.step()
    if step % 50 == 49:
        q, _ = torch.linalg.qr(linear_ae.decoder.weight.detach())
        trace["error ratio"].append(loss.item() / pca_error)
        trace["cosines"].append(torch.linalg.svdvals(pca.components @ q).tolist())

print(f"after 1500 steps: error / PCA error = {trace['error ratio'][-1]:.2f}")
print("cosines of the principal angles:", [round(c, 2) for c in trace["cosines"][-1]])
assert trace["error ratio"][-1] < 0.5 * trace["error ratio"][0]
assert trace["cosines"][-1][0] > 0.99, "the direction of largest variance is found first"

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
steps = [50 * (i + 1) for i in range(len(trace["error ratio"]))]
ax1.plot(steps, trace["error ratio"])
ax1.axhline(1, color="k", ls=":")
ax1.set(xlabel="step", ylabel="error / PCA error", yscale="log")
ax2.plot(steps, trace["cosines"])
ax2.set(xlabel="step", ylabel="cos(principal angle)", ylim=(0, 1.05))
fig.tight_layout()
plt.show()

# %% [markdown]
# The cosines rise one after the other: the direction of largest variance is found first, the
# others follow in order of their variance, and after 1,500 steps the last one is still far
# from aligned — the error is still above PCA's. Gradient descent is heading for PCA's
# subspace, only slowly. That is why the lecture minimised the same loss by alternating least
# squares, which reaches the optimum in a few iterations.
#
# ## Exercise 3 — one training step
#
# Write the step every training loop repeats: clear the old gradients, compute the loss with
# `loss_fn(model, batch)`, back-propagate, update the parameters, and return the loss as a
# Python float. The check compares your parameters with the reference after each of three
# consecutive steps.

# %%
def my_train_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch: torch.Tensor, loss_fn) -> float:
    ### BEGIN SOLUTION
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    return loss.item()
    ### END SOLUTION


# %%
check_train_step(my_train_step)

# %% [markdown]
# Put your three pieces to work: a convolutional autoencoder with $k = 8$ on 32-px slices,
# trained with your step and your loss inside the course's `fit` loop, then compared with PCA
# at the same code size on held-out slices.

# %% tags=["nbval-ignore-output"]
seed_everything(0)
conv_ae = ConvAutoencoder(latent_dim=8, size=32)
optimizer = torch.optim.Adam(conv_ae.parameters(), lr=2e-3)


def ae_loss(model, batch):
    return my_reconstruction_loss(model(batch), batch)


# progress=False keeps this cell's output to the checked numbers below
history = fit(lambda batch: my_train_step(conv_ae, optimizer, batch, ae_loss), x_train, epochs=15, batch_size=32,
              progress=False)
recon_ae = reconstruct_all(conv_ae, x_test)
recon_pca = pca_fit(x_train, 8).reconstruct(x_test).clamp(0, 1)
scores = {name: (psnr(r, x_test).mean().item(), ssim(r, x_test).mean().item())
          for name, r in [("PCA", recon_pca), ("conv AE", recon_ae)]}
for name, (p, s) in scores.items():
    print(f"{name:8s} held-out PSNR {p:.1f} dB, SSIM {s:.2f}")
assert history["loss"][-1] < 0.5 * history["loss"][0]
assert scores["conv AE"][0] > scores["PCA"][0]
loss_curves(history, logy=True, title="your training step at work")
plt.show()
