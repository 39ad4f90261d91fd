"""The device path: every training function, the loader and the samplers take a ``device``; what
they create lives where their inputs do.

This machine has no GPU, so the second device is PyTorch's ``meta`` device (tensors with a shape
and a device but no values): an operation that mixes a meta tensor with an ordinary CPU tensor
raises, so a tensor made on the CPU by mistake inside a function shows up as an error or as a
result on the wrong device."""

import pytest
import torch
from torch import nn

from course_lib import autoencoders, corruptions, cyclegan, denoising, diffusion, evaluation, flows, gan, metrics, multimodal
from course_lib import stacked, vae, zoo
from course_lib.training import map_batches

META = torch.device("meta")
X64 = torch.rand(8, 1, 64, 64, generator=torch.Generator().manual_seed(0))
X32 = torch.rand(8, 1, 32, 32, generator=torch.Generator().manual_seed(1))


def _weights(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


# Each entry: (build the model, train it given extra keyword arguments) — small enough to run twice.
TRAINERS = {
    "train_autoencoder": (lambda: autoencoders.ConvAutoencoder(4),
                          lambda m, **kw: autoencoders.train_autoencoder(m, X64, epochs=1, batch_size=4, progress=False,
                                                                         **kw)),
    "train_multimodal_autoencoder": (lambda: denoising.FullyConvolutionalAutoencoder((2, 4, 8)),
                                     lambda m, **kw: multimodal.train_multimodal_autoencoder(
                                         m, X32, X32.flip(-1), epochs=1, batch_size=4, progress=False, **kw)),
    "pretrain_stage": (lambda: denoising.FullyConvolutionalAutoencoder((1, 4, 8)),
                       lambda m, **kw: stacked.pretrain_stage(m, 1, X32, epochs=1, batch_size=4, progress=False, **kw)),
    "train_classifier": (lambda: stacked.StackClassifier(denoising.FullyConvolutionalAutoencoder((1, 4, 8))),
                         lambda m, **kw: stacked.train_classifier(m, X32, torch.arange(8) % 2, steps=3, batch_size=4,
                                                                  **kw)),
    "train_vae": (lambda: vae.ConvVAE(4),
                  lambda m, **kw: vae.train_vae(m, X64, epochs=1, batch_size=4, progress=False, **kw)),
    "train_dcgan": (lambda: gan.DCGAN(8, 4),
                    lambda m, **kw: gan.train_dcgan(m.generator, m.discriminator, X64, epochs=1, batch_size=4,
                                                    progress=False, **kw)),
    "train_cyclegan": (lambda: cyclegan.CycleGAN(width=4, n_blocks=1, d_width=4),
                       lambda m, **kw: cyclegan.train_cyclegan(m, X64[:4], X64[4:], epochs=1, batch_size=2,
                                                               progress=False, **kw)),
    "train_pix2pix": (lambda: cyclegan.Pix2Pix(width=4, n_blocks=1, d_width=4),
                      lambda m, **kw: cyclegan.train_pix2pix(m, X64[:4], X64[4:], epochs=1, batch_size=2,
                                                             progress=False, **kw)),
    "train_flow": (lambda: flows.realnvp(hidden=8),
                   lambda m, **kw: flows.train_flow(m, torch.randn(64, 2, generator=torch.Generator().manual_seed(2)),
                                                    epochs=1, batch_size=16, progress=False, **kw)),
    "train_diffusion": (lambda: diffusion.toy_diffusion(diffusion.linear_schedule(20), hidden=8, depth=1, fourier=1),
                        lambda m, **kw: diffusion.train_diffusion(
                            m, lambda n, g: (torch.randn(n, 2, generator=g), None), steps=3, batch_size=8, **kw)),
    "train_feature_net": (lambda: evaluation.SliceFeatureNet(4),
                          lambda m, **kw: evaluation.train_feature_net(m, X64, torch.linspace(0, 1, 8), epochs=1,
                                                                       batch_size=4, progress=False, **kw)),
}


@pytest.mark.parametrize("name", sorted(TRAINERS))
def test_every_training_function_takes_an_explicit_cpu_device(name):
    """device="cpu" is the default made explicit: the same weights, bit for bit, and the model on the CPU."""
    build, train = TRAINERS[name]
    torch.manual_seed(0)
    implicit = build()
    train(implicit)
    torch.manual_seed(0)
    explicit = build()
    train(explicit, device="cpu")
    assert all(t.device.type == "cpu" for t in explicit.state_dict().values())
    assert all(torch.equal(a, b) for a, b in zip(_weights(implicit).values(), _weights(explicit).values()))


def test_the_toy_gan_label_efficiency_and_the_loader_take_a_device():
    sampler = gan.mixture_sampler(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]), 0.05)
    result = gan.train_toy_gan(sampler, steps=5, batch_size=8, hidden=8, snapshot_steps=(5,), device="cpu")
    assert result["snapshots"][5].device.type == "cpu" and result["latent"](3).device.type == "cpu"
    accuracy = stacked.label_efficiency(denoising.FullyConvolutionalAutoencoder((1, 4, 8)), X32, torch.arange(8) % 2,
                                        X32, torch.arange(8) % 2, n_labels=(4,), seeds=(0,), steps=2, device="cpu")
    assert accuracy["pretrained"].shape == (1, 1)
    loaded = zoo.load("gan04_ring", device="cpu")
    assert {t.device.type for t in loaded.state_dict().values()} == {"cpu"}


@pytest.mark.parametrize("device, error, words", [
    ("gpu", ValueError, "must be a device name"),
    (3, TypeError, "must be a device name such as 'cpu'"),
    *([] if torch.cuda.is_available() else [("cuda", ValueError, "must be a device this machine has")]),
])
def test_a_device_that_is_not_here_is_refused_before_training(device, error, words):
    build, train = TRAINERS["train_autoencoder"]
    model = build()
    before = _weights(model)
    with pytest.raises(error, match=words):
        train(model, device=device)
    assert all(torch.equal(a, b) for a, b in zip(before.values(), _weights(model).values()))
    with pytest.raises(error, match=words):
        zoo.load("gan04_ring", device=device)


def _meta(module: nn.Module) -> nn.Module:
    return module.to(META).eval()


def _on_meta(*tensors: torch.Tensor) -> bool:
    return all(t.device == META for t in tensors)


MX64, MX32 = X64.to(META), X32.to(META)

# Each entry returns the tensors a function made from meta inputs (or with a model on meta).
MADE_ON_META = {
    "ConvAutoencoder": lambda: [_meta(autoencoders.ConvAutoencoder(4))(MX64)],
    "FullyConvolutionalAutoencoder": lambda: [_meta(denoising.FullyConvolutionalAutoencoder((1, 4, 8)))(MX32)],
    "ConvVAE, conditional": lambda: list(_meta(vae.ConvVAE(4, n_classes=3))(MX64, torch.arange(8, device=META) % 3)),
    "reparametrize, CPU generator": lambda: [vae.reparametrize(torch.zeros(4, 2, device=META),
                                                               torch.zeros(4, 2, device=META),
                                                               torch.Generator().manual_seed(0))],
    "sample_prior": lambda: [vae.sample_prior(_meta(vae.ConvVAE(4)), 3, generator=torch.Generator().manual_seed(0))],
    "negative_elbo": lambda: list(vae.negative_elbo(MX64, MX64, torch.zeros(8, 4, device=META),
                                                    torch.zeros(8, 4, device=META))),
    "interpolate": lambda: [vae.interpolate(lambda z: z, torch.zeros(4, device=META), torch.ones(4, device=META))],
    "masking_noise": lambda: [corruptions.masking_noise(MX32, 0.5, torch.Generator().manual_seed(0))],
    "gaussian_noise": lambda: [corruptions.gaussian_noise(MX32, 0.1, torch.Generator().manual_seed(0))],
    "salt_and_pepper": lambda: [corruptions.salt_and_pepper(MX32, 0.1, torch.Generator().manual_seed(0))],
    "modality_dropout": lambda: list(multimodal.modality_dropout(MX32, MX32, torch.Generator().manual_seed(0))),
    "reconstruction_loss": lambda: [autoencoders.reconstruction_loss(MX32, MX32)],
    "psnr, ssim": lambda: [metrics.psnr(MX32, MX32), metrics.ssim(MX32, MX32)],
    "sample_latent": lambda: [gan.sample_latent(4, 2, "gaussian", torch.Generator().manual_seed(0), META),
                              gan.sample_latent(4, 2, "uniform", torch.Generator().manual_seed(0), META)],
    "DCGAN": lambda: [_meta(gan.DCGANDiscriminator(4))(
        _meta(gan.DCGANGenerator(8, 4))(torch.zeros(2, 8, device=META)))],
    "GAN losses": lambda: [gan.discriminator_loss(torch.zeros(4, device=META), torch.zeros(4, device=META)),
                           gan.generator_loss(torch.zeros(4, device=META))],
    "CycleGAN networks and losses": lambda: [
        _meta(cyclegan.ResnetGenerator(4, 1))(MX64), _meta(cyclegan.PatchDiscriminator(width=4))(MX64),
        cyclegan.cycle_consistency_loss(MX64, MX64, MX64, MX64), cyclegan.identity_loss(MX64, MX64, MX64, MX64),
        cyclegan.lsgan_discriminator_loss(torch.zeros(4, device=META), torch.zeros(4, device=META)),
        cyclegan.lsgan_generator_loss(torch.zeros(4, device=META))],
    "translate": lambda: [cyclegan.translate(_meta(cyclegan.ResnetGenerator(4, 1)), MX64, batch_size=3)],
    "SliceFeatureNet, slice_features": lambda: [evaluation.slice_features(_meta(evaluation.SliceFeatureNet(4)), MX64,
                                                                          batch_size=3)],
    "encode_all, reconstruct_all": lambda: [
        autoencoders.encode_all(_meta(autoencoders.ConvAutoencoder(4)), MX64, 3),
        autoencoders.reconstruct_all(_meta(autoencoders.ConvAutoencoder(4)), MX64, 3)],
    "predict_missing": lambda: [multimodal.predict_missing(_meta(denoising.FullyConvolutionalAutoencoder((2, 4))),
                                                           MX32, "t1", batch_size=3)],
    "flows: log_prob, sample": lambda: [_meta(flows.realnvp(hidden=8)).log_prob(torch.zeros(5, 2, device=META)),
                                        _meta(flows.maf(hidden=8)).log_prob(torch.zeros(5, 2, device=META)),
                                        _meta(flows.realnvp(hidden=8)).sample(5, torch.Generator().manual_seed(0))],
    "toy map and its log-det": lambda: [flows.toy_map(torch.zeros(5, 2, device=META)),
                                        flows.toy_map_log_det_inverse(torch.zeros(5, 2, device=META)),
                                        flows.toy_log_prob(torch.zeros(5, 2, device=META))],
    "map_batches": lambda: [map_batches(lambda c: c * 2, MX32, 3)],
    "diffusion: networks, forward process, steps, guidance": lambda: _diffusion_on_meta(),
}


def _diffusion_on_meta() -> list[torch.Tensor]:
    schedule = diffusion.linear_schedule(20)
    model = _meta(diffusion.DiffusionModel(diffusion.UNet((8, 8), n_classes=2), schedule, (1, 32, 32),
                                           parametrisation="v"))
    steps = torch.full((8,), 5)
    x_t = diffusion.q_sample(MX32, steps, schedule, torch.zeros_like(MX32))
    eps = model.epsilon(x_t, steps, torch.arange(8, device=META) % 3)
    return [x_t, eps, diffusion.ddim_step(x_t, eps, 5, 2, schedule),
            diffusion.ddpm_step(x_t, eps, 5, 2, schedule, torch.zeros_like(MX32)),
            diffusion.guided_epsilon(eps, eps, 1.0), model.to_data_space(x_t),
            _meta(diffusion.toy_diffusion(schedule, hidden=8, fourier=2)).epsilon(torch.zeros(4, 2, device=META),
                                                                                  torch.full((4,), 3))]


@pytest.mark.parametrize("name", sorted(MADE_ON_META))
def test_nothing_is_made_on_another_device_than_the_inputs(name):
    with torch.no_grad():
        made = MADE_ON_META[name]()
    assert made and _on_meta(*made), [t.device for t in made]


def test_the_meta_check_catches_a_tensor_made_on_the_cpu():
    """The test above can fail: a function that forgets its input's device is caught."""
    def forgets(x: torch.Tensor) -> torch.Tensor:
        return x + torch.randn(x.shape)  # made on the default device, the CPU

    with pytest.raises(RuntimeError, match="device"):
        forgets(MX32)

    def returns_cpu(x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0],), 0.0)

    assert not _on_meta(returns_cpu(MX32))
