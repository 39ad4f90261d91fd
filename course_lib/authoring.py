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

It is safe by construction, because students keep work next to what it writes:

- every exercise it writes records, in its metadata (``course_exercise``), its own file name
  and the sha256 of its text, so the generator knows its own files — and whether someone has
  edited one since (a student's saved work);
- it replaces or deletes only its own, unedited files: never a solution (it refuses to write
  into the solutions folder), a student's edited exercise or a copy such as ``…-Copy1.ipynb``;
- it writes nothing unless the whole run is valid: every notebook parsed, every marker
  balanced and exact (near misses such as ``## BEGIN SOLUTION`` or ``###begin solution``, and
  markers in raw cells, are errors naming the cell and line), and every generated code cell
  compiles.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from course_lib import _validate

__all__ = [
    "ExerciseConflictError",
    "BEGIN",
    "END",
    "make_exercise",
    "count_blanks",
    "exercise_path",
    "generate",
    "stale_exercises",
    "edited_exercises",
    "is_own_unedited",
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
# What a marker looks like to a human: any line with BEGIN/END SOLUTION after some #'s, in any case.
# A line like that which is not exactly BEGIN or END is a typo that would leak the answer.
_MARKER_LIKE = re.compile(r"^\s*#+\s*(BEGIN|END)\s*SOLUTION\b", re.IGNORECASE)
OWN = "course_exercise"  # the metadata key of a generated exercise: {"file": name, "sha256": digest}


class ExerciseConflictError(ValueError):
    """The generator would overwrite or delete a file it did not write, or one edited since."""


def _regions(lines: list[str], where: str) -> list[tuple[int, int]]:
    """(begin, end) line indices of each marked region; unbalanced or nested markers → ValueError."""
    regions, begin = [], None
    for i, line in enumerate(lines):
        marker = line.strip()
        if _MARKER_LIKE.match(line) and marker not in (BEGIN, END):
            raise ValueError(f"{where}, line {i + 1}: {marker!r} looks like a solution marker but is not "
                             f"exactly {BEGIN!r} or {END!r}; fix it, or the answer would be copied into the exercise")
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
    """The cells that may hold regions (code and markdown), with their index and a label for errors.
    A marker in any other cell (raw) would be copied as it is, answer included: an error."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type in _STUBS:
            yield index, cell, f"{name}, cell {index}"
        else:
            for number, line in enumerate(cell.source.split("\n"), start=1):
                if _MARKER_LIKE.match(line):
                    raise ValueError(f"{name}, cell {index} ({cell.cell_type}), line {number}: a solution "
                                     "marker outside a code or markdown cell is not blanked; move the region into "
                                     "a code cell")


def _check_compiles(source: str, where: str) -> None:
    """The generated code cell must be valid (IPython) Python, e.g. a BEGIN marker indented
    differently from its code leaves a stub the interpreter rejects."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        compile(TransformerManager().transform_cell(source), where, "exec")
    except SyntaxError as error:
        raise ValueError(f"{where}: the generated exercise does not compile ({error.msg}, line {error.lineno}); "
                         "check the indentation of the markers against the code they enclose") from None


def _check_notebook(nb: Any, name: Any) -> None:
    """``nb`` an nbformat notebook (a NotebookNode with cells) and ``name``, its label in messages, a str."""
    if not isinstance(nb, NotebookNode) or "cells" not in nb:
        raise TypeError(f"nb must be an nbformat NotebookNode (a notebook with cells, e.g. from nbformat.read), "
                        f"got {_validate.describe(nb)}")
    _validate.text(name, "name", why="the notebook's label in error messages")


def count_blanks(nb: NotebookNode, name: str = "notebook") -> int:
    """The number of ``### BEGIN SOLUTION`` … ``### END SOLUTION`` regions in a solution notebook.

    Raises TypeError for anything but an nbformat ``NotebookNode``."""
    _check_notebook(nb, name)
    return sum(len(_regions(cell.source.split("\n"), where)) for _, cell, where in _cells_with_markers(nb, name))


def make_exercise(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """The exercise version of solution notebook ``nb`` (which is left unchanged).

    Marked regions are blanked, outputs, execution counts and execution timings are cleared,
    and the ``jupytext`` pairing is dropped; cell ids, tags, kernelspec and language_info are
    kept, so the result depends on the solution's source only. ``name`` labels error messages.
    """
    _check_notebook(nb, name)
    exercise = copy.deepcopy(nb)
    for key in _DROPPED_METADATA:
        exercise.metadata.pop(key, None)
    for _, cell, where in _cells_with_markers(exercise, name):
        cell.source = _blank(cell.source, _STUBS[cell.cell_type], where)
        if cell.cell_type == "code":
            _check_compiles(cell.source, where)
    for cell in exercise.cells:
        cell.metadata.pop("execution", None)  # nbclient's timestamps change on every run
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return exercise


def exercise_path(solution_path: str | os.PathLike, exercises_dir: str | os.PathLike) -> Path:
    """Where the exercise generated from ``solution_path`` lives: same file name, in ``exercises_dir``.

    Raises TypeError for a path that is not a str or os.PathLike, ValueError for one without a file name."""
    for value, label in ((solution_path, "solution_path"), (exercises_dir, "exercises_dir")):
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{label} must be a path (a str or os.PathLike), got {_validate.describe(value)}")
    if not Path(solution_path).name:
        raise ValueError(f"solution_path must name a notebook file, got {str(solution_path)!r}")
    return Path(exercises_dir) / Path(solution_path).name


def _solutions(solutions_dir: str | os.PathLike) -> list[Path]:
    solutions_dir = Path(solutions_dir)
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"solutions directory {solutions_dir} not found")
    return sorted(solutions_dir.glob("*.ipynb"))


def _text(nb: NotebookNode) -> str:
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _render(solution: Path) -> str:
    """The exact text of the exercise for ``solution`` (the single place that defines its bytes),
    signed with its own file name and the sha256 of the text with the digest left empty."""
    try:
        nb = nbformat.read(solution, as_version=4)
    except Exception as error:  # nbformat raises several types for a broken file
        raise ValueError(f"{solution}: not a readable notebook ({type(error).__name__}: {error})") from None
    exercise = make_exercise(nb, solution.name)
    exercise.metadata[OWN] = {"file": solution.name, "sha256": ""}
    exercise.metadata[OWN]["sha256"] = hashlib.sha256(_text(exercise).encode("utf-8")).hexdigest()
    return _text(exercise)


def is_own_unedited(path: Path) -> bool:
    """Whether ``path`` is an exercise this generator wrote under this very name, unchanged since."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        own = nb["metadata"][OWN]
        recorded = own["sha256"]
        own["sha256"] = ""
        unsigned = _text(nbformat.from_dict(nb))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return own.get("file") == path.name and hashlib.sha256(unsigned.encode("utf-8")).hexdigest() == recorded


def _orphans(solutions: list[Path], exercises_dir: Path) -> list[Path]:
    """Exercises this generator wrote (unedited) whose solution is gone. Any other file is not an orphan:
    a student's copy (``01_…-Copy1.ipynb``) or saved work is none of the generator's business."""
    names = {s.name for s in solutions}
    return sorted(p for p in exercises_dir.glob("*.ipynb") if p.name not in names and is_own_unedited(p))


def edited_exercises(solutions_dir: str | os.PathLike = "solutions",
                     exercises_dir: str | os.PathLike = "exercises") -> list[Path]:
    """The exercises at the generated names that the generator did not write or that were edited
    since (e.g. a student saved work there): ``generate`` will not touch them."""
    exercises_dir = Path(exercises_dir)
    return [target for target in (exercise_path(s, exercises_dir) for s in _solutions(solutions_dir))
            if target.is_file() and not is_own_unedited(target)]


def generate(solutions_dir: str | os.PathLike = "solutions", exercises_dir: str | os.PathLike = "exercises") -> list[Path]:
    """Write one exercise per solution notebook; return their paths.

    Everything is rendered and checked first; a single invalid notebook, or a file in the way
    that the generator did not write (or that was edited since), stops the run before anything
    is written (:class:`ExerciseConflictError` lists those files). Exercises it wrote whose
    solution is gone are deleted; nothing else ever is.
    """
    solutions = _solutions(solutions_dir)
    exercises_dir = Path(exercises_dir)
    if exercises_dir.resolve() == Path(solutions_dir).resolve():
        raise ExerciseConflictError(f"the exercises folder {exercises_dir} is the solutions folder: "
                                    "writing there would replace the solutions by blanks")
    rendered = {exercise_path(solution, exercises_dir): _render(solution).encode("utf-8") for solution in solutions}
    in_the_way = [str(target) for target, content in rendered.items()
                  if target.is_file() and target.read_bytes() != content and not is_own_unedited(target)]
    if in_the_way:
        raise ExerciseConflictError(
            "not replacing files the generator did not write or that were edited since (your work?): "
            + ", ".join(in_the_way) + "; move them (e.g. to my-work/, which `make lab` opens) or delete them, "
            "then run again. Nothing was written.")
    exercises_dir.mkdir(parents=True, exist_ok=True)
    for target, content in rendered.items():
        if not target.is_file() or target.read_bytes() != content:  # leave up-to-date files (and mtimes) alone
            target.write_bytes(content)
    for orphan in _orphans(solutions, exercises_dir):
        orphan.unlink()
    return list(rendered)


def stale_exercises(solutions_dir: str | os.PathLike = "solutions", exercises_dir: str | os.PathLike = "exercises") -> list[str]:
    """Describe every exercise that ``generate`` would change: missing, out of date, or orphaned.

    An empty list means ``exercises/`` is what the solutions produce. Files someone edited since
    they were generated (:func:`edited_exercises`) are not stale — ``generate`` leaves them alone.
    """
    solutions = _solutions(solutions_dir)
    exercises_dir = Path(exercises_dir)
    stale = []
    for solution in solutions:
        target = exercise_path(solution, exercises_dir)
        if not target.is_file():
            stale.append(f"{target}: missing (from {solution})")
        elif target.read_bytes() != _render(solution).encode("utf-8") and is_own_unedited(target):
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
        for path in edited_exercises(args.solutions, args.exercises):
            print(f"edited since generated (left alone): {path}")
        if stale:
            print("run `make exercises` to regenerate them", file=sys.stderr)
        return 1 if stale else 0
    try:
        written = generate(args.solutions, args.exercises)
    except ValueError as error:  # ExerciseConflictError and invalid notebooks: a message, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
