"""The notebooks' regression check for figures that move with the seed and the machine.

A number that comes out of training, sampling or a long floating-point sum is not the same on
every computer: CPUs differ in their kernels, thread counts and summation order, so a PSNR of
23.35 dB here may print 23.34 dB on a student's laptop. The notebooks therefore print such
figures for the reader but do not let nbval compare them (the cell carries the tag
``nbval-ignore-output``); instead they call :func:`assert_close` with the value measured when the
notebook was written and a tolerance taken from the figure's spread over several training seeds
and under perturbed numerics (``python -m benchmarks spread``; the table the tolerances were set
from is ``benchmarks/notebook_spread.md``). A change that moves a figure further than that —
a bug, a changed recipe — fails the notebook on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real

__all__ = ["assert_close"]


def _pairs(measured, expected, tolerance, path: str):
    """Yield (path, measured, expected, tolerance) for every number in matching structures."""
    if isinstance(expected, Mapping):
        if not isinstance(measured, Mapping) or set(measured) != set(expected):
            got = sorted(measured) if isinstance(measured, Mapping) else type(measured).__name__
            raise ValueError(f"{path or 'measured'}: expected a mapping with keys {sorted(expected)}, got {got}")
        for key in expected:
            tol = tolerance[key] if isinstance(tolerance, Mapping) else tolerance
            yield from _pairs(measured[key], expected[key], tol, f"{path}[{key!r}]")
    elif isinstance(expected, Sequence) and not isinstance(expected, str):
        if not isinstance(measured, Sequence) or isinstance(measured, str) or len(measured) != len(expected):
            raise ValueError(f"{path or 'measured'}: expected a sequence of {len(expected)} numbers, got {measured!r}")
        # A sequence of tolerances belongs to the innermost sequence, one per number (e.g. one
        # for PSNR and one for SSIM); above that level it applies to every row alike.
        innermost = all(isinstance(e, Real) for e in expected)
        if innermost and isinstance(tolerance, Sequence) and len(tolerance) != len(expected):
            raise ValueError(f"{path or 'tolerance'}: {len(tolerance)} tolerances for {len(expected)} numbers")
        for i, (m, e) in enumerate(zip(measured, expected)):
            tol = tolerance[i] if innermost and isinstance(tolerance, Sequence) else tolerance
            yield from _pairs(m, e, tol, f"{path}[{i}]")
    else:
        yield path, measured, expected, tolerance


def assert_close(measured, expected, tolerance, what: str) -> None:
    """Raise ``AssertionError`` unless |measured − expected| ≤ tolerance for every number.

    ``measured`` and ``expected`` are numbers, or sequences / mappings of them with the same
    structure; ``tolerance`` is one non-negative number for all of them, a mapping with the same
    keys, or a sequence with one tolerance per number of the innermost sequences (a table of
    (PSNR, SSIM) rows takes ``(0.1, 0.002)``).
    ``what`` names the figure in the message (e.g. ``"conv AE PSNR at k = 32 (dB)"``). The
    message gives every figure out of its band, so a student who changed the code sees what moved.
    """
    if not isinstance(what, str) or not what:
        raise TypeError(f"what must be a non-empty string naming the figure, got {what!r}")
    failures = []
    for path, m, e, tol in _pairs(measured, expected, tolerance, ""):
        for name, value in (("measured", m), ("expected", e), ("tolerance", tol)):
            if not isinstance(value, Real) or isinstance(value, bool):
                raise TypeError(f"{what}{path}: {name} must be a real number, got {value!r}")
        if not (math.isfinite(e) and math.isfinite(tol) and tol >= 0):
            raise ValueError(f"{what}{path}: expected must be finite and tolerance finite and ≥ 0, got {e!r} ± {tol!r}")
        if not (math.isfinite(m) and abs(m - e) <= tol):
            failures.append(f"{what}{path} = {m:.6g}, expected {e:g} ± {tol:g}")
    if failures:
        raise AssertionError("outside the spread measured over seeds and machines "
                             "(benchmarks/notebook_spread.md): " + "; ".join(failures))
