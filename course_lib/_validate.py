"""The one vocabulary in which course_lib's public functions check what they are given.

Every check raises before any work starts, with a message of one form,

    "<name> must be <what was expected>, got <what came>"

(``TypeError`` for the wrong kind of object or dtype, ``ValueError`` for a wrong shape, value or
range), so that a student reads the same kind of sentence whichever function they called. The
checks return the value (converted where that is harmless: an int to a float), so a caller can
write ``sigma = _validate.number(sigma, "sigma", minimum=0)``.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
import resource
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

Size = int | str | None  # a required size, a name for any size ("B"), or any size

# Bounds on sizes that would otherwise exhaust time or memory before failing (a typo such as 10**9
# epochs hangs a laptop for days). Each is far above what the course uses, and each message says why.
MAX_EPOCHS = 100_000       # the course trains for ≤ 400 epochs
MAX_STEPS = 10_000_000     # optimisation or sampling steps; the course's recipes use ≤ 30,000
MAX_LAYERS = 1_000         # depth, blocks, downsamplings: the course's deepest model has 16
MAX_WIDTH = 1_000_000      # hidden units, channels, latent dimensions; the course uses ≤ 1,024
MAX_SAMPLES = 100_000_000  # samples drawn or generated at once (also bounded by memory, see ``memory``)
MAX_CLASSES = 100_000      # classes a classifier or a conditional model distinguishes

WHY_EPOCHS = "a bound against typos: 100,000 epochs is days of CPU time"
WHY_STEPS = "a bound against typos: 10 million steps is days of CPU time"
WHY_LAYERS = "a bound against typos: a model is built layer by layer"
WHY_WIDTH = "a bound against typos: a layer of this width would not fit in memory"
WHY_SAMPLES = "a bound against typos: more samples would not fit in memory"
WHY_CLASSES = "a bound against typos: one output per class"


def describe(value: Any) -> str:
    """What came, in a few words: a tensor's dtype and shape, or a value's repr and type."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        article = "an" if dtype.startswith("int") else "a"
        return f"{article} {dtype} tensor of shape {tuple(value.shape)}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def shape_text(shape: Sequence[Size]) -> str:
    """(B, 1, 64, 64) for ("B", 1, 64, 64); a None is written as "…"."""
    parts = ["…" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def tensor(value: Any, name: str, *, shape: Sequence[Size] | None = None, ndim: int | Sequence[int] | None = None,
           floating: bool = True, finite: bool = False, nonempty: bool = False, what: str = "tensor",
           why: str = "") -> torch.Tensor:
    """``value`` as a tensor of the expected kind, or a clear error.

    ``shape`` fixes the number of dimensions and the sizes given as ints (a str or None is any
    size, the str naming it in the message); ``ndim`` allows one or several numbers of dimensions
    instead. ``floating`` asks for a floating-point dtype, ``finite`` for no NaN or ±inf,
    ``nonempty`` for at least one sample (a first dimension > 0). ``what`` says in the message what
    the tensor holds ("slices", "logits", …), ``why`` what the requirement is for.
    """
    kind = f"a floating-point {what}" if floating else f"a {what}"
    reason = f" ({why})" if why else ""
    expected = kind + ("" if shape is None else f" of shape {shape_text(shape)}") + reason
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be {expected} (a torch.Tensor), got {describe(value)}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if shape is not None:
        shape = tuple(shape)
        if value.ndim != len(shape) or any(isinstance(s, int) and value.shape[i] != s for i, s in enumerate(shape)):
            raise ValueError(f"{name} must be {expected}, got {describe(value)}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.ndim not in allowed:
            dims = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must be {kind} with {dims} dimensions{reason}, got {describe(value)}")
    if nonempty and (value.ndim == 0 or value.shape[0] == 0):
        raise ValueError(f"{name} must hold at least one sample (a first dimension of 1 or more), "
                         f"got {describe(value)}")
    # A meta tensor has a shape and a device but no values, so there is nothing to check.
    if finite and value.is_floating_point() and value.device.type != "meta" and not torch.isfinite(value).all():
        raise ValueError(f"{name} must be finite{reason}, got {describe(value)} containing NaN or ±inf")
    return value


def batch(value: Any, name: str, *, what: str = "batch", finite: bool = False) -> torch.Tensor:
    """A floating-point batch (B, …) with B ≥ 1 first: at least two dimensions (B and a sample's own)."""
    value = tensor(value, name, what=what, finite=finite)
    if value.ndim < 2 or len(value) == 0:
        raise ValueError(f"{name} must be a floating-point {what} (B, …) with B ≥ 1 samples first, "
                         f"e.g. images (B, C, H, W), got {describe(value)}")
    return value


def same_shape(a: torch.Tensor, b: torch.Tensor, names: tuple[str, str], why: str = "") -> None:
    """Two tensors of one shape (pairs: a[i] goes with b[i]); ``why`` says what needs them equal."""
    if a.shape != b.shape:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{names[0]} and {names[1]} must have the same shape{reason}, "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def integer(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None,
            why: str = "") -> int:
    """An int (not a bool, float or str) in [minimum, maximum]; ``why`` explains a bound."""
    if minimum is not None and maximum is not None:
        bounds = f" from {minimum:,} to {maximum:,}"
    else:
        bounds = ("" if minimum is None else f" ≥ {minimum:,}") + ("" if maximum is None else f" ≤ {maximum:,}")
    expected = f"an int{bounds}" + (f" ({why})" if why else "")
    if not _is_int(value):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def positive_int(value: Any, name: str, *, maximum: int | None = None, why: str = "") -> int:
    """An int ≥ 1 (a count, a number of epochs or steps)."""
    return integer(value, name, minimum=1, maximum=maximum, why=why)


def number(value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None,
           open_minimum: bool = False, open_maximum: bool = False, why: str = "") -> float:
    """A finite real number (int or float, not a bool or str) in the given range, as a float.

    The range is closed unless ``open_minimum`` / ``open_maximum`` (e.g. σ > 0: ``minimum=0,
    open_minimum=True``)."""
    if minimum is not None and maximum is not None:
        bounds = f" in {'(' if open_minimum else '['}{minimum:g}, {maximum:g}{')' if open_maximum else ']'}"
    elif minimum is not None:
        bounds = f" {'>' if open_minimum else '≥'} {minimum:g}"
    elif maximum is not None:
        bounds = f" {'<' if open_maximum else '≤'} {maximum:g}"
    else:
        bounds = ""
    expected = f"a finite number{bounds}" + (f" ({why})" if why else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    value = float(value)
    too_low = minimum is not None and (value <= minimum if open_minimum else value < minimum)
    too_high = maximum is not None and (value >= maximum if open_maximum else value > maximum)
    if not math.isfinite(value) or too_low or too_high:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def fraction(value: Any, name: str, *, why: str = "") -> float:
    """A number in [0, 1] (a probability, a fraction of inputs)."""
    return number(value, name, minimum=0, maximum=1, why=why)


def choice(value: Any, name: str, allowed: Sequence[Any], *, why: str = "") -> Any:
    """One of ``allowed``; ``why`` says what the choices mean."""
    allowed = tuple(allowed)
    try:
        known = value in allowed
    except TypeError:  # an unhashable or incomparable value is not one of them either
        known = False
    if not known:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be one of {allowed}{reason}, got {describe(value)}")
    return value


def epochs(value: Any, name: str = "epochs") -> int:
    """A number of passes over the data: 1 to ``MAX_EPOCHS``."""
    return positive_int(value, name, maximum=MAX_EPOCHS, why=WHY_EPOCHS)


def steps(value: Any, name: str = "steps") -> int:
    """A number of optimisation or sampling steps: 1 to ``MAX_STEPS``."""
    return positive_int(value, name, maximum=MAX_STEPS, why=WHY_STEPS)


def layers(value: Any, name: str, *, minimum: int = 1) -> int:
    """A number of layers, blocks or downsamplings: ``minimum`` to ``MAX_LAYERS``."""
    return integer(value, name, minimum=minimum, maximum=MAX_LAYERS, why=WHY_LAYERS)


def width(value: Any, name: str) -> int:
    """A layer's width (hidden units, channels, a latent dimension): 1 to ``MAX_WIDTH``."""
    return positive_int(value, name, maximum=MAX_WIDTH, why=WHY_WIDTH)


def samples(value: Any, name: str = "n") -> int:
    """A number of samples to draw or generate: 1 to ``MAX_SAMPLES``."""
    return positive_int(value, name, maximum=MAX_SAMPLES, why=WHY_SAMPLES)


def classes(value: Any, name: str = "n_classes", *, minimum: int = 2) -> int:
    """A number of classes: ``minimum`` (2 by default: one class is nothing to tell apart) to ``MAX_CLASSES``."""
    return integer(value, name, minimum=minimum, maximum=MAX_CLASSES, why=WHY_CLASSES)


def seed(value: Any, name: str = "seed") -> int:
    """A random seed: an int from 0 to 2**63 − 1 (torch and numpy both accept it)."""
    return integer(value, name, minimum=0, maximum=2**63 - 1, why="a random seed")


def memory_limit() -> int:
    """The bytes this process may allocate: the machine's RAM, or less under ``ulimit -v``."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return min(limit, soft) if soft not in (resource.RLIM_INFINITY, -1) and soft > 0 else limit


def memory(n_bytes: int, name: str, what: str) -> None:
    """Refuse a request whose largest allocation (``n_bytes`` for ``what``) exceeds ``memory_limit()``:
    it would fail anyway, after minutes of swapping or a crash, so it fails here with the sizes."""
    limit = memory_limit()
    if n_bytes > limit:
        raise ValueError(f"{name} is too large: {what} would need {n_bytes / 2**30:,.1f} GiB, more than "
                         f"the {limit / 2**30:,.1f} GiB this process may use")


def module(value: Any, name: str, kind: type | tuple[type, ...] = nn.Module, *, what: str = "") -> Any:
    """An ``nn.Module`` (or the given subclass(es)); ``what`` says what it is for ("the encoder")."""
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join("torch.nn.Module" if k is nn.Module else k.__name__ for k in kinds)
        reason = f" ({what})" if what else ""
        raise TypeError(f"{name} must be a {expected}{reason}, got {describe(value)}")
    return value


def text(value: Any, name: str, *, why: str = "") -> str:
    """A str (a label, a title, a name); ``why`` says what it is for."""
    if not isinstance(value, str):
        reason = f" ({why})" if why else ""
        raise TypeError(f"{name} must be a str{reason}, got {describe(value)}")
    return value


def function(value: Any, name: str, *, what: str = "a function") -> Callable:
    """A callable; ``what`` says what it is called with and returns ("a function of a batch → logits")."""
    if not callable(value):
        raise TypeError(f"{name} must be {what} (a callable), got {describe(value)}")
    return value


def generator(value: Any, name: str = "generator") -> torch.Generator | None:
    """``None`` (torch's global random state) or a ``torch.Generator``."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None (the global random state), "
                        f"got {describe(value)}")
    return value


def labels(value: Any, name: str, *, n_classes: int | None = None, length: int | None = None) -> torch.Tensor:
    """Class labels: a 1-D integer tensor (int64, as ``nn.CrossEntropyLoss`` wants) with values in
    [0, n_classes) and, where given, ``length`` entries (one per sample)."""
    expected = "a 1-D int64 tensor of class labels" + ("" if length is None else f" with {length} entries")
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be {expected} (a torch.Tensor), got {describe(value)}")
    if value.dtype != torch.long:
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    if value.ndim != 1 or (length is not None and len(value) != length):
        raise ValueError(f"{name} must be {expected}, got {describe(value)}")
    if value.device.type == "meta":
        raise ValueError(f"{name} must hold values (a tensor on a real device), got a meta tensor")
    if n_classes is not None and len(value) and (value.min() < 0 or value.max() >= n_classes):
        raise ValueError(f"{name} must hold class labels from 0 to {n_classes - 1}, "
                         f"got values from {int(value.min())} to {int(value.max())}")
    if n_classes is None and len(value) and value.min() < 0:
        raise ValueError(f"{name} must hold class labels ≥ 0, got {int(value.min())}")
    return value


def values(value: torch.Tensor, name: str) -> torch.Tensor:
    """A tensor that holds values: not on the ``meta`` device (shapes only), for a function that
    computes numbers from it (a loss, a metric, a sample)."""
    if value.device.type == "meta":
        raise ValueError(f"{name} must hold values (a tensor on the CPU or a GPU), got a meta tensor, "
                         "which has a shape but no values")
    return value


def same_device(tensors: Sequence[torch.Tensor], names: Sequence[str], *, where: torch.device | None = None,
                where_name: str = "") -> torch.device:
    """All ``tensors`` on one device (``where``, e.g. a model's, when given); returns it."""
    target = where if where is not None else tensors[0].device
    for value, name in zip(tensors, names):
        if value.device != target:
            place = f"on {target} ({where_name})" if where_name else f"on {target} like {names[0]}"
            raise ValueError(f"{name} must be {place}, got a tensor on {value.device}")
    return target


def shapes_only(value: Any, name: str, model: nn.Module, model_name: str = "the model") -> bool:
    """Whether ``value`` and ``model`` are both on the ``meta`` device: a shape-only pass, which is
    legitimate. A meta model with a real tensor is refused (values cannot cross to or from ``meta``);
    a meta tensor with a real model is left to the caller's value checks."""
    if not isinstance(value, torch.Tensor):
        return False
    model_meta, value_meta = device_of(model).type == "meta", value.device.type == "meta"
    if model_meta and not value_meta:
        raise ValueError(f"{name} must be a meta tensor like {model_name}'s parameters (shapes without values), "
                         f"got a tensor on {value.device}")
    return model_meta and value_meta


def dtype_like(value: torch.Tensor, name: str, model: nn.Module, model_name: str = "the model") -> torch.Tensor:
    """A floating tensor in a model's parameters' dtype, wherever it lives: a trainer's data, whose
    minibatches are moved to the model's device one by one but not converted. Parameters only:
    buffers may legitimately differ (a diffusion model's float64 noise schedule)."""
    first = next(model.parameters(), None)
    if first is not None and value.is_floating_point() and first.is_floating_point() and value.dtype != first.dtype:
        raise TypeError(f"{name} must be {str(first.dtype).removeprefix('torch.')} like {model_name}'s "
                        f"parameters, got {describe(value)} (convert it with .to({first.dtype}))")
    return value


def for_module(value: torch.Tensor, name: str, model: nn.Module, *, model_name: str = "the model") -> torch.Tensor:
    """A floating tensor a model can take: on the model's device, in its parameters' dtype."""
    first = next(itertools.chain(model.parameters(), model.buffers()), None)
    if first is None:
        return value
    if value.device != first.device:
        raise ValueError(f"{name} must be on {first.device}, where {model_name}'s parameters are, "
                         f"got a tensor on {value.device}")
    return dtype_like(value, name, model, model_name)


def optimizer(value: Any, name: str = "optimizer", *, what: str = "") -> torch.optim.Optimizer:
    """A ``torch.optim.Optimizer``; ``what`` says whose ("the generator's")."""
    if not isinstance(value, torch.optim.Optimizer):
        reason = f" ({what})" if what else ""
        raise TypeError(f"{name} must be a torch.optim.Optimizer{reason}, got {describe(value)}")
    return value


def available(device: torch.device) -> bool:
    """Whether the installed torch can put a tensor on ``device`` on this machine (the CPU and
    ``meta``, shapes without values, always; CUDA or MPS where present)."""
    if device.type in ("cpu", "meta"):
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index is None or device.index < torch.cuda.device_count())
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return False


def device(value: Any, name: str = "device") -> torch.device:
    """A device this machine has ("cpu", "cuda", "cuda:1", "mps" or a ``torch.device``), as a ``torch.device``."""
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a device name such as 'cpu' or 'cuda', or a torch.device, "
                        f"got {describe(value)}")
    try:
        result = torch.device(value)
    except RuntimeError as error:
        raise ValueError(f"{name} must be a device name such as 'cpu', 'cuda', 'cuda:1' or 'mps', "
                         f"got {value!r} ({error})") from None
    if not available(result):
        raise ValueError(f"{name} must be a device this machine has, got {value!r}: this PyTorch "
                         f"({torch.__version__}) cannot use it here; use 'cpu' or course_lib.default_device()")
    return result


def device_of(module: torch.nn.Module) -> torch.device:
    """Where a model's parameters (or, without parameters, its buffers) live; the CPU for neither."""
    first = next(itertools.chain(module.parameters(), module.buffers()), None)  # no list of every tensor
    return torch.device("cpu") if first is None else first.device
