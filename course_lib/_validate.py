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
from collections.abc import Sequence
from typing import Any

import torch

Size = int | str | None  # a required size, a name for any size ("B"), or any size


def describe(value: Any) -> str:
    """What came, in a few words: a tensor's dtype and shape, or a value's repr and type."""
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
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
