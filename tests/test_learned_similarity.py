"""Learned similarity (Larsen et al., 2016): the frozen discriminator layer, the feature reconstruction
loss, and the two image-set numbers of the slide — sharpness and the Inception score."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course_lib.gan import DCGANDiscriminator
from course_lib.learned_similarity import discriminator_layer, feature_reconstruction_loss, inception_score, sharpness


@pytest.fixture
def discriminator():
    torch.manual_seed(0)
    return DCGANDiscriminator(width=8)


@pytest.fixture
def x():
    return torch.rand(3, 1, 64, 64, generator=torch.Generator().manual_seed(1))


# --- discriminator_layer -------------------------------------------------------------------------

@pytest.mark.parametrize("blocks, shape", [(1, (8, 32, 32)), (2, (16, 16, 16)), (3, (32, 8, 8)), (4, (64, 4, 4))])
def test_layer_shapes(discriminator, x, blocks, shape):
    assert discriminator_layer(discriminator, blocks)(x).shape == (3, *shape)


def test_the_default_is_the_third_block(discriminator, x):
    assert torch.equal(discriminator_layer(discriminator)(x), discriminator_layer(discriminator, 3)(x))


@pytest.mark.parametrize("blocks", [1, 2, 3, 4])
def test_layer_is_the_start_of_the_eval_mode_discriminator(discriminator, x, blocks):
    """The features are the original's output after its ``blocks``-th LeakyReLU (conv, batch norm, LeakyReLU
    per block), with the batch norms in eval mode."""
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for bn in (m for m in discriminator.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_mean.copy_(torch.rand(bn.num_features, generator=g) - 0.5)  # non-trivial statistics
            bn.running_var.copy_(torch.rand(bn.num_features, generator=g) + 0.5)
    layer = discriminator_layer(discriminator, blocks)
    discriminator.eval()
    h, seen = x, 0
    with torch.no_grad():
        for module in discriminator.net:
            h = module(h)
            seen += isinstance(module, nn.LeakyReLU)
            if seen == blocks:
                break
        assert torch.allclose(layer(x), h)
        if blocks == 4:  # the last block feeds the linear head
            assert torch.allclose(discriminator.net[-1](layer(x).flatten(1)).squeeze(1), discriminator(x), atol=1e-6)


def test_layer_is_frozen_but_passes_gradients_to_its_input(discriminator, x):
    layer = discriminator_layer(discriminator)
    assert len(list(layer.parameters())) > 0
    assert not any(p.requires_grad for p in layer.parameters())
    assert all(p.requires_grad for p in discriminator.parameters())  # the original stays trainable
    x = x.clone().requires_grad_()
    layer(x).pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # a VAE's decoder learns through it


def test_layer_stays_in_eval_mode(discriminator, x):
    layer = discriminator_layer(discriminator)
    assert not layer.training and not any(m.training for m in layer.modules())
    assert layer.train() is layer
    assert not any(m.training for m in layer.modules())
    parent = nn.ModuleDict({"features": layer, "head": nn.Linear(2, 2)})
    parent.train()
    assert parent.training and parent["head"].training
    assert not any(m.training for m in layer.modules())
    # batch norm uses the stored statistics: a sample's features do not depend on the rest of the batch
    with torch.no_grad():
        assert torch.allclose(layer(x)[:1], layer(x[:1]), atol=1e-6)
        before = [b.clone() for b in layer.buffers()]
        layer(torch.rand(4, 1, 64, 64))
    assert all(torch.equal(b, c) for b, c in zip(before, layer.buffers()))


def test_layer_is_a_copy(discriminator, x):
    layer = discriminator_layer(discriminator)
    before = layer(x)
    with torch.no_grad():
        for p in discriminator.parameters():
            p.add_(1.0)
        for b in discriminator.buffers():
            if b.is_floating_point():
                b.mul_(3.0)
    assert torch.equal(layer(x), before)
    assert all(p.data_ptr() != q.data_ptr() for p in layer.parameters() for q in discriminator.parameters())


def test_layer_errors(discriminator, x):
    with pytest.raises(TypeError, match="DCGANDiscriminator"):
        discriminator_layer(nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1)))
    with pytest.raises(TypeError, match="DCGANDiscriminator"):
        discriminator_layer(discriminator.net)
    for blocks in (0, 5, -1):
        with pytest.raises(ValueError, match="blocks"):
            discriminator_layer(discriminator, blocks)
    for blocks in (2.0, True):
        with pytest.raises(TypeError, match="blocks"):
            discriminator_layer(discriminator, blocks)
    layer = discriminator_layer(discriminator)
    with pytest.raises(ValueError, match="x must be"):
        layer(torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match="x must be"):
        layer(x[0])


# --- feature_reconstruction_loss ---------------------------------------------------------------------

def test_feature_loss_by_hand():
    """½ Σ_k (a_k − b_k)² per sample, then the batch mean: ½·5 = 2.5 and ½·4 = 2, mean 2.25."""
    a = torch.zeros(2, 3)
    b = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, -2.0]])
    assert feature_reconstruction_loss(a, b).item() == pytest.approx(2.25)
    assert feature_reconstruction_loss(b, a).item() == pytest.approx(2.25)
    assert feature_reconstruction_loss(b, b).item() == 0.0
    # feature maps (B, C, H, W): the sum runs over channels and positions
    maps = torch.zeros(2, 2, 2, 2)
    maps[0, 1, 0, 1] = 3.0  # sample 0: ½·9
    maps[1] = 1.0  # sample 1: ½·8
    value = feature_reconstruction_loss(maps, torch.zeros_like(maps))
    assert value.ndim == 0 and value.item() == pytest.approx((4.5 + 4.0) / 2)
    # 3-D: channel 0 only, sample 0 all zero, sample 1 four ones: (0 + ½·4) / 2
    assert feature_reconstruction_loss(maps[:, 0], torch.zeros(2, 2, 2)).item() == pytest.approx(1.0)


def test_feature_loss_gradient():
    a = torch.randn(4, 5)
    b = torch.randn(4, 5, requires_grad=True)
    feature_reconstruction_loss(a, b).backward()
    assert torch.allclose(b.grad, (b.detach() - a) / 4)  # ∂/∂b of ½‖a − b‖², averaged over 4 samples


def test_feature_loss_errors():
    with pytest.raises(ValueError, match="same shape"):
        feature_reconstruction_loss(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="same shape"):
        feature_reconstruction_loss(torch.zeros(2, 3, 4, 4), torch.zeros(3, 3, 4, 4))
    with pytest.raises(ValueError, match="features_x must"):
        feature_reconstruction_loss(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="features_x must"):
        feature_reconstruction_loss(torch.zeros(0, 3), torch.zeros(0, 3))
    with pytest.raises(TypeError, match="features_x must"):
        feature_reconstruction_loss([[0.0]], torch.zeros(1, 1))


# --- sharpness ----------------------------------------------------------------------------------

def test_sharpness_of_a_vertical_step_edge():
    """4 × 4, left half 0, right half 1: no vertical differences; 4 of the 12 horizontal ones are 1.
    S = ½ (0 + 4/12) = 1/6."""
    image = torch.zeros(1, 1, 4, 4)
    image[..., 2:] = 1.0
    assert sharpness(image) == pytest.approx(1 / 6)
    assert sharpness(image.transpose(-1, -2)) == pytest.approx(1 / 6)  # a horizontal edge: the same
    assert sharpness(2 * image) == pytest.approx(4 / 6)  # quadratic in the contrast
    assert sharpness(torch.cat([image, torch.zeros_like(image)])) == pytest.approx(1 / 12)  # the mean over the set


def test_sharpness_of_a_checkerboard():
    """Every neighbour differs by 1: S = ½ (1 + 1) = 1."""
    board = (torch.arange(5)[:, None] + torch.arange(5)[None, :]) % 2
    assert sharpness(board.float()[None, None]) == pytest.approx(1.0)


def test_sharpness_zero_for_constant_images_and_a_float():
    value = sharpness(torch.full((2, 3, 8, 8), 0.7))
    assert isinstance(value, float) and value == 0.0


def test_blur_lowers_sharpness():
    noise = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    blurred = F.avg_pool2d(noise, 3, stride=1, padding=1, count_include_pad=False)
    assert sharpness(blurred) < 0.5 * sharpness(noise)
    assert sharpness(noise) == pytest.approx(1 / 6, rel=0.1)  # E(u − v)² = 1/6 for independent U(0, 1)


def test_sharpness_errors():
    with pytest.raises(ValueError, match="images must"):
        sharpness(torch.zeros(1, 8, 8))
    with pytest.raises(ValueError, match="finite"):
        bad = torch.zeros(1, 1, 4, 4)
        bad[0, 0, 1, 1] = float("nan")
        sharpness(bad)
    with pytest.raises(ValueError, match="images must"):
        sharpness(torch.zeros(0, 1, 4, 4))
    with pytest.raises(TypeError, match="images must"):
        sharpness(torch.zeros(1, 1, 4, 4, dtype=torch.long))


# --- inception_score ---------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 10])
def test_inception_score_of_confident_even_classes_is_k(k):
    probabilities = torch.eye(k).repeat(3, 1)  # every class 3 times, each image certain of its class
    value = inception_score(probabilities)
    assert isinstance(value, float) and value == pytest.approx(k, rel=1e-9)


def test_inception_score_of_identical_rows_is_one():
    row = torch.tensor([0.1, 0.6, 0.3])
    assert inception_score(row.repeat(5, 1)) == pytest.approx(1.0, abs=1e-12)
    assert inception_score(torch.eye(4)[[2, 2, 2]]) == pytest.approx(1.0, abs=1e-9)  # one confident class: 1
    assert inception_score(torch.full((6, 4), 0.25)) == pytest.approx(1.0, abs=1e-12)  # unsure: 1


def test_inception_score_by_hand():
    """Rows (1, 0) and (½, ½): p(y) = (¾, ¼); the KLs are log(4/3) and ½ log(4/3); IS = (4/3)^(3/4)."""
    assert inception_score(torch.tensor([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx((4 / 3) ** 0.75, rel=1e-9)


def test_inception_score_lies_between_one_and_k():
    logits = torch.randn(50, 7, generator=torch.Generator().manual_seed(3))
    value = inception_score(logits.softmax(1))
    assert 1 <= value <= 7
    assert inception_score((5 * logits).softmax(1)) > value  # more confident rows, a higher score


def test_inception_score_errors():
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(torch.tensor([[0.5, 0.4], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(torch.randn(3, 4))  # logits, not probabilities
    with pytest.raises(ValueError, match="non-negative"):
        inception_score(torch.tensor([[1.5, -0.5], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="probabilities must"):
        inception_score(torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="probabilities must"):
        inception_score(torch.full((2, 2, 2), 0.5))
    with pytest.raises(ValueError, match="finite"):
        inception_score(torch.tensor([[float("nan"), 1.0]]))
    with pytest.raises(ValueError, match="probabilities must"):
        inception_score(torch.zeros(0, 3))


def test_inception_score_accepts_float64():
    assert inception_score(torch.eye(3, dtype=torch.float64)) == pytest.approx(3.0)
    assert math.isfinite(inception_score(torch.tensor([[1.0, 0.0, 0.0]])))


def test_refusals_of_the_validation_layer():
    """Issue 27: the loss and the scores refuse NaN, integer, empty and meta tensors by name."""
    f = torch.randn(2, 4, 3, 3)
    bad = f.clone()
    bad[0, 0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="features_x_tilde must be finite"):
        feature_reconstruction_loss(f, bad)
    with pytest.raises(ValueError, match="features_x must be finite"):
        feature_reconstruction_loss(bad, f)
    with pytest.raises(TypeError, match="features_x_tilde must be a floating-point"):
        feature_reconstruction_loss(f, f.long())
    with pytest.raises(TypeError, match="features_x_tilde must be .*torch.Tensor"):
        feature_reconstruction_loss(f, f.numpy())
    with pytest.raises(ValueError, match="features_x_tilde must hold values"):
        feature_reconstruction_loss(f, f.to("meta"))
    with pytest.raises(ValueError, match="images must hold values"):
        sharpness(torch.rand(2, 1, 8, 8, device="meta"))
    with pytest.raises(ValueError, match="H, W ≥ 2"):
        sharpness(torch.rand(2, 1, 8, 1))
    assert sharpness(torch.rand(2, 1, 8, 7)) > 0  # any image size is fine
    with pytest.raises(ValueError, match="probabilities must hold values"):
        inception_score(torch.full((2, 2), 0.5, device="meta"))
