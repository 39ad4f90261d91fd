"""The machinery every self-check shares: the failure type, pass/fail lines, running student code.

A blank that still raises ``NotImplementedError`` passes through every check unchanged: the
exercise runner (``tests/test_exercises.py``) counts on seeing exactly that error. Any other
error from the student's code becomes a ``CheckFailed`` that names the call, with the original
error chained. Checks seed their own random numbers and restore the global generator afterwards,
so they do not change what the rest of a notebook prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NoReturn

import torch

__all__ = ["CheckFailed"]


class CheckFailed(AssertionError):
    """A self-check found a mistake; the message says what is wrong, not how to write the code."""


def _passed(name: str, detail: str) -> None:
    print(f"✓ {name} passed: {detail}")


def _fail(name: str, hint: str) -> NoReturn:
    raise CheckFailed(f"✗ {name}: {hint}")


def _expect_callable(name: str, obj: object, what: str) -> None:
    if not callable(obj):
        raise TypeError(f"{name} expects {what} (pass it without calling it), got a {type(obj).__name__}")


def _expect_tensor(name: str, what: str, value: object, shape: tuple[int, ...], hint: str = "") -> torch.Tensor:
    """Fail unless ``value`` is a tensor of exactly ``shape``; ``hint`` is appended to a shape mismatch."""
    if not isinstance(value, torch.Tensor):
        _fail(name, f"{what} returned a {type(value).__name__}, expected a tensor of shape {shape}.")
    if tuple(value.shape) != shape:
        _fail(name, f"{what} returned shape {tuple(value.shape)}, expected {shape}{hint}.")
    return value


@contextlib.contextmanager
def _student_code(name: str, call: str) -> Iterator[None]:
    """Run student code: blanks (NotImplementedError) and CheckFailed pass through untouched."""
    try:
        yield
    except (NotImplementedError, CheckFailed):
        raise
    except Exception as err:
        raise CheckFailed(
            f"✗ {name}: {call} raised {type(err).__name__}: {err}\n"
            "  (the traceback above shows the line of your code where it happened)"
        ) from err


@contextlib.contextmanager
def _seeded(seed: int = 0) -> Iterator[torch.Generator]:
    """Seed torch for the hidden cases and the student's initialisation, then restore the global state.

    One thread: the problems are tiny, and a second thread only adds overhead on a busy 2-core machine.
    """
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        try:
            yield torch.Generator().manual_seed(seed)
        finally:
            torch.set_num_threads(threads)


def _close(a: torch.Tensor | float, b: torch.Tensor | float, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64), rtol=rtol, atol=atol)


# --- Shared by the loss checks of lectures 04 and 05 (values from logits, gradients to inputs) ---

def _scalar_with_grad(name: str, case: str, value: object) -> torch.Tensor:
    """Fail unless ``value`` is a 0-d tensor still attached to the autograd graph."""
    if not isinstance(value, torch.Tensor):
        _fail(name, case + f"It returned a {type(value).__name__}; return a 0-d tensor that autograd can differentiate.")
    if value.ndim != 0:
        _fail(name, case + f"It returned shape {tuple(value.shape)}; the loss is one number: average over the batch.")
    if value.grad_fn is None:
        _fail(name, case + "The result is cut off from the autograd graph (no grad_fn): was it detached, built from "
              "a Python number, or computed under no_grad?")
    return value


def _first_match(value: torch.Tensor, candidates: list[tuple[torch.Tensor, str]], default: str,
                 rtol: float = 1e-4, atol: float = 1e-5) -> str:
    """The hint of the first known mistake whose value ``value`` equals, else ``default``."""
    for wrong, hint in candidates:
        if _close(value, wrong, rtol=rtol, atol=atol):
            return hint
    return default


def _gradient_hint(grads: tuple, ref_grads: tuple, names: list[str], learner: str = "training") -> str | None:
    """None when every gradient matches the reference's; else what is wrong with which input's.
    ``learner`` is who would not learn from a missing gradient ("training", "the generators")."""
    for grad, ref, what in zip(grads, ref_grads, names):
        if grad is None or not grad.abs().max() > 0:
            return (f"no gradient reaches {what}: a term that uses them was detached (or rebuilt from a Python "
                    f"number), so {learner} would not learn from it.")
        if not _close(grad, ref, rtol=1e-4, atol=1e-7):
            return (f"its gradient with respect to {what} differs from the reference's: compute the loss from "
                    "them by differentiable operations only.")
    return None


def _changed_in_place(given: list[torch.Tensor], saved: list[torch.Tensor], names: list[str]) -> str | None:
    """The name of the first input the student's code changed in place (``saved`` holds copies taken
    before the call), or None. Each check words its own hint: what the caller still needs it for."""
    for tensor, copy_, what in zip(given, saved, names):
        if tensor.shape != copy_.shape or not torch.equal(tensor.detach(), copy_):
            return what
    return None
