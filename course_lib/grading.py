"""Solutions → an nbgrader course: grade-cell metadata from the points the notebooks declare.

nbgrader (https://nbgrader.readthedocs.io, the ``[teach]`` extra) grades a notebook by the
``nbgrader`` metadata of its cells. The solution notebooks carry none in the repository, so that
``exercises/`` stays what a student without nbgrader gets; this module writes it into copies:

- a code cell with a ``### BEGIN SOLUTION`` region is an *autograded answer* (``solution``);
- a code cell that calls a ``check_…`` function is an *autograder test*: locked, worth the
  points of its exercise, full marks when it runs without an error;
- a markdown cell with a region is a *manually graded answer*, worth the points of its question.

Points are declared once, where students read them: in the markdown cell that introduces the
task, as ``(2 points)`` — ``## Exercise 1 — the reconstruction loss (2 points)``,
``**Question 1 (predict, then run; 2 points).**`` — or as ``not graded`` (the optional
investigations). Each declaration of points belongs to the next graded cell and to no other; a
graded cell without one, or a declaration that no graded cell uses, is an error naming the
cell, so a point can be neither lost nor invented. ``not graded`` covers every answer up to the
next declaration: they stay answers (blanked for students), and a written one is a manually
graded answer worth 0 points — nbgrader accepts a markdown answer only as a grade cell, and its
form grader lets a teacher award extra credit there.

    python -m course_lib.grading COURSE_DIR [--solutions DIR]

writes ``COURSE_DIR/source/NN_topic/NN_topic.ipynb`` for every solution notebook and, if there is
none yet, ``COURSE_DIR/nbgrader_config.py``; TEACHING.md takes it from there
(``nbgrader generate_assignment``, ``autograde``, ``generate_feedback``).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course_lib.authoring import BEGIN, _cells_with_markers, _check_notebook, _regions

__all__ = ["GradedCell", "graded_cells", "with_nbgrader_metadata", "point_totals", "write_course",
           "NBGRADER_CONFIG", "main"]

# "(2 points)", "(1 point)", "(predict, then run; 2 points)": a count of points closing a parenthesis.
POINTS = re.compile(r"\((?:[^()]*?;\s*)?(\d+) points?\)")
NOT_GRADED = re.compile(r"\bnot graded\b")
# A call of a self-check, e.g. `check_reconstruction_loss(reconstruction_loss)`, not in a comment.
CHECK_CALL = re.compile(r"^[^#\n]*\bcheck_\w+\s*\(", re.MULTILINE)
SCHEMA_VERSION = 3  # nbgrader 0.9's cell-metadata schema

# Written into a new course directory: a student's notebook may train for tens of seconds per
# cell on a busy laptop (nbgrader's default limit is 30 s per cell), and a stuck cell must not
# hold the autograder for ever.
NBGRADER_CONFIG = '''\
"""nbgrader configuration for the course Generative Models for Medical Imaging (see TEACHING.md)."""
c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = "genmed"
# Seconds one cell may run when a submission is autograded; training cells take up to ~30 s.
c.Execute.timeout = 300
'''


@dataclass(frozen=True)
class GradedCell:
    """What nbgrader makes of one cell: ``kind`` is "answer" (autograded answer), "tests"
    (locked autograder test), "written" (manually graded answer) or "ungraded answer" (a written
    answer worth 0 points)."""
    index: int
    kind: str
    grade_id: str
    points: int | None


def _declaration(source: str, where: str) -> int | str | None:
    counts = POINTS.findall(source)
    if len(counts) > 1:
        raise ValueError(f"{where}: declares points more than once ({', '.join(counts)}); one task, one declaration")
    if counts and NOT_GRADED.search(source):
        raise ValueError(f"{where}: declares both points and 'not graded'")
    if counts:
        points = int(counts[0])
        if points < 1:
            raise ValueError(f"{where}: a task worth 0 points is declared 'not graded', not '(0 points)'")
        return points
    return "not graded" if NOT_GRADED.search(source) else None


def graded_cells(nb: NotebookNode, name: str = "notebook") -> list[GradedCell]:
    """The role of every cell nbgrader must know about, with its points, in notebook order.

    Raises ``ValueError`` naming the cell when a check or a written answer has no declared points,
    or when declared points are not claimed by the next graded cell; ``TypeError`` for anything but
    an nbformat ``NotebookNode``.
    """
    _check_notebook(nb, name)
    has_region = {index for index, cell, where in _cells_with_markers(nb, name)
                  if _regions(cell.source.split("\n"), where)}
    roles: list[GradedCell] = []
    pending: int | str | None = None  # points waiting for their cell, or "not graded"
    pending_where = ""
    counters: dict[str, int] = {}

    def grade_id(kind: str) -> str:
        counters[kind] = counters.get(kind, 0) + 1
        return f"{kind}_{counters[kind]}"

    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        if cell.cell_type == "markdown" and index not in has_region:
            declared = _declaration(cell.source, where)
            if declared is not None:
                if isinstance(pending, int):
                    raise ValueError(f"{pending_where} declares {pending} points that no check or written answer "
                                     f"claims before the next declaration ({where})")
                pending, pending_where = declared, where
            continue
        is_check = cell.cell_type == "code" and CHECK_CALL.search(cell.source) is not None
        if index in has_region and is_check:
            raise ValueError(f"{where}: a solution region and a check_… call in one cell; nbgrader locks check "
                             "cells, so the two must be separate cells")
        if index in has_region and cell.cell_type == "code":
            roles.append(GradedCell(index, "answer", grade_id("answer"), None))
        elif is_check or index in has_region:  # a check, or a written answer
            kind = "tests" if is_check else "written"
            if pending == "not graded":
                if kind == "written":
                    roles.append(GradedCell(index, "ungraded answer", grade_id("ungraded_answer"), None))
                continue  # a check inside an ungraded task: an ordinary cell
            if pending is None:
                what = "check" if is_check else "written answer"
                raise ValueError(f"{where}: this {what} has no points; declare them in the markdown cell that "
                                 "introduces the task, as '(2 points)', or write 'not graded' there")
            roles.append(GradedCell(index, kind, grade_id("check" if is_check else "question"), pending))
            pending = None
    if isinstance(pending, int):
        raise ValueError(f"{pending_where} declares {pending} points that no check or written answer claims")
    return roles


def with_nbgrader_metadata(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """A copy of solution notebook ``nb`` whose graded cells carry nbgrader's metadata."""
    _check_notebook(nb, name)
    source = copy.deepcopy(nb)
    source.metadata.pop("jupytext", None)  # nbgrader's copies must not sync back to a .py twin
    for role in graded_cells(source, name):
        metadata = {"grade": role.kind in ("tests", "written", "ungraded answer"), "grade_id": role.grade_id,
                    "locked": role.kind == "tests", "schema_version": SCHEMA_VERSION,
                    "solution": role.kind != "tests", "task": False}
        if metadata["grade"]:
            metadata["points"] = role.points or 0  # an ungraded written answer: 0 points
        source.cells[role.index].metadata["nbgrader"] = metadata
    return source


def point_totals(nb: NotebookNode, name: str = "notebook") -> dict[str, int]:
    """``{"autograded": …, "manual": …}``: the points of the checks and of the written answers."""
    _check_notebook(nb, name)
    roles = graded_cells(nb, name)
    return {"autograded": sum(r.points for r in roles if r.kind == "tests"),
            "manual": sum(r.points for r in roles if r.kind == "written")}


def write_course(course_dir: str | Path, solutions_dir: str | Path = "solutions") -> list[Path]:
    """Write ``course_dir/source/<stem>/<stem>.ipynb`` for every solution notebook (and a default
    ``nbgrader_config.py`` if the course has none); return the notebooks written.

    Every notebook is checked before anything is written.
    """
    solutions = sorted(Path(solutions_dir).glob("*.ipynb"))
    if not solutions:
        raise FileNotFoundError(f"no solution notebooks (*.ipynb) in {solutions_dir}")
    course_dir = Path(course_dir)
    if course_dir.resolve() == Path(solutions_dir).resolve():
        raise ValueError(f"the course directory {course_dir} is the solutions folder; choose a folder of its own")
    sources = {path: with_nbgrader_metadata(nbformat.read(path, as_version=4), path.name) for path in solutions}
    written = []
    for path, nb in sources.items():
        target = course_dir / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(NBGRADER_CONFIG, encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading", description=__doc__.splitlines()[0])
    parser.add_argument("course_dir", help="the nbgrader course directory to write source/ into")
    parser.add_argument("--solutions", default="solutions", help="folder of solved notebooks (default: solutions)")
    args = parser.parse_args(argv)
    try:
        written = write_course(args.course_dir, args.solutions)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        totals = point_totals(nbformat.read(path, as_version=4), path.name)
        print(f"wrote {path}: {totals['autograded']} points autograded, {totals['manual']} graded by hand")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
