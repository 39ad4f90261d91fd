"""The mutation engine of the API fuzzer: valid call → one-argument mutations → forked runs → outcomes.

How a callable is fuzzed (``fuzz``):

1. *Plan*: a forked child builds the registry's valid call (``Entry.make``), runs it and names the
   role of every argument it passes (a float tensor, a count, a choice, a module, …: inferred from
   the value and the parameter's name, or given by the entry). A valid call that fails is a
   registry bug, reported apart and never counted as a library outcome.
2. *Cases*: each role has its mutations (``mutations_for``), each with a default judgement: must it
   be refused (an int64 tensor where floats are needed, an empty batch, a count of 0, NaN), or is
   the mutated input legitimate (float64 where any float dtype is fine)? An entry may override a
   judgement (``accept`` / ``refuse``, with a written reason) or leave a mutation out (``skip``).
3. *Runs*: every case runs in its own forked child — the valid call rebuilt, one argument replaced —
   under a wall-time limit (the parent kills it) and ``RLIMIT_AS``; the child reports raw facts
   (the exception, its raising frame and instruction, or whether the result holds NaN/inf) and the
   parent classifies them (``classify``) into one of ``OUTCOMES``.

Only arguments the valid call passes are mutated (defaults it leaves out are not): to fuzz an
argument, pass it explicitly in the valid call. Children are forked from a parent that has imported
torch but never computed with it, and each child runs torch on one thread, so ``--jobs 2`` uses two
cores. Nothing here is collected by pytest; ``tests/test_api_fuzz_engine.py`` tests it.
"""

from __future__ import annotations

import dataclasses
import dis
import fnmatch
import importlib
import inspect
import json
import math
import numbers
import os
import pkgutil
import random
import re
import resource
import select
import signal
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

# ---------------------------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------------------------

OUTCOMES = ("clear_error", "ok", "foreign_error", "silent", "nonfinite", "hang", "oom")
OUTCOME_TEXT = {
    "clear_error": "clear error raised by course_lib (TypeError/ValueError from a raise in course_lib)",
    "ok": "legitimate input that worked",
    "foreign_error": "error from deep inside torch/numpy/scipy/Python (or not TypeError/ValueError)",
    "silent": "silently returned a result for input that must be refused",
    "nonfinite": "silently returned NaN/inf",
    "hang": "hung past the time limit",
    "oom": "ran out of memory (MemoryError, allocation failure or killed by a signal)",
}
BAD_OUTCOMES = frozenset({"foreign_error", "silent", "nonfinite", "hang", "oom"})

# A RuntimeError that is really an allocation failure (torch's CPU allocator, C++ bad_alloc).
_MEMORY_MESSAGE = re.compile(r"can't allocate memory|out of memory|bad_alloc|Cannot allocate memory|"
                             r"DefaultCPUAllocator|not enough memory", re.IGNORECASE)
# course_lib/_validate.py's sentence: "<name> must be <expected>, got <what came>".
_VOCABULARY = re.compile(r"\bmust\b.*\bgot\b", re.DOTALL)

# ---------------------------------------------------------------------------------------------
# The registry's vocabulary: a valid call, an entry, exclusions
# ---------------------------------------------------------------------------------------------


@dataclass
class Call:
    """A valid call: positional and keyword arguments, and optionally the callable to call instead
    of the entry's target (a bound method of a freshly built model, for ``forward`` entries)."""

    args: tuple
    kwargs: dict
    fn: Callable | None = None

    def using(self, fn: Callable) -> "Call":
        return Call(self.args, self.kwargs, fn)


def call(*args: Any, **kwargs: Any) -> Call:
    return Call(args, kwargs)


def invoke_plain(fn: Callable, args: tuple, kwargs: dict) -> Any:
    return fn(*args, **kwargs)


def invoke_context(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """For context managers: calling one only builds it, so enter and leave it with an empty body."""
    with fn(*args, **kwargs) as value:
        return value


@dataclass
class Entry:
    """One fuzzed callable: the public object, how to build its valid call, and the overrides.

    ``roles`` names an argument's role where inference would be wrong; ``accept`` / ``refuse`` /
    ``skip`` / ``nonfinite_ok`` map ``"argument:mutation"`` glob patterns to the written reason for
    the override; ``errors`` maps exception class names that are the callable's *documented* answer
    (e.g. ``NonFiniteLossError`` from ``check_loss``) to why — raised by course_lib they count as
    the clear error."""

    name: str
    public: str
    module: str
    target: Any
    make: Callable[[], Call]
    roles: dict[str, str] = field(default_factory=dict)
    accept: dict[str, str] = field(default_factory=dict)
    refuse: dict[str, str] = field(default_factory=dict)
    skip: dict[str, str] = field(default_factory=dict)
    nonfinite_ok: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    invoke: Callable[[Callable, tuple, dict], Any] = invoke_plain


def qualified_name(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


class Registry:
    """Entries by name, and the public callables deliberately left out (with the reason)."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.excluded: dict[str, str] = {}

    def add(self, target: Any, *, method: str | None = None, variant: str | None = None,
            **overrides: Any) -> Callable[[Callable[[], Call]], Callable[[], Call]]:
        """Decorator: register the decorated function as ``target``'s valid-call builder.
        ``method="forward"`` fuzzes that method of the object the builder makes (the builder returns
        ``call(...).using(model.forward)``); ``variant`` names a second valid call of one callable."""
        public = qualified_name(target)
        name = public + (f".{method}" if method else "") + (f"[{variant}]" if variant else "")

        def register(make: Callable[[], Call]) -> Callable[[], Call]:
            if name in self.entries:
                raise ValueError(f"duplicate registry entry {name}")
            self.entries[name] = Entry(name, public, target.__module__, target, make, **overrides)
            return make

        return register

    def exclude(self, target: Any, reason: str) -> None:
        self.excluded[target if isinstance(target, str) else qualified_name(target)] = reason

    def covered(self) -> set[str]:
        return {entry.public for entry in self.entries.values()} | set(self.excluded)


def public_callables(package: str, skip_prefixes: Iterable[str] = ()) -> dict[str, Any]:
    """Every callable in the ``__all__`` of ``package`` and its submodules, once per object (a
    re-export keeps its defining module's name), by qualified name. Modules under
    ``skip_prefixes`` are neither imported nor listed."""
    skip = tuple(skip_prefixes)
    root = importlib.import_module(package)
    modules = [root]
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if not info.name.startswith(skip):
            modules.append(importlib.import_module(info.name))
    found: dict[int, Any] = {}
    for module in modules:
        for attribute in getattr(module, "__all__", ()):
            obj = getattr(module, attribute)
            if callable(obj):
                found.setdefault(id(obj), obj)
    return {qualified_name(obj): obj for obj in found.values()}


# ---------------------------------------------------------------------------------------------
# Roles and their mutations
# ---------------------------------------------------------------------------------------------

ROLES = ("tensor", "int_tensor", "bool_tensor", "count", "index", "seed", "int_choice", "positive", "nonneg",
         "fraction", "real", "choice", "device", "text", "flag", "module", "callable", "object", "mapping",
         "int_seq", "float_seq", "str_seq", "tensor_seq", "module_seq", "seq", "skip")

# Name conventions of course_lib for scalars (an entry's ``roles`` overrides them).
SEED_NAMES = {"seed"}
TEXT_NAMES = {"desc", "title", "what", "where", "name", "value_label", "codes_title", "suptitle", "label",
              "colorbar_label"}
POSITIVE_NAMES = {"lr", "d_lr", "std", "sigma", "sigma_x", "data_range", "delta", "threshold", "margin", "radius",
                  "spacing", "span", "cell_size", "s", "rtol", "atol", "decay", "ema_decay", "factor", "scale",
                  "scale_bound", "beta_start", "beta_end", "sigma_min", "sigma_max", "tolerance"}
FRACTION_NAMES = {"nu", "p_uncond", "lesion_prob", "hold", "late_fraction", "min_share", "alpha"}
REAL_NAMES = {"shift", "vmin", "vmax", "a"}


def infer_role(name: str, value: Any) -> str:
    """The role of an argument from its value (and, for scalars and strings, its name)."""
    base = name.split("[")[0]
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool:
            return "bool_tensor"
        return "tensor" if value.is_floating_point() else "int_tensor"
    if isinstance(value, bool):
        return "flag"
    if isinstance(value, numbers.Integral):
        return "seed" if base in SEED_NAMES else "count"
    if isinstance(value, numbers.Real):
        if base in POSITIVE_NAMES:
            return "positive"
        if base in FRACTION_NAMES:
            return "fraction"
        return "real" if base in REAL_NAMES else "nonneg"
    if isinstance(value, torch.device):
        return "device"
    if isinstance(value, str):
        if base == "device":
            return "device"
        return "text" if base in TEXT_NAMES else "choice"
    if isinstance(value, nn.Module):
        return "module"
    if isinstance(value, torch.Generator) or value is None:
        return "skip"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)) and value:
        if all(isinstance(v, torch.Tensor) for v in value):
            return "tensor_seq"
        if all(isinstance(v, nn.Module) for v in value):
            return "module_seq"
        if all(isinstance(v, str) for v in value):
            return "str_seq"
        if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
            return "int_seq"
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
            return "float_seq"
    if callable(value):
        return "callable"
    return "object"


def _is_optional(parameter: inspect.Parameter | None) -> bool:
    """Whether None is a legitimate value: a None default, or ``None`` / ``Optional`` in the annotation
    (annotations are strings under ``from __future__ import annotations``)."""
    if parameter is None or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
        return False
    if parameter.default is None:
        return True
    annotation = parameter.annotation
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return annotation is not inspect.Parameter.empty and ("None" in text or "Optional" in text)


_INTS = {"count": (True, True, False), "index": (True, False, False), "seed": (True, False, False),
         "int_choice": (True, True, True)}  # (−1 refused, 0 refused, 10⁹ refused)
_FLOATS = {"positive": (True, True), "nonneg": (True, False), "fraction": (True, False), "real": (False, False)}


def mutations_for(role: str, value: Any, optional: bool) -> list[tuple[str, bool]]:
    """The mutations of an argument with this role and value: (name, must be refused by default)."""
    none = [("none", not optional)]
    if role == "tensor":
        out = []
        if value.ndim >= 1:
            out.append(("shape:drop_dim", True))
            if value.shape[-1] >= 2:
                out.append(("shape:cut_last", True))
        out += [("dtype:int64", True), ("dtype:bool", True),
                ("dtype:float32" if value.dtype == torch.float64 else "dtype:float64", False)]
        if value.numel():
            out += [("value:nan", True), ("value:+inf", True), ("value:-inf", True)]
        if value.ndim >= 1 and value.shape[0]:
            out.append(("empty", True))
        return out + [("type:list", True), ("type:numpy", True), ("device:meta", False)] + none
    if role in ("int_tensor", "bool_tensor"):
        out = []
        if value.ndim >= 1:
            out.append(("shape:drop_dim", True))
            if value.shape[-1] >= 2:
                out.append(("shape:cut_last", True))
        out.append(("dtype:float32", True))
        if role == "bool_tensor":
            out.append(("dtype:int64", True))
        elif value.numel():
            out += [("value:-1", True), ("value:1e6", True)]
        if value.ndim >= 1 and value.shape[0]:
            out.append(("empty", True))
        return out + [("type:list", True), ("type:numpy", True), ("device:meta", False)] + none
    if role in _INTS:
        minus, zero, huge = _INTS[role]
        return [("int:-1", minus), ("int:0", zero), ("int:2.5", True), ("int:True", True), ("int:'3'", True),
                ("int:None", not optional), ("int:1e9", huge)]
    if role in _FLOATS:
        minus, zero = _FLOATS[role]
        out = [("float:-1", minus), ("float:0", zero), ("float:nan", True), ("float:inf", True),
               ("float:'0.1'", True), ("float:None", not optional)]
        return out + ([("float:2", True)] if role == "fraction" else [])
    if role == "choice":
        return [("choice:unknown", True)] + none
    if role == "device":
        return [("device:unknown", True), ("device:cuda", not torch.cuda.is_available())] + none
    if role in ("module", "callable", "object"):
        return none
    if role == "mapping":
        return [("mapping:empty", True)] + none
    if role == "int_seq":
        return [("seq:empty", True), ("seq:elem=-1", True), ("seq:elem=2.5", True)] + none
    if role == "float_seq":
        return [("seq:empty", True), ("seq:elem=nan", True)] + none
    if role in ("str_seq", "tensor_seq", "module_seq", "seq"):
        return [("seq:empty", True)] + none
    if role in ("text", "flag", "skip"):
        return []
    raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")


def _set_first(value: torch.Tensor, element: float) -> torch.Tensor:
    out = value.detach().clone()
    out.view(-1)[0] = element
    return out.requires_grad_(value.requires_grad) if out.is_floating_point() else out


def _keep_grad(original: torch.Tensor, mutated: torch.Tensor) -> torch.Tensor:
    """A mutated float tensor keeps ``requires_grad``: only the mutated property should differ."""
    mutated = mutated.detach().clone()
    return mutated.requires_grad_(True) if original.requires_grad and mutated.is_floating_point() else mutated


def _replace_first(value: list | tuple, element: Any) -> list | tuple:
    items = list(value)
    items[0] = element
    return type(value)(items) if isinstance(value, list) else tuple(items)


_SCALARS = {"-1": -1, "0": 0, "2.5": 2.5, "True": True, "'3'": "3", "None": None, "1e9": 10**9}
_FLOAT_SCALARS = {"-1": -1.0, "0": 0.0, "nan": math.nan, "inf": math.inf, "'0.1'": "0.1", "None": None, "2": 2.0}


def mutate(value: Any, mutation: str) -> Any:
    """``value`` with ``mutation`` applied (a new object; the original is untouched)."""
    kind, _, what = mutation.partition(":")
    if mutation == "none":
        return None
    if kind == "int":
        return _SCALARS[what]
    if kind == "float":
        return _FLOAT_SCALARS[what]
    if kind == "choice":
        return "no_such_choice"
    if mutation == "device:unknown":
        return "no_such_device"
    if mutation == "device:cuda":
        return "cuda"
    if mutation == "mapping:empty":
        return {}
    if kind == "seq":
        if what == "empty":
            return type(value)() if isinstance(value, (list, tuple)) else []
        element = {"elem=-1": -1, "elem=2.5": 2.5, "elem=nan": math.nan}[what]
        return _replace_first(value, element)
    # Tensor mutations.
    if mutation == "shape:drop_dim":
        return _keep_grad(value, value[:, 0] if value.ndim >= 2 else value[0])
    if mutation == "shape:cut_last":
        return _keep_grad(value, value[..., :-1])
    if kind == "dtype":
        return _keep_grad(value, value.to(getattr(torch, what)))
    if kind == "value":
        return _set_first(value, {"nan": math.nan, "+inf": math.inf, "-inf": -math.inf, "-1": -1, "1e6": 10**6}[what])
    if mutation == "empty":
        return _keep_grad(value, value[:0])
    if mutation == "type:list":
        return value.tolist()
    if mutation == "type:numpy":
        return value.detach().cpu().numpy().copy()
    if mutation == "device:meta":
        return value.detach().to("meta")
    raise ValueError(f"unknown mutation {mutation!r}")


# ---------------------------------------------------------------------------------------------
# Binding a call's arguments by name
# ---------------------------------------------------------------------------------------------


@dataclass
class Bound:
    """A call's explicitly passed arguments by flat name (``modules[0]`` for an item of ``*modules``,
    a key of ``**training`` by its own name), and how to rebuild the call from them."""

    fn: Callable
    bound: inspect.BoundArguments
    parameters: dict[str, inspect.Parameter | None]

    @classmethod
    def of(cls, fn: Callable, built: Call) -> "Bound":
        signature = inspect.signature(fn)
        bound = signature.bind(*built.args, **built.kwargs)
        parameters: dict[str, inspect.Parameter | None] = {}
        for name, value in bound.arguments.items():
            parameter = signature.parameters[name]
            if parameter.kind is parameter.VAR_POSITIONAL:
                parameters.update({f"{name}[{i}]": parameter for i in range(len(value))})
            elif parameter.kind is parameter.VAR_KEYWORD:
                parameters.update({key: parameter for key in value})
            else:
                parameters[name] = parameter
        return cls(fn, bound, parameters)

    def _locate(self, name: str) -> tuple[str, Any]:
        parameter = self.parameters[name]
        if parameter.kind is parameter.VAR_POSITIONAL:
            return parameter.name, int(name.split("[")[1].rstrip("]"))
        if parameter.kind is parameter.VAR_KEYWORD:
            return parameter.name, name
        return name, None

    def get(self, name: str) -> Any:
        outer, inner = self._locate(name)
        value = self.bound.arguments[outer]
        return value if inner is None else value[inner]

    def set(self, name: str, new: Any) -> None:
        outer, inner = self._locate(name)
        if inner is None:
            self.bound.arguments[outer] = new
        elif isinstance(inner, int):
            items = list(self.bound.arguments[outer])
            items[inner] = new
            self.bound.arguments[outer] = tuple(items)
        else:
            self.bound.arguments[outer] = {**self.bound.arguments[outer], inner: new}

    def names(self) -> list[str]:
        return list(self.parameters)

    def __call__(self, invoke: Callable = invoke_plain) -> Any:
        # BoundArguments.args/.kwargs pass each argument the way the signature needs it.
        return invoke(self.fn, self.bound.args, self.bound.kwargs)


def _matching(patterns: Mapping[str, str], key: str) -> str | None:
    for pattern, reason in patterns.items():
        if fnmatch.fnmatchcase(key, pattern):
            return reason
    return None


# ---------------------------------------------------------------------------------------------
# What a child reports: the exception and where it was raised, or whether the result is finite
# ---------------------------------------------------------------------------------------------


def has_nonfinite(obj: Any, depth: int = 0) -> bool:
    """Whether a result holds NaN or ±inf anywhere: tensors, arrays, floats, containers, named
    tuples, dataclasses, and a module's parameters and buffers. Meta tensors have no values."""
    if depth > 6:
        return False
    if isinstance(obj, torch.Tensor):
        if obj.device.type == "meta" or not (obj.is_floating_point() or obj.is_complex()):
            return False
        return not bool(torch.isfinite(obj.detach()).all())
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind in "fc" and not bool(np.isfinite(obj).all())
    if isinstance(obj, (float, np.floating)):
        return not math.isfinite(obj)
    if isinstance(obj, nn.Module):
        return any(has_nonfinite(t, depth + 1) for t in [*obj.parameters(), *obj.buffers()])
    if isinstance(obj, Mapping):
        return any(has_nonfinite(v, depth + 1) for v in list(obj.values())[:1000])
    if isinstance(obj, (list, tuple)):
        return any(has_nonfinite(v, depth + 1) for v in obj[:1000])
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return any(has_nonfinite(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj))
    return False


def _raised_by_statement(code: Any, lasti: int) -> bool:
    """Whether the instruction at ``lasti`` is a ``raise`` (not a call into C or another frame that
    raised — a torch TypeError out of ``torch.randn(2.5)`` called from course_lib is torch's)."""
    for instruction in dis.get_instructions(code):
        if instruction.offset == lasti:
            return instruction.opname in ("RAISE_VARARGS", "RERAISE")
    return False


def exception_facts(error: BaseException) -> dict[str, Any]:
    """The facts ``classify`` needs about an exception: its type, message, and the last traceback
    frame (file:line, and whether a ``raise`` statement there raised it)."""
    tb, last = error.__traceback__, None
    while tb is not None:
        last, tb = tb, tb.tb_next
    file, line, statement = "?", 0, False
    if last is not None:
        file, line = last.tb_frame.f_code.co_filename, last.tb_lineno
        statement = _raised_by_statement(last.tb_frame.f_code, last.tb_lasti)
    message = str(error)
    return {
        "raised": True,
        "exc_type": type(error).__name__,
        "exc_module": type(error).__module__,
        "type_or_value": isinstance(error, (TypeError, ValueError)),
        "memory": isinstance(error, MemoryError) or bool(_MEMORY_MESSAGE.search(message)),
        "message": (message.strip().splitlines() or [""])[0][:300],
        "vocabulary": bool(_VOCABULARY.search(message)),
        # Cython frames name their source relative to the package (numpy/random/….pyx): keep those as they are.
        "file": os.path.abspath(file) if os.path.isabs(file) or os.path.exists(file) else file,
        "line": line,
        "raise_statement": statement,
    }


def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def plan_entry(entry: Entry) -> dict[str, Any]:
    """Run in a child: the valid call, and the cases to run from it (or the registry bug)."""
    _seed()
    try:
        built = entry.make()
        bound = Bound.of(built.fn or entry.target, built)
    except BaseException as error:  # a broken builder is a registry bug, whatever it raises
        return {"valid": False, "stage": "build", **exception_facts(error)}
    start = time.perf_counter()
    try:
        result = bound(entry.invoke)
    except BaseException as error:
        return {"valid": False, "stage": "call", **exception_facts(error)}
    seconds = time.perf_counter() - start
    cases, skipped, roles = [], [], {}
    for name in bound.names():
        value = bound.get(name)
        role = entry.roles.get(name) or infer_role(name, value)
        roles[name] = role
        for mutation, refuse in mutations_for(role, value, _is_optional(bound.parameters[name])):
            key = f"{name}:{mutation}"
            reason = _matching(entry.skip, key)
            if reason is not None:
                skipped.append({"argument": name, "mutation": mutation, "reason": reason})
                continue
            reason = ""
            accepted, refused = _matching(entry.accept, key), _matching(entry.refuse, key)
            if accepted is not None:
                refuse, reason = False, accepted
            if refused is not None:
                refuse, reason = True, refused
            cases.append({"argument": name, "role": role, "mutation": mutation, "must_refuse": refuse,
                          "reason": reason, "nonfinite_ok": _matching(entry.nonfinite_ok, key) or ""})
    return {"valid": True, "seconds": round(seconds, 3), "nonfinite": has_nonfinite(result), "roles": roles,
            "cases": cases, "skipped": skipped}


def run_case(entry: Entry, argument: str, mutation: str) -> dict[str, Any]:
    """Run in a child: the valid call with one argument mutated; the raw facts of what happened."""
    _seed()
    try:
        built = entry.make()
        bound = Bound.of(built.fn or entry.target, built)
        bound.set(argument, mutate(bound.get(argument), mutation))
    except BaseException as error:
        return {"setup_failed": True, **exception_facts(error)}
    start = time.perf_counter()
    try:
        result = bound(entry.invoke)
    except BaseException as error:
        facts = exception_facts(error)
    else:
        facts = {"raised": False, "nonfinite": has_nonfinite(result)}
    facts["seconds"] = round(time.perf_counter() - start, 3)
    return facts


def classify(facts: Mapping[str, Any], *, must_refuse: bool, library_root: str,
             errors: Iterable[str] = (), nonfinite_ok: bool = False) -> str:
    """The outcome of one case from the child's facts (see ``OUTCOMES``).

    An error is *clear* when it is a TypeError/ValueError (or a type the entry documents) raised by
    a ``raise`` statement in a file under ``library_root``; anything else raised is foreign. A
    returned result is ``nonfinite`` if it holds NaN/inf (unless the valid result already did, or
    the entry allows it), else ``silent`` if the mutation must be refused, else ``ok``."""
    if facts.get("killed") == "timeout":
        return "hang"
    if facts.get("killed") == "signal":
        return "oom"
    if facts.get("raised"):
        if facts.get("memory"):
            return "oom"
        in_library = facts.get("file", "").startswith(os.path.join(os.path.abspath(library_root), ""))
        expected_type = facts.get("type_or_value") or facts.get("exc_type") in set(errors)
        return "clear_error" if in_library and facts.get("raise_statement") and expected_type else "foreign_error"
    if facts.get("nonfinite") and not nonfinite_ok:
        return "nonfinite"
    return "silent" if must_refuse else "ok"


# ---------------------------------------------------------------------------------------------
# Forked children under a time and memory limit
# ---------------------------------------------------------------------------------------------


def _child_setup(memory_bytes: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it kills its children
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    devnull = os.open(os.devnull, os.O_WRONLY)  # progress bars and warnings of the code under test
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    torch.set_num_threads(1)  # jobs × 1 thread: two workers on two cores, no oversubscription


def run_forked(tasks: Iterable[tuple[Any, Callable[[], dict]]], *, jobs: int, timeout: float,
               memory_bytes: int | None, on_result: Callable[[Any, dict], None]) -> None:
    """Run each task ``(key, fn)`` as ``fn()`` in a forked child, ``jobs`` at a time; call
    ``on_result(key, facts)`` with the dict the child returned, ``{"killed": "timeout"}`` for one
    that ran past ``timeout`` seconds (it is killed), or ``{"killed": "signal", "signal": n}`` for
    one that died without answering (the kernel's or the allocator's kill: out of memory)."""
    pending = list(tasks)
    pending.reverse()  # pop() from the end keeps the given order
    running: dict[int, tuple[int, Any, float, bytearray]] = {}  # read fd → (pid, key, deadline, data)
    try:
        while pending or running:
            while pending and len(running) < jobs:
                key, fn = pending.pop()
                read_fd, write_fd = os.pipe()
                pid = os.fork()
                if pid == 0:  # the child: run, write one JSON document, leave without cleanup
                    os.close(read_fd)
                    try:
                        _child_setup(memory_bytes)
                        payload = json.dumps(fn(), default=str).encode()
                    except BaseException as error:  # noqa: BLE001 — the child must always answer
                        payload = json.dumps({"child_failed": repr(error)[:300]}).encode()
                    try:
                        view = memoryview(payload)
                        while view:
                            view = view[os.write(write_fd, view):]
                    finally:
                        os._exit(0)
                os.close(write_fd)
                running[read_fd] = (pid, key, time.monotonic() + timeout, bytearray())
            wait = max(0.0, min(deadline for _, _, deadline, _ in running.values()) - time.monotonic())
            ready, _, _ = select.select(list(running), [], [], wait)
            for fd in ready:
                chunk = os.read(fd, 1 << 16)
                pid, key, _, data = running[fd]
                if chunk:
                    data.extend(chunk)
                    continue
                del running[fd]
                os.close(fd)
                _, status = os.waitpid(pid, 0)
                if data:
                    on_result(key, json.loads(data))
                else:
                    on_result(key, {"killed": "signal", "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0})
            now = time.monotonic()
            for fd, (pid, key, deadline, _) in list(running.items()):
                if now > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    os.close(fd)
                    del running[fd]
                    on_result(key, {"killed": "timeout"})
    finally:  # an interrupted run (Ctrl-C) leaves no children behind
        for fd, (pid, *_rest) in running.items():
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            os.close(fd)


# ---------------------------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------------------------


@dataclass
class Report:
    """Everything a run found: the valid calls (and registry bugs), every case with its outcome."""

    entries: dict[str, dict] = field(default_factory=dict)
    registry_errors: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def _where(facts: Mapping[str, Any]) -> str:
    if "file" not in facts:
        return ""
    file = facts["file"]
    for root in sys.path:  # a short path: relative to the first import root that holds it
        if root and file.startswith(os.path.join(os.path.abspath(root), "")):
            file = os.path.relpath(file, root)
            break
    return f"{file}:{facts['line']}"


def origin(facts: Mapping[str, Any], library_root: str) -> str:
    """Where an exception came from: a ``raise`` in the library, a call from a library line into C
    or a Python builtin (torch's C++ errors surface so: their last Python frame is the caller's),
    or the package whose file raised it."""
    file = facts.get("file")
    if not facts.get("raised") or not file:
        return ""
    if file.startswith(os.path.join(os.path.abspath(library_root), "")):
        return "library raise" if facts.get("raise_statement") else "C/builtin called from library"
    if "/site-packages/" in file:
        return file.split("/site-packages/")[1].split("/")[0]
    if not os.path.isabs(file):  # a compiled extension's own source name, e.g. numpy/random/_common.pyx
        return file.split("/")[0]
    return "python stdlib" if re.search(r"/lib/python3\.\d+/", file) else "other (caller's code)"


def fuzz(entries: Iterable[Entry], *, jobs: int = 2, timeout: float = 20.0, memory_bytes: int | None = 3 << 30,
         library_root: str | None = None, progress: Callable[[str], None] | None = None) -> Report:
    """Plan every entry, run every case, classify every outcome (see the module doc)."""
    entries = {entry.name: entry for entry in entries}
    if library_root is None:
        import course_lib

        library_root = os.path.dirname(os.path.abspath(course_lib.__file__))
    report = Report()
    start = time.monotonic()
    say = progress or (lambda _text: None)
    plans: dict[str, dict] = {}

    def planned(name: str, facts: dict) -> None:
        plans[name] = facts

    # Each child builds its own valid call: the parent never computes with torch before forking.
    run_forked(((name, lambda e=entry: plan_entry(e)) for name, entry in entries.items()), jobs=jobs,
               timeout=timeout, memory_bytes=memory_bytes, on_result=planned)
    work = []
    for name, entry in entries.items():
        plan = plans[name]
        if not plan.get("valid"):
            reason = ("valid call timed out" if plan.get("killed") == "timeout" else
                      f"valid call killed by signal {plan.get('signal')}" if plan.get("killed") else
                      f"{plan.get('stage', 'child')}: {plan.get('exc_type', '')}: {plan.get('message', plan.get('child_failed', ''))}")
            report.registry_errors.append({"entry": name, "error": reason, "where": _where(plan)})
            continue
        report.entries[name] = {"public": entry.public, "module": entry.module, "seconds": plan["seconds"],
                                "roles": plan["roles"], "n_cases": len(plan["cases"]), "skipped": plan["skipped"],
                                "valid_nonfinite": plan["nonfinite"]}
        work += [(name, case) for case in plan["cases"]]
    say(f"{len(report.entries)} valid calls ({len(report.registry_errors)} registry errors), {len(work)} cases")
    done = {"n": 0}
    counts = {outcome: 0 for outcome in OUTCOMES}

    def finished(index: int, facts: dict) -> None:
        name, case = work[index]
        entry = entries[name]
        if facts.get("setup_failed") or facts.get("child_failed"):
            report.registry_errors.append({"entry": name, "error": f"mutation {case['argument']}:{case['mutation']} "
                                           f"could not be applied: {facts.get('message', facts.get('child_failed'))}",
                                           "where": _where(facts)})
            return
        # A valid result that already holds NaN/inf (psnr of equal images, say) proves nothing.
        nonfinite_ok = bool(case["nonfinite_ok"]) or report.entries[name]["valid_nonfinite"]
        outcome = classify(facts, must_refuse=case["must_refuse"], library_root=library_root,
                           errors=entry.errors, nonfinite_ok=nonfinite_ok)
        counts[outcome] += 1
        report.cases.append({
            "callable": name, "public": entry.public, "module": entry.module, "argument": case["argument"],
            "role": case["role"], "mutation": case["mutation"], "must_refuse": case["must_refuse"],
            "reason": case["reason"], "outcome": outcome, "exc_type": facts.get("exc_type", ""),
            "message": facts.get("message", ""), "vocabulary": facts.get("vocabulary", False),
            "where": _where(facts), "origin": origin(facts, library_root), "seconds": facts.get("seconds"),
            "signal": facts.get("signal"),
        })
        done["n"] += 1
        if done["n"] % 250 == 0 or done["n"] == len(work):
            summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
            say(f"[{done['n']}/{len(work)}] {time.monotonic() - start:.0f} s: {summary}")

    run_forked(((i, lambda e=entries[name], c=case: run_case(e, c["argument"], c["mutation"]))
                for i, (name, case) in enumerate(work)),
               jobs=jobs, timeout=timeout, memory_bytes=memory_bytes, on_result=finished)
    order = {name: i for i, name in enumerate(entries)}
    report.cases.sort(key=lambda c: (order[c["callable"]], c["argument"], c["mutation"]))
    report.seconds = time.monotonic() - start
    return report
