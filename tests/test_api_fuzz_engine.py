"""The API fuzzer's engine (tests/api_fuzz) on a toy library of deliberately good and bad functions,
and the registry's coverage of course_lib's public API. The fuzz run itself is not a test:
``python -m tests.api_fuzz`` runs it."""

from __future__ import annotations

import importlib.util
import inspect
import math
import sys
import textwrap

import numpy as np
import pytest
import torch

from tests.api_fuzz import engine, valid_calls
from tests.api_fuzz.engine import Registry, call, classify, mutate, mutations_for

TOY = '''
"""A toy library: one function per outcome the fuzzer must tell apart."""
import os
import signal

import torch


def clear(x):
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {type(x).__name__}")
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"x must be a batch (B, d) with B >= 1, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x must be finite, got NaN or inf")
    return x * 2


def foreign(x):
    return x.reshape(7, 7)          # torch's RuntimeError, for every x of the valid call's size too


def foreign_type_error(n):
    return torch.randn(n, 2)        # a TypeError raised by torch (a C call here), not by a raise here


def silent(n):
    return [0.0] * n                # n = 0 or -1 is returned as an empty list


def nonfinite(x):
    return x.sqrt()                 # NaN for negative or NaN input


def hang(n):
    while n:
        pass


def oom(n):
    return bytearray(n * (2 << 30))  # 2n GiB: a MemoryError under RLIMIT_AS


def torch_oom(n):
    return torch.empty(n * (1 << 28))  # n GiB of float32: torch's allocator fails


def killed(n):
    if n:
        os.kill(os.getpid(), signal.SIGKILL)


class NotMyError(Exception):
    pass


def documented(x):
    if not x.is_floating_point():
        raise NotMyError("the documented answer")
    return x
'''


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy_library")
    (root / "toy_api.py").write_text(textwrap.dedent(TOY))
    spec = importlib.util.spec_from_file_location("toy_api", root / "toy_api.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_api"] = module
    spec.loader.exec_module(module)
    yield module, str(root)
    del sys.modules["toy_api"]


def _vmsize() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))


def _run(toy, registry: Registry, timeout: float = 1.0) -> dict[tuple[str, str], str]:
    module, root = toy
    report = engine.fuzz(registry.entries.values(), jobs=2, timeout=timeout, memory_bytes=_vmsize() + (1 << 30),
                         library_root=root)
    assert not report.registry_errors, report.registry_errors
    return {(c["callable"].split(".")[-1], f"{c['argument']}:{c['mutation']}"): c["outcome"] for c in report.cases}


def only(role: str, value, keep: str, argument: str = "n") -> dict[str, str]:
    """Skip patterns for every mutation of ``role`` but ``keep``: one case per toy function."""
    return {f"{argument}:{m}": "not this test's case" for m, _ in mutations_for(role, value, False) if m != keep}


def test_the_engine_tells_every_outcome_apart(toy):
    module, _ = toy
    registry = Registry()
    registry.add(module.clear)(lambda: call(torch.rand(3, 2)))
    registry.add(module.foreign, skip=only("tensor", torch.rand(49), "shape:drop_dim", "x"))(
        lambda: call(torch.rand(49)))
    registry.add(module.foreign_type_error, skip=only("count", 3, "int:'3'"))(lambda: call(3))
    registry.add(module.silent, skip={"n:int:1e9": "a list of 10⁹ floats: an OOM, tested below"})(lambda: call(2))
    registry.add(module.nonfinite, accept={"x:value:*": "testing the NaN check, not the refusal"})(
        lambda: call(torch.rand(3)))
    registry.add(module.documented, errors={"NotMyError": "its documented answer"},
                 skip=only("tensor", torch.rand(2, 2), "dtype:int64", "x"))(lambda: call(torch.rand(2, 2)))
    outcomes = _run(toy, registry)

    # Every mutation the function checks is refused by a raise in the library; float64 is legitimate.
    assert outcomes[("clear", "x:dtype:int64")] == outcomes[("clear", "x:value:nan")] == "clear_error"
    assert outcomes[("clear", "x:empty")] == outcomes[("clear", "x:none")] == "clear_error"
    assert outcomes[("clear", "x:type:list")] == outcomes[("clear", "x:shape:drop_dim")] == "clear_error"
    assert outcomes[("clear", "x:dtype:float64")] == "ok"
    assert outcomes[("foreign", "x:shape:drop_dim")] == "foreign_error"  # torch's RuntimeError
    assert outcomes[("foreign_type_error", "n:int:'3'")] == "foreign_error"  # a TypeError out of a C call
    assert outcomes[("silent", "n:int:0")] == outcomes[("silent", "n:int:-1")] == "silent"
    assert outcomes[("silent", "n:int:2.5")] == "foreign_error"  # Python's TypeError from `[0.0] * 2.5`
    assert outcomes[("silent", "n:int:None")] == "foreign_error"
    assert outcomes[("nonfinite", "x:value:nan")] == outcomes[("nonfinite", "x:value:-inf")] == "nonfinite"
    assert outcomes[("nonfinite", "x:dtype:float64")] == "ok"
    assert outcomes[("documented", "x:dtype:int64")] == "clear_error"


def test_a_failing_valid_call_is_a_registry_error_not_an_outcome(toy):
    module, root = toy
    registry = Registry()
    registry.add(module.foreign)(lambda: call(torch.rand(3)))
    report = engine.fuzz(registry.entries.values(), jobs=1, timeout=5, memory_bytes=None, library_root=root)
    assert report.cases == []
    assert len(report.registry_errors) == 1 and "RuntimeError" in report.registry_errors[0]["error"]


def test_hangs_and_memory_are_caught(toy):
    module, _ = toy
    registry = Registry()
    registry.add(module.hang, skip=only("count", 0, "int:1e9"))(lambda: call(0))  # the valid call returns at once
    registry.add(module.oom, skip=only("count", 0, "int:True"))(lambda: call(0))
    registry.add(module.torch_oom, skip=only("count", 0, "int:1e9"))(lambda: call(0))
    registry.add(module.killed, skip=only("count", 0, "int:-1"))(lambda: call(0))
    outcomes = _run(toy, registry, timeout=1.0)
    assert outcomes == {("hang", "n:int:1e9"): "hang",  # killed at the time limit
                        ("oom", "n:int:True"): "oom",  # MemoryError under RLIMIT_AS
                        ("torch_oom", "n:int:1e9"): "oom",  # torch's "can't allocate memory"
                        ("killed", "n:int:-1"): "oom"}  # died by a signal without answering


def test_classify_follows_the_raising_frame_and_instruction():
    root = "/lib/course_lib"
    raised = {"raised": True, "file": "/lib/course_lib/vae.py", "raise_statement": True, "type_or_value": True,
              "exc_type": "ValueError", "memory": False}
    assert classify(raised, must_refuse=True, library_root=root) == "clear_error"
    assert classify({**raised, "file": "/site-packages/torch/nn/functional.py"}, must_refuse=True,
                    library_root=root) == "foreign_error"
    assert classify({**raised, "raise_statement": False}, must_refuse=True, library_root=root) == "foreign_error"
    assert classify({**raised, "file": "/lib/course_lib_extra/x.py"}, must_refuse=True, library_root=root) == \
        "foreign_error"  # a sibling directory whose name starts like the library's is not the library
    runtime = {**raised, "type_or_value": False, "exc_type": "NonFiniteLossError"}
    assert classify(runtime, must_refuse=True, library_root=root) == "foreign_error"
    assert classify(runtime, must_refuse=True, library_root=root, errors={"NonFiniteLossError"}) == "clear_error"
    assert classify({**raised, "memory": True}, must_refuse=True, library_root=root) == "oom"
    returned = {"raised": False, "nonfinite": False}
    assert classify(returned, must_refuse=True, library_root=root) == "silent"
    assert classify(returned, must_refuse=False, library_root=root) == "ok"
    assert classify({**returned, "nonfinite": True}, must_refuse=False, library_root=root) == "nonfinite"
    assert classify({**returned, "nonfinite": True}, must_refuse=False, library_root=root, nonfinite_ok=True) == "ok"
    assert classify({"killed": "timeout"}, must_refuse=False, library_root=root) == "hang"
    assert classify({"killed": "signal", "signal": 9}, must_refuse=False, library_root=root) == "oom"


def test_mutations_and_their_default_judgements():
    x = torch.rand(4, 1, 8, 8, requires_grad=True)
    judged = dict(mutations_for("tensor", x, optional=False))
    assert judged["dtype:int64"] and judged["dtype:bool"] and judged["empty"] and judged["value:nan"]
    assert not judged["dtype:float64"] and not judged["device:meta"] and judged["none"]
    assert not dict(mutations_for("tensor", x, optional=True))["none"]
    assert mutate(x, "shape:drop_dim").shape == (4, 8, 8)
    assert mutate(x, "shape:cut_last").shape == (4, 1, 8, 7)
    assert mutate(x, "empty").shape == (0, 1, 8, 8)
    assert mutate(x, "dtype:float64").requires_grad and mutate(x, "dtype:int64").dtype == torch.int64
    assert math.isnan(mutate(x, "value:nan").detach().flatten()[0]) and not torch.isnan(x).any()  # the original is intact
    assert isinstance(mutate(x, "type:list"), list) and isinstance(mutate(x, "type:numpy"), np.ndarray)
    assert mutate(x, "device:meta").device.type == "meta"
    assert dict(mutations_for("tensor", x.double(), optional=False))["dtype:float32"] is False
    count, index = dict(mutations_for("count", 3, False)), dict(mutations_for("index", 3, False))
    assert count["int:0"] and not index["int:0"] and count["int:-1"] and count["int:True"] and not count["int:1e9"]
    assert dict(mutations_for("count", 3, True))["int:None"] is False
    assert dict(mutations_for("positive", 0.1, False))["float:0"] and not dict(mutations_for("nonneg", 0.1, False))["float:0"]
    assert not dict(mutations_for("real", 0.1, False))["float:-1"]
    assert mutate((1, 2), "seq:elem=-1") == (-1, 2) and mutate([1.0], "seq:empty") == []
    assert mutations_for("text", "a title", False) == [] and mutations_for("flag", True, False) == []


def test_roles_are_inferred_from_value_and_name():
    assert engine.infer_role("x", torch.rand(2)) == "tensor"
    assert engine.infer_role("labels", torch.tensor([1])) == "int_tensor"
    assert engine.infer_role("region", torch.tensor([True])) == "bool_tensor"
    assert engine.infer_role("epochs", 3) == "count" and engine.infer_role("seed", 0) == "seed"
    assert engine.infer_role("lr", 1e-3) == "positive" and engine.infer_role("nu", 0.3) == "fraction"
    assert engine.infer_role("beta", 1.0) == "nonneg" and engine.infer_role("shift", 0.0) == "real"
    assert engine.infer_role("device", "cpu") == "device" and engine.infer_role("kind", "gaussian") == "choice"
    assert engine.infer_role("desc", "training") == "text" and engine.infer_role("progress", False) == "flag"
    assert engine.infer_role("model", torch.nn.Linear(1, 1)) == "module"
    assert engine.infer_role("step", lambda b: b) == "callable"
    assert engine.infer_role("channels", (1, 4)) == "int_seq" and engine.infer_role("levels", [0.1]) == "float_seq"


def test_bound_calls_address_var_positional_and_var_keyword_arguments():
    def f(a, *modules, b=1, **training):
        return a, modules, b, training

    bound = engine.Bound.of(f, call(1, "m0", "m1", b=2, steps=3))
    assert bound.names() == ["a", "modules[0]", "modules[1]", "b", "steps"]
    bound.set("modules[1]", None)
    bound.set("steps", 0)
    assert bound() == (1, ("m0", None), 2, {"steps": 0})


def test_every_public_callable_is_fuzzed_or_excluded_with_a_reason():
    public = engine.public_callables(valid_calls.PACKAGE, valid_calls.SKIPPED_PACKAGES)
    registry = valid_calls.REGISTRY
    missing = sorted(set(public) - registry.covered())
    assert not missing, f"public callables with neither a valid call nor an exclusion: {missing}"
    assert not set(registry.excluded) - set(public), "exclusions of names that are no longer public"
    assert all(reason.strip() for reason in registry.excluded.values())
    assert not {e.public for e in registry.entries.values()} & set(registry.excluded), "both fuzzed and excluded"
    assert not any(name.startswith(tuple(valid_calls.SKIPPED_PACKAGES)) for name in public)


def test_registry_overrides_name_real_arguments_and_carry_reasons():
    for entry in valid_calls.REGISTRY.entries.values():
        built = entry.make()
        parameters = engine.Bound.of(built.fn or entry.target, built).names()
        for overrides in (entry.roles, entry.accept, entry.refuse, entry.skip, entry.nonfinite_ok):
            for pattern, reason in overrides.items():
                argument = pattern.split(":")[0]
                assert argument == "*" or argument in parameters, f"{entry.name}: {pattern} names no argument"
                if overrides is not entry.roles:
                    assert reason.strip(), f"{entry.name}: {pattern} has no reason"
        assert set(entry.roles.values()) <= set(engine.ROLES), entry.name
        assert inspect.signature(built.fn or entry.target)


def test_the_report_lists_every_deliberate_exception_with_its_reason():
    from tests.api_fuzz import __main__ as cli

    entries = list(valid_calls.REGISTRY.entries.values())
    items = cli.overrides(entries)
    expected = sum(len(getattr(e, kind)) for e in entries for kind in cli.OVERRIDE_KINDS)
    assert len(items) == expected and all(item["reason"].strip() for item in items)
    rows = cli.override_rows(items)
    for item in items:  # each override appears in the row of its kind and reason
        assert any(row.startswith(f"| {item['kind']} | {item['reason']} |") and f"`{item['entry']}` `{item['pattern']}`"
                   in row for row in rows), item
