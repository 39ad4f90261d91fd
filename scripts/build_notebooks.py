"""Regenerate every lecture and solution notebook from its jupytext twin and execute it.

    python scripts/build_notebooks.py [NAME_OR_PATH ...]

The ``.py`` twin (py:percent) is the source of truth. This script turns it into an ``.ipynb``
with stable cell ids (so that diffs show real changes), executes it top to bottom in the
project's environment with the notebook's folder as working directory, and writes it with its
outputs. It prints the wall time of each notebook; ``make bench`` checks them against the
budgets in COURSE_DESIGN.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import nbformat

from course_lib.notebook_client import CourseNotebookClient

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("lectures", "solutions")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def twins(selection: list[str]) -> list[Path]:
    paths = sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("[0-9][0-9]_*.py"))
    if not selection:
        return paths
    chosen = [p for p in paths if any(s in str(p.relative_to(ROOT)) for s in selection)]
    if not chosen:
        raise SystemExit(f"no twin matches {selection}; known: {[str(p.relative_to(ROOT)) for p in paths]}")
    return chosen


def build(py: Path, timeout: int = 900) -> float:
    nb = jupytext.read(py)
    for index, cell in enumerate(nb.cells):
        cell.id = f"{py.stem[:2]}-{index:03d}"
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    start = time.perf_counter()
    CourseNotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                         resources={"metadata": {"path": str(py.parent)}}).execute()
    seconds = time.perf_counter() - start
    # nbclient has stored the widgets' final state in nb.metadata.widgets: kept, so that the saved
    # sliders and progress bars render as static widgets wherever the notebook is displayed
    # (nbviewer, a static site, JupyterLab before Run All). nbval ignores widget-view outputs.
    if not nb.metadata.get("widgets") and any(WIDGET_VIEW in out.get("data", {}) for cell in nb.cells
                                             for out in cell.get("outputs", [])):
        raise RuntimeError(f"{py.name}: widget outputs without saved widget state")
    nbformat.write(nb, py.with_suffix(".ipynb"))
    return seconds


def main() -> None:
    for py in twins(sys.argv[1:]):
        seconds = build(py)
        print(f"{py.relative_to(ROOT)}: executed in {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
