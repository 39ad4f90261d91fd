"""Lecture 02's greedy layer-wise pretraining and few-label fine-tuning."""

import copy

import pytest
import torch

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
    with pytest.raises(ValueError, match=r"images \(N, C, H, W\) and labels \(N,\)"):
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
    with pytest.raises(ValueError, match="at least max\\(n_labels\\) = 50"):
        label_efficiency(stack, x[:30], y[:30], x[30:], y[30:], n_labels=(50,), seeds=(0,))
