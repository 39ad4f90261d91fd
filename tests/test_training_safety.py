"""Faults injected into training and checkpoints: training stops before damage, with a clear error;
interrupts restore train/eval modes; checkpoints are written atomically and never replaced by
accident; bad checkpoints and devices are named."""

import os

import pytest
import torch
from torch import nn

import course_lib
from course_lib import autoencoders as ae
from course_lib import denoising, multimodal, stacked
from course_lib import cyclegan, evaluation, flows, gan, vae
from course_lib.checkpoint_io import load_checkpoint, save_checkpoint
from course_lib.training import (LossWatch, NonFiniteLossError, TrainingDivergedError, checked_step, fit,
                                 modes_restored_on_error, train_step)

torch.manual_seed(0)
X64 = torch.rand(16, 1, 64, 64)
X32 = torch.rand(8, 1, 32, 32)
STOPPED = (NonFiniteLossError, TrainingDivergedError)


def _state(*modules):
    return [{k: v.clone() for k, v in m.state_dict().items()} for m in modules]


def _same(before, *modules):
    return all(torch.equal(before_i[k], v) for before_i, m in zip(before, modules) for k, v in m.state_dict().items())


def _all_finite(*modules):
    return all(torch.isfinite(p).all() for m in modules for p in m.parameters())


# --------------------------------------------------------------------------- lr = 10⁶: every trainer stops

def _trainers(lr):
    return {
        "train_autoencoder": lambda: ae.train_autoencoder(ae.ConvAutoencoder(8), X64, epochs=3, lr=lr, batch_size=8,
                                                          progress=False),
        "train_vae": lambda: vae.train_vae(vae.ConvVAE(8), X64, epochs=3, lr=lr, batch_size=8, progress=False),
        "train_flow": lambda: flows.train_flow(flows.realnvp(), torch.randn(256, 2), epochs=3, lr=lr, batch_size=64,
                                               progress=False),
        "train_toy_gan": lambda: gan.train_toy_gan(lambda n, g: torch.randn(n, 2, generator=g), steps=20, lr=lr,
                                                   batch_size=32),
        "train_dcgan": lambda: gan.train_dcgan(gan.DCGANGenerator(), gan.DCGANDiscriminator(), X64, epochs=3, lr=lr,
                                               batch_size=8, progress=False),
        "train_feature_net": lambda: evaluation.train_feature_net(evaluation.SliceFeatureNet(), X64, torch.rand(16),
                                                                  epochs=3, lr=lr, batch_size=8, progress=False),
        "train_classifier": lambda: stacked.train_classifier(stacked.StackClassifier(denoising.FullyConvolutionalAutoencoder()), X32,
                                                        torch.randint(0, 2, (8,)), steps=20, lr=lr, batch_size=4),
        "train_multimodal_autoencoder": lambda: multimodal.train_multimodal_autoencoder(
            denoising.FullyConvolutionalAutoencoder((2, 8, 16)), X32, X32, epochs=3, lr=lr, batch_size=4, progress=False),
        "pretrain_stage": lambda: stacked.pretrain_stage(denoising.FullyConvolutionalAutoencoder(), 0, X32, epochs=3, lr=lr, batch_size=4,
                                                    progress=False),
        "train_cyclegan": lambda: cyclegan.train_cyclegan(cyclegan.CycleGAN(width=4, n_blocks=1, d_width=4), X64[:8],
                                                          X64[8:], epochs=3, lr=lr, batch_size=4, progress=False),
        "train_pix2pix": lambda: cyclegan.train_pix2pix(cyclegan.Pix2Pix(width=4, n_blocks=1, d_width=4), X64[:8],
                                                        X64[8:], epochs=3, lr=lr, batch_size=4, progress=False),
    }


@pytest.mark.parametrize("name", sorted(_trainers(0)))
def test_an_exploding_learning_rate_stops_every_trainer(name):
    with pytest.raises(STOPPED, match=r"step \d+"):
        _trainers(1e6)[name]()


def test_loss_watch_threshold():
    watch = LossWatch()
    watch.check({"loss": 0.5}, epoch=1, step=1)
    watch.check({"loss": 9e5}, epoch=1, step=2)  # below 10⁶ · max(1, 0.5)
    with pytest.raises(TrainingDivergedError, match="'loss' is 2e\\+06 at epoch 1, step 3"):
        watch.check({"loss": 2e6}, epoch=1, step=3)
    with pytest.raises(NonFiniteLossError, match="'g' is nan at epoch 2, step 4"):
        LossWatch().check({"g": float("nan")}, epoch=2, step=4)
    # A loss that was once large may come down and go up again within the factor: no alarm.
    watch = LossWatch()
    for step, value in enumerate([3e3, 2.0, 5e4, -1e3], start=1):
        watch.check(value, epoch=1, step=step)


# --------------------------------------------------------------------------- NaN: stopped before the step

def test_a_nan_slice_stops_the_dcgan_step_before_it_changes_anything():
    g, d = gan.DCGANGenerator(), gan.DCGANDiscriminator()
    g_opt, d_opt = torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters())
    batch = X64[:8].clone()
    batch[3, 0, 10, 10] = float("nan")
    before = _state(g, d)
    # gan_training_step now refuses non-finite real batches up front (issue 27); either way nothing changes.
    with pytest.raises((NonFiniteLossError, ValueError),
                       match="discriminator's step \\(parameters left unchanged\\)|must be finite"):
        gan.gan_training_step(g, d, g_opt, d_opt, [batch], lambda n: torch.randn(n, g.latent_dim), "non_saturating")
    assert _same(before, g, d)


def test_dcgan_training_on_a_nan_slice_leaves_every_parameter_finite():
    g, d = gan.DCGANGenerator(), gan.DCGANDiscriminator()
    x = X64.clone()
    x[5, 0, 0, 0] = float("nan")
    with pytest.raises((NonFiniteLossError, ValueError)):
        gan.train_dcgan(g, d, x, epochs=2, batch_size=8, progress=False)
    assert _all_finite(g, d)


def test_a_non_finite_gradient_of_a_finite_loss_is_caught_before_the_step():
    p = nn.Parameter(torch.ones(3))
    model = nn.Module()
    model.p = p
    optimizer = torch.optim.SGD([p], lr=0.1)
    # sqrt at 0: the loss is 0, its gradient 1/(2·sqrt(0)) = inf.
    with pytest.raises(NonFiniteLossError, match="a gradient is inf at train_step"):
        train_step(model, optimizer, None, lambda m, _: torch.sqrt(m.p - m.p.detach()).sum())
    assert torch.equal(p.detach(), torch.ones(3)) and (p.grad is None or not p.grad.any())


def test_checked_step_steps_when_finite():
    p = nn.Parameter(torch.ones(2))
    optimizer = torch.optim.SGD([p], lr=0.5)
    (p ** 2).sum().backward()
    checked_step(optimizer)
    assert torch.equal(p.detach(), torch.zeros(2))


@pytest.mark.parametrize("which", ["generator", "discriminator", "pix2pix"])
def test_translation_steps_stop_before_a_nan_reaches_the_weights(which):
    x, y = X64[:4].clone(), X64[4:8].clone()
    y[0, 0, 5, 5] = float("nan")
    if which == "pix2pix":
        model = cyclegan.Pix2Pix(width=4, n_blocks=1, d_width=4)
        g_opt, d_opt = torch.optim.Adam(model.G.parameters()), torch.optim.Adam(model.D.parameters())
        before = _state(model)
        with pytest.raises((NonFiniteLossError, ValueError)):
            cyclegan.pix2pix_step(model, g_opt, d_opt, x, y)
    else:
        model = cyclegan.CycleGAN(width=4, n_blocks=1, d_width=4)
        g_opt = torch.optim.Adam(list(model.G.parameters()) + list(model.F.parameters()))
        d_opt = torch.optim.Adam(list(model.D_X.parameters()) + list(model.D_Y.parameters()))
        before = _state(model)
        with pytest.raises((NonFiniteLossError, ValueError)):
            if which == "generator":
                cyclegan.cyclegan_generator_step(model, g_opt, x, y)
            else:
                cyclegan.cyclegan_discriminator_step(model, d_opt, x, y, x.clone(), y.clone())
    assert _all_finite(model) and _same(before, model)


def test_fit_names_the_epoch_and_step_of_a_nan_inside_the_step():
    def step(batch):
        raise NonFiniteLossError("loss 'loss' is nan at the step (parameters left unchanged)")
    with pytest.raises(NonFiniteLossError, match=r"\(epoch 1, step 1\)$"):
        fit(step, torch.zeros(4, 1), epochs=1, batch_size=2, progress=False)


# --------------------------------------------------------------------------- interrupts restore modes

class Interrupting(nn.Module):
    """Wraps a module; its ``calls``-th forward raises KeyboardInterrupt (a student's Ctrl-C)."""

    def __init__(self, module, calls):
        super().__init__()
        self.module, self.calls = module, calls

    def forward(self, *args):
        self.calls -= 1
        if self.calls == 0:
            raise KeyboardInterrupt
        return self.module(*args)


def test_ctrl_c_in_dcgan_training_restores_eval_mode():
    g, d = gan.DCGANGenerator().eval(), gan.DCGANDiscriminator().eval()
    d_interrupting = Interrupting(d, calls=5).eval()
    d_interrupting.latent_dim = g.latent_dim
    with pytest.raises(KeyboardInterrupt):
        gan.train_dcgan(g, d_interrupting, X64, epochs=2, batch_size=8, progress=False)
    assert not any(m.training for m in g.modules()) and not any(m.training for m in d_interrupting.modules())


def test_ctrl_c_in_autoencoder_training_restores_mixed_modes():
    model = ae.ConvAutoencoder(8)
    model.train()
    model.encoder.eval()  # mixed on entry: restored exactly
    modes = [m.training for m in model.modules()]
    calls = {"n": 0}

    def interrupting_forward(x, original=model.forward):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(x)

    model.forward = interrupting_forward
    with pytest.raises(KeyboardInterrupt):
        ae.train_autoencoder(model, X64, epochs=2, batch_size=8, progress=False)
    assert [m.training for m in model.modules()] == modes


def test_modes_restored_on_error_leaves_a_normal_exit_alone():
    net = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1)).eval()
    with modes_restored_on_error(net):
        net.train()
    assert net.training  # no error: what the block did stands


# --------------------------------------------------------------------------- checkpoints

def test_save_checkpoint_never_replaces_a_checkpoint_unless_asked(tmp_path):
    path = tmp_path / "model.pt"
    first = save_checkpoint(nn.Linear(2, 1), path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_checkpoint(nn.Linear(2, 1), path)
    assert load_checkpoint(path) is not None and path.with_suffix(".pt.sha256").read_text().startswith(first)
    second = save_checkpoint(nn.Linear(2, 1), path, overwrite=True)
    assert second != first and path.with_suffix(".pt.sha256").read_text().startswith(second)


def test_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    save_checkpoint(nn.Linear(2, 1), path)
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(nn.Linear(2, 1), path, overwrite=True)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "model.pt.sha256"]


def test_bad_checkpoints_are_named(tmp_path):
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    import hashlib
    digest = hashlib.sha256(b"").hexdigest()
    with pytest.raises(ValueError, match="empty.pt \\(0 bytes\\) is not a readable PyTorch checkpoint"):
        load_checkpoint(empty, expected_sha256=digest)
    truncated = tmp_path / "truncated.pt"
    save_checkpoint(nn.Linear(2, 1), tmp_path / "whole.pt")
    truncated.write_bytes((tmp_path / "whole.pt").read_bytes()[:100])
    with pytest.raises(ValueError, match="is not a readable PyTorch checkpoint"):
        load_checkpoint(truncated, expected_sha256=hashlib.sha256(truncated.read_bytes()).hexdigest())
    with pytest.raises(TypeError, match="expected_sha256 must be a 64-character hex string"):
        load_checkpoint(tmp_path / "whole.pt", expected_sha256=123)
    with pytest.raises(TypeError, match="path must be a path"):
        load_checkpoint(123)
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        load_checkpoint(tmp_path / "whole.pt", model="linear")
    with pytest.raises(TypeError, match="path must be a path"):
        save_checkpoint(nn.Linear(2, 1), None)


# --------------------------------------------------------------------------- devices

def test_a_device_this_torch_cannot_provide_is_refused_when_chosen(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "banana")
    with pytest.raises(ValueError, match="COURSE_DEVICE must be a device name"):
        course_lib.default_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("COURSE_DEVICE", "cuda")
        with pytest.raises(ValueError, match="COURSE_DEVICE must be a device this machine has.*cannot use it here"):
            course_lib.default_device()
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert course_lib.default_device() == torch.device("cpu")
