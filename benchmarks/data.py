"""Data generation speed: 2,000 brain slices at 64 px (target ≤ 5 s on a 2-core CPU)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from course_lib.data import brain_slices, paired_brain_slices

TARGET_S = 5.0


def run(out: Path | None = None) -> dict:
    brain_slices(8)  # load and cache the vendored template first: the target is about generation
    timings = {}
    for label, call in [("t1_2000x64", lambda: brain_slices(2000, size=64, seed=0)),
                        ("t2_2000x64", lambda: brain_slices(2000, size=64, contrast="t2", seed=0)),
                        ("paired_2000x64", lambda: paired_brain_slices(2000, size=64, seed=0))]:
        start = time.perf_counter()
        result = call()
        timings[label] = round(time.perf_counter() - start, 2)
        if out:
            images = result if not isinstance(result, tuple) else np.stack([r.numpy() for r in result])
            np.save(out / f"{label}.npy", np.asarray(images))
    return {"seconds": timings, "targets": {f"brain_slices 2000 x 64 px <= {TARGET_S} s": timings["t1_2000x64"] <= TARGET_S}}
