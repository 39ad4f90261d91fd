"""Checkpoint I/O (all lectures): trained weights saved as plain ``state_dict`` files, each with a
sha256 digest beside it, and loaded only after the digest matches.

Files are written atomically (a crash leaves the old file or the new one, never half of one),
never replace an existing checkpoint unless asked, and load with ``torch.load(...,
weights_only=True)``, which refuses anything but tensors and plain containers.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import _validate

__all__ = ["ChecksumError", "save_checkpoint", "load_checkpoint"]


class ChecksumError(ValueError):
    """A checkpoint's sha256 does not match the recorded one (or no digest was recorded)."""


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, Mapping):
        out = OrderedDict((k, _to_cpu(v)) for k, v in obj.items())
        if hasattr(obj, "_metadata"):  # module versions, which load_state_dict consults
            out._metadata = obj._metadata  # type: ignore[attr-defined]
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _check_path(path: Any, what: str) -> Path:
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise TypeError(f"{what} must be a path (str or os.PathLike), got {_validate.describe(path)}")
    return Path(path)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``: a reader (or a
    crash half-way) sees the old file or the new one, never half of one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_checkpoint(model_or_state_dict: nn.Module | Mapping[str, Any], path: str | os.PathLike, *,
                    overwrite: bool = False) -> str:
    """Save a ``state_dict`` (tensors on the CPU) to ``path`` and its sha256 to ``<path>.sha256``.

    The sidecar uses ``sha256sum``'s format ("<hex>  <filename>"), so ``sha256sum -c`` in the
    checkpoint's directory verifies it too. Returns the hex digest. An existing checkpoint is
    replaced only with ``overwrite=True`` (``make checkpoints`` asks for it); both files are
    written atomically, the checkpoint first and its digest last.
    """
    if isinstance(model_or_state_dict, nn.Module):
        state = model_or_state_dict.state_dict()
    elif isinstance(model_or_state_dict, Mapping):
        state = model_or_state_dict
    else:
        got = type(model_or_state_dict).__name__
        raise TypeError(f"save_checkpoint expects an nn.Module or a state_dict, got {got}")
    path = _check_path(path, "path")
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False, got {overwrite!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"checkpoint {path} exists; pass overwrite=True to replace it "
                              "(shipped checkpoints are replaced by `make checkpoints` only)")
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(_to_cpu(state), buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    _write_atomically(path, payload)
    _write_atomically(Path(f"{path}.sha256"), f"{digest}  {path.name}\n".encode())
    return digest


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module | None = None, *, expected_sha256: str | None = None
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, after checking its sha256.

    The digest is compared with ``expected_sha256`` when given, else with the ``<path>.sha256``
    sidecar. Loading uses ``weights_only=True``: only tensors and plain containers are
    unpickled, so a checkpoint cannot run code. With ``model``, the state is loaded into it
    strictly (every key must match). Returns the state dict.
    """
    path = _check_path(path, "path")
    if model is not None and not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module or None, got {type(model).__name__}")
    if expected_sha256 is not None and not (isinstance(expected_sha256, str)
                                            and len(expected_sha256.strip()) == 64):
        raise TypeError(f"expected_sha256 must be a 64-character hex string or None, got {expected_sha256!r}")
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found; run `make checkpoints` to create it")
    payload = path.read_bytes()
    actual = hashlib.sha256(payload).hexdigest()
    if expected_sha256 is None:
        sidecar = Path(f"{path}.sha256")
        if not sidecar.is_file():
            raise ChecksumError(f"no checksum file {sidecar} for checkpoint {path}; pass expected_sha256 "
                                "or re-create both with `make checkpoints`")
        expected_sha256 = (sidecar.read_text().split() or [""])[0]
    if actual != expected_sha256.strip().lower():
        raise ChecksumError(f"checkpoint {path} has sha256 {actual}, expected {expected_sha256.strip()}: "
                            "the file was modified or is corrupt; re-create it with `make checkpoints`")
    # Load the very bytes that were verified rather than reading the file a second time.
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except (EOFError, RuntimeError, zipfile.BadZipFile) as error:  # empty or truncated; a refused object
        # (pickle.UnpicklingError from weights_only) propagates with torch's own explanation
        raise ValueError(f"checkpoint {path} ({len(payload)} bytes) is not a readable PyTorch checkpoint "
                         f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'empty file'}); "
                         "re-create it with `make checkpoints`") from error
    if not isinstance(state, Mapping):
        raise ValueError(f"checkpoint {path} holds a {type(state).__name__}, not a state_dict")
    if model is not None:
        model.load_state_dict(state, strict=True)
    return state
