"""Lecture 01's self-checks accept the references and equivalent answers, name the common mistakes, and let
blanks through.

For every check, ``WRONG_<name>`` lists plausible mistakes (each must be rejected with a hint that names it)
and ``CORRECT_<name>`` unusual-but-correct answers (each must print the ✓ line); the ids say what each is.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.autoencoders import LinearAutoencoder, reconstruction_loss
from course_lib.checks import CheckFailed, check_linear_autoencoder, check_reconstruction_loss, check_train_step
from course_lib.training import train_step

from check_helpers import blank as _blank, rejects


def _accepts(check, candidate, capsys) -> None:
    check(candidate)
    assert capsys.readouterr().out.startswith(f"✓ {check.__name__} passed:")


# --- reconstruction loss -----------------------------------------------------------------------

def _sq(a, b):
    return (a - b).pow(2).flatten(1)


def my_reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The solution notebook's answer (solutions/01_autoencoders.py), verbatim."""
    return (x - x_hat).pow(2).flatten(1).sum(dim=1).mean()


def _images_only(a, b):
    return (a - b).pow(2).sum(dim=(1, 2, 3)).mean()


def _mean_over_channels(a, b):
    return (a - b).pow(2).flatten(2).sum(-1).mean()


def _in_place_on_x(a, b):
    b -= a  # "saves memory", and changes the caller's x
    return b.pow(2).flatten(1).sum(1).mean()


def _in_place_on_x_hat(a, b):
    return a.sub_(b).pow(2).flatten(1).sum(1).mean()


def _detached_plus_zero(a, b):
    return _sq(a.detach(), b).sum(1).mean() + 0 * a.sum()  # "kept in the graph", but no gradient flows


def _rebuilt_tensor(a, b):
    return torch.tensor(_sq(a, b).sum(1).mean().item(), requires_grad=True)


def _copy_then_subtract(a, b):
    d = b.clone()
    d -= a
    return d.pow(2).flatten(1).sum(1).mean()


WRONG_reconstruction_loss = [
    pytest.param(lambda a, b: _sq(a, b).mean(), ["averaged over the pixels", "per-image sum"], id="mean-over-pixels"),
    pytest.param(lambda a, b: _sq(a, b).sum(), ["summed over the batch"], id="sum-over-batch"),
    pytest.param(lambda a, b: -_sq(a, b).sum(1).mean(), ["sign"], id="sign"),
    pytest.param(lambda a, b: (a - b).abs().flatten(1).sum(1).mean(), ["absolute", "squared"], id="absolute-error"),
    pytest.param(lambda a, b: _sq(a, b).sum(1).sqrt().mean(), ["square root"], id="norm-not-squared"),
    pytest.param(lambda a, b: _sq(a, b).sum(1), ["shape (4,)", "averaged"], id="per-image"),
    pytest.param(lambda a, b: (a - b).pow(2), ["nothing was reduced"], id="no-reduction"),
    pytest.param(lambda a, b: _sq(a, b).sum(1).mean().item(), ["float", "not a tensor"], id="item"),
    pytest.param(lambda a, b: _sq(a, b).sum(1).mean().detach(), ["autograd graph", "detached"], id="detach"),
    pytest.param(lambda a, b: _sq(a, b).sum(1).mean() + 1.0, ["differs from the reference"], id="offset"),
    pytest.param(lambda a, b: (a - b[:-1]).pow(2).sum(), ["raised runtimeerror"], id="shapes-do-not-broadcast"),
    pytest.param(lambda a, b: _sq(a.clamp(0, 1), b).sum(1).mean(), ["clipped x_hat", "gradient"], id="clamp-x-hat"),
    pytest.param(_images_only, ["worked on batches of shape (4, 1, 8, 8)", "any shape", "flatten(1)"],
                 id="images-only"),
    pytest.param(_mean_over_channels, ["(2, 3, 5, 7)", "averaged over the channels"], id="mean-over-channels"),
    pytest.param(_in_place_on_x, ["changed its input x in place"], id="in-place-on-x"),
    pytest.param(_in_place_on_x_hat, ["in place", "x_hat"], id="in-place-on-x-hat"),
    pytest.param(_detached_plus_zero, ["no gradient reaches x_hat"], id="detached-plus-zero"),
    pytest.param(_rebuilt_tensor, ["autograd graph", "rebuilt from a python number"], id="rebuilt-tensor"),
    pytest.param(lambda a, b: _sq(a, b).sum(1).mean().reshape(1), ["shape (1,)", "scalar (0-d)", "extra dimension"], id="shape-1"),
    pytest.param(lambda a, b: 0.5 * _sq(a, b).sum(1).mean(), ["differs from the reference"], id="half"),
]

CORRECT_reconstruction_loss = [
    pytest.param(reconstruction_loss, id="library-reference"),
    pytest.param(my_reconstruction_loss, id="solution-notebook"),
    pytest.param(lambda a, b: F.mse_loss(a, b, reduction="sum") / len(b), id="mse-sum-over-batch-size"),
    pytest.param(lambda a, b: F.mse_loss(a, b) * b[0].numel(), id="mse-mean-times-size"),
    pytest.param(lambda a, b: torch.einsum("bi,bi->", (a - b).reshape(len(b), -1), (a - b).reshape(len(b), -1))
                 / len(b), id="einsum"),
    pytest.param(lambda a, b: (a - b).square().sum(dim=tuple(range(1, b.ndim))).mean(), id="sum-over-dims-tuple"),
    pytest.param(_copy_then_subtract, id="in-place-on-a-copy"),
    pytest.param(lambda a, b: torch.linalg.vector_norm((b - a).flatten(1), dim=1).pow(2).mean(), id="squared-norm"),
]


def test_reconstruction_loss_accepts_reference(capsys):
    check_reconstruction_loss(reconstruction_loss)
    assert capsys.readouterr().out == "✓ check_reconstruction_loss passed: 6 hidden cases agree with the reference.\n"


@pytest.mark.parametrize("candidate, words", WRONG_reconstruction_loss)
def test_reconstruction_loss_rejects_wrong(candidate, words):
    rejects(check_reconstruction_loss, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_reconstruction_loss)
def test_reconstruction_loss_accepts_correct(candidate, capsys):
    _accepts(check_reconstruction_loss, candidate, capsys)


def test_reconstruction_loss_wraps_other_errors():
    error = rejects(check_reconstruction_loss, lambda a, b: (b - a[:-1]).pow(2).sum(), words=["raised RuntimeError"])
    assert isinstance(error.__cause__, RuntimeError)


# --- linear autoencoder ------------------------------------------------------------------------

def _seeded_reference(seed: int):
    class Seeded(LinearAutoencoder):
        def __init__(self, n_inputs, latent_dim):
            torch.manual_seed(seed)  # a different initialisation per seed
            super().__init__(n_inputs, latent_dim)

    return Seeded


class MyLinearAutoencoder(nn.Module):
    """The solution notebook's answer (solutions/01_autoencoders.py), verbatim."""

    def __init__(self, n_inputs: int, latent_dim: int) -> None:
        super().__init__()
        self.encoder = nn.Linear(n_inputs, latent_dim)
        self.decoder = nn.Linear(latent_dim, n_inputs)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x)).view_as(x)


class _EncoderWithoutBias(LinearAutoencoder):
    """Correct: b_e is redundant when the decoder has its offset b_d (W_d b_e can be folded into b_d)."""

    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim)
        self.encoder = nn.Linear(n_inputs, latent_dim, bias=False)


class _OrthogonalInit(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim)
        nn.init.orthogonal_(self.encoder.weight)
        nn.init.orthogonal_(self.decoder.weight)
        nn.init.zeros_(self.encoder.bias)
        nn.init.zeros_(self.decoder.bias)


class _ReshapeStyle(nn.Module):
    """Correct, written differently: reshape instead of flatten/view_as, forward not via encode/decode."""

    def __init__(self, n_inputs, latent_dim):
        super().__init__()
        self.encoder, self.decoder = nn.Linear(n_inputs, latent_dim), nn.Linear(latent_dim, n_inputs)

    def encode(self, x):
        return self.encoder(x.reshape(len(x), -1))

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decoder(self.encoder(x.reshape(x.shape[0], -1))).reshape(x.shape)


class _RawParameters(nn.Module):
    """Affine and trainable, but with bare parameters: the next cell's linear_ae.decoder.bias crashes."""

    def __init__(self, n_inputs, latent_dim):
        super().__init__()
        self.w_e = nn.Parameter(0.1 * torch.randn(latent_dim, n_inputs))
        self.b_e = nn.Parameter(torch.zeros(latent_dim))
        self.w_d = nn.Parameter(0.1 * torch.randn(n_inputs, latent_dim))
        self.b_d = nn.Parameter(torch.zeros(n_inputs))

    def encode(self, x):
        return x.flatten(1) @ self.w_e.T + self.b_e

    def decode(self, z):
        return z @ self.w_d.T + self.b_d

    def forward(self, x):
        return self.decode(self.encode(x)).view_as(x)


class _Renamed(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        nn.Module.__init__(self)
        self.enc, self.dec = nn.Linear(n_inputs, latent_dim), nn.Linear(latent_dim, n_inputs)

    def encode(self, x):
        return self.enc(x.flatten(1))

    def decode(self, z):
        return self.dec(z)


class _SequentialDecoder(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, n_inputs))


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


class _NoFlatten(LinearAutoencoder):
    def encode(self, x):
        return self.encoder(x)


class _FlatForward(LinearAutoencoder):
    def forward(self, x):
        return self.decode(self.encode(x))


class _Dropout(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim)
        self.dropout = nn.Dropout(0.2)

    def encode(self, x):
        return self.dropout(super().encode(x))


class _ZeroInit(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim)
        for p in self.parameters():
            nn.init.zeros_(p)


class _TiedDecoderUnused(LinearAutoencoder):
    """Tied weights: decode uses the encoder's weight, so self.decoder.weight (read by the next cell) is never trained."""

    def decode(self, z):
        return z @ self.encoder.weight + self.decoder.bias


class _FrozenEncoder(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim)
        self.encoder.weight.requires_grad_(False)


class _TransposedEncoder(LinearAutoencoder):
    def __init__(self, n_inputs, latent_dim):
        super().__init__(n_inputs, latent_dim)
        self.encoder = nn.Linear(latent_dim, n_inputs)

    def encode(self, x):
        return x.flatten(1) @ self.encoder.weight + self.encoder.bias[: self.encoder.in_features]


WRONG_linear_autoencoder = [
    pytest.param(_NoBias, ["self.decoder has no bias", "mean"], id="no-bias"),
    pytest.param(_EncoderBiasOnly, ["bias", "after the code"], id="encoder-bias-only"),
    pytest.param(_ReLU, ["not affine", "non-linearity"], id="relu"),
    pytest.param(_Sigmoid, ["not affine"], id="sigmoid"),
    pytest.param(_WrongLatent, ["encode", "(8, 4)", "expected (8, 3)"], id="latent-size"),
    pytest.param(_Shortcut, ["decode(encode(x))"], id="shortcut"),
    pytest.param(_NoParameters, ["no trainable parameters"], id="no-parameters"),
    pytest.param(_RawParameters, ["no submodule named `encoder`", "self.decoder = nn.Linear", ".bias"],
                 id="bare-parameters"),
    pytest.param(_Renamed, ["no submodule named `encoder`", "enc, dec", "linear_ae.decoder.bias"], id="renamed-layers"),
    pytest.param(_SequentialDecoder, ["self.decoder is a sequential", "nn.linear"], id="sequential-decoder"),
    pytest.param(_NoFlatten, ["(8, 1, 4, 4)", "flatten"], id="no-flatten"),
    pytest.param(_FlatForward, ["returned shape (8, 16)", "input's shape"], id="forward-not-reshaped"),
    pytest.param(_Dropout, ["two different results", "dropout"], id="dropout"),
    pytest.param(_ZeroInit, ["start at zero", "small random weights"], id="zero-init"),
    pytest.param(_TiedDecoderUnused, ["decode(z) is not self.decoder(z)"], id="tied-decoder-unused"),
    pytest.param(_FrozenEncoder, ["self.encoder.weight", "requires_grad is false"], id="frozen-encoder"),
    pytest.param(_TransposedEncoder, ["self.encoder.weight has shape (16, 3), expected (3, 16)"],
                 id="transposed-encoder"),
]

CORRECT_linear_autoencoder = [
    *(pytest.param(_seeded_reference(seed), id=f"library-reference-seed-{seed}") for seed in range(5)),
    pytest.param(MyLinearAutoencoder, id="solution-notebook"),
    pytest.param(_EncoderWithoutBias, id="encoder-without-bias"),
    pytest.param(_OrthogonalInit, id="orthogonal-init-zero-biases"),
    pytest.param(_ReshapeStyle, id="reshape-style"),
]


@pytest.mark.parametrize("candidate, words", WRONG_linear_autoencoder)
def test_linear_autoencoder_rejects_wrong(candidate, words):
    rejects(check_linear_autoencoder, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_linear_autoencoder)
def test_linear_autoencoder_accepts_correct(candidate, capsys):
    _accepts(check_linear_autoencoder, candidate, capsys)


# --- train step --------------------------------------------------------------------------------

def my_train_step(model: nn.Module, optimizer: torch.optim.Optimizer, batch: torch.Tensor, loss_fn) -> float:
    """The solution notebook's answer (solutions/01_autoencoders.py), verbatim."""
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    return loss.item()


def _step(zero_grad=True, backward=True, step=True, result="item"):
    def fn(model, optimizer, batch, loss_fn):
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(model, batch)
        if backward:
            loss.backward()
        if step:
            optimizer.step()
        return {"item": loss.item, "tensor": lambda: loss, "detached": loss.detach, "none": lambda: None,
                "after": lambda: loss_fn(model, batch).item(), "rounded": lambda: round(loss.item(), 2)}[result]()

    return fn


def _two_steps(model, optimizer, batch, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    optimizer.step()
    return loss.item()


def _step_before_backward(model, optimizer, batch, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    optimizer.step()
    loss.backward()
    return loss.item()


def _zero_grad_between(model, optimizer, batch, loss_fn):
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def _new_optimizer(model, optimizer, batch, loss_fn):
    own = torch.optim.SGD(model.parameters(), lr=0.1)
    own.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    own.step()
    return loss.item()


def _manual_update(model, optimizer, batch, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    return loss.item()


def _backward_twice(model, optimizer, batch, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward(retain_graph=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def _normalises_batch_in_place(model, optimizer, batch, loss_fn):
    batch[0].sub_(batch[0].mean())
    return my_train_step(model, optimizer, batch, loss_fn)


def _doubled_loss(model, optimizer, batch, loss_fn):
    optimizer.zero_grad()
    loss = loss_fn(model, batch)
    (2 * loss).backward()
    optimizer.step()
    return loss.item()


def _tidy_afterwards(model, optimizer, batch, loss_fn):
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss.item()


def _model_zero_grad(model, optimizer, batch, loss_fn):
    model.zero_grad()
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _zeros_not_none(model, optimizer, batch, loss_fn):
    optimizer.zero_grad(set_to_none=False)
    loss = loss_fn(model, batch)
    value = loss.item()  # read before backward
    loss.backward()
    optimizer.step()
    return value


def _grads_set_to_none_by_hand(model, optimizer, batch, loss_fn):
    for p in model.parameters():
        p.grad = None
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    return loss.detach().item()


WRONG_train_step = [
    pytest.param(_step(zero_grad=False), ["step 2", "accumulate", "zero_grad"], id="missing-zero-grad"),
    pytest.param(_step(step=False), ["did not change", "optimizer never took its step"], id="missing-step"),
    pytest.param(_step(backward=False), ["loss.backward() was never called"], id="missing-backward"),
    pytest.param(_step(result="after"), ["after", "before the optimizer step"], id="loss-after-update"),
    pytest.param(_step(result="tensor"), ["returned a tensor", "python float"], id="returns-tensor"),
    pytest.param(_step(result="detached"), ["returned a tensor", "python float"], id="returns-detached-tensor"),
    pytest.param(_step(result="none"), ["nonetype", "python float"], id="returns-none"),
    pytest.param(_step(result="rounded"), ["before the update is"], id="returns-rounded-loss"),
    pytest.param(_two_steps, ["stepped 2 times", "exactly one step"], id="two-steps"),
    pytest.param(_step_before_backward, ["step 1", "came before loss.backward()"], id="step-before-backward"),
    pytest.param(_zero_grad_between, ["cleared after loss.backward() and before optimizer.step()"],
                 id="zero-grad-between-backward-and-step"),
    pytest.param(_new_optimizer, ["step 2", "never took a step", "momentum"], id="new-optimizer-each-call"),
    pytest.param(_manual_update, ["never took a step", "hand-written update"], id="manual-update"),
    pytest.param(_backward_twice, ["backward() ran 2 times"], id="backward-twice"),
    pytest.param(_normalises_batch_in_place, ["changed the batch in place"], id="batch-modified-in-place"),
    pytest.param(_doubled_loss, ["backward and step each ran once", "scaling"], id="scaled-loss"),
]

CORRECT_train_step = [
    pytest.param(train_step, id="library-reference"),
    pytest.param(my_train_step, id="solution-notebook"),
    pytest.param(_tidy_afterwards, id="zero-grad-after-the-step"),
    pytest.param(_model_zero_grad, id="model-zero-grad-float"),
    pytest.param(_zeros_not_none, id="zero-grad-to-zeros-item-before-backward"),
    pytest.param(_grads_set_to_none_by_hand, id="grads-set-to-none-by-hand"),
]


def test_train_step_accepts_reference(capsys):
    check_train_step(train_step)
    assert capsys.readouterr().out == ("✓ check_train_step passed: 3 consecutive steps agree with the reference "
                                       "(returned losses and updated parameters).\n")


@pytest.mark.parametrize("candidate, words", WRONG_train_step)
def test_train_step_rejects_wrong(candidate, words):
    rejects(check_train_step, candidate, words=words)


@pytest.mark.parametrize("candidate", CORRECT_train_step)
def test_train_step_accepts_correct(candidate, capsys):
    _accepts(check_train_step, candidate, capsys)


# --- the suites' size and shared behaviour -----------------------------------------------------

@pytest.mark.parametrize("wrong, correct", [
    (WRONG_reconstruction_loss, CORRECT_reconstruction_loss),
    (WRONG_linear_autoencoder, CORRECT_linear_autoencoder),
    (WRONG_train_step, CORRECT_train_step),
], ids=["reconstruction_loss", "linear_autoencoder", "train_step"])
def test_every_check_has_a_mutant_suite(wrong, correct):
    assert len(wrong) >= 8 and len(correct) >= 2


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
    check_linear_autoencoder(LinearAutoencoder)
    check_train_step(train_step)
    assert torch.equal(torch.rand(3), expected)
