"""Tests for course_lib.training: the fit loop, the NaN guard and checkpoint I/O."""

from __future__ import annotations

import json
import math
import pickle

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.checkpoint_io import ChecksumError, load_checkpoint, save_checkpoint
from course_lib.training import (
    NonFiniteLossError,
    check_finite,
    fit,
    train_step,
    weight_average,
)


def regression_data(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return x, y


def mse_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    return (model(x) - y).pow(2).mean()


def make_step(model: nn.Module, lr: float = 0.05):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return lambda batch: train_step(model, opt, batch, mse_loss)


# ---------------------------------------------------------------------------- fit


def test_fit_reduces_loss_on_linear_regression():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    history = fit(make_step(model), regression_data(), epochs=20, batch_size=32, progress=False)
    assert set(history) == {"loss"} and len(history["loss"]) == 20
    assert history["loss"][-1] < 1e-3 < history["loss"][0]
    assert torch.allclose(model.weight, torch.tensor([[1.0, -2.0, 0.5]]), atol=0.02)


def test_history_is_plain_json_able_dict_of_lists():
    history = fit(lambda b: torch.tensor(1.0), torch.zeros(10, 2), epochs=3, progress=False)
    assert type(history) is dict and history == {"loss": [1.0, 1.0, 1.0]}
    assert json.loads(json.dumps(history)) == history


def test_history_holds_per_epoch_means_of_dict_losses():
    calls = []

    def step(batch):
        calls.append(len(batch))
        return {"d_loss": float(len(calls)), "g_loss": torch.tensor(2.0)}

    history = fit(step, torch.zeros(10, 1), epochs=2, batch_size=4, shuffle=False, progress=False)
    assert calls == [4, 4, 2, 4, 4, 2]  # the last batch of each epoch is the remainder
    assert history == {"d_loss": [2.0, 5.0], "g_loss": [2.0, 2.0]}


def test_tensor_tuple_and_dataloader_data():
    x, y = regression_data(20)
    seen = []
    fit(lambda b: seen.append(b) or 0.0, x, epochs=1, batch_size=8, progress=False)
    assert all(isinstance(b, torch.Tensor) for b in seen) and [len(b) for b in seen] == [8, 8, 4]
    assert torch.equal(torch.cat(seen).sort(dim=0).values, x.sort(dim=0).values)  # a permutation

    seen.clear()
    fit(lambda b: seen.append(b) or 0.0, (x, y), epochs=1, batch_size=8, progress=False)
    assert all(isinstance(b, tuple) and len(b) == 2 for b in seen)
    for bx, by in seen:  # rows stay paired after shuffling
        assert torch.allclose(bx @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3, by)

    seen.clear()
    loader = DataLoader(TensorDataset(x, y), batch_size=5)
    history = fit(lambda b: seen.append(b) or 1.0, loader, epochs=2, batch_size=64, progress=False)
    assert len(seen) == 8 and all(len(b[0]) == 5 for b in seen)
    assert history == {"loss": [1.0, 1.0]}


def test_same_seed_same_batches_and_reshuffled_each_epoch():
    x = torch.arange(32.0)[:, None]

    def record(seed):
        firsts = []
        fit(lambda b: firsts.append(b[:, 0].tolist()) or 0.0, x, epochs=2, batch_size=32, seed=seed, progress=False)
        return firsts

    assert record(1) == record(1)
    assert record(1) != record(2)
    a, b = record(1)
    assert a != b and sorted(a) == sorted(b)  # a new order every epoch
    torch.manual_seed(0)
    model_a = nn.Linear(3, 1)
    torch.manual_seed(0)
    model_b = nn.Linear(3, 1)
    h_a = fit(make_step(model_a), regression_data(), epochs=3, progress=False, seed=5)
    h_b = fit(make_step(model_b), regression_data(), epochs=3, progress=False, seed=5)
    assert h_a == h_b and torch.equal(model_a.weight, model_b.weight)


def test_callback_stops_early():
    epochs_seen = []

    def callback(epoch, history):
        epochs_seen.append((epoch, len(history["loss"])))
        return epoch == 3 or None

    history = fit(lambda b: 1.0, torch.zeros(4, 1), epochs=10, callback=callback, progress=False)
    assert epochs_seen == [(1, 1), (2, 2), (3, 3)]
    assert len(history["loss"]) == 3


def test_progress_bar_runs(capsys):
    history = fit(lambda b: {"a": 1.0}, torch.zeros(4, 1), epochs=2, progress=True, desc="demo")
    assert history == {"a": [1.0, 1.0]}
    assert "demo" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1.5}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"epochs": 1, "batch_size": 0}, "batch_size"),
        ({"epochs": 1, "batch_size": -3}, "batch_size"),
    ],
)
def test_fit_rejects_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fit(lambda b: 0.0, torch.zeros(4, 1), progress=False, **kwargs)


def test_fit_rejects_bad_data():
    with pytest.raises(ValueError, match="empty"):
        fit(lambda b: 0.0, torch.zeros(0, 3), epochs=1, progress=False)
    with pytest.raises(ValueError, match="empty"):
        fit(lambda b: 0.0, (), epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"same first dimension.*\[4, 5\]"):
        fit(lambda b: 0.0, (torch.zeros(4, 1), torch.zeros(5)), epochs=1, progress=False)
    with pytest.raises(ValueError, match="no batches"):
        fit(lambda b: 0.0, DataLoader(TensorDataset(torch.zeros(0, 1))), epochs=1, progress=False)
    with pytest.raises(TypeError, match="re-iterable"):
        fit(lambda b: 0.0, iter([torch.zeros(2)]), epochs=1, progress=False)
    with pytest.raises(TypeError, match="float or a 0-d tensor"):
        fit(lambda b: "oops", torch.zeros(2, 1), epochs=1, progress=False)


# ---------------------------------------------------------------------------- NaN guard


def test_check_finite_names_loss_epoch_and_step():
    check_finite({"a": 1.0, "b": torch.tensor(2.0)}, epoch=1, step=1)
    check_finite(torch.tensor(0.5), epoch=1, step=1)
    with pytest.raises(NonFiniteLossError) as err:
        check_finite({"d_loss": 1.0, "g_loss": float("inf")}, epoch=2, step=17)
    message = str(err.value)
    for part in ("'g_loss'", "inf", "epoch 2", "step 17", "lower the learning rate"):
        assert part in message
    with pytest.raises(NonFiniteLossError, match="'loss' is nan"):
        check_finite(torch.tensor(float("nan")), epoch=1, step=1)


def test_fit_stops_at_first_nan_naming_step_and_loss():
    calls = []

    def step(batch):
        calls.append(1)
        return {"d_loss": 0.1, "g_loss": float("nan") if len(calls) == 7 else 0.2}

    with pytest.raises(NonFiniteLossError) as err:
        fit(step, torch.zeros(20, 1), epochs=5, batch_size=4, progress=False)
    assert "step 7" in str(err.value) and "'g_loss'" in str(err.value) and "epoch 2" in str(err.value)
    assert len(calls) == 7


def test_train_step_leaves_parameters_unchanged_on_inf_loss():
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = [p.detach().clone() for p in model.parameters()]

    def inf_loss(m, batch):
        return m(batch).sum() * float("inf")

    with pytest.raises(NonFiniteLossError, match="inf"):
        train_step(model, opt, torch.ones(4, 3), inf_loss)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_train_step_returns_float_and_updates():
    model = nn.Linear(3, 1)
    before = model.weight.detach().clone()
    value = train_step(model, torch.optim.SGD(model.parameters(), lr=0.1), regression_data(16), mse_loss)
    assert isinstance(value, float) and value > 0
    assert not torch.equal(before, model.weight)


# ---------------------------------------------------------------------------- checkpoints


class Arbitrary:  # a class that weights_only loading must refuse to unpickle
    pass


def test_checkpoint_roundtrip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    path = tmp_path / "sub" / "model.pt"
    digest = save_checkpoint(model, path)
    assert len(digest) == 64
    assert (tmp_path / "sub" / "model.pt.sha256").read_text() == f"{digest}  model.pt\n"
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    state = load_checkpoint(path, fresh)
    assert set(state) == set(model.state_dict())
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)
    assert load_checkpoint(str(path), expected_sha256=digest.upper()).keys() == state.keys()


def test_checkpoint_of_state_dict_and_strict_load(tmp_path):
    path = tmp_path / "w.pt"
    save_checkpoint({"weight": torch.ones(2)}, path)
    assert torch.equal(load_checkpoint(path)["weight"], torch.ones(2))
    with pytest.raises(RuntimeError, match="Missing key"):
        load_checkpoint(path, nn.Linear(2, 1))
    with pytest.raises(TypeError):
        save_checkpoint([torch.ones(2)], path)


def test_tampered_checkpoint_raises_checksum_error(tmp_path):
    path = tmp_path / "model.pt"
    digest = save_checkpoint(nn.Linear(3, 1), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert str(path) in message and digest in message and "modified or is corrupt" in message
    assert isinstance(err.value, ValueError)


def test_expected_sha256_mismatch_and_missing_sidecar(tmp_path):
    path = tmp_path / "model.pt"
    save_checkpoint(nn.Linear(3, 1), path)
    with pytest.raises(ChecksumError, match="0" * 64):
        load_checkpoint(path, expected_sha256="0" * 64)
    (tmp_path / "model.pt.sha256").unlink()
    with pytest.raises(ChecksumError, match="no checksum file"):
        load_checkpoint(path)


def test_missing_checkpoint_says_make_checkpoints(tmp_path):
    path = tmp_path / "nope.pt"
    with pytest.raises(FileNotFoundError) as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and "make checkpoints" in str(err.value)


def test_load_refuses_arbitrary_objects(tmp_path):
    path = tmp_path / "evil.pt"
    digest = save_checkpoint({"weight": torch.ones(1), "payload": Arbitrary()}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path, expected_sha256=digest)
    # the refusal comes from weights_only: a full unpickle of the same file would succeed
    assert isinstance(torch.load(path, weights_only=False)["payload"], Arbitrary)


def test_single_threaded_sets_one_thread_and_restores_even_after_an_error():
    from course_lib.training import single_threaded

    before = torch.get_num_threads()
    with single_threaded():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(KeyError):
        with single_threaded():
            raise KeyError("boom")
    assert torch.get_num_threads() == before


def test_single_threaded_also_limits_numpys_blas():
    """A matrix square root under single_threaded must not start BLAS threads that fight for a core."""
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    from course_lib.training import single_threaded

    np.dot(np.ones((4, 4)), np.ones((4, 4)))  # numpy's BLAS is loaded
    with threadpool_limits(limits=2, user_api="blas"):  # as on a 2-core machine, whatever this one has
        before = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert before, "numpy has a BLAS"
        with single_threaded():
            assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
        assert [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"] == before


def test_weight_average_is_the_exponential_moving_average():
    """θ̄_1 = θ_1, θ̄_t = β θ̄_{t−1} + (1 − β) θ_t, for the weights 1, 2, 3 in turn."""
    net = nn.Linear(1, 1, bias=False)
    average = weight_average(net, 0.75)
    expected = None
    for value in (1.0, 2.0, 3.0):
        with torch.no_grad():
            net.weight.fill_(value)
        average.update_parameters(net)
        expected = value if expected is None else 0.75 * expected + 0.25 * value
        assert average.module.weight.item() == pytest.approx(expected)
    assert net.weight.item() == 3.0  # the network itself is untouched
    assert expected == pytest.approx(0.75 * (0.75 * 1 + 0.25 * 2) + 0.25 * 3)


@pytest.mark.parametrize("decay", [0, 1, 1.5, -0.1, True, "0.9", None])
def test_weight_average_rejects_a_decay_outside_0_1(decay):
    # A decay of the wrong kind (a bool, a str, None) is a TypeError, one out of range a ValueError.
    with pytest.raises((ValueError, TypeError), match=r"decay must be a finite number in \(0, 1\)"):
        weight_average(nn.Linear(1, 1), decay)


def test_adam_with_schedule_gives_each_schedule_its_rates():
    from course_lib.training import GAN_ADAM_BETAS, adam_with_schedule

    def rates(schedule, steps=10, **kwargs):
        optimizer, scheduler = adam_with_schedule([nn.Parameter(torch.zeros(1))], 0.1, schedule=schedule,
                                                  total_steps=steps, **kwargs)
        seen = []
        for _ in range(steps):
            seen.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
        return optimizer, seen

    optimizer, constant = rates(None, betas=GAN_ADAM_BETAS)
    assert constant == [0.1] * 10 and optimizer.param_groups[0]["betas"] == (0.5, 0.999)
    _, cosine = rates("cosine")
    assert cosine == pytest.approx([0.1 * 0.5 * (1 + math.cos(math.pi * t / 10)) for t in range(10)])
    _, one_cycle = rates("one_cycle")
    assert one_cycle[0] == pytest.approx(0.1 / 25) and max(one_cycle) == pytest.approx(0.1, rel=0.05)
    assert one_cycle.index(max(one_cycle)) in (2, 3) and one_cycle[-1] < 0.01  # peak at 30 %, then down
    _, halved = rates(lambda t: 0.5)
    assert halved == [0.05] * 10
    with pytest.raises(ValueError, match="schedule must be one of"):
        adam_with_schedule([nn.Parameter(torch.zeros(1))], 0.1, schedule="linear", total_steps=5)
    with pytest.raises(TypeError, match="total_steps must be an int from 1 to"):
        adam_with_schedule([nn.Parameter(torch.zeros(1))], 0.1, schedule="cosine")


# ---------------------------------------------------------------------------- issue 27: argument checks

def test_fit_refuses_non_finite_data_and_huge_counts_before_training():
    calls = []
    step = lambda b: calls.append(1) or 0.0  # noqa: E731
    x = torch.zeros(4, 2)
    x[1, 1] = float("nan")
    with pytest.raises(ValueError, match="data must be finite"):
        fit(step, x, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"data\[1\] must be finite"):
        fit(step, (torch.zeros(4, 2), torch.full((4,), float("inf"))), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be an int from 1 to 100,000"):
        fit(step, torch.zeros(4, 2), epochs=10**9, progress=False)
    with pytest.raises(ValueError, match="batch_size must be an int from 1 to"):
        fit(step, torch.zeros(4, 2), epochs=1, batch_size=10**9, progress=False)
    with pytest.raises(ValueError, match="seed must be an int from 0"):
        fit(step, torch.zeros(4, 2), epochs=1, seed=-1, progress=False)
    with pytest.raises(ValueError, match="data must hold values"):
        fit(step, torch.zeros(4, 2, device="meta"), epochs=1, progress=False)
    with pytest.raises(ValueError, match="device must be a device name"):
        fit(step, torch.zeros(4, 2), epochs=1, device="no_such_device", progress=False)
    assert calls == []  # nothing trained
    # Integer data (labels) is not checked for finiteness and still trains.
    assert fit(lambda b: 0.0, (torch.zeros(4, 2), torch.arange(4)), epochs=1, progress=False) == {"loss": [0.0]}


def test_guards_refuse_what_is_not_a_loss_or_an_optimizer():
    from course_lib.training import backward_and_step, check_loss, checked_step, modes_restored_on_error
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="loss 'loss' must be a scalar tensor"):
        check_loss(0.5)
    with pytest.raises(ValueError, match="loss 'loss' must be a scalar tensor"):
        check_loss(torch.zeros(3))
    with pytest.raises(ValueError, match="must hold values"):
        check_loss(torch.zeros((), device="meta"))
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        checked_step(None)
    with pytest.raises(TypeError, match="must be a floating-point scalar tensor"):
        backward_and_step(optimizer, torch.tensor(1))
    with pytest.raises(ValueError, match="must require a gradient"):
        backward_and_step(optimizer, torch.tensor(1.0))
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        train_step(model, optimizer, torch.zeros(2, 2), None)
    with pytest.raises(TypeError, match=r"modules\[0\] must be a torch.nn.Module"):
        with modes_restored_on_error(None):
            pass


def test_optimiser_set_up_refuses_bad_rates_and_parameters():
    from course_lib.training import LossWatch, WeightAverages, adam_with_schedule, map_batches, to_device
    params = list(nn.Linear(2, 2).parameters())
    with pytest.raises(ValueError, match="parameters must hold at least one parameter"):
        adam_with_schedule([], 1e-3)
    with pytest.raises(TypeError, match="parameters must be an iterable"):
        adam_with_schedule(None, 1e-3)
    for lr, error in ((0, ValueError), (-1, ValueError), (float("nan"), ValueError), ("0.1", TypeError)):
        with pytest.raises(error, match="lr must be a finite number > 0"):
            adam_with_schedule(params, lr)
    with pytest.raises(ValueError, match=r"betas\[0\] must be a finite number in \[0, 1\)"):
        adam_with_schedule(params, 1e-3, betas=(float("nan"), 0.999))
    with pytest.raises(ValueError, match="total_steps must be an int from 1 to 10,000,000"):
        adam_with_schedule(params, 1e-3, schedule="cosine", total_steps=10**9)
    # A generator of parameters (model.parameters()) is still read once and optimised.
    optimizer, schedule = adam_with_schedule(nn.Linear(2, 2).parameters(), 1e-3)
    assert schedule is None and len(optimizer.param_groups[0]["params"]) == 2
    with pytest.raises(ValueError, match="factor must be a finite number > 0"):
        LossWatch(factor=0)
    with pytest.raises(TypeError, match="networks must be a list"):
        WeightAverages(None, 0.9)
    with pytest.raises(ValueError, match="device must be a device name"):
        to_device(torch.zeros(2), "no_such_device")
    with pytest.raises(ValueError, match="x must hold at least one row"):
        map_batches(lambda t: t, torch.zeros(0, 2))
    with pytest.raises(ValueError, match="batch_size must be an int from 1 to"):
        map_batches(lambda t: t, torch.zeros(3, 2), batch_size=10**9)
