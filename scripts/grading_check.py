"""The whole nbgrader path, as a teacher runs it, on every lecture's exercises.

    python scripts/grading_check.py [--keep DIR] [NN ...]

``make test-grading`` runs this (nbgrader comes with the ``[teach]`` extra). In a temporary
course directory it

1. writes the nbgrader source notebooks from ``solutions/`` (``python -m course_lib.grading``);
2. runs ``nbgrader generate_assignment`` for each lecture and checks that the student version it
   releases is, cell for cell, the notebook in ``exercises/`` that a student without nbgrader gets;
3. hands in three submissions per lecture — *complete* (every answer filled in from the
   solution), *empty* (the release as it is) and *half* (the first half of the code answers and
   of the written answers filled in) — and runs ``nbgrader autograde`` on each, timing it;
4. checks the autograded scores: the maximum for the complete one, 0 for the empty one, and for
   the half one the points of exactly the checks that precede the first unfilled answer (a check
   tests the functions written above it); written answers wait for a teacher in every case;
5. runs ``nbgrader generate_feedback`` and checks that every submission got its feedback page.

It prints a table of scores and times and exits 1 on any difference. ``--keep DIR`` builds the
course in DIR (left in place) instead of a temporary folder.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from course_lib.grading import graded_cells, write_course  # noqa: E402

STUDENTS = ("complete", "empty", "half")


def nbgrader(course: Path, *args: str) -> float:
    """Run one nbgrader command in the course directory, as a teacher types it; return its wall time."""
    # nbgrader runs `alembic` from PATH: the environment's bin folder comes first, as in an activated venv.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - start


def submission(release: nbformat.NotebookNode, source: nbformat.NotebookNode, student: str) -> nbformat.NotebookNode:
    """The release with the answers of ``student`` filled in from the source (the solution)."""
    filled = nbformat.from_dict(release)
    answers = [i for i, cell in enumerate(release.cells)
               if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code"]
    written = [i for i, cell in enumerate(release.cells)
               if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "markdown"]
    if student == "complete":
        chosen = answers + written
    elif student == "half":
        chosen = answers[: math.ceil(len(answers) / 2)] + written[: math.ceil(len(written) / 2)]
    else:
        chosen = []
    for i in chosen:
        filled.cells[i].source = source.cells[i].source
    return filled


def expected_scores(source: nbformat.NotebookNode, name: str) -> dict[str, float]:
    """Autograded points each submission must get (see ``submission``)."""
    roles = graded_cells(source, name)
    answers = [r.index for r in roles if r.kind == "answer"]
    first_unfilled = answers[math.ceil(len(answers) / 2)] if len(answers) > 1 else math.inf
    tests = [r for r in roles if r.kind == "tests"]
    return {"complete": sum(r.points for r in tests), "empty": 0,
            "half": sum(r.points for r in tests if r.index < first_unfilled)}


def compare_release(release: nbformat.NotebookNode, exercise: nbformat.NotebookNode, name: str) -> list[str]:
    """Differences between nbgrader's student version and the generated exercise, cell by cell."""
    if len(release.cells) != len(exercise.cells):
        return [f"{name}: nbgrader released {len(release.cells)} cells, exercises/ has {len(exercise.cells)}"]
    return [f"{name}, cell {i}: nbgrader's release differs from exercises/ ({ours.cell_type} cell)"
            for i, (theirs, ours) in enumerate(zip(release.cells, exercise.cells))
            if theirs.source.rstrip() != ours.source.rstrip() or theirs.cell_type != ours.cell_type]


def check(course: Path, lectures: list[str]) -> int:
    from nbgrader.api import Gradebook

    sources = write_course(course, ROOT / "solutions")
    names = [p.stem for p in sources if not lectures or p.stem[:2] in lectures]
    failures, rows = [], []
    for name in names:
        generate_s = nbgrader(course, "generate_assignment", name, "--force")
        source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        failures += compare_release(release, nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4), name)
        expected = expected_scores(source, name)
        times = {}
        for student in STUDENTS:
            target = course / "submitted" / student / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission(release, source, student), target)
            times[student] = nbgrader(course, "autograde", name, "--student", student, "--create", "--force")
        feedback_s = nbgrader(course, "generate_feedback", name, "--force")
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            for student in STUDENTS:
                notebook = gradebook.find_submission_notebook(name, name, student)
                score, maximum = notebook.code_score, notebook.max_code_score
                manual = notebook.max_written_score
                ok = math.isclose(score, expected[student]) and math.isclose(maximum, expected["complete"])
                feedback = course / "feedback" / student / name / f"{name}.html"
                if not feedback.is_file():
                    failures.append(f"{name}, {student}: no feedback page {feedback.relative_to(course)}")
                if not ok:
                    failures.append(f"{name}, {student}: autograded {score:g}/{maximum:g}, expected "
                                    f"{expected[student]:g}/{expected['complete']:g}")
                rows.append((name, student, f"{score:g}/{maximum:g}", f"{expected[student]:g}", f"{manual:g}",
                             f"{times[student]:.1f}", "ok" if ok else "WRONG"))
        print(f"{name}: generate_assignment {generate_s:.1f} s, generate_feedback {feedback_s:.1f} s", flush=True)
    print("\n| notebook | submission | autograded | expected | written points (by hand) | autograde s | |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if failures:
        print("\nFAILED:\n" + "\n".join(f"- {f}" for f in failures))
        return 1
    print(f"\ngrading check: {len(names)} notebooks x {len(STUDENTS)} submissions graded as expected")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lectures", nargs="*", help="two-digit lecture numbers (default: all)")
    parser.add_argument("--keep", type=Path, help="build the course here and leave it (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.keep:
        if args.keep.exists():
            shutil.rmtree(args.keep)
        return check(args.keep, args.lectures)
    with tempfile.TemporaryDirectory(prefix="nbgrader-course-") as course:
        return check(Path(course), args.lectures)


if __name__ == "__main__":
    raise SystemExit(main())
