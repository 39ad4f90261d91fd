"""Lecture 01's library: the convolutional AE, its training and its output layer."""

import math

import pytest
import torch

from course_lib.autoencoders import ConvAutoencoder, StretchedSigmoid, train_autoencoder


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("output, training, low, high", [
    ("stretched_sigmoid", True, -0.1, 1.1), ("stretched_sigmoid", False, 0.0, 1.0),
    ("sigmoid", True, 0.0, 1.0), ("sigmoid", False, 0.0, 1.0),
])
def test_conv_autoencoder_shapes_and_output_range(size, output, training, low, high):
    model = ConvAutoencoder(3, size=size, output=output).train(training)
    x = torch.rand(5, 1, size, size)
    assert model.encode(x).shape == (5, 3)
    assert model(x).shape == (5, 1, size, size)
    extreme = model.decode(1e4 * torch.randn(64, 3, generator=torch.Generator().manual_seed(0)))
    assert extreme.min() >= low and extreme.max() <= high
    assert extreme.min() < low + 0.01 and extreme.max() > high - 0.01  # the whole range is reachable


def test_train_autoencoder_trains_in_training_mode_even_after_eval():
    """Training an eval-mode model must not keep StretchedSigmoid's clamp (it would cut gradients)."""
    model = ConvAutoencoder(2, size=32).eval()
    seen = []
    model.decoder[-1].register_forward_hook(lambda module, args, out: seen.append(module.training))
    train_autoencoder(model, torch.rand(8, 1, 32, 32), epochs=1, batch_size=8, progress=False)
    assert seen == [True]


def test_stretched_sigmoid_formula_and_its_slope_near_black():
    a = torch.linspace(-8, 8, 101, requires_grad=True)
    out = StretchedSigmoid(0.1)(a)
    assert torch.allclose(out, 1.2 * torch.sigmoid(a) - 0.1)
    # Where each head outputs a dark-background value of 0.01, compare the slopes dx'/da.
    plain = torch.tensor(math.log(0.01 / 0.99), requires_grad=True)  # sigmoid(plain) = 0.01
    stretched = torch.tensor(math.log(0.11 / 1.09), requires_grad=True)  # 1.2 sigmoid − 0.1 = 0.01
    torch.sigmoid(plain).backward()
    StretchedSigmoid(0.1)(stretched).backward()
    assert StretchedSigmoid(0.1)(stretched).item() == pytest.approx(0.01, abs=1e-6)
    assert stretched.grad > 9 * plain.grad


@pytest.mark.parametrize("call, match", [
    (lambda: ConvAutoencoder(2, size=48), "size 32 or 64"),
    (lambda: ConvAutoencoder(0), "latent_dim"),
    (lambda: ConvAutoencoder(2.0), "latent_dim"),
    (lambda: ConvAutoencoder(2, output="tanh"), "output must be one of"),
    (lambda: StretchedSigmoid(0.0), "margin"),
    (lambda: StretchedSigmoid(1.5), "margin"),
    (lambda: ConvAutoencoder(2, size=32).encode(torch.rand(2, 1, 64, 64)), r"\(B, 1, 32, 32\)"),
    (lambda: ConvAutoencoder(2, size=32).decode(torch.rand(2, 3)), r"\(B, 2\)"),
])
def test_conv_autoencoder_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
