"""The fuzzer's registry: a small, fast, valid call for every public callable of course_lib.

``REGISTRY.entries`` holds one entry per callable (classes: their constructor; ``nn.Module``
classes also their ``forward`` where cheap), each a function that builds the valid call
(tiny tensors, tiny models, one epoch or two steps), plus the overrides the generic mutator
cannot infer: an argument's role, a mutation that is legitimate here (``accept``) or must be
refused although it usually is not (``refuse``), each with its reason. ``REGISTRY.excluded``
lists, with the reason, every public callable that is not fuzzed. ``tests/test_api_fuzz_engine.py``
fails when a public callable is in neither, so a new function cannot escape the fuzzer.

The engine fuzzes only the arguments a valid call passes: pass an argument explicitly to fuzz it.
Builders run in the forked child, seeded (``engine._seed``) before each build, so every case of a
callable starts from the same tensors and weights. Run the fuzzer with ``python -m tests.api_fuzz``.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # plotting imports pyplot; the children draw off-screen

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import course_lib  # noqa: E402
from course_lib import (authoring, autoencoders, checkpoint_io, conditional_gan, corruptions, cyclegan,  # noqa: E402
                        denoising, diagrams, diffusion, evaluation, flows, gan, gan_theory, grading, layers,
                        learned_similarity, metrics, multimodal, plotting, stacked, tolerances, training, vae,
                        widgets, zoo)
from course_lib import recipes  # noqa: E402
from course_lib.data import brain, medmnist, toys  # noqa: E402
from course_lib.recipes import autoencoders as r_autoencoders  # noqa: E402
from course_lib.recipes import denoising_stacked as r_denoising_stacked  # noqa: E402
from course_lib.recipes import diffusion as r_diffusion  # noqa: E402
from course_lib.recipes import gan as r_gan  # noqa: E402
from course_lib.recipes import translation as r_translation  # noqa: E402
from course_lib.recipes import vae as r_vae  # noqa: E402

from .engine import Registry, call, invoke_context  # noqa: E402

REGISTRY = Registry()
add, exclude = REGISTRY.add, REGISTRY.exclude

# The package scanned for public callables, and what is out of scope as a whole.
PACKAGE = "course_lib"
SKIPPED_PACKAGES = {
    "course_lib.checks": "out of scope: the self-checks take a student's code, not data (issue 27)",
}

# ---------------------------------------------------------------------------------------------
# Shared judgements (reasons are written once and quoted by many entries)
# ---------------------------------------------------------------------------------------------

# nn.Module.forward: NaN in, NaN out is how every torch layer behaves, and a check per forward pass
# would cost a device synchronisation per training step; the trainers' guards (check_loss,
# checked_step) stop a NaN before it reaches the weights. So NaN/inf inputs are legitimate there.
FORWARD_NAN = {"*:value:*": "a forward pass propagates NaN/inf like every torch layer; training's guards stop it"}
FLATTENED = "the function flattens each sample, so any per-sample shape (N, …) is legitimate"
ANY_SHAPE = "the function is elementwise / takes a tensor of any shape"
AS_TENSOR = "documented to accept anything torch.as_tensor / np.asarray takes (lists, arrays)"
TO_NUMPY = "plotting converts tensors, arrays and lists of numbers (plotting._to_numpy)"
LOG_DENSITY = "log 0 = −inf is a legitimate log-density"
NONFINITE_LOSS = "NonFiniteLossError is the documented answer to a non-finite loss"
USER_CALLBACK = "passed unchanged to the caller's own function; its shape is that function's business"


# ---------------------------------------------------------------------------------------------
# Small builders (every tensor is drawn after the engine seeds torch)
# ---------------------------------------------------------------------------------------------


def images(b: int = 2, size: int = 8, c: int = 1) -> torch.Tensor:
    return torch.rand(b, c, size, size)


def points(n: int = 6, d: int = 2) -> torch.Tensor:
    return torch.randn(n, d)


def labels(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def modes(k: int = 3) -> torch.Tensor:
    angles = torch.arange(k) * (2 * torch.pi / k)
    return torch.stack([angles.cos(), angles.sin()], dim=1)


def notebook():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    return new_notebook(cells=[
        new_markdown_cell("## Exercise 1 (2 points)"),
        new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),
        new_code_cell("check_f(f)"),
    ])


def toy_schedule() -> diffusion.NoiseSchedule:
    return diffusion.cosine_schedule(10)


def toy_model(parametrisation: str = "epsilon") -> diffusion.DiffusionModel:
    return diffusion.toy_diffusion(toy_schedule(), parametrisation=parametrisation, hidden=8, depth=1)


def slice_model() -> diffusion.DiffusionModel:
    """A class-conditional diffusion model of 8 px slices (GroupNorm needs channels in multiples of 8)."""
    return diffusion.DiffusionModel(diffusion.UNet((8, 8), n_classes=2, embed=4), toy_schedule(), (1, 8, 8))


def draw_points(n: int, g: torch.Generator):
    return torch.randn(n, 2, generator=g), None


def cyclegan_model() -> cyclegan.CycleGAN:
    return cyclegan.CycleGAN(width=4, n_blocks=1, d_width=4, downsamplings=1)


def pix2pix_model() -> cyclegan.Pix2Pix:
    return cyclegan.Pix2Pix(width=4, n_blocks=1, d_width=4, downsamplings=1)


def conv_vae(latent: int = 3, n_classes: int = 0, size: int = 32) -> vae.ConvVAE:
    return vae.ConvVAE(latent, size=size, width=4, n_classes=n_classes)


def feature_net() -> evaluation.SliceFeatureNet:
    return evaluation.SliceFeatureNet(width=2, n_levels=4)


def linear_and_adam() -> tuple[nn.Module, torch.optim.Optimizer]:
    model = nn.Linear(2, 1)
    return model, torch.optim.Adam(model.parameters(), lr=1e-2)


# =============================================================================================
# course_lib (the package itself)
# =============================================================================================


@add(course_lib.seed_everything)
def _():
    return call(3)


@add(course_lib.default_device)
def _():
    return call()


# =============================================================================================
# autoencoders
# =============================================================================================

exclude(autoencoders.PCA, "a result record of pca_fit (dataclass of fitted tensors), not built by callers; "
                          "pca_fit is fuzzed")


@add(autoencoders.reconstruction_loss)
def _():
    return call(images(), images())


@add(autoencoders.pca_fit, accept={"x:shape:*": FLATTENED})
def _():
    return call(images(6, 4), k=2)


@add(autoencoders.LinearAutoencoder)
def _():
    return call(16, 4)


@add(autoencoders.LinearAutoencoder, method="forward", accept={**FORWARD_NAN, "x:shape:drop_dim": FLATTENED},
     nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(2, 4)).using(autoencoders.LinearAutoencoder(16, 4).forward)


@add(autoencoders.fit_linear_autoencoder_als)
def _():
    return call(autoencoders.LinearAutoencoder(16, 3), torch.rand(10, 16), iterations=2)


@add(autoencoders.conv_encoder_trunk, roles={"size": "int_choice"})
def _():
    return call(32, width=8)


@add(autoencoders.conv_decoder_head, roles={"size": "int_choice"})
def _():
    return call(32, width=8, output=nn.Sigmoid())


@add(autoencoders.StretchedSigmoid)
def _():
    return call(margin=0.1)


@add(autoencoders.StretchedSigmoid, method="forward",
     accept={**FORWARD_NAN, "a:shape:*": ANY_SHAPE, "a:empty": ANY_SHAPE}, nonfinite_ok=FORWARD_NAN)
def _():
    return call(torch.randn(2, 1, 4, 4)).using(autoencoders.StretchedSigmoid().forward)


@add(autoencoders.ConvAutoencoder, roles={"size": "int_choice"})
def _():
    return call(4, size=32, width=8, output="sigmoid")


@add(autoencoders.ConvAutoencoder, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(2, 32)).using(autoencoders.ConvAutoencoder(4, size=32, width=8).forward)


@add(autoencoders.train_autoencoder)
def _():
    return call(autoencoders.ConvAutoencoder(4, size=32, width=8), images(4, 32), epochs=1, lr=3e-3,
                batch_size=2, seed=0, progress=False, corrupt=corruptions.random_level_corruption("gaussian", 0.1),
                device="cpu")


@add(autoencoders.encode_all)
def _():
    return call(autoencoders.ConvAutoencoder(4, size=32, width=8), images(3, 32), batch_size=2)


@add(autoencoders.reconstruct_all)
def _():
    return call(autoencoders.ConvAutoencoder(4, size=32, width=8), images(3, 32), batch_size=2)


@add(autoencoders.linear_probe_accuracy)
def _():
    y = labels(0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2)
    return call(torch.randn(12, 3), y, torch.randn(6, 3), y[:6], weight_decay=1e-3)


# =============================================================================================
# layers
# =============================================================================================


@add(layers.downsampling_convs)
def _():
    return call((1, 4, 8), batch_norm=True, activation=nn.ReLU)


@add(layers.upsampling_convs)
def _():
    return call((8, 4, 1), output=nn.Sigmoid(), batch_norm=True, activation=nn.ReLU)


# =============================================================================================
# checkpoint_io — files only
# =============================================================================================

exclude(checkpoint_io.save_checkpoint, "writes files: a mutated path would write into the working tree")
exclude(checkpoint_io.load_checkpoint, "reads files from a path; its argument checks are unit-tested in tests/")
exclude(checkpoint_io.ChecksumError, "an exception class, raised by load_checkpoint, not called with data")

# =============================================================================================
# conditional_gan
# =============================================================================================


@add(conditional_gan.ConditionalMLPGenerator, roles={"depth": "index"})
def _():
    return call(latent_dim=2, n_classes=3, hidden=8, depth=2)


@add(conditional_gan.ConditionalMLPGenerator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(4), labels(0, 1, 2, 0)).using(conditional_gan.ConditionalMLPGenerator(2, 3, 8, 1).forward)


@add(conditional_gan.ConditionalMLPDiscriminator, roles={"depth": "index"})
def _():
    return call(n_classes=3, hidden=8, depth=2)


@add(conditional_gan.ConditionalMLPDiscriminator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(4), labels(0, 1, 2, 0)).using(conditional_gan.ConditionalMLPDiscriminator(3, 8, 1).forward)


@add(conditional_gan.ConditionalDCGANGenerator)
def _():
    return call(latent_dim=4, n_classes=2, width=2)


@add(conditional_gan.ConditionalDCGANGenerator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(2, 4), labels(0, 1)).using(conditional_gan.ConditionalDCGANGenerator(4, 2, 2).forward)


@add(conditional_gan.ConditionalDCGANDiscriminator)
def _():
    return call(n_classes=2, width=2)


@add(conditional_gan.ConditionalDCGANDiscriminator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(2, 64), labels(0, 1)).using(conditional_gan.ConditionalDCGANDiscriminator(2, 2).forward)


@add(conditional_gan.ConditionalDCGAN)
def _():
    return call(latent_dim=4, n_classes=2, width=2)


@add(conditional_gan.given_labels, accept={"labels:shape:cut_last": "labels for a batch of any size B ≥ 1; the batch "
                                                                   "size is checked when the network is called"})
def _():
    return call(conditional_gan.ConditionalMLPGenerator(2, 3, 8, 1), labels(0, 1, 2))


@add(conditional_gan.conditional_discriminator_loss)
def _():
    return call(conditional_gan.ConditionalMLPDiscriminator(3, 8, 1), points(4), points(4), labels(0, 1, 2, 0))


@add(conditional_gan.labelled_mixture_sampler)
def _():
    return call(modes(), 0.1)


@add(conditional_gan.train_toy_cgan, roles={"ema_decay": "positive"})
def _():
    return call(conditional_gan.labelled_mixture_sampler(modes(), 0.1), 3, steps=2, batch_size=8, lr=1e-3,
                hold=0.5, r1_gamma=0.03, ema_decay=0.9, latent_dim=2, hidden=8, seed=0, device="cpu")


@add(conditional_gan.train_conditional_dcgan)
def _():
    return call(conditional_gan.ConditionalDCGANGenerator(4, 2, 2), conditional_gan.ConditionalDCGANDiscriminator(2, 2),
                images(4, 64), labels(0, 1, 0, 1), epochs=1, batch_size=2, lr=2e-4, seed=0, progress=False,
                device="cpu")


@add(conditional_gan.conditional_mode_accuracy)
def _():
    return call(points(6), labels(0, 1, 2, 0, 1, 2), modes(), 0.1)


# =============================================================================================
# corruptions
# =============================================================================================


@add(corruptions.masking_noise, accept={"x:shape:*": "any batch (B, …) is corrupted per sample"})
def _():
    return call(images(), 0.3, generator())


@add(corruptions.gaussian_noise, roles={"sigma": "nonneg"}, accept={"x:shape:*": "any batch (B, …) is corrupted per sample"})
def _():
    return call(images(), 0.1, generator())


@add(corruptions.salt_and_pepper, accept={"x:shape:*": "any batch (B, …) is corrupted per sample"})
def _():
    return call(images(), 0.2, generator())


@add(corruptions.corrupt, roles={"level": "fraction"}, accept={"x:shape:*": "any batch (B, …) is corrupted per sample"})
def _():
    return call(images(), "masking", 0.3, generator())


@add(corruptions.random_level_corruption)
def _():
    return call("gaussian", 0.2, generator())


# =============================================================================================
# cyclegan
# =============================================================================================

exclude(cyclegan.GeneratorStep, "a result record (NamedTuple) returned by cyclegan_generator_step")


def _scores() -> torch.Tensor:
    return torch.randn(2, 1, 6, 6)


@add(cyclegan.lsgan_discriminator_loss)
def _():
    return call(_scores(), _scores())


@add(cyclegan.lsgan_generator_loss, accept={"fake_scores:shape:*": "a score map of any shape per sample"})
def _():
    return call(_scores())


@add(cyclegan.cycle_consistency_loss)
def _():
    return call(images(2, 32), images(2, 32), images(2, 32), images(2, 32))


@add(cyclegan.identity_loss)
def _():
    return call(images(2, 32), images(2, 32), images(2, 32), images(2, 32))


@add(cyclegan.ResnetGenerator, roles={"n_blocks": "index", "downsamplings": "index"})
def _():
    return call(width=4, n_blocks=1, downsamplings=1)


@add(cyclegan.ResnetGenerator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(1, 32)).using(cyclegan.ResnetGenerator(4, 1, 1).forward)


@add(cyclegan.PatchDiscriminator)
def _():
    return call(in_channels=1, width=4)


@add(cyclegan.PatchDiscriminator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(1, 32)).using(cyclegan.PatchDiscriminator(1, 4).forward)


@add(cyclegan.CycleGAN, roles={"n_blocks": "index", "downsamplings": "index"})
def _():
    return call(width=4, n_blocks=1, d_width=4, downsamplings=1)


@add(cyclegan.ImagePool, roles={"size": "index"})
def _():
    return call(size=2, generator=generator())


@add(cyclegan.ImagePool, method="query", nonfinite_ok=FORWARD_NAN,
     accept={**FORWARD_NAN, "fakes:shape:*": "the pool keeps whatever images it is given"})
def _():
    return call(images(3)).using(cyclegan.ImagePool(2, generator()).query)


@add(cyclegan.cyclegan_generator_step, roles={"lambda_cyc": "nonneg", "lambda_id": "nonneg"})
def _():
    model = cyclegan_model()
    return call(model, torch.optim.Adam(model.generator_parameters()), images(1, 32), images(1, 32),
                lambda_cyc=10.0, lambda_id=5.0)


@add(cyclegan.cyclegan_discriminator_step)
def _():
    model = cyclegan_model()
    return call(model, torch.optim.Adam(model.discriminator_parameters()), images(1, 32), images(1, 32),
                images(1, 32), images(1, 32))


@add(cyclegan.train_cyclegan, roles={"pool_size": "index"})
def _():
    return call(cyclegan_model(), images(2, 32), images(2, 32), epochs=1, batch_size=2, lr=2e-4, d_lr=1e-4,
                lambda_cyc=10.0, lambda_id=5.0, pool_size=2, ema_decay=0.9, seed=0, progress=False,
                desc="CycleGAN", device="cpu")


@add(cyclegan.Pix2Pix, roles={"n_blocks": "index", "downsamplings": "index"})
def _():
    return call(width=4, n_blocks=1, d_width=4, downsamplings=1)


@add(cyclegan.pix2pix_step)
def _():
    model = pix2pix_model()
    return call(model, torch.optim.Adam(model.G.parameters()), torch.optim.Adam(model.D.parameters()),
                images(1, 32), images(1, 32), lambda_l1=100.0)


@add(cyclegan.train_pix2pix)
def _():
    return call(pix2pix_model(), images(2, 32), images(2, 32), epochs=1, batch_size=2, lr=2e-4, lambda_l1=100.0,
                ema_decay=0.9, seed=0, progress=False, desc="pix2pix", device="cpu")


@add(cyclegan.histogram_match)
def _():
    return call(images(2, 32), images(3, 32))


@add(cyclegan.translate)
def _():
    return call(cyclegan.ResnetGenerator(4, 1, 1), images(3, 32), batch_size=2)


# =============================================================================================
# data
# =============================================================================================


@add(brain.brain_slices, roles={"size": "int_choice"})
def _():
    return call(2, size=32, contrast="t2", split="val", seed=1, augment=True, lesion_prob=0.5, return_meta=True)


@add(brain.level_ids)
def _():
    return call("val")


@add(brain.paired_brain_slices, roles={"size": "int_choice"})
def _():
    return call(2, size=32, split="train", seed=0, augment=True, lesion_prob=0.3, return_meta=True)


@add(brain.unpaired_brain_slices, roles={"size": "int_choice"})
def _():
    return call(2, size=32, split="train", seed=0, augment=True, lesion_prob=(0.0, 0.5), return_meta=True)


@add(brain.t2_white_matter, accept={"t2:shape:cut_last": "a box filter works on any H × W: a non-square slice is legitimate"})
def _():
    return call(images(2, 16), size=3)


exclude(medmnist.load_medmnist_npz, "reads a user-provided .npz file; its checks are unit-tested in tests/test_data.py")
exclude(toys.Toy2D, "a result record (NamedTuple) returned by ring_gaussians and grid_gaussians")


@add(toys.ring_gaussians)
def _():
    return call(8, k=4, radius=1.0, std=0.05, seed=0)


@add(toys.grid_gaussians)
def _():
    return call(8, side=3, spacing=2.0, std=0.05, seed=0)


@add(toys.banana)
def _():
    return call(8, seed=0)


# =============================================================================================
# denoising
# =============================================================================================


@add(denoising.FullyConvolutionalAutoencoder, roles={"stride": "int_choice"})
def _():
    return call((1, 4, 8), stride=2)


@add(denoising.FullyConvolutionalAutoencoder, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(2, 8)).using(denoising.FullyConvolutionalAutoencoder((1, 4, 8), stride=2).forward)


@add(denoising.noise_gain)
def _():
    x = images(2, 8)
    return call(denoising.FullyConvolutionalAutoencoder((1, 4), stride=1), x, x + 0.1 * torch.randn_like(x))


@add(denoising.evaluate_denoising,
     accept={"x:shape:cut_last": "images of any size H × W ≥ 11 × 11 (SSIM's window) are legitimate: PSNR and SSIM "
                                 "are per image, and the model checks the size it needs"})
def _():
    return call(denoising.FullyConvolutionalAutoencoder((1, 4), stride=1), images(2, 16), "gaussian", [0.1, 0.2],
                seed=0)


# =============================================================================================
# diagrams — the schematic figures take no argument: their valid call is all there is to run
# =============================================================================================

for _diagram in (diagrams.autoencoder_diagram, diagrams.denoising_diagram, diagrams.stacked_pretraining_diagram,
                 diagrams.vae_graphical_model, diagrams.reparametrization_diagram, diagrams.gan_loop_diagram,
                 diagrams.cyclegan_diagram, diagrams.coupling_layer_diagram, diagrams.diffusion_chain_diagram):
    add(_diagram)(lambda: call())


@add(diagrams.made_hidden_degrees)
def _():
    return call(3, 4)


@add(diagrams.made_connections)
def _():
    return call([1, 2, 3], [1, 2, 1, 2])


@add(diagrams.made_masks_diagram)
def _():
    return call(dim=3, n_hidden=4)


# =============================================================================================
# diffusion
# =============================================================================================


@add(diffusion.NoiseSchedule, refuse={"alpha_bar:dtype:float32": "documented: float32 loses 1 − ᾱ_1 ≈ 1e-6"},
     accept={"alpha_bar:shape:cut_last": "a shorter decreasing ᾱ from 1 is a schedule with fewer steps (T = len − 1)"})
def _():
    return call(torch.tensor([1.0, 0.9, 0.5, 0.1], dtype=torch.float64))


@add(diffusion.linear_schedule)
def _():
    return call(10, beta_start=1e-4, beta_end=0.02)


@add(diffusion.cosine_schedule)
def _():
    return call(10, sigma_min=1e-3, sigma_max=0.9999)


@add(diffusion.q_sample)
def _():
    return call(points(3), torch.tensor([1, 2, 3]), toy_schedule(), points(3))


@add(diffusion.epsilon_loss)
def _():
    return call(points(3), points(3))


@add(diffusion.epsilon_to_score,
     accept={"eps_pred:shape:cut_last": "any per-sample shape (B, …) is legitimate: σ_t scales each sample"})
def _():
    return call(points(3), torch.tensor([0.1, 0.5, 0.9]))


@add(diffusion.ddpm_step, roles={"s": "index"})
def _():
    return call(points(3), points(3), 5, 3, toy_schedule(), points(3))


@add(diffusion.ddim_step, roles={"s": "index"})
def _():
    return call(points(3), points(3), 5, 0, toy_schedule())


@add(diffusion.guided_epsilon)
def _():
    return call(points(3), points(3), 1.5)


@add(diffusion.mixture_score, roles={"std": "nonneg", "alpha": "nonneg", "sigma": "nonneg"})
def _():
    return call(points(4), modes(), 0.1, alpha=0.9, sigma=0.3)


@add(diffusion.noise_embedding, accept={"log_snr:shape:cut_last": "a batch of any size B: (B,) → (B, dim)"})
def _():
    return call(torch.tensor([-3.0, 0.0, 4.0]), 8)


@add(diffusion.ToyDenoiser, roles={"depth": "index", "fourier": "index"})
def _():
    return call(dim=2, hidden=8, depth=1, embed=4, fourier=2)


@add(diffusion.ToyDenoiser, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(3), torch.tensor([-2.0, 0.0, 2.0])).using(diffusion.ToyDenoiser(2, 8, 1, 4, 2).forward)


@add(diffusion.UNet, roles={"n_classes": "index"})
def _():
    return call((8, 8), n_classes=2, embed=4)


@add(diffusion.UNet, method="forward", nonfinite_ok=FORWARD_NAN,
     accept={**FORWARD_NAN, "x_t:shape:cut_last": "images of any H × W: the way up interpolates to each skip's size"})
def _():
    return call(images(2, 8), torch.tensor([-1.0, 1.0]), labels(0, 1)).using(diffusion.UNet((8, 8), 2, 4).forward)


@add(diffusion.DiffusionModel, roles={"shift": "real"})
def _():
    return call(diffusion.ToyDenoiser(2, 8, 1, 4), toy_schedule(), (2,), parametrisation="v", shift=0.0, scale=1.0)


@add(diffusion.SliceDiffusion, roles={"n_samples": "index", "per_class": "index", "n_classes": "index"},
     accept={"guidance_weights:seq:empty": "no guidance weights: no guided samples stored"})
def _():
    return call((8, 8), n_classes=2, n_samples=1, guidance_weights=(0.0, 1.0), per_class=1, size=8,
                schedule=toy_schedule())


@add(diffusion.toy_diffusion, roles={"depth": "index", "fourier": "index", "shift": "real"})
def _():
    return call(toy_schedule(), scale=1.0, parametrisation="epsilon", hidden=8, depth=1, fourier=0, shift=0.0)


@add(diffusion.train_diffusion, roles={"ema_decay": "positive"})
def _():
    return call(toy_model(), draw_points, steps=2, batch_size=8, lr=2e-3, ema_decay=0.9, p_uncond=0.0, seed=0,
                progress=False, device="cpu")


@add(diffusion.train_diffusion, variant="conditional", roles={"ema_decay": "positive"})
def _():
    def draw(n: int, g: torch.Generator):
        return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 2, (n,), generator=g)

    return call(slice_model(), draw, steps=2, batch_size=4, lr=2e-3, ema_decay=0.9, p_uncond=0.2, seed=0,
                progress=False, device="cpu")


@add(diffusion.train_toy_diffusion, roles={"depth": "index", "fourier": "index", "shift": "real"})
def _():
    return call(lambda n, g: torch.randn(n, 2, generator=g), toy_schedule(), steps=2, scale=1.0, shift=0.0,
                parametrisation="epsilon", hidden=8, depth=1, fourier=0, seed=0, device="cpu", batch_size=8)


@add(diffusion.sample, roles={"t_last": "count", "clip": "float_seq"})
def _():
    return call(toy_model(), 3, n_steps=2, sampler="ddpm", t_last=5, generator=generator(), clip=(-3.0, 3.0),
                batch_size=2)


@add(diffusion.sample, variant="guided")
def _():
    return call(slice_model(), 2, n_steps=2, sampler="ddim", labels=labels(0, 1), guidance=1.0,
                generator=generator(), batch_size=2)


@add(diffusion.sampling_steps)
def _():
    return call(toy_schedule(), 3, t_last=4)


@add(diffusion.model_score)
def _():
    return call(toy_model(), points(3), 2)


@add(diffusion.step_at_noise, roles={"sigma": "fraction"})
def _():
    return call(toy_schedule(), 0.5)


@add(diffusion.score_error)
def _():
    return call(toy_model(), modes(), 0.1, 2, n=16, generator=generator())


@add(diffusion.reconstruct)
def _():
    return call(toy_model(), points(2), 4, n_steps=2, generator=generator())


@add(diffusion.reconstruct, variant="conditional")
def _():
    return call(slice_model(), images(2, 8), 4, n_steps=2, generator=generator(), labels=labels(0, 1))


@add(diffusion.anomaly_map)
def _():
    return call(toy_model(), points(2), 4, n_steps=2, n_draws=2, generator=generator())


@add(diffusion.probability_flow_log_prob)
def _():
    return call(toy_model("v"), points(3), rtol=1e-3, atol=1e-3)


# =============================================================================================
# evaluation
# =============================================================================================

exclude(evaluation.PrecisionRecall, "a result record (NamedTuple) returned by precision_recall")
exclude(evaluation.Coverage, "a result record (NamedTuple) returned by mode_coverage")
exclude(evaluation.LevelCoverage, "a result record (NamedTuple) returned by level_coverage")


@add(evaluation.SliceFeatureNet)
def _():
    return call(width=2, n_levels=4)


@add(evaluation.SliceFeatureNet, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(2, 64)).using(feature_net().forward)


@add(evaluation.slice_features)
def _():
    return call(feature_net(), images(3, 64), batch_size=2)


@add(evaluation.level_bins, accept={"level:shape:cut_last": "any number N of levels (N,) is legitimate"})
def _():
    return call(torch.tensor([0.1, 0.5, 0.99]), 4)


@add(evaluation.train_feature_net)
def _():
    return call(feature_net(), images(4, 64), torch.tensor([0.1, 0.4, 0.6, 0.9]), epochs=1, lr=2e-3, batch_size=2,
                seed=0, progress=False, device="cpu")


@add(evaluation.frechet_distance)
def _():
    return call(torch.randn(10, 3), torch.randn(12, 3))


@add(evaluation.precision_recall)
def _():
    return call(torch.randn(8, 3), torch.randn(8, 3), k=2)


@add(evaluation.nearest_neighbours, accept={"queries:shape:drop_dim": FLATTENED, "reference:shape:drop_dim": FLATTENED})
def _():
    return call(images(3, 4), images(5, 4), k=2)


@add(evaluation.nearest_neighbour_ssim)
def _():
    return call(images(2, 16), images(4, 16))


@add(evaluation.nearest_neighbour_mse,
     accept={"images:shape:drop_dim": FLATTENED, "reference:shape:drop_dim": FLATTENED})
def _():
    return call(images(2, 4), images(4, 4))


@add(evaluation.mode_coverage)
def _():
    return call(points(8), modes(), 0.1)


@add(evaluation.level_histogram)
def _():
    return call(feature_net(), images(3, 64), batch_size=2)


@add(evaluation.band_accuracy)
def _():
    return call(feature_net(), images(3, 64), labels(0, 1, 1), n_bands=2)


@add(evaluation.level_coverage)
def _():
    return call(feature_net(), images(3, 64), images(3, 64), min_share=0.25)


@add(evaluation.translation_scores)
def _():
    return call(images(2, 16), images(2, 16))


def _lesion_mask() -> torch.Tensor:
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, 2:5, 2:5] = 1.0
    return mask


@add(evaluation.lesion_signal)
def _():
    return call(images(), images(), _lesion_mask())


@add(evaluation.excess_area)
def _():
    return call(images(), images(), 0.1, size=3, region=torch.rand(2, 1, 8, 8) > 0.3)


@add(evaluation.box_smooth, accept={"maps:shape:cut_last": "maps of any size H × W are legitimate (the box must fit)"})
def _():
    return call(images(), size=3)


@add(evaluation.pixel_auroc)
def _():
    return call(images(), _lesion_mask(), region=torch.rand(2, 1, 8, 8) > 0.2)


@add(evaluation.rank_correlation)
def _():
    return call(torch.randn(6), torch.randn(6))


# =============================================================================================
# flows
# =============================================================================================

exclude(flows.KLEstimate, "a result record (NamedTuple) returned by kl_to_truth")


@add(flows.standard_normal_log_prob, accept={"u:shape:cut_last": "points of any dimension D"})
def _():
    return call(points(4, 3))


# The toy map's four functions take the same arguments: points (n, 2) and the map's σ.
for _toy_function in (flows.toy_map, flows.toy_map_inverse, flows.toy_map_log_det_inverse, flows.toy_log_prob):
    add(_toy_function)(lambda: call(points(4), sigma=1.5))


@add(flows.toy_density_integral)
def _():
    return call(sigma=1.0)


@add(flows.change_of_variables_log_prob)
def _():
    return call(points(4), flows.toy_map_inverse, flows.toy_map_log_det_inverse)


@add(flows.autograd_log_det)
def _():
    return call(flows.toy_map, points(3))


@add(flows.AffineCoupling, roles={"depth": "index"})
def _():
    return call([1.0, 0.0], hidden=8, depth=1, scale_bound=3.0)


@add(flows.AffineCoupling, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(4)).using(flows.AffineCoupling([1.0, 0.0], 8, 1).forward)


@add(flows.made_masks)
def _():
    return call(3, [4, 4])


@add(flows.MaskedLinear, accept={"mask:shape:cut_last": "any (out, in) 0/1 mask makes a layer of that shape"})
def _():
    return call(flows.made_masks(3, [4])[0])


@add(flows.MaskedLinear, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(2, 3)).using(flows.MaskedLinear(flows.made_masks(3, [4])[0]).forward)


@add(flows.MADE)
def _():
    return call(3, hidden_sizes=(4, 4), scale_bound=3.0)


@add(flows.MADE, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(2, 3)).using(flows.MADE(3, (4, 4)).forward)


@add(flows.MAFLayer)
def _():
    return call(3, hidden_sizes=(4, 4), scale_bound=3.0)


@add(flows.MAFLayer, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(2, 3)).using(flows.MAFLayer(3, (4, 4)).forward)


@add(flows.Reverse)
def _():
    return call()


@add(flows.Reverse, method="forward", accept={**FORWARD_NAN, "u:shape:cut_last": "a permutation takes points of any dimension D"},
     nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(2, 3)).using(flows.Reverse().forward)


@add(flows.Flow, accept={"layers:seq:empty": "a flow without layers is the identity"})
def _():
    return call([flows.Reverse(), flows.AffineCoupling([1.0, 0.0], 8, 1)], 2, name="flow")


@add(flows.Flow, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(4)).using(flows.realnvp(2, 2, 8).forward)


@add(flows.realnvp)
def _():
    return call(dim=2, n_couplings=2, hidden=8, scale_bound=3.0)


@add(flows.maf)
def _():
    return call(dim=2, n_layers=2, hidden=8, scale_bound=3.0)


@add(flows.train_flow)
def _():
    return call(flows.realnvp(2, 2, 8), points(16), epochs=1, batch_size=8, lr=3e-3, seed=0, progress=False,
                device="cpu")


@add(flows.kl_to_truth)
def _():
    return call(flows.realnvp(2, 1, 8).log_prob, points(8), log_p=flows.toy_log_prob)


@add(flows.density_grid, roles={"xlim": "float_seq", "ylim": "float_seq"})
def _():
    return call(flows.toy_log_prob, xlim=(-3.0, 3.0), ylim=(-5.0, 2.0), n=10)


# =============================================================================================
# gan
# =============================================================================================


@add(gan.discriminator_loss)
def _():
    return call(torch.randn(4), torch.randn(4))


@add(gan.generator_loss, accept={"fake_logits:shape:cut_last": "a batch of any size B ≥ 1 of logits is legitimate"})
def _():
    return call(torch.randn(4), kind="minimax")


@add(gan.generator_logit_gradient, accept={"d_of_g:type:*": AS_TENSOR, "d_of_g:shape:*": ANY_SHAPE})
def _():
    return call(torch.tensor([0.2, 0.7]), "minimax")


@add(gan.sample_latent)
def _():
    return call(3, 2, kind="uniform", generator=generator(), device="cpu")


@add(gan.dcgan_trunk)
def _():
    return call(2)


@add(gan.mixture_sampler, accept={"modes:shape:cut_last": "a mixture of Gaussians in any dimension d ≥ 1 is "
                                                        "legitimate (the toys use d = 2)"})
def _():
    return call(modes(), 0.1)


@add(gan.MLPGenerator, roles={"depth": "index"})
def _():
    return call(latent_dim=2, hidden=8, depth=1, out_dim=2)


@add(gan.MLPGenerator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(4)).using(gan.MLPGenerator(2, 8, 1).forward)


@add(gan.MLPDiscriminator, roles={"depth": "index"})
def _():
    return call(in_dim=2, hidden=8, depth=1)


@add(gan.MLPDiscriminator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(4)).using(gan.MLPDiscriminator(2, 8, 1).forward)


def _players():
    g, d = gan.MLPGenerator(2, 8, 1), gan.MLPDiscriminator(2, 8, 1)
    return g, d, torch.optim.Adam(g.parameters(), 1e-3), torch.optim.Adam(d.parameters(), 1e-3)


@add(gan.gan_training_step, roles={"r1_gamma": "nonneg"})
def _():
    g, d, g_opt, d_opt = _players()
    return call(g, d, g_opt, d_opt, [points(4)], lambda n: torch.randn(n, 2), kind="non_saturating", r1_gamma=0.1)


@add(gan.train_toy_gan, roles={"ema_decay": "positive", "k_disc": "count", "r1_every": "count",
                               "snapshot_size": "count", "late_batch_size": "count"},
     accept={"snapshot_steps:seq:empty": "no snapshots asked for"})
def _():
    return call(gan.mixture_sampler(modes(), 0.1), steps=2, kind="minimax", batch_size=8, late_batch_size=16,
                late_fraction=0.5, k_disc=1, lr=1e-3, hold=0.5, r1_gamma=0.1, r1_every=2, ema_decay=0.9, latent_dim=2,
                latent_kind="uniform", hidden=8, seed=0, snapshot_steps=(1, 2), snapshot_size=4, device="cpu")


@add(gan.ToyGAN, roles={"snapshot_size": "index"}, accept={"snapshot_steps:seq:empty": "no snapshots asked for"})
def _():
    return call(latent_dim=2, hidden=8, snapshot_steps=(1, 2), snapshot_size=4)


@add(gan.DCGAN, roles={"n_snapshots": "index", "snapshot_size": "index"})
def _():
    return call(latent_dim=4, width=2, n_snapshots=1, snapshot_size=2)


@add(gan.DCGANGenerator)
def _():
    return call(latent_dim=4, width=2)


@add(gan.DCGANGenerator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(points(2, 4)).using(gan.DCGANGenerator(4, 2).forward)


@add(gan.DCGANDiscriminator)
def _():
    return call(width=2)


@add(gan.DCGANDiscriminator, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(2, 64)).using(gan.DCGANDiscriminator(2).forward)


@add(gan.train_players, skip={"data:*": "passed to the caller's play(); fit's own data checks are fuzzed in fit"})
def _():
    g, d, _, _ = _players()

    def play(batch, g_opt, d_opt, rng):
        return gan.gan_training_step(g, d, g_opt, d_opt, [batch], lambda n: torch.randn(n, 2, generator=rng))

    return call(g, d, points(4), play, epochs=1, batch_size=2, lr=2e-4, seed=0, progress=False, desc="players",
                device=torch.device("cpu"), on_epoch=lambda epoch: None)


@add(gan.train_dcgan)
def _():
    return call(gan.DCGANGenerator(4, 2), gan.DCGANDiscriminator(2), images(4, 64), epochs=1, batch_size=2, lr=2e-4,
                kind="non_saturating", latent_kind="gaussian", seed=0, snapshot_noise=points(2, 4), progress=False,
                device="cpu")


# =============================================================================================
# gan_theory
# =============================================================================================


@add(gan_theory.mixture_log_density)
def _():
    return call(points(4), modes(), 0.1, weights=torch.tensor([0.2, 0.3, 0.5]))


@add(gan_theory.optimal_discriminator_logit, accept={"*:value:-inf": LOG_DENSITY},
     nonfinite_ok={"*:value:-inf": "log D*/(1 − D*) = ±inf where one density is 0"})
def _():
    return call(torch.randn(4), torch.randn(4))


# log p at p's own samples (and log q at q's) is > −inf; only the other density may be 0 there.
@add(gan_theory.jensen_shannon_divergence,
     accept={"log_q_on_p:value:-inf": LOG_DENSITY, "log_p_on_q:value:-inf": LOG_DENSITY})
def _():
    return call(torch.randn(5), torch.randn(5), torch.randn(5), torch.randn(5))


# =============================================================================================
# authoring and grading — notebooks in memory; files and the command lines are excluded
# =============================================================================================

exclude(authoring.main, "command-line entry point (argparse), not a library call")
exclude(authoring.generate, "reads and writes notebook folders on disk")
exclude(authoring.stale_exercises, "reads notebook folders on disk")
exclude(authoring.edited_exercises, "reads notebook folders on disk")
exclude(authoring.is_own_unedited, "reads a notebook file from disk")
exclude(authoring.ExerciseConflictError, "an exception class, raised by generate, not called with data")
exclude(grading.main, "command-line entry point (argparse), not a library call")
exclude(grading.write_course, "writes a course directory on disk")
exclude(grading.GradedCell, "a result record (frozen dataclass) returned by graded_cells")


@add(authoring.count_blanks)
def _():
    return call(notebook(), name="nb")


@add(authoring.make_exercise)
def _():
    return call(notebook(), name="nb")


@add(authoring.exercise_path, roles={"solution_path": "object", "exercises_dir": "object"})
def _():
    return call("solutions/01_x.ipynb", "exercises")


@add(grading.graded_cells)
def _():
    return call(notebook(), name="nb")


@add(grading.with_nbgrader_metadata)
def _():
    return call(notebook(), name="nb")


@add(grading.point_totals)
def _():
    return call(notebook(), name="nb")


# =============================================================================================
# learned_similarity
# =============================================================================================


@add(learned_similarity.discriminator_layer)
def _():
    return call(gan.DCGANDiscriminator(2), blocks=2)


@add(learned_similarity.feature_reconstruction_loss)
def _():
    return call(torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8))


@add(learned_similarity.sharpness,
     accept={"images:shape:cut_last": "images of any height and width ≥ 2 are legitimate (one pixel less is still an image)"})
def _():
    return call(images())


@add(learned_similarity.inception_score)
def _():
    return call(torch.softmax(torch.randn(4, 3), dim=1))


# =============================================================================================
# metrics
# =============================================================================================


@add(metrics.mse)
def _():
    return call(images(), images())


@add(metrics.psnr)
def _():
    return call(images(), images(), data_range=1.0)


@add(metrics.ssim)
def _():
    return call(images(2, 16), images(2, 16), data_range=1.0, window_size=5, sigma=1.5)


@add(metrics.ssim_map)
def _():
    return call(images(2, 16), images(2, 16), data_range=1.0, window_size=5, sigma=1.5)


# =============================================================================================
# multimodal
# =============================================================================================


@add(multimodal.modality_dropout)
def _():
    return call(images(3), images(3), generator())


@add(multimodal.train_multimodal_autoencoder)
def _():
    return call(denoising.FullyConvolutionalAutoencoder((2, 4), stride=1), images(4), images(4), epochs=1, lr=3e-3,
                batch_size=2, seed=0, progress=False, device="cpu")


@add(multimodal.predict_missing,
     accept={"present:shape:cut_last": "a fully convolutional stride-1 model takes any H × W (here 8 × 7); "
                                       "predict_missing documents (B, 1, H, W) and leaves the sizes to the model"})
def _():
    return call(denoising.FullyConvolutionalAutoencoder((2, 4), stride=1), images(2), "t1", batch_size=2)


# =============================================================================================
# plotting
# =============================================================================================

_PLOTTED = {"*:type:*": TO_NUMPY, "*:dtype:*": TO_NUMPY}


@add(plotting.image_grid, roles={"vmin": "real", "vmax": "real"},
     accept={**_PLOTTED, "images:shape:drop_dim": "(N, H, W) is documented",
             "images:shape:cut_last": "a non-square image (H ≠ W) is drawn as it is by imshow"})
def _():
    return call(images(3), nrow=2, titles=["a", "b", "c"], cmap="gray", vmin=0.0, vmax=1.0, cell_size=1.0,
                suptitle="s")


@add(plotting.loss_curves)
def _():
    return call({"loss": [1.0, 0.5], "val": [1.2, 0.7]}, keys=["loss", "val"], logy=True, title="t")


@add(plotting.scatter_2d, accept={"points:dtype:*": TO_NUMPY, "points:type:*": TO_NUMPY,
                                  "labels:type:*": TO_NUMPY, "labels:value:*": "any integer is a category",
                                  "labels:dtype:float32": "integer-valued floats are categories (np.round check)"})
def _():
    return call(points(5), labels=labels(0, 1, 0, 1, 2), cmap="viridis", title="t", s=8.0, alpha=0.8)


@add(plotting.scatter_2d, variant="values", accept={"*:dtype:*": TO_NUMPY, "*:type:*": TO_NUMPY})
def _():
    return call(points(5), values=torch.rand(5), colorbar_label="v")


@add(plotting.density_contours, roles={"grid": "seq", "colors": "choice"})
def _():
    x1, x2 = np.meshgrid(np.linspace(-1, 1, 6), np.linspace(-1, 1, 6))
    return call((x1, x2, np.exp(-(x1**2 + x2**2))), title="t", levels=4, filled=False, colors="red", label="q")


# =============================================================================================
# recipes — the callables that take arguments; fixed full-size data and full trainings are excluded
# =============================================================================================

exclude(recipes.Recipe, "a frozen dataclass record of how a checkpoint is built; zoo.RECIPES holds them")
_FULL_DATA = "takes no argument (nothing to mutate) and renders thousands of training slices (seconds)"
for _data in (r_autoencoders.ae01_train_data, r_denoising_stacked.sae02_unlabelled_data, r_vae.vae03_train_data,
              r_vae.arvae03_train_data, r_gan.features04_train_data, r_gan.dcgan04_train_data,
              r_gan.cdcgan04_train_data, r_translation.cyclegan05_train_data, r_translation.pix2pix05_train_data,
              r_diffusion.slices07_train_data):
    exclude(_data, _FULL_DATA)
exclude(r_denoising_stacked.sae02_labelled_data, "renders 1,000–2,000 fixed training slices (seconds per call); "
                                                 "its split goes to brain_slices, which is fuzzed")
exclude(r_translation.cyclegan05_lesion_train_data, "renders 8,000 fixed 64 px slices (tens of seconds); "
                                                    "its lesion_prob goes to unpaired_brain_slices, which is fuzzed")
_FULL_RECIPE = "trains a full fixed recipe (thousands of steps, minutes); the trainer it calls is fuzzed"
exclude(r_gan.train_gan04_toy, _FULL_RECIPE)
exclude(r_gan.train_cgan04_toy, _FULL_RECIPE)
exclude(r_diffusion.train_diffusion07_toy, _FULL_RECIPE)


@add(r_diffusion.toy_schedule)
def _():
    return call("linear")


@add(r_diffusion.toy_data, roles={"name": "choice"})
def _():
    return call("ring")


@add(r_diffusion.toy_shift, roles={"name": "choice"})
def _():
    return call("banana")


@add(r_diffusion.toy_scale, roles={"name": "choice"})
def _():
    return call("grid")


@add(r_diffusion.to_32px)
def _():
    return call(images(2, 8))


@add(r_diffusion.to_64px, accept={"x:shape:cut_last": "bilinear upsampling doubles any H × W"})
def _():
    return call(images(2, 4))


@add(r_gan.toy_modes, roles={"name": "choice"})
def _():
    return call("ring")


@add(r_translation.translation05_test_data)
def _():
    return call(2, return_meta=True)


@add(r_translation.lesion05_test_data)
def _():
    return call(2)


# =============================================================================================
# stacked
# =============================================================================================


def _stack() -> denoising.FullyConvolutionalAutoencoder:
    return denoising.FullyConvolutionalAutoencoder((1, 4, 8), stride=2)


@add(stacked.stage_loss, roles={"level": "index"})
def _():
    return call(_stack(), 1, torch.rand(2, 4, 4, 4), corrupt=lambda h: h + 0.1)


@add(stacked.pretrain_stage, roles={"level": "index"})
def _():
    return call(_stack(), 1, images(4), corrupt=lambda h: h + 0.1, epochs=1, lr=3e-3, batch_size=2, seed=0,
                progress=False, device="cpu")


@add(stacked.StackClassifier)
def _():
    return call(_stack(), n_classes=2)


@add(stacked.StackClassifier, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(2)).using(stacked.StackClassifier(_stack()).forward)


@add(stacked.train_classifier)
def _():
    return call(stacked.StackClassifier(_stack()), images(4), labels(0, 1, 0, 1), steps=2, lr=1e-3, batch_size=2,
                seed=0, device="cpu")


@add(stacked.classifier_accuracy)
def _():
    return call(stacked.StackClassifier(_stack()), images(3), labels(0, 1, 0), batch_size=2)


@add(stacked.label_efficiency, roles={"seeds": "int_seq"})
def _():
    return call(denoising.FullyConvolutionalAutoencoder((1, 4), stride=2), images(6), labels(0, 1, 0, 1, 0, 1),
                images(3), labels(0, 1, 0), n_labels=[2, 4], seeds=[0], steps=1, lr=3e-3, device="cpu")


# =============================================================================================
# tolerances
# =============================================================================================


@add(tolerances.assert_close, roles={"measured": "float_seq", "expected": "float_seq", "tolerance": "nonneg",
                                     "what": "object"},
     errors={"AssertionError": "documented: assert_close raises AssertionError for a figure outside its band"})
def _():
    return call([1.0, 2.0], [1.0, 2.05], 0.1, "x")


# =============================================================================================
# training
# =============================================================================================

exclude(training.NonFiniteLossError, "an exception class, raised by the training guards, not called with data")
exclude(training.TrainingDivergedError, "an exception class, raised by LossWatch, not called with data")


# epoch and step only label the error message: any value is as good as another there.
_LABELS = {"epoch:*": "only printed in the error message", "step:*": "only printed in the error message"}


@add(training.check_finite, roles={"losses": "real"}, skip=_LABELS, errors={"NonFiniteLossError": NONFINITE_LOSS})
def _():
    return call(0.5, epoch=1, step=2)


@add(training.check_loss, errors={"NonFiniteLossError": NONFINITE_LOSS},
     accept={"loss:dtype:int64": "an integer loss is still a number", "loss:dtype:bool": "a bool loss is still a number"})
def _():
    return call(torch.tensor(0.5), name="loss", where="here")


@add(training.checked_step)
def _():
    model, optimizer = linear_and_adam()
    model(torch.randn(3, 2)).pow(2).mean().backward()
    return call(optimizer, where="here")


@add(training.backward_and_step, errors={"NonFiniteLossError": NONFINITE_LOSS})
def _():
    model, optimizer = linear_and_adam()
    return call(optimizer, model(torch.randn(3, 2)).pow(2).mean(), name="loss", where="here")


@add(training.located, invoke=invoke_context)
def _():
    return call("epoch 1")


@add(training.LossWatch)
def _():
    return call(factor=1e6)


@add(training.LossWatch, method="check", roles={"losses": "real"}, skip=_LABELS,
     errors={"NonFiniteLossError": NONFINITE_LOSS, "TrainingDivergedError": "documented: an exploding loss"})
def _():
    return call(0.5, epoch=1, step=1).using(training.LossWatch().check)


@add(training.modes_restored_on_error, invoke=invoke_context)
def _():
    return call(nn.Linear(2, 2), nn.BatchNorm1d(2))


@add(training.unchanged_on_nonfinite, invoke=invoke_context)
def _():
    return call(nn.Linear(2, 2), nn.BatchNorm1d(2))


@add(training.train_step, skip={"batch:*": USER_CALLBACK})
def _():
    model, optimizer = linear_and_adam()
    return call(model, optimizer, points(4), lambda m, b: m(b).pow(2).mean())


@add(training.fit, accept={"data:shape:*": "fit slices rows of any tensor; step decides what a row is",
                           "data:type:*": "documented: any re-iterable of batches (a list, an array) is used as-is",
                           "data:dtype:*": "fit does not interpret the data; step does"})
def _():
    def step(batch):
        return torch.as_tensor(batch, dtype=torch.float32).pow(2).mean()

    return call(step, points(8), epochs=1, batch_size=4, shuffle=True, seed=0, callback=lambda epoch, history: None,
                progress=False, desc="fit", device="cpu")


@add(training.single_threaded, invoke=invoke_context)
def _():
    return call()


@add(training.weight_average)
def _():
    return call(nn.Linear(2, 2), 0.9)


@add(training.WeightAverages, roles={"decay": "positive"},
     accept={"networks:seq:empty": "no networks: nothing to average"})
def _():
    return call([nn.Linear(2, 2)], 0.9)


@add(training.adam_with_schedule, roles={"parameters": "tensor_seq", "betas": "float_seq"})
def _():
    return call(list(nn.Linear(2, 2).parameters()), 1e-3, schedule="cosine", total_steps=10, betas=(0.9, 0.999))


@add(training.to_device, skip={"batch:*": "any object: what is not a tensor or a container passes through unchanged"})
def _():
    return call((torch.rand(2, 2), {"a": torch.rand(2)}), torch.device("cpu"))


@add(training.map_batches, nonfinite_ok={"x:value:*": USER_CALLBACK},
     accept={"x:shape:*": USER_CALLBACK, "x:dtype:*": USER_CALLBACK, "x:value:*": USER_CALLBACK})
def _():
    return call(lambda t: t * 2, points(5), batch_size=2, device="cpu")


# =============================================================================================
# vae
# =============================================================================================

exclude(vae.ELBOTerms, "a result record (NamedTuple) returned by negative_elbo")


@add(vae.reparametrize)
def _():
    return call(points(3), points(3), generator())


@add(vae.kl_to_standard_normal)
def _():
    return call(points(3), points(3))


@add(vae.gaussian_nll)
def _():
    return call(images(2, 4), images(2, 4), sigma_x=0.5)


@add(vae.negative_elbo)
def _():
    return call(images(2, 4), images(2, 4), points(2, 3), points(2, 3), sigma_x=0.5, beta=2.0)


@add(vae.attribute_regularization)
def _():
    return call(torch.randn(5), torch.rand(5), delta=1.0)


@add(vae.one_hot, accept={"labels:shape:cut_last": "any number B ≥ 1 of labels (B,) is legitimate: one row per label"})
def _():
    return call(labels(0, 2, 1), 3)


@add(vae.ConvVAE, roles={"size": "int_choice", "n_classes": "index"})
def _():
    return call(3, size=32, width=4, n_classes=2)


@add(vae.ConvVAE, method="forward", accept=FORWARD_NAN, nonfinite_ok=FORWARD_NAN)
def _():
    return call(images(2, 32), labels(0, 1), generator()).using(conv_vae(n_classes=2).forward)


@add(vae.train_vae)
def _():
    return call(conv_vae(n_classes=2), images(4, 32), labels(0, 1, 0, 1), epochs=1, beta=1.0, sigma_x=1.0, lr=2e-3,
                batch_size=2, seed=0, progress=False, device="cpu")


@add(vae.train_vae, variant="attribute", roles={"attribute_dim": "index", "gamma": "nonneg"})
def _():
    return call(conv_vae(), images(4, 32), epochs=1, batch_size=2, attribute=torch.rand(4), gamma=10.0, delta=1.0,
                attribute_dim=1, progress=False)


@add(vae.train_vae, variant="similarity", roles={"similarity_weight": "nonneg"})
def _():
    layer = learned_similarity.discriminator_layer(gan.DCGANDiscriminator(2), blocks=2)
    return call(conv_vae(size=64), images(4, 64), epochs=1, batch_size=2, similarity=layer, similarity_weight=0.02,
                progress=False)


@add(vae.evaluate_elbo)
def _():
    return call(conv_vae(n_classes=2), images(3, 32), labels(0, 1, 1), sigma_x=1.0, seed=0, batch_size=2)


@add(vae.sample_prior)
def _():
    return call(conv_vae(n_classes=2), 2, labels(0, 1), generator())


@add(vae.interpolate)
def _():
    return call(conv_vae().decode, torch.randn(3), torch.randn(3), steps=4)


def _quadratic(z: torch.Tensor) -> torch.Tensor:
    return (z**2).sum(-1)


@add(vae.pathwise_gradients)
def _():
    return call(_quadratic, torch.zeros(2), torch.ones(2), torch.randn(5, 2))


@add(vae.score_function_gradients, roles={"baseline": "choice"})
def _():
    return call(_quadratic, torch.zeros(2), torch.ones(2), torch.randn(5, 2), baseline="leave_one_out")


@add(vae.exact_estimator_variances, accept={"a:type:*": AS_TENSOR, "a:shape:*": ANY_SHAPE, "a:empty": ANY_SHAPE})
def _():
    return call(torch.tensor([0.0, 1.0]), sigma=1.0)


@add(vae.encoder_gradient_variances)
def _():
    return call(conv_vae(), images(2, 32), n_samples=4, sigma_x=1.0, seed=0)


# =============================================================================================
# widgets
# =============================================================================================


def _decoder():
    return conv_vae(latent=2).decode


@add(widgets.decode_latent, roles={"z": "float_seq"})
def _():
    return call(_decoder(), [0.1, -0.2])


@add(widgets.latent_explorer_figure, roles={"z": "float_seq"}, accept={"codes:type:*": AS_TENSOR})
def _():
    return call(_decoder(), [0.1, 0.2], points(6), values=torch.rand(6), value_label="v", codes_title="c")


@add(widgets.latent_explorer)
def _():
    return call(_decoder(), points(6), values=torch.rand(6), value_label="v", steps=10, codes_title="c")


@add(widgets.traverse_latent, roles={"values": "float_seq"},
     accept={"z0:type:*": AS_TENSOR, "z0:dtype:*": "copied into a float32 latent"})
def _():
    return call(torch.randn(3), [0, 2], [1.0, -1.0])


@add(widgets.latent_traversal)
def _():
    return call(_decoder(), torch.randn(2), [0, 1], span=2.0, steps=4)


@add(widgets.flow_stage_figure, roles={"step": "index"})
def _():
    return call(flows.realnvp(2, 2, 8).stages(torch.randn(20, 2)), 1, ["a", "b"])


@add(widgets.flow_stepper)
def _():
    return call(flows.realnvp(2, 2, 8), n=20, seed=0)


# =============================================================================================
# zoo
# =============================================================================================

exclude(zoo.main, "command-line entry point (argparse), not a library call")
exclude(zoo.train, "overwrites a shipped checkpoint in course_lib/checkpoints after a full training (minutes)")
exclude(zoo.fit_fresh, "trains a full fixed recipe from scratch (minutes); the trainers are fuzzed")


@add(zoo.checkpoint_path, roles={"name": "choice"})
def _():
    return call("gan04_ring")


@add(zoo.load, roles={"name": "choice"})
def _():
    return call("gan04_ring", device="cpu")


def warm_up() -> None:
    """Do once, in the parent before it forks, what every child would otherwise repeat: the lazy
    imports of the first optimiser (torch._dynamo and sympy, about 1.5 s) and of the first figure,
    and the vendored brain volumes. No torch computation beyond a one-element tensor: a parent that
    ran a parallel region before forking could leave its children an unusable thread pool."""
    import matplotlib.pyplot as plt

    torch.optim.Adam([nn.Parameter(torch.zeros(1))])
    plt.close(plt.figure())
    for contrast in ("t1", "t2", "wm"):  # _smoothed keeps 4: the 32 px ones most calls use
        brain._smoothed(contrast, 32)
