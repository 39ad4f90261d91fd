"""Solutions → exercises: blank out the solved regions of ``solutions/NN_topic.ipynb``.

A solution notebook marks each student task with nbgrader-compatible markers on their own lines::

    def reconstruction_loss(x_hat, x):
        ### BEGIN SOLUTION
        return (x - x_hat).pow(2).flatten(1).sum(dim=1).mean()
        ### END SOLUTION

The generator replaces every region, markers included, by ``# YOUR CODE HERE`` and
``raise NotImplementedError()`` at the marker's indentation (``YOUR ANSWER HERE`` in a markdown
cell), clears all outputs and writes ``exercises/NN_topic.ipynb``. The same solution always
gives the same bytes, so ``--check`` (and ``tests/test_exercises.py``) can tell a stale file.

    python -m course_lib.authoring [--solutions DIR] [--exercises DIR] [--check]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbformat import NotebookNode

__all__ = [
    "BEGIN",
    "END",
    "make_exercise",
    "count_blanks",
    "exercise_path",
    "generate",
    "stale_exercises",
    "main",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_STUBS = {
    "code": ("# YOUR CODE HERE", "raise NotImplementedError()"),
    "markdown": ("YOUR ANSWER HERE",),
}
# Notebook metadata that belongs to the solution only: the jupytext pairing (an exercise
# must not sync back to a .py) and the widget state of outputs that are cleared anyway.
_DROPPED_METADATA = ("jupytext", "widgets")


def _regions(lines: list[str], where: str) -> list[tuple[int, int]]:
    """(begin, end) line indices of each marked region; unbalanced or nested markers → ValueError."""
    regions, begin = [], None
    for i, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise ValueError(f"{where}: nested {BEGIN!r} on line {i + 1} (the region opened on line {begin + 1} is not closed)")
            begin = i
        elif marker == END:
            if begin is None:
                raise ValueError(f"{where}: {END!r} on line {i + 1} without a matching {BEGIN!r}")
            regions.append((begin, i))
            begin = None
    if begin is not None:
        raise ValueError(f"{where}: {BEGIN!r} on line {begin + 1} is never closed by {END!r}")
    return regions


def _blank(source: str, stub: tuple[str, ...], where: str) -> str:
    lines = source.split("\n")
    # Replace from the last region backwards so earlier indices stay valid.
    for begin, end in reversed(_regions(lines, where)):
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        lines[begin : end + 1] = [indent + s for s in stub]
    return "\n".join(lines)


def _cells_with_markers(nb: NotebookNode, name: str) -> Iterator[tuple[int, NotebookNode, str]]:
    """The cells that may hold regions (code and markdown), with their index and a label for errors."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type in _STUBS:
            yield index, cell, f"{name}, cell {index}"


def count_blanks(nb: NotebookNode, name: str = "notebook") -> int:
    """The number of ``### BEGIN SOLUTION`` … ``### END SOLUTION`` regions in a solution notebook."""
    return sum(len(_regions(cell.source.split("\n"), where)) for _, cell, where in _cells_with_markers(nb, name))


def make_exercise(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """The exercise version of solution notebook ``nb`` (which is left unchanged).

    Marked regions are blanked, outputs, execution counts and execution timings are cleared,
    and the ``jupytext`` pairing is dropped; cell ids, tags, kernelspec and language_info are
    kept, so the result depends on the solution's source only. ``name`` labels error messages.
    """
    if not isinstance(nb, NotebookNode) or "cells" not in nb:
        raise TypeError(f"make_exercise expects an nbformat NotebookNode, got {type(nb).__name__}")
    exercise = copy.deepcopy(nb)
    for key in _DROPPED_METADATA:
        exercise.metadata.pop(key, None)
    for _, cell, where in _cells_with_markers(exercise, name):
        cell.source = _blank(cell.source, _STUBS[cell.cell_type], where)
    for cell in exercise.cells:
        cell.metadata.pop("execution", None)  # nbclient's timestamps change on every run
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return exercise


def exercise_path(solution_path: str | os.PathLike, exercises_dir: str | os.PathLike) -> Path:
    """Where the exercise generated from ``solution_path`` lives: same file name, in ``exercises_dir``."""
    return Path(exercises_dir) / Path(solution_path).name


def _solutions(solutions_dir: str | os.PathLike) -> list[Path]:
    solutions_dir = Path(solutions_dir)
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"solutions directory {solutions_dir} not found")
    return sorted(solutions_dir.glob("*.ipynb"))


def _render(solution: Path) -> str:
    """The exact text of the exercise for ``solution`` (the single place that defines its bytes)."""
    nb = nbformat.read(solution, as_version=4)
    text = nbformat.writes(make_exercise(nb, solution.name), version=4)
    return text if text.endswith("\n") else text + "\n"


def _orphans(solutions: list[Path], exercises_dir: Path) -> list[Path]:
    names = {s.name for s in solutions}
    return sorted(p for p in exercises_dir.glob("*.ipynb") if p.name not in names)


def generate(solutions_dir: str | os.PathLike = "solutions", exercises_dir: str | os.PathLike = "exercises") -> list[Path]:
    """Write one exercise per solution notebook; return their paths.

    Exercise notebooks without a solution are deleted: ``exercises/`` is generated output,
    and a leftover would otherwise stay stale forever.
    """
    solutions = _solutions(solutions_dir)
    exercises_dir = Path(exercises_dir)
    exercises_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for solution in solutions:
        target = exercise_path(solution, exercises_dir)
        content = _render(solution).encode("utf-8")
        if not target.is_file() or target.read_bytes() != content:  # leave up-to-date files (and mtimes) alone
            target.write_bytes(content)
        written.append(target)
    for orphan in _orphans(solutions, exercises_dir):
        orphan.unlink()
    return written


def stale_exercises(solutions_dir: str | os.PathLike = "solutions", exercises_dir: str | os.PathLike = "exercises") -> list[str]:
    """Describe every exercise that ``generate`` would change: missing, out of date, or orphaned.

    An empty list means ``exercises/`` is exactly what the solutions produce.
    """
    solutions = _solutions(solutions_dir)
    exercises_dir = Path(exercises_dir)
    stale = []
    for solution in solutions:
        target = exercise_path(solution, exercises_dir)
        if not target.is_file():
            stale.append(f"{target}: missing (from {solution})")
        elif target.read_bytes() != _render(solution).encode("utf-8"):
            stale.append(f"{target}: out of date with {solution}")
    if exercises_dir.is_dir():
        stale += [f"{orphan}: orphan, no {Path(solutions_dir) / orphan.name}" for orphan in _orphans(solutions, exercises_dir)]
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.authoring", description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", default="solutions", help="folder of solved notebooks (default: solutions)")
    parser.add_argument("--exercises", default="exercises", help="folder to write exercises to (default: exercises)")
    parser.add_argument("--check", action="store_true", help="write nothing; list stale exercises and exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_exercises(args.solutions, args.exercises)
        for line in stale:
            print(f"stale: {line}")
        if stale:
            print("run `make exercises` to regenerate them", file=sys.stderr)
        return 1 if stale else 0
    for path in generate(args.solutions, args.exercises):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
