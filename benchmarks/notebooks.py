"""Wall time of every lecture and solution notebook, executed headless top to bottom.

Budgets (COURSE_DESIGN §6): 90 s per lecture, 45 s per solution. The notebooks are executed
from their committed ``.ipynb`` in the project's environment; nothing is written back.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat

from course_lib.notebook_client import CourseNotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = {"lectures": 90, "solutions": 45}


def run(out: Path | None = None) -> dict:
    times = {}
    for folder, budget in BUDGET_S.items():
        for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            CourseNotebookClient(nb, timeout=1200, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            times[f"{folder}/{path.name}"] = {"seconds": round(time.perf_counter() - start, 1), "budget_s": budget}
    return {
        "notebooks": times,
        "targets": {f"{name} <= {t['budget_s']} s": t["seconds"] <= t["budget_s"] for name, t in times.items()},
    }
