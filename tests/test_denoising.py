"""Lecture 02's fully convolutional autoencoder and the measures of denoising."""

import math

import pytest
import torch
from torch import nn

from course_lib.corruptions import gaussian_noise
from course_lib.denoising import FullyConvolutionalAutoencoder, evaluate_denoising, noise_gain


def _images(shape=(6, 1, 8, 8), seed=0):
    """Values strictly inside (0.1, 0.9), so a pixel set to 0 or 1 is always a changed pixel."""
    return 0.1 + 0.8 * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


class _Constant(nn.Module):
    def forward(self, x):
        return torch.full_like(x, 0.5)


def test_noise_gain_is_one_for_the_identity_and_zero_for_a_constant():
    x = _images((4, 1, 8, 8))
    x_tilde = gaussian_noise(x, 0.1, torch.Generator().manual_seed(0))
    assert torch.allclose(noise_gain(nn.Identity(), x, x_tilde), torch.ones(4))
    assert torch.equal(noise_gain(_Constant(), x, x_tilde), torch.zeros(4))
    with pytest.raises(ValueError, match="differ from x in every image"):
        noise_gain(nn.Identity(), x, x)
    with pytest.raises(ValueError, match="same shape"):
        noise_gain(nn.Identity(), x, x_tilde[:2])


def test_evaluate_denoising_rows_and_same_draws_for_every_model():
    x = _images((6, 1, 16, 16))
    rows = evaluate_denoising(nn.Identity(), x, "gaussian", (0.05, 0.2), seed=3)
    assert [r["level"] for r in rows] == [0.05, 0.2]
    for r in rows:  # the identity restores nothing
        assert r["psnr_out"] == pytest.approx(r["psnr_in"]) and r["ssim_out"] == pytest.approx(r["ssim_in"])
    assert rows[0]["psnr_in"] > rows[1]["psnr_in"]
    again = evaluate_denoising(nn.Identity(), x, "gaussian", (0.05, 0.2), seed=3)
    assert again == rows


def test_stacked_autoencoder_shapes():
    stack = FullyConvolutionalAutoencoder((1, 4, 8, 16))
    x = torch.rand(3, 1, 32, 32)
    assert stack.depth == 3
    assert stack.encode(x).shape == (3, 16, 4, 4)
    assert stack.encode(x, depth=1).shape == (3, 4, 16, 16)
    assert stack.encode(x, depth=0) is x
    assert stack.decode(stack.encode(x, depth=2), depth=2).shape == x.shape
    assert stack(x).shape == x.shape
    full = FullyConvolutionalAutoencoder((2, 6), stride=1)
    assert full.encode(torch.rand(2, 2, 10, 10)).shape == (2, 6, 10, 10)


def test_a_full_resolution_stage_can_represent_the_identity_exactly():
    """Why an over-complete AE can learn nothing: a delta kernel in and out is a perfect copy."""
    stack = FullyConvolutionalAutoencoder((1, 16), stride=1)
    with torch.no_grad():
        for p in stack.parameters():
            p.zero_()
        stack.encoders[0][0].weight[0, 0, 1, 1] = 1.0  # channel 0 of the code is LeakyReLU(x) = x for x ≥ 0
        stack.decoders[0].weight[0, 0, 1, 1] = 1.0  # the output copies channel 0 back
    x = torch.rand(4, 1, 16, 16)
    assert torch.allclose(stack(x), x)
    noise = torch.rand(4, 1, 16, 16)
    assert torch.allclose(stack(noise), noise)  # and reproduces noise just as well


@pytest.mark.parametrize("call, match", [
    (lambda: FullyConvolutionalAutoencoder((1,)), "at least two positive ints"),
    (lambda: FullyConvolutionalAutoencoder((1, 0)), r"channels\[1\] must be an int from 1 to 1,000,000 .*, got 0"),
    (lambda: FullyConvolutionalAutoencoder((1, 4), stride=3), r"stride must be one of \(1, 2\)"),
    (lambda: FullyConvolutionalAutoencoder((1, 4, 8)).encode(torch.rand(2, 1, 10, 10)), "divisible by 4"),
    (lambda: FullyConvolutionalAutoencoder((1, 4, 8)).encode(torch.rand(2, 3, 8, 8)), r"\(B, 1, H, W\)"),
    (lambda: FullyConvolutionalAutoencoder((1, 4, 8)).encode(torch.rand(2, 1, 8, 8), depth=3), "depth must be an int from 0 to 2"),
    (lambda: FullyConvolutionalAutoencoder((1, 4, 8)).decode(torch.rand(2, 4, 2, 2)), r"codes \(B, 8, h, w\)"),
])
def test_stacked_autoencoder_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: FullyConvolutionalAutoencoder((1, 4), stride=True), TypeError, "stride must be an int"),
    (lambda: FullyConvolutionalAutoencoder((1, 10**9)), ValueError, r"channels\[1\] must be an int from 1 to"),
    (lambda: FullyConvolutionalAutoencoder((1, 4, 8))(torch.rand(2, 1, 8, 8).long()), TypeError, "floating-point"),
    (lambda: FullyConvolutionalAutoencoder((1, 4, 8))(torch.rand(0, 1, 8, 8)), ValueError, "at least one sample"),
    (lambda: FullyConvolutionalAutoencoder((1, 4, 8))(torch.rand(2, 1, 8, 8).double()), TypeError,
     r"x must be float32 like the stack's parameters"),
    (lambda: FullyConvolutionalAutoencoder((1, 4, 8))([[0.0]]), TypeError, "a torch.Tensor"),
    (lambda: noise_gain(nn.Identity(), _images().masked_fill(_images() > 0.5, math.nan), _images(seed=1)),
     ValueError, "x must be finite"),
    (lambda: noise_gain(nn.Identity(), _images(), _images(seed=1)[:, 0]), ValueError, "same shape"),
    (lambda: noise_gain(lambda x: x, _images(), _images(seed=1)), TypeError, "model must be a torch.nn.Module"),
    (lambda: evaluate_denoising(nn.Identity(), _images((2, 1, 16, 16)), "gaussian", [0.1, -0.2]), ValueError,
     r"levels\[1\] must be a finite number ≥ 0"),
    (lambda: evaluate_denoising(nn.Identity(), _images((2, 1, 16, 16)), "masking", [1.5]), ValueError,
     r"levels\[0\] must be a finite number in \[0, 1\]"),
    (lambda: evaluate_denoising(nn.Identity(), _images((2, 1, 16, 16)), "gaussian", []), ValueError,
     "at least one corruption level"),
    (lambda: evaluate_denoising(nn.Identity(), _images((2, 1, 8, 8)), "gaussian", [0.1]), ValueError, "11×11"),
    (lambda: evaluate_denoising(nn.Identity(), _images((2, 1, 16, 16)), "gaussian", [0.1], seed=-1), ValueError,
     "seed must be an int from 0"),
])
def test_denoising_refuses_bad_input_with_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
