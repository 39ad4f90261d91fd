"""Lectures 01–02's library: the convolutional AE and its output layer; corruptions, the stacked
autoencoder and its greedy pretraining, modality dropout."""

import copy
import math

import pytest
import torch

from torch import nn

from course_lib.autoencoders import (
    CORRUPTIONS, ConvAutoencoder, StackClassifier, StretchedSigmoid, StackedAutoencoder, classifier_accuracy, corrupt, evaluate_denoising,
    gaussian_noise, label_efficiency, masking_noise, modality_dropout, noise_gain, predict_missing,
    pretrain_stage, random_level_corruption, salt_and_pepper, stage_loss, train_autoencoder, train_classifier,
    train_multimodal_autoencoder,
)


def _images(shape=(6, 1, 8, 8), seed=0):
    """Values strictly inside (0.1, 0.9), so a pixel set to 0 or 1 is always a changed pixel."""
    return 0.1 + 0.8 * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


# --- lecture 01: the convolutional autoencoder ------------------------------------------------

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


# --- corruptions -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 1, 8, 8), (4, 2, 5, 7), (5, 30)])
@pytest.mark.parametrize("nu", [0.0, 0.1, 0.25, 0.5, 0.77, 1.0])
def test_masking_noise_zeroes_exactly_the_requested_fraction_of_every_sample(shape, nu):
    x = _images(shape)
    before = x.clone()
    x_tilde = masking_noise(x, nu, torch.Generator().manual_seed(1))
    d = x[0].numel()
    zeroed = (x_tilde == 0).flatten(1).sum(dim=1)
    assert zeroed.tolist() == [round(nu * d)] * shape[0]
    kept = x_tilde != 0
    assert torch.equal(x_tilde[kept], x[kept])  # everything else untouched
    assert torch.equal(x, before)  # the input is not modified in place


def test_masking_noise_draws_a_new_subset_per_sample_and_repeats_with_a_seed():
    x = _images((8, 1, 16, 16))
    a = masking_noise(x, 0.5, torch.Generator().manual_seed(3))
    b = masking_noise(x, 0.5, torch.Generator().manual_seed(3))
    c = masking_noise(x, 0.5, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    masks = (a == 0).flatten(1)
    assert len({tuple(m.tolist()) for m in masks}) == len(masks)
    # Every pixel is equally likely to be masked: over many draws each is hit about half the time.
    hits = sum((masking_noise(x[:1], 0.5) == 0).float() for _ in range(400)) / 400
    assert hits.min() > 0.35 and hits.max() < 0.65


@pytest.mark.parametrize("nu", [0.05, 0.3, 1.0])
def test_salt_and_pepper_sets_exactly_the_fraction_to_zero_or_one_by_a_fair_coin(nu):
    x = _images((20, 1, 16, 16))
    x_tilde = salt_and_pepper(x, nu, torch.Generator().manual_seed(2))
    changed = x_tilde != x
    assert changed.flatten(1).sum(dim=1).tolist() == [round(nu * 256)] * 20
    assert set(x_tilde[changed].unique().tolist()) <= {0.0, 1.0}
    salt = (x_tilde[changed] == 1).float().mean().item()
    n = changed.sum().item()
    assert abs(salt - 0.5) < 4 * math.sqrt(0.25 / n)  # a fair coin, within 4 standard errors


def test_gaussian_noise_is_additive_unclipped_with_the_requested_sigma():
    x = _images((50, 1, 32, 32))
    x_tilde = gaussian_noise(x, 0.2, torch.Generator().manual_seed(0))
    noise = x_tilde - x
    assert abs(noise.mean().item()) < 0.005 and abs(noise.std().item() - 0.2) < 0.005
    assert x_tilde.min() < 0 and x_tilde.max() > 1  # not clipped
    assert torch.equal(gaussian_noise(x, 0.0), x)


def test_corrupt_dispatches_to_each_corruption():
    x = _images()
    for kind, fn in CORRUPTIONS.items():
        assert torch.equal(corrupt(x, kind, 0.2, torch.Generator().manual_seed(5)),
                           fn(x, 0.2, torch.Generator().manual_seed(5)))


def test_random_level_corruption_varies_the_level_between_batches():
    noise = random_level_corruption("masking", 0.5, torch.Generator().manual_seed(0))
    x = _images((1, 1, 32, 32))
    fractions = {(noise(x) == 0).float().mean().item() for _ in range(20)}
    assert len(fractions) > 10 and max(fractions) <= 0.5


@pytest.mark.parametrize("call, error, match", [
    (lambda x: masking_noise(x, -0.1), ValueError, r"fraction ν .* \[0, 1\]"),
    (lambda x: masking_noise(x, 1.5), ValueError, r"\[0, 1\]"),
    (lambda x: masking_noise(x, True), ValueError, r"\[0, 1\]"),
    (lambda x: salt_and_pepper(x, 2), ValueError, r"\[0, 1\]"),
    (lambda x: gaussian_noise(x, -0.1), ValueError, "σ must be a finite number ≥ 0"),
    (lambda x: gaussian_noise(x, float("inf")), ValueError, "σ must be a finite number"),
    (lambda x: gaussian_noise(x, float("nan")), ValueError, "σ must be a finite number"),
    (lambda x: masking_noise(x[0, 0, 0], 0.1), ValueError, r"batch \(B, \.\.\.\)"),
    (lambda x: salt_and_pepper(x.flatten()[:5], 0.1), ValueError, "got shape"),
    (lambda x: gaussian_noise((x * 10).long(), 0.1), TypeError, "floating-point"),
    (lambda x: corrupt(x, "speckle", 0.1), ValueError, "unknown corruption 'speckle'"),
    (lambda x: random_level_corruption("masking", 0.9 + 0.2), ValueError, r"\[0, 1\]"),
])
def test_corruptions_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(_images())


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


# --- the stacked autoencoder -------------------------------------------------------------------

def test_stacked_autoencoder_shapes():
    stack = StackedAutoencoder((1, 4, 8, 16))
    x = torch.rand(3, 1, 32, 32)
    assert stack.depth == 3
    assert stack.encode(x).shape == (3, 16, 4, 4)
    assert stack.encode(x, depth=1).shape == (3, 4, 16, 16)
    assert stack.encode(x, depth=0) is x
    assert stack.decode(stack.encode(x, depth=2), depth=2).shape == x.shape
    assert stack(x).shape == x.shape
    full = StackedAutoencoder((2, 6), stride=1)
    assert full.encode(torch.rand(2, 2, 10, 10)).shape == (2, 6, 10, 10)


def test_a_full_resolution_stage_can_represent_the_identity_exactly():
    """Why an over-complete AE can learn nothing: a delta kernel in and out is a perfect copy."""
    stack = StackedAutoencoder((1, 16), stride=1)
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
    (lambda: StackedAutoencoder((1,)), "at least two positive ints"),
    (lambda: StackedAutoencoder((1, 0)), "at least two positive ints"),
    (lambda: StackedAutoencoder((1, 4), stride=3), "stride must be 1"),
    (lambda: StackedAutoencoder((1, 4, 8)).encode(torch.rand(2, 1, 10, 10)), "divisible by 4"),
    (lambda: StackedAutoencoder((1, 4, 8)).encode(torch.rand(2, 3, 8, 8)), r"\(B, 1, H, W\)"),
    (lambda: StackedAutoencoder((1, 4, 8)).encode(torch.rand(2, 1, 8, 8), depth=3), "between 0 and 2"),
    (lambda: StackedAutoencoder((1, 4, 8)).decode(torch.rand(2, 4, 2, 2)), r"codes \(B, 8, h, w\)"),
])
def test_stacked_autoencoder_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_stage_loss_is_the_stage_reconstruction_of_its_clean_input_codes():
    torch.manual_seed(0)
    stack = StackedAutoencoder((1, 4, 8))
    h = stack.encode(torch.rand(5, 1, 16, 16), depth=1).detach()
    h_tilde = torch.zeros_like(h)
    expected = (stack.decoders[1](stack.encoders[1](h_tilde)) - h).pow(2).flatten(1).sum(1).mean()
    assert torch.allclose(stage_loss(stack, 1, h, lambda _: h_tilde), expected)
    clean = (stack.decoders[1](stack.encoders[1](h)) - h).pow(2).flatten(1).sum(1).mean()
    assert torch.allclose(stage_loss(stack, 1, h), clean)


def test_pretrain_stage_moves_only_the_new_stage():
    torch.manual_seed(0)
    stack = StackedAutoencoder((1, 4, 8, 8))
    before = copy.deepcopy(stack.state_dict())
    x = torch.rand(64, 1, 16, 16)
    history = pretrain_stage(stack, 1, x, corrupt=lambda h: masking_noise(h, 0.25), epochs=4, progress=False)
    assert history["loss"][-1] < history["loss"][0]
    for name, value in stack.state_dict().items():
        moved = not torch.equal(value, before[name])
        assert moved == (name.startswith("encoders.1.") or name.startswith("decoders.1.")), name
    with pytest.raises(ValueError, match="level must be an int between 0 and 2"):
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
    stack = StackedAutoencoder((1, 8, 16))
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


# --- the multimodal autoencoder ----------------------------------------------------------------

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
    (torch.rand(4, 2, 8, 8), torch.rand(4, 2, 8, 8), r"single-channel images \(B, 1, H, W\)"),
    (torch.rand(4, 8, 8), torch.rand(4, 1, 8, 8), "single-channel"),
    (torch.rand(4, 1, 8, 8), torch.rand(3, 1, 8, 8), "pairs of the same shape"),
])
def test_modality_dropout_bad_input(t1, t2, match):
    with pytest.raises(ValueError, match=match):
        modality_dropout(t1, t2)


def test_multimodal_training_and_prediction_of_the_missing_modality():
    torch.manual_seed(0)
    t1 = _images((48, 1, 8, 8))
    t2 = 1 - t1  # a perfectly predictable partner
    model = StackedAutoencoder((2, 8), stride=1)
    history = train_multimodal_autoencoder(model, t1, t2, epochs=100, batch_size=16, lr=1e-2, progress=False)
    assert history["loss"][-1] < history["loss"][0] / 3
    guess = predict_missing(model, t1, "t1")
    assert guess.shape == t1.shape
    mean_guess = t2.mean(0, keepdim=True)
    assert (guess - t2).pow(2).mean() < (mean_guess - t2).pow(2).mean()
    with pytest.raises(ValueError, match="present modality, 't1' or 't2'"):
        predict_missing(model, t1, "flair")


def test_label_efficiency_shapes_nested_subsets_and_bad_input():
    g = torch.Generator().manual_seed(0)
    x = 0.2 * torch.rand(40, 1, 8, 8, generator=g)
    y = torch.arange(40) % 2
    x[y == 1, :, 3:5, 3:5] = 1.0
    stack = StackedAutoencoder((1, 4, 8))
    before = copy.deepcopy(stack.state_dict())
    result = label_efficiency(stack, x[:30], y[:30], x[30:], y[30:], n_labels=(4, 8, 30), seeds=(0, 1), steps=30)
    assert set(result) == {"pretrained", "scratch"}
    for values in result.values():
        assert values.shape == (3, 2) and ((values >= 0) & (values <= 1)).all()
    assert all(torch.equal(v, before[k]) for k, v in stack.state_dict().items())  # the pretrained stack is copied
    assert result["pretrained"][-1].mean() > 0.6  # with all 30 labels the bright spot is learnt
    with pytest.raises(ValueError, match="at least max\\(n_labels\\) = 50"):
        label_efficiency(stack, x[:30], y[:30], x[30:], y[30:], n_labels=(50,), seeds=(0,))
