"""The shared vocabulary of course_lib's argument checks (course_lib/_validate.py).

Each check must accept what it promises, return it (converted where harmless), and refuse the
rest with the documented exception type and a message naming the argument, what was expected and
what came. The fuzzer (tests/api_fuzz) measures the public API; these tests pin the words."""

import math
import resource

import pytest
import torch
from torch import nn

from course_lib import _validate


def test_tensor_refuses_wrong_kind_dtype_shape_emptiness_and_nan():
    x = torch.zeros(2, 3)
    assert _validate.tensor(x, "x", shape=("B", 3)) is x
    with pytest.raises(TypeError, match=r"x must be a floating-point tensor .*got \[1, 2\] \(list\)"):
        _validate.tensor([1, 2], "x")
    with pytest.raises(TypeError, match="got an int64 tensor"):
        _validate.tensor(torch.zeros(2, dtype=torch.long), "x")
    with pytest.raises(ValueError, match=r"of shape \(B, 4\)"):
        _validate.tensor(x, "x", shape=("B", 4))
    with pytest.raises(ValueError, match="at least one sample"):
        _validate.tensor(torch.zeros(0, 3), "x", nonempty=True)
    with pytest.raises(ValueError, match="must be finite"):
        _validate.tensor(torch.tensor([0.0, math.nan]), "x", finite=True)
    # A meta tensor has no values: finiteness is not checked, ``values`` refuses it.
    meta = torch.zeros(2, device="meta")
    assert _validate.tensor(meta, "x", finite=True) is meta
    with pytest.raises(ValueError, match="meta tensor"):
        _validate.values(meta, "x")


@pytest.mark.parametrize("check, bound", [
    (_validate.epochs, _validate.MAX_EPOCHS), (_validate.steps, _validate.MAX_STEPS),
    (_validate.samples, _validate.MAX_SAMPLES),
    (lambda v, n: _validate.layers(v, n), _validate.MAX_LAYERS),
    (lambda v, n: _validate.width(v, n), _validate.MAX_WIDTH),
])
def test_size_bounds_say_the_bound_and_why(check, bound):
    assert check(bound, "k") == bound
    with pytest.raises(ValueError, match=rf"k must be an int from 1 to {bound:,} \(a bound against typos"):
        check(bound + 1, "k")
    with pytest.raises(ValueError, match="from 1 to"):
        check(0, "k")
    with pytest.raises(TypeError, match=r"got True \(bool\)"):
        check(True, "k")


def test_classes_and_seeds():
    assert _validate.classes(2) == 2
    with pytest.raises(ValueError, match="from 2 to"):
        _validate.classes(1)
    assert _validate.seed(0) == 0
    with pytest.raises(ValueError, match="seed must be an int from 0"):
        _validate.seed(-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        _validate.seed(2.5)


def test_memory_refuses_more_than_this_process_may_use(monkeypatch):
    limit = _validate.memory_limit()
    assert limit > 0
    _validate.memory(limit, "n", "the images")
    with pytest.raises(ValueError, match=r"n is too large: the images would need .* GiB, more than"):
        _validate.memory(limit + 1, "n", "the images")
    # Under ``ulimit -v`` the address-space limit is the bound, not the machine's RAM.
    monkeypatch.setattr(resource, "getrlimit", lambda which: (2**30, resource.RLIM_INFINITY))
    assert _validate.memory_limit() == min(2**30, limit)


def test_module_function_and_generator():
    layer = nn.Linear(2, 2)
    assert _validate.module(layer, "model") is layer
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module \(the encoder\), got None"):
        _validate.module(None, "model", what="the encoder")
    with pytest.raises(TypeError, match="model must be a Linear or Conv2d"):
        _validate.module(nn.ReLU(), "model", (nn.Linear, nn.Conv2d))
    assert _validate.function(len, "f") is len
    with pytest.raises(TypeError, match=r"f must be a function of a batch \(a callable\), got 3"):
        _validate.function(3, "f", what="a function of a batch")
    assert _validate.generator(None) is None
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None"):
        _validate.generator(0)


def test_labels():
    y = torch.tensor([0, 2, 1])
    assert _validate.labels(y, "y", n_classes=3, length=3) is y
    with pytest.raises(TypeError, match="1-D int64 tensor of class labels"):
        _validate.labels(y.float(), "y")
    with pytest.raises(ValueError, match="with 4 entries"):
        _validate.labels(y, "y", length=4)
    with pytest.raises(ValueError, match="from 0 to 1, got values from 0 to 2"):
        _validate.labels(y, "y", n_classes=2)
    with pytest.raises(ValueError, match="labels ≥ 0, got -1"):
        _validate.labels(torch.tensor([-1, 0]), "y")
    with pytest.raises(ValueError, match="meta tensor"):
        _validate.labels(torch.zeros(2, dtype=torch.long, device="meta"), "y")


def test_devices_and_model_inputs():
    a, b = torch.zeros(2), torch.zeros(2, device="meta")
    assert _validate.same_device([a, a], ["a", "b"]) == torch.device("cpu")
    with pytest.raises(ValueError, match="b must be on cpu like a, got a tensor on meta"):
        _validate.same_device([a, b], ["a", "b"])
    model = nn.Linear(2, 2)
    x = torch.zeros(1, 2)
    assert _validate.for_module(x, "x", model) is x
    with pytest.raises(TypeError, match=r"x must be float32 like the model's parameters, .*\.to\(torch.float32\)"):
        _validate.for_module(x.double(), "x", model)
    with pytest.raises(ValueError, match="x must be on cpu, where the encoder's parameters are"):
        _validate.for_module(x.to("meta"), "x", model, model_name="the encoder")


def test_dtype_like_looks_at_parameters_not_buffers_and_optimizer():
    model = nn.Linear(2, 2)
    model.register_buffer("schedule", torch.zeros(3, dtype=torch.float64))  # e.g. a float64 noise schedule
    x = torch.zeros(4, 2)
    assert _validate.dtype_like(x, "x", model) is x
    with pytest.raises(TypeError, match="x must be float32 like the critic's parameters"):
        _validate.dtype_like(x.double(), "x", model, "the critic")
    assert _validate.dtype_like(x.double(), "x", nn.ReLU()) is not None  # no parameters: any dtype
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    assert _validate.optimizer(opt) is opt
    with pytest.raises(TypeError, match=r"g_optimizer must be a torch.optim.Optimizer \(the generator's\), got None"):
        _validate.optimizer(None, "g_optimizer", what="the generator's")


def test_text_and_shapes_only():
    assert _validate.text("a", "title") == "a"
    with pytest.raises(TypeError, match=r"title must be a str \(the figure's title\), got 3 \(int\)"):
        _validate.text(3, "title", why="the figure's title")
    model, meta_model = nn.Linear(2, 2), nn.Linear(2, 2).to("meta")
    x = torch.zeros(1, 2)
    assert not _validate.shapes_only(x, "x", model) and not _validate.shapes_only([1], "x", meta_model)
    assert _validate.shapes_only(x.to("meta"), "x", meta_model)
    assert not _validate.shapes_only(x.to("meta"), "x", model)  # left to the caller's value checks
    with pytest.raises(ValueError, match="x must be a meta tensor like the net's parameters"):
        _validate.shapes_only(x, "x", meta_model, "the net")
