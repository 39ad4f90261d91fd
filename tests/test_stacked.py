"""Lecture 02's greedy layer-wise pretraining and few-label fine-tuning."""

import copy
import math

import pytest
import torch
from torch import nn

from course_lib.corruptions import masking_noise
from course_lib.denoising import FullyConvolutionalAutoencoder
from course_lib.stacked import (StackClassifier, classifier_accuracy, label_efficiency, pretrain_stage, stage_loss,
                                train_classifier)


def test_stage_loss_is_the_stage_reconstruction_of_its_clean_input_codes():
    torch.manual_seed(0)
    stack = FullyConvolutionalAutoencoder((1, 4, 8))
    h = stack.encode(torch.rand(5, 1, 16, 16), depth=1).detach()
    h_tilde = torch.zeros_like(h)
    expected = (stack.decoders[1](stack.encoders[1](h_tilde)) - h).pow(2).flatten(1).sum(1).mean()
    assert torch.allclose(stage_loss(stack, 1, h, lambda _: h_tilde), expected)
    clean = (stack.decoders[1](stack.encoders[1](h)) - h).pow(2).flatten(1).sum(1).mean()
    assert torch.allclose(stage_loss(stack, 1, h), clean)


def test_pretrain_stage_moves_only_the_new_stage():
    torch.manual_seed(0)
    stack = FullyConvolutionalAutoencoder((1, 4, 8, 8))
    before = copy.deepcopy(stack.state_dict())
    x = torch.rand(64, 1, 16, 16)
    history = pretrain_stage(stack, 1, x, corrupt=lambda h: masking_noise(h, 0.25), epochs=4, progress=False)
    assert history["loss"][-1] < history["loss"][0]
    for name, value in stack.state_dict().items():
        moved = not torch.equal(value, before[name])
        assert moved == (name.startswith("encoders.1.") or name.startswith("decoders.1.")), name
    with pytest.raises(ValueError, match="level must be an int from 0 to 2"):
        pretrain_stage(stack, 3, x, epochs=1, progress=False)


def test_classifier_shares_the_stack_and_learns_a_local_feature():
    """A bright 2×2 spot anywhere in the image: global max pooling finds it, wherever it sits."""
    g = torch.Generator().manual_seed(0)
    x = 0.2 * torch.rand(200, 1, 16, 16, generator=g)
    y = torch.arange(200) % 2
    for i in torch.nonzero(y).flatten():
        r, c = torch.randint(0, 14, (2,), generator=g)
        x[i, 0, r : r + 2, c : c + 2] = 1.0
    torch.manual_seed(0)
    stack = FullyConvolutionalAutoencoder((1, 8, 16))
    model = StackClassifier(stack)
    assert model.encoders is stack.encoders  # fine-tuning updates the pretrained stack itself
    before = stack.encoders[0][0].weight.clone()
    losses = train_classifier(model, x[:150], y[:150], steps=150, lr=3e-3)
    assert not torch.equal(stack.encoders[0][0].weight, before)
    assert sum(losses[-10:]) < sum(losses[:10]) / 5
    assert classifier_accuracy(model, x[150:], y[150:]) > 0.9
    # Fewer labels than a batch: batches are drawn with replacement, training still runs.
    assert len(train_classifier(model, x[:5], y[:5], steps=3)) == 3
    with pytest.raises(ValueError, match=r"y must be a 1-D int64 tensor of class labels with 5 entries"):
        train_classifier(model, x[:5], y[:4], steps=1)


def test_label_efficiency_shapes_nested_subsets_and_bad_input():
    g = torch.Generator().manual_seed(0)
    x = 0.2 * torch.rand(40, 1, 8, 8, generator=g)
    y = torch.arange(40) % 2
    x[y == 1, :, 3:5, 3:5] = 1.0
    stack = FullyConvolutionalAutoencoder((1, 4, 8))
    before = copy.deepcopy(stack.state_dict())
    result = label_efficiency(stack, x[:30], y[:30], x[30:], y[30:], n_labels=(4, 8, 30), seeds=(0, 1), steps=30)
    assert set(result) == {"pretrained", "scratch"}
    for values in result.values():
        assert values.shape == (3, 2) and ((values >= 0) & (values <= 1)).all()
    assert all(torch.equal(v, before[k]) for k, v in stack.state_dict().items())  # the pretrained stack is copied
    assert result["pretrained"][-1].mean() > 0.6  # with all 30 labels the bright spot is learnt
    with pytest.raises(ValueError, match=r"n_labels\[0\] must be an int from 1 to 30"):
        label_efficiency(stack, x[:30], y[:30], x[30:], y[30:], n_labels=(50,), seeds=(0,))


def _classifier() -> StackClassifier:
    torch.manual_seed(0)
    return StackClassifier(FullyConvolutionalAutoencoder((1, 4, 8)))


_X = torch.rand(4, 1, 8, 8)
_Y = torch.tensor([0, 1, 0, 1])


@pytest.mark.parametrize("call, error, match", [
    (lambda: stage_loss(FullyConvolutionalAutoencoder((1, 4, 8)), 1, torch.full((2, 4, 4, 4), math.nan)),
     ValueError, "h must be finite"),
    (lambda: stage_loss(FullyConvolutionalAutoencoder((1, 4, 8)), 1, torch.rand(2, 8, 4, 4)), ValueError,
     r"h must be images \(B, 4, H, W\)"),
    (lambda: stage_loss(FullyConvolutionalAutoencoder((1, 4, 8)), True, torch.rand(2, 1, 8, 8)), TypeError,
     "level must be an int"),
    (lambda: stage_loss(nn.Conv2d(1, 4, 3), 0, torch.rand(2, 1, 8, 8)), TypeError,
     "stack must be a FullyConvolutionalAutoencoder"),
    (lambda: pretrain_stage(FullyConvolutionalAutoencoder((1, 4, 8)), 0, _X.masked_fill(_X > 0.9, math.inf),
                            epochs=1, progress=False), ValueError, "x must be finite"),
    (lambda: pretrain_stage(FullyConvolutionalAutoencoder((1, 4, 8)), 0, _X, epochs=10**9, progress=False),
     ValueError, "epochs must be an int from 1 to 100,000"),
    (lambda: pretrain_stage(FullyConvolutionalAutoencoder((1, 4, 8)), 0, _X, epochs=1, seed=-1, progress=False),
     ValueError, "seed must be an int from 0"),
    (lambda: pretrain_stage(FullyConvolutionalAutoencoder((1, 4, 8)), 0, _X.long(), epochs=1, progress=False),
     TypeError, "floating-point"),
    (lambda: StackClassifier(FullyConvolutionalAutoencoder((1, 4)), n_classes=1), ValueError,
     "n_classes must be an int from 2"),
    (lambda: _classifier()(torch.rand(2, 1, 8, 7)), ValueError, "divisible by 4"),
    (lambda: _classifier()(torch.rand(0, 1, 8, 8)), ValueError, "at least one sample"),
    (lambda: train_classifier(_classifier(), _X, torch.tensor([0, 1, 2, 1]), steps=1), ValueError,
     "y must hold class labels from 0 to 1"),
    (lambda: train_classifier(_classifier(), _X, _Y.float(), steps=1), TypeError, "y must be a 1-D int64 tensor"),
    (lambda: train_classifier(_classifier(), _X.masked_fill(_X > 0.9, math.nan), _Y, steps=1), ValueError,
     "x must be finite"),
    (lambda: train_classifier(_classifier(), _X, _Y, steps=10**9), ValueError, "steps must be an int from 1"),
    (lambda: classifier_accuracy(_classifier(), _X.double(), _Y), TypeError, "x must be float32"),
    (lambda: classifier_accuracy(_classifier(), _X, _Y, batch_size=0), ValueError, "batch_size must be an int"),
    (lambda: label_efficiency(FullyConvolutionalAutoencoder((1, 4)), _X, _Y, _X, _Y + 1, n_labels=[2], seeds=[0]),
     ValueError, "y_test must hold class labels from 0 to 1"),
    (lambda: label_efficiency(FullyConvolutionalAutoencoder((1, 4)), _X, _Y, _X, _Y, n_labels=[], seeds=[0]),
     ValueError, "n_labels must hold at least one int"),
    (lambda: label_efficiency(FullyConvolutionalAutoencoder((1, 4)), _X, _Y, _X, _Y, n_labels=[2], seeds=[-1]),
     ValueError, r"seeds\[0\] must be an int from 0"),
    (lambda: label_efficiency(FullyConvolutionalAutoencoder((1, 4)), _X, _Y, _X, _Y, n_labels=[2], seeds=3),
     TypeError, "seeds must be a sequence of ints"),
])
def test_stacked_refuses_bad_input_with_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
