"""How far the notebooks' training-derived figures move across seeds and perturbed numerics.

    python -m benchmarks spread --json [--out DIR] [--seeds 0 1 2 3 4] [--only 04 05]

nbval compares only outputs that are exact on every machine; every figure that comes from
training, sampling or a long floating-point reduction is printed for the student, excluded from
comparison by the cell tag ``nbval-ignore-output`` and checked by an ``assert`` with a
tolerance instead. This benchmark is where those tolerances come from. It executes every
lecture and solution notebook from its jupytext twin

- once per training seed: every ``seed_everything(N)`` and ``.manual_seed(N)`` in the notebook
  becomes ``N + 1000 * seed`` (network initialisation, minibatch order, sampled noise; the
  data sets, drawn with ``seed=`` arguments, and the shipped checkpoints stay the same), and
- once with seed 0 under perturbed numerics: one thread and generic kernels
  (``OMP_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default``, as ``make test-portable``),

with errors allowed, so that one failing assert does not hide the rest. It reports every
failing cell (an ``assert`` that a seed or the perturbation broke), and for every ignored
cell's printed line the spread of each number in it across the runs. ``--out DIR`` writes the
per-run outputs (``runs.json``) and the table (``spread.md``); the committed copy of that table,
``benchmarks/notebook_spread.md``, is what the notebooks' tolerances were set from.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from pathlib import Path
from unittest import mock

import jupytext

from course_lib.notebook_client import CourseNotebookClient

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("lectures", "solutions")
IGNORE_TAG = "nbval-ignore-output"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
PERTURBED_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "default"}
SEED_CALL = re.compile(r"\b(seed_everything|manual_seed)\((\d+)\)")
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def reseed(source: str, seed: int) -> str:
    """Shift every literal seed in ``source`` by ``1000 * seed`` (seed 0 leaves it unchanged)."""
    return SEED_CALL.sub(lambda m: f"{m.group(1)}({int(m.group(2)) + 1000 * seed})", source)


def execute(py: Path, seed: int, env: dict[str, str]) -> dict:
    """Run one twin with its seeds shifted; return per code cell its stdout, tags and error."""
    nb = jupytext.read(py)
    # As scripts/build_notebooks.py does (the kernel and the pairing the notebook is built with).
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = reseed(cell.source, seed)
    start = time.perf_counter()
    with mock.patch.dict(os.environ, env):  # the kernel inherits the environment it starts in
        CourseNotebookClient(nb, timeout=1800, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(py.parent)}}).execute()
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        stdout = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
        errors = [f"{o.ename}: {o.evalue}".splitlines()[0][:300] for o in cell.outputs if o.output_type == "error"]
        cells.append({"index": index, "ignored": IGNORE_TAG in cell.metadata.get("tags", []),
                      "stdout": stdout, "errors": errors})
    return {"seconds": round(time.perf_counter() - start, 1), "cells": cells}


def _describe(values: list[float]) -> str:
    if len(set(values)) == 1:
        return f"{values[0]:g}"
    mean, sd = statistics.mean(values), statistics.stdev(values)
    return f"{mean:.4g} ± {sd:.2g} [{min(values):g}, {max(values):g}]"


def summarise_line(lines: list[str]) -> str:
    """One printed line across runs: constant text kept, every varying number as mean ± sd [min, max]."""
    templates = {NUMBER.sub("#", line) for line in lines}
    if len(templates) != 1:
        return " / ".join(sorted(set(lines)))  # the runs printed differently shaped lines
    columns = list(zip(*(NUMBER.findall(line) for line in lines)))
    pieces = NUMBER.split(lines[0])
    out = pieces[0]
    for column, piece in zip(columns, pieces[1:]):
        out += _describe([float(v) for v in column]) if len(set(column)) > 1 else column[0]
        out += piece
    return out


def table(runs: dict[str, dict[str, dict]]) -> str:
    """Markdown: for every notebook, failing cells per run, then each ignored cell's lines.

    A cell that nbval compares (no ignore tag) is listed only if its output differs between seed 0
    and seed 0 under perturbed numerics, which means it should not be compared."""
    labels = list(runs)
    notebooks = sorted({name for run in runs.values() for name in run})
    out = [f"Runs: {', '.join(labels)}.", ""]
    for name in notebooks:
        present = [label for label in labels if name in runs[label]]
        out += [f"## {name}", "", "seconds per run: " + ", ".join(f"{label} {runs[label][name]['seconds']}" for label in present), ""]
        failures = [f"- cell {cell['index']}, {label}: {error}" for label in present
                    for cell in runs[label][name]["cells"] for error in cell["errors"]]
        out += (["failing cells:"] + failures if failures else ["failing cells: none"]) + [""]
        first = runs[present[0]][name]["cells"]
        for position, cell in enumerate(first):
            if not cell["stdout"].strip():
                continue
            per_run = [runs[label][name]["cells"][position]["stdout"].rstrip("\n").splitlines() for label in present]
            if not cell["ignored"]:
                # A compared cell may print seeded draws (which slices, which groups): those differ
                # between seeds but must not between machines, i.e. seed 0 plain vs perturbed.
                same_seed = [lines for label, lines in zip(present, per_run) if label.startswith("seed 0")]
                if len({tuple(lines) for lines in same_seed}) == 1:
                    continue
                out.append(f"cell {cell['index']} (COMPARED BY NBVAL, BUT MOVED UNDER PERTURBED NUMERICS):")
            else:
                out.append(f"cell {cell['index']}:")
            out.append("```")
            if len({len(lines) for lines in per_run}) != 1:
                out += [f"{label}: {' | '.join(lines)}" for label, lines in zip(present, per_run)]
            else:
                out += [summarise_line(list(group)) for group in zip(*per_run)]
            out += ["```", ""]
    return "\n".join(out)


def run(out: Path | None = None, seeds: tuple[int, ...] = (0, 1, 2, 3, 4), only: tuple[str, ...] = ()) -> dict:
    twins = sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("[0-9][0-9]_*.py"))
    if only:
        twins = [p for p in twins if any(s in str(p.relative_to(ROOT)) for s in only)]
    configs = [(f"seed {s}", s, {}) for s in seeds] + [("seed 0 perturbed", 0, PERTURBED_ENV)]
    runs: dict[str, dict[str, dict]] = {label: {} for label, _, _ in configs}
    for py in twins:
        name = str(py.relative_to(ROOT).with_suffix(""))
        for label, seed, env in configs:
            runs[label][name] = execute(py, seed, env)
        if out:  # after every notebook, so that an interrupted run keeps what it measured
            (out / "runs.json").write_text(json.dumps(runs, indent=1) + "\n")
    failing = {label: sorted({name for name, result in run.items() if any(c["errors"] for c in result["cells"])})
               for label, run in runs.items()}
    if out:
        (out / "spread.md").write_text(table(runs) + "\n")
    return {
        "runs": list(runs),
        "failing_notebooks": failing,
        "targets": {"every assert holds on every seed and under perturbed numerics": not any(failing.values())},
    }
