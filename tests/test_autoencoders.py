"""Lecture 01's library: the convolutional AE, its training and its output layer."""

import math

import pytest
import torch
from torch import nn

from course_lib.autoencoders import (ConvAutoencoder, LinearAutoencoder, StretchedSigmoid, conv_encoder_trunk,
                                     encode_all, fit_linear_autoencoder_als, linear_probe_accuracy, pca_fit,
                                     reconstruct_all, reconstruction_loss, train_autoencoder)


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
    (lambda: ConvAutoencoder(2, output="tanh"), "output must be one of"),
    (lambda: StretchedSigmoid(0.0), "margin"),
    (lambda: StretchedSigmoid(1.5), "margin"),
    (lambda: ConvAutoencoder(2, size=32).encode(torch.rand(2, 1, 64, 64)), r"\(B, 1, 32, 32\)"),
    (lambda: ConvAutoencoder(2, size=32).decode(torch.rand(2, 3)), r"\(B, 2\)"),
])
def test_conv_autoencoder_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _ae() -> ConvAutoencoder:
    torch.manual_seed(0)
    return ConvAutoencoder(2, size=32, width=4)


_NAN = torch.rand(4, 1, 32, 32).index_fill(0, torch.tensor([1]), math.nan)


@pytest.mark.parametrize("call, error, match", [
    (lambda: ConvAutoencoder(2.0), TypeError, "latent_dim must be an int"),
    (lambda: ConvAutoencoder(True), TypeError, "latent_dim must be an int"),
    (lambda: ConvAutoencoder(10**9), ValueError, "latent_dim must be an int from 1 to 1,000,000"),
    (lambda: ConvAutoencoder(2, size=32, width=1), ValueError, "width must be an int from 2"),
    (lambda: conv_encoder_trunk(32, width=10**9), ValueError, "width must be an int from 2"),
    (lambda: _ae()(torch.rand(2, 1, 32, 32).double()), TypeError, "x must be float32 like the model's parameters"),
    (lambda: _ae()(torch.rand(0, 1, 32, 32)), ValueError, "at least one sample"),
    (lambda: _ae()(torch.ones(2, 1, 32, 32, dtype=torch.bool)), TypeError, "floating-point"),
    (lambda: StretchedSigmoid()(torch.ones(3, dtype=torch.long)), TypeError, "a must be a floating-point"),
    (lambda: reconstruction_loss(_NAN, torch.rand(4, 1, 32, 32)), ValueError, "x_hat must be finite"),
    (lambda: reconstruction_loss(torch.rand(4, 2), torch.rand(4, 2).to("meta")), ValueError,
     "x must be on cpu like x_hat"),
    (lambda: pca_fit(torch.rand(1, 16), 1), ValueError, "at least 2 images"),
    (lambda: pca_fit(torch.rand(6, 16), 6), ValueError, r"k must be an int from 1 to 5"),
    (lambda: pca_fit(torch.rand(6, 16), True), TypeError, "k must be an int"),
    (lambda: pca_fit(torch.rand(6, 16).index_fill(1, torch.tensor([0]), math.inf), 2), ValueError,
     "x must be finite"),
    (lambda: pca_fit(torch.rand(6, 16), 2).top(3), ValueError, "k must be an int from 1 to 2"),
    (lambda: pca_fit(torch.rand(6, 16), 2).encode(torch.rand(2, 15)), ValueError, "16 numbers per sample"),
    (lambda: LinearAutoencoder(16, 32), ValueError, "latent_dim must be ≤ n_inputs = 16"),
    (lambda: LinearAutoencoder(16, 4)(torch.rand(2, 1, 4, 3)), ValueError, "16 numbers per sample"),
    (lambda: fit_linear_autoencoder_als(LinearAutoencoder(16, 3), torch.rand(5, 16), iterations=0), ValueError,
     "iterations must be an int from 1"),
    (lambda: fit_linear_autoencoder_als(nn.Linear(16, 3), torch.rand(5, 16)), TypeError,
     "model must be a LinearAutoencoder"),
    (lambda: train_autoencoder(_ae(), _NAN, epochs=1, progress=False), ValueError, "x_train must be finite"),
    (lambda: train_autoencoder(_ae(), torch.rand(4, 1, 32, 32), epochs=10**9, progress=False), ValueError,
     "epochs must be an int from 1 to 100,000"),
    (lambda: train_autoencoder(_ae(), torch.rand(4, 1, 32, 32), epochs=1, lr=0.0, progress=False), ValueError,
     "lr must be a finite number > 0"),
    (lambda: train_autoencoder(_ae(), torch.rand(4, 1, 32, 32), epochs=1, corrupt="gaussian", progress=False),
     TypeError, "corrupt must be None or a function"),
    (lambda: encode_all(nn.Identity(), torch.rand(4, 1, 32, 32)), TypeError, "model must have an encode method"),
    (lambda: encode_all(_ae(), torch.rand(4, 1, 32, 32), batch_size=0), ValueError, "batch_size must be an int"),
    (lambda: reconstruct_all(_ae(), _NAN), ValueError, "x must be finite"),
    (lambda: linear_probe_accuracy(torch.rand(6, 3), torch.tensor([0, 1, 0, 1, 0, 1]), torch.rand(2, 3),
                                   torch.tensor([0, 1.0])), TypeError, "labels_test must be a 1-D int64 tensor"),
    (lambda: linear_probe_accuracy(torch.rand(6, 3), torch.tensor([0, 1, 0, 1, 0, -1]), torch.rand(2, 3),
                                   torch.tensor([0, 1])), ValueError, "labels_train must hold class labels"),
    (lambda: linear_probe_accuracy(torch.rand(6, 3), torch.tensor([0, 1, 0, 1, 0, 1]), torch.rand(2, 4),
                                   torch.tensor([0, 1])), ValueError, "features_test must be"),
    (lambda: linear_probe_accuracy(torch.rand(1, 3), torch.tensor([0]), torch.rand(2, 3), torch.tensor([0, 1])),
     ValueError, "at least 2 samples"),
])
def test_autoencoders_refuse_bad_input_with_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_linear_probe_accepts_float64_features():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(20) % 2
    features = torch.randn(20, 3, generator=g, dtype=torch.float64) + 3 * y[:, None]
    assert linear_probe_accuracy(features[:14], y[:14], features[14:], y[14:]) > 0.8
