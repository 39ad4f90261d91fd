"""The exercises' self-checks accept the references, name the common mistakes, and let blanks through."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_lib.autoencoders import LinearAutoencoder, reconstruction_loss
from course_lib.checks import CheckFailed, check_linear_autoencoder, check_reconstruction_loss, check_train_step
from course_lib.training import train_step

from check_helpers import blank as _blank, rejects


def _rejects(check, candidate, *words: str) -> CheckFailed:
    return rejects(check, candidate, words=words)


# --- reconstruction loss -----------------------------------------------------------------------

def test_reconstruction_loss_accepts_reference(capsys):
    check_reconstruction_loss(reconstruction_loss)
    assert capsys.readouterr().out == "✓ check_reconstruction_loss passed: 6 hidden cases agree with the reference.\n"


def _sq(a, b):
    return (a - b).pow(2).flatten(1)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda a, b: _sq(a, b).mean(), ["averaged over the pixels", "per-image sum"]),
        (lambda a, b: _sq(a, b).sum(), ["summed over the batch"]),
        (lambda a, b: -_sq(a, b).sum(1).mean(), ["sign"]),
        (lambda a, b: (a - b).abs().flatten(1).sum(1).mean(), ["absolute", "squared"]),
        (lambda a, b: _sq(a, b).sum(1).sqrt().mean(), ["square root"]),
        (lambda a, b: _sq(a, b).sum(1), ["shape (4,)", "averaged"]),
        (lambda a, b: (a - b).pow(2), ["nothing was reduced"]),
        (lambda a, b: _sq(a, b).sum(1).mean().item(), ["float", "not a tensor"]),
        (lambda a, b: _sq(a, b).sum(1).mean().detach(), ["autograd graph", "detached"]),
        (lambda a, b: _sq(a, b).sum(1).mean() + 1.0, ["differs from the reference"]),
    ],
    ids=["mean-pixels", "sum-batch", "sign", "abs", "norm", "per-image", "no-reduction", "item", "detach", "other"],
)
def test_reconstruction_loss_names_the_mistake(wrong, words):
    _rejects(check_reconstruction_loss, wrong, *words)


def test_reconstruction_loss_wraps_other_errors():
    def broken(x_hat, x):
        return (x - x_hat[:-1]).pow(2).sum()  # one image short: the shapes do not broadcast

    error = _rejects(check_reconstruction_loss, broken, "raised RuntimeError")
    assert isinstance(error.__cause__, RuntimeError)


# --- linear autoencoder ------------------------------------------------------------------------

def _seeded_reference(seed: int):
    class Seeded(LinearAutoencoder):
        def __init__(self, n_inputs, latent_dim):
            torch.manual_seed(seed)  # a different initialisation per seed
            super().__init__(n_inputs, latent_dim)

    return Seeded


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_linear_autoencoder_accepts_reference_from_any_initialisation(seed, capsys):
    check_linear_autoencoder(_seeded_reference(seed))
    assert capsys.readouterr().out.startswith("✓ check_linear_autoencoder passed:")


class _RawParameters(nn.Module):
    """A correct linear AE written with bare parameters and zero biases, as a student might."""

    def __init__(self, n_inputs, latent_dim):
        super().__init__()
        self.w_e = nn.Parameter(0.1 * torch.randn(latent_dim, n_inputs))
        self.b_e = nn.Parameter(torch.zeros(latent_dim))
        self.w_d = nn.Parameter(0.1 * torch.randn(n_inputs, latent_dim))
        self.b_d = nn.Parameter(torch.zeros(n_inputs))

    def encode(self, x):
        return x @ self.w_e.T + self.b_e

    def decode(self, z):
        return z @ self.w_d.T + self.b_d

    def forward(self, x):
        return self.decode(self.encode(x))


def test_linear_autoencoder_accepts_a_different_correct_implementation():
    check_linear_autoencoder(_RawParameters)


class _NoBias(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        nn.Module.__init__(self)
        self.encoder = nn.Linear(n_inputs, latent_dim, bias=False)
        self.decoder = nn.Linear(latent_dim, n_inputs, bias=False)


class _EncoderBiasOnly(_NoBias):
    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim)
        self.encoder = nn.Linear(n_inputs, latent_dim)


class _ReLU(LinearAutoencoder):
    def encode(self, x):
        return torch.relu(super().encode(x))


class _Sigmoid(LinearAutoencoder):
    def forward(self, x):
        return torch.sigmoid(super().forward(x))


class _WrongLatent(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim + 1)


class _Shortcut(LinearAutoencoder):
    def forward(self, x):
        return x


class _NoParameters(nn.Module):
    def __init__(self, n_inputs, latent_dim):
        super().__init__()
        self.latent_dim = latent_dim


@pytest.mark.parametrize(
    "wrong, words",
    [
        (_NoBias, ["bias", "mean"]),
        (_EncoderBiasOnly, ["bias", "after the code"]),
        (_ReLU, ["not affine", "non-linearity"]),
        (_Sigmoid, ["not affine"]),
        (_WrongLatent, ["encode", "(8, 4)", "expected (8, 3)"]),
        (_Shortcut, ["decode(encode(x))"]),
        (_NoParameters, ["no trainable parameters"]),
    ],
    ids=["no-bias", "encoder-bias-only", "relu", "sigmoid", "latent-size", "shortcut", "no-parameters"],
)
def test_linear_autoencoder_names_the_mistake(wrong, words):
    _rejects(check_linear_autoencoder, wrong, *words)


# --- train step --------------------------------------------------------------------------------

def test_train_step_accepts_reference(capsys):
    check_train_step(train_step)
    assert capsys.readouterr().out.startswith("✓ check_train_step passed: 3 consecutive steps agree")


def test_train_step_accepts_zero_grad_after_the_step():
    def tidy_afterwards(model, optimizer, batch, loss_fn):
        loss = loss_fn(model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()

    check_train_step(tidy_afterwards)


def _step(zero_grad=True, backward=True, step=True, result="item"):
    def fn(model, optimizer, batch, loss_fn):
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(model, batch)
        if backward:
            loss.backward()
        if step:
            optimizer.step()
        return {"item": loss.item(), "tensor": loss, "none": None, "after": loss_fn(model, batch).item()}[result]

    return fn


def _two_steps(model, optimizer, batch, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    optimizer.step()
    return loss.item()


@pytest.mark.parametrize(
    "wrong, words",
    [
        (_step(zero_grad=False), ["step 2", "accumulate", "zero_grad"]),
        (_step(step=False), ["did not change", "optimizer never took its step"]),
        (_step(backward=False), ["did not change", "backward"]),
        (_step(result="after"), ["after", "before the optimizer step"]),
        (_step(result="tensor"), ["returned a tensor", "python float"]),
        (_step(result="none"), ["nonetype", "python float"]),
        (_two_steps, ["exactly once"]),
    ],
    ids=["no-zero-grad", "no-step", "no-backward", "loss-after-update", "tensor", "none", "two-steps"],
)
def test_train_step_names_the_mistake(wrong, words):
    _rejects(check_train_step, wrong, *words)


# --- shared behaviour --------------------------------------------------------------------------

@pytest.mark.parametrize("check", [check_reconstruction_loss, check_linear_autoencoder, check_train_step])
def test_blank_propagates_not_implemented(check):
    with pytest.raises(NotImplementedError) as info:
        check(_blank)
    assert type(info.value) is NotImplementedError  # not wrapped in CheckFailed


@pytest.mark.parametrize("check", [check_reconstruction_loss, check_linear_autoencoder, check_train_step])
def test_passing_a_result_instead_of_the_code_is_a_type_error(check):
    with pytest.raises(TypeError, match="without calling it"):
        check(torch.zeros(()))


def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_reconstruction_loss(reconstruction_loss)
    check_train_step(train_step)
    assert torch.equal(torch.rand(3), expected)
