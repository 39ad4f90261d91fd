"""Lecture 02's multimodal autoencoder: modality dropout and filling in a missing modality."""

import pytest
import torch

from course_lib.denoising import FullyConvolutionalAutoencoder
from course_lib.multimodal import modality_dropout, predict_missing, train_multimodal_autoencoder


def _images(shape=(6, 1, 8, 8), seed=0):
    """Values strictly inside (0.1, 0.9), so a pixel set to 0 or 1 is always a changed pixel."""
    return 0.1 + 0.8 * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("b", [3, 7, 30, 64])
def test_modality_dropout_makes_exact_thirds_with_full_targets(b):
    t1, t2 = _images((b, 1, 4, 4), seed=1), _images((b, 1, 4, 4), seed=2)
    inputs, targets, group = modality_dropout(t1, t2, torch.Generator().manual_seed(0))
    assert inputs.shape == targets.shape == (b, 2, 4, 4)
    assert torch.equal(targets, torch.cat([t1, t2], dim=1))
    counts = torch.bincount(group, minlength=3).tolist()
    assert counts == [b // 3, b // 3, b - 2 * (b // 3)]
    only_t1, only_t2, both = group == 0, group == 1, group == 2
    assert torch.equal(inputs[only_t1, 0], t1[only_t1, 0]) and (inputs[only_t1, 1] == 0).all()
    assert torch.equal(inputs[only_t2, 1], t2[only_t2, 0]) and (inputs[only_t2, 0] == 0).all()
    assert torch.equal(inputs[both], targets[both])


def test_modality_dropout_deals_the_groups_at_random():
    t = _images((30, 1, 2, 2))
    groups = [modality_dropout(t, t, torch.Generator().manual_seed(s))[2] for s in range(3)]
    assert not torch.equal(groups[0], groups[1]) and not torch.equal(groups[1], groups[2])


@pytest.mark.parametrize("t1, t2, match", [
    (torch.rand(4, 2, 8, 8), torch.rand(4, 2, 8, 8), r"single-channel images of shape \(B, 1, H, W\)"),
    (torch.rand(4, 8, 8), torch.rand(4, 1, 8, 8), "single-channel"),
    (torch.rand(4, 1, 8, 8), torch.rand(3, 1, 8, 8), "t1 and t2 must have the same shape"),
])
def test_modality_dropout_bad_input(t1, t2, match):
    with pytest.raises(ValueError, match=match):
        modality_dropout(t1, t2)


def test_multimodal_training_and_prediction_of_the_missing_modality():
    torch.manual_seed(0)
    t1 = _images((48, 1, 8, 8))
    t2 = 1 - t1  # a perfectly predictable partner
    model = FullyConvolutionalAutoencoder((2, 8), stride=1)
    history = train_multimodal_autoencoder(model, t1, t2, epochs=100, batch_size=16, lr=1e-2, progress=False)
    assert history["loss"][-1] < history["loss"][0] / 3
    guess = predict_missing(model, t1, "t1")
    assert guess.shape == t1.shape
    mean_guess = t2.mean(0, keepdim=True)
    assert (guess - t2).pow(2).mean() < (mean_guess - t2).pow(2).mean()
    with pytest.raises(ValueError, match="present modality, 't1' or 't2'"):
        predict_missing(model, t1, "flair")


# --- validation before any work (issue 27) -----------------------------------------------------

def _with_nan(t):
    t = t.clone()
    t[0, 0, 0, 0] = float("nan")
    return t


@pytest.mark.parametrize("t1, t2, error, words", [
    (_with_nan(_images()), _images(), ValueError, "t1 must be finite"),
    (_images(), _images()[:0], ValueError, "t2 must hold at least one sample"),
    (_images().long(), _images(), TypeError, "t1 must be a floating-point"),
    (_images().tolist(), _images(), TypeError, "t1 must be a floating-point"),
    (_images(), _images().to("meta"), ValueError, "t2 must be on cpu like t1"),
])
def test_modality_dropout_refuses_data_it_cannot_use(t1, t2, error, words):
    with pytest.raises(error, match=words):
        modality_dropout(t1, t2)


def test_modality_dropout_refuses_a_seed_for_a_generator():
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None"):
        modality_dropout(_images(), _images(), 0)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"epochs": 0}, ValueError, "epochs must be an int from 1 to 100,000"),
    ({"epochs": 10**9}, ValueError, "epochs must be an int from 1 to 100,000"),
    ({"lr": 0.0}, ValueError, "lr must be a finite number > 0"),
    ({"batch_size": True}, TypeError, "batch_size must be an int"),
    ({"seed": -1}, ValueError, "seed must be an int"),
    ({"device": "no_such_device"}, ValueError, "device must be a device name"),
    ({"t1": _with_nan(_images())}, ValueError, "t1 must be finite"),
    ({"t2": _images().double()}, TypeError, "t2 must be float32 like the model's parameters"),
    ({"model": None}, TypeError, "model must be a torch.nn.Module"),
])
def test_train_multimodal_autoencoder_refuses_bad_arguments_before_training(kwargs, error, words):
    model = FullyConvolutionalAutoencoder((2, 4), stride=1)
    args = {"model": model, "t1": _images(), "t2": _images(seed=1), "epochs": 1, "progress": False, **kwargs}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(error, match=words):
        train_multimodal_autoencoder(**args)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_predict_missing_refuses_bad_inputs():
    model = FullyConvolutionalAutoencoder((2, 4), stride=1)
    with pytest.raises(ValueError, match="present must be finite"):
        predict_missing(model, _with_nan(_images()), "t1")
    with pytest.raises(ValueError, match="present must hold at least one sample"):
        predict_missing(model, _images()[:0], "t1")
    with pytest.raises(ValueError, match="batch_size must be an int ≥ 1"):
        predict_missing(model, _images(), "t1", batch_size=0)
    with pytest.raises(ValueError, match="present modality"):
        predict_missing(model, _images(), ["t1"])


def test_lecture02_labelled_data_has_no_validation_split():
    from course_lib.recipes.denoising_stacked import sae02_labelled_data
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\)"):
        sae02_labelled_data("val")


def test_predict_missing_on_the_meta_device_needs_both_model_and_images_there():
    meta_model = FullyConvolutionalAutoencoder((2, 4), stride=1).to("meta")
    assert predict_missing(meta_model, _images().to("meta"), "t1").device.type == "meta"
    with pytest.raises(ValueError, match="present must be a meta tensor like the model's parameters"):
        predict_missing(meta_model, _images(), "t1")
    with pytest.raises(ValueError, match="present must hold values"):
        predict_missing(FullyConvolutionalAutoencoder((2, 4), stride=1), _images().to("meta"), "t2")
