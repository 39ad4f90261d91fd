"""course_lib.grading: nbgrader metadata from the points the solution notebooks declare.

These tests need nbformat only; the whole nbgrader path (generate_assignment, autograde,
generate_feedback on every lecture) is ``make test-grading`` (scripts/grading_check.py).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib.grading import NBGRADER_CONFIG, POINTS, graded_cells, main, point_totals, with_nbgrader_metadata, write_course

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _notebook(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_markdown_cell(s) if kind == "md" else new_code_cell(s) for kind, s in cells])


ANSWER = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
WRITTEN = "### BEGIN SOLUTION\nBecause.\n### END SOLUTION"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_solution_declares_its_points(path):
    nb = nbformat.read(path, as_version=4)
    roles = graded_cells(nb, path.name)
    checks = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.startswith("check_")]
    assert [r.index for r in roles if r.kind == "tests"] == checks, "every check cell is a graded test"
    written = [r for r in roles if r.kind == "written"]
    assert len(written) == 2 and all(r.points == 2 for r in written), "two written questions, 2 points each"
    assert [r.kind for r in roles][-2:] == ["answer", "ungraded answer"], "the optional investigation is not graded"
    totals = point_totals(nb, path.name)
    assert 7 <= totals["autograded"] <= 11 and totals["manual"] == 4
    # shown to students: every declaration is in the exercise they get
    exercise = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    shown = sum(len(POINTS.findall(c.source)) for c in exercise.cells if c.cell_type == "markdown")
    assert shown == len([r for r in roles if r.points])


def test_metadata_is_nbgraders():
    nb = _notebook(("md", "## Exercise 1 (2 points)"), ("code", ANSWER), ("code", "check_f(f)"),
                   ("md", "**Question 1 (explain; 3 points).**"), ("md", WRITTEN),
                   ("md", "## Exercise 2 (optional, not graded)"), ("code", ANSWER), ("md", WRITTEN))
    graded = with_nbgrader_metadata(nb, "t")
    meta = [c.metadata.get("nbgrader") for c in graded.cells]
    assert meta[0] is None and meta[5] is None
    assert meta[1] == {"grade": False, "grade_id": "answer_1", "locked": False, "schema_version": 3,
                       "solution": True, "task": False}
    assert meta[2] == {"grade": True, "grade_id": "check_1", "locked": True, "points": 2, "schema_version": 3,
                       "solution": False, "task": False}
    assert meta[4] == {"grade": True, "grade_id": "question_1", "locked": False, "points": 3, "schema_version": 3,
                       "solution": True, "task": False}
    assert meta[6]["solution"] and not meta[6]["grade"] and "points" not in meta[6]
    # nbgrader takes a written answer only as a grade cell: the ungraded one is worth 0 points
    assert meta[7] == {"grade": True, "grade_id": "ungraded_answer_1", "locked": False, "points": 0,
                       "schema_version": 3, "solution": True, "task": False}
    assert "nbgrader" not in nb.cells[2].metadata, "the solution itself is left unchanged"
    assert point_totals(nb) == {"autograded": 2, "manual": 3}


@pytest.mark.parametrize("cells, words", [
    ((("md", "## Exercise 1"), ("code", ANSWER), ("code", "check_f(f)")), "cell 2: this check has no points"),
    ((("md", "## Exercise 1 (2 points)"), ("code", ANSWER), ("md", "## Exercise 2 (1 point)"), ("code", "check_f(f)")),
     "cell 0 declares 2 points that no check"),
    ((("md", "## Exercise 1 (2 points)"), ("code", ANSWER)), "cell 0 declares 2 points that no check"),
    ((("md", "**Question 1.**"), ("md", WRITTEN)), "cell 1: this written answer has no points"),
    ((("md", "## Exercise 1 (2 points), (3 points)"), ("code", "check_f(f)")), "declares points more than once"),
    ((("md", "## Exercise 1 (0 points)"), ("code", "check_f(f)")), "'not graded', not '(0 points)'"),
    ((("md", "## Exercise 1 (2 points) — not graded"), ("code", "check_f(f)")), "both points and 'not graded'"),
    ((("md", "## Exercise 1 (2 points)"), ("code", ANSWER + "\ncheck_f(f)")), "a solution region and a check_"),
])
def test_a_point_cannot_be_lost_or_invented(cells, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        graded_cells(_notebook(*cells), "t")


def test_a_commented_check_is_not_a_test():
    nb = _notebook(("md", "## Exercise 1 (2 points)"), ("code", ANSWER), ("code", "# check_f(f) runs below\ncheck_f(f)"),
                   ("code", "# check_f(f) again, for fun"))
    assert [r.kind for r in graded_cells(nb)] == ["answer", "tests"]


def test_write_course(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(_notebook(("md", "## Exercise 1 (2 points)"), ("code", ANSWER), ("code", "check_f(f)")),
                   solutions / "01_x.ipynb")
    course = tmp_path / "course"
    assert write_course(course, solutions) == [course / "source" / "01_x" / "01_x.ipynb"]
    written = json.loads((course / "source" / "01_x" / "01_x.ipynb").read_text())
    assert written["cells"][2]["metadata"]["nbgrader"]["points"] == 2
    assert (course / "nbgrader_config.py").read_text() == NBGRADER_CONFIG
    (course / "nbgrader_config.py").write_text("# the teacher's own\n")
    write_course(course, solutions)
    assert (course / "nbgrader_config.py").read_text() == "# the teacher's own\n", "a teacher's config is kept"
    assert main([str(tmp_path / "c2"), "--solutions", str(solutions)]) == 0


def test_write_course_refuses(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no solution notebooks"):
        write_course(tmp_path / "course", tmp_path)
    (tmp_path / "s").mkdir()
    nbformat.write(_notebook(("md", "# x")), tmp_path / "s" / "01_x.ipynb")
    with pytest.raises(ValueError, match="is the solutions folder"):
        write_course(tmp_path / "s", tmp_path / "s")
    assert main([str(tmp_path / "course"), "--solutions", str(tmp_path / "missing")]) == 2
    assert "no solution notebooks" in capsys.readouterr().err
    with pytest.raises(TypeError, match="NotebookNode"):
        with_nbgrader_metadata({"cells": []})


def test_exercises_carry_no_grading_metadata():
    """A student without nbgrader gets plain notebooks: nbgrader's metadata lives only in the copies."""
    for path in sorted((ROOT / "exercises").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        assert not any("nbgrader" in cell["metadata"] for cell in nb["cells"]), path.name


# scripts/grading_check.py (run by `make test-grading`): its pure helpers, without nbgrader.
_spec = importlib.util.spec_from_file_location("grading_check", ROOT / "scripts" / "grading_check.py")
grading_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grading_check)


def _three_exercises() -> nbformat.NotebookNode:
    return _notebook(("md", "## Exercise 1 (2 points)"), ("code", ANSWER), ("code", "check_f(f)"),
                     ("md", "## Exercise 2 (3 points)"), ("code", ANSWER), ("code", "check_f(f)"),
                     ("md", "**Question 1 (explain; 2 points).**"), ("md", WRITTEN),
                     ("md", "## Exercise 3 (1 point)"), ("code", ANSWER), ("code", "check_f(f)"))


def test_the_half_submission_earns_the_checks_before_its_first_blank():
    source = with_nbgrader_metadata(_three_exercises(), "t")
    # a release as nbgrader makes it: the answers blanked, the metadata kept
    release = nbformat.from_dict(source)
    for cell in release.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "raise NotImplementedError()"
    half = grading_check.submission(release, source, "half")
    # answers 1 and 2 of 3 filled (half, rounded up), and the one written answer
    assert [c.source == s.source for c, s in zip(half.cells, source.cells)] == [True] * 9 + [False, True]
    assert grading_check.submission(release, source, "empty").cells[1].source == "raise NotImplementedError()"
    assert all(c.source == s.source for c, s in zip(grading_check.submission(release, source, "complete").cells,
                                                       source.cells))
    assert grading_check.expected_scores(source, "t") == {"complete": 6, "empty": 0, "half": 5}
    assert grading_check.compare_release(release, release, "t") == []
    other = nbformat.from_dict(release)
    other.cells[3].source = "## Exercise 2"
    assert grading_check.compare_release(release, other, "t") == ["t, cell 3: nbgrader's release differs from exercises/ (markdown cell)"]


def test_grading_functions_refuse_what_is_not_a_notebook():
    """Issue 27: a TypeError naming the argument, before any cell is read."""
    for function in (graded_cells, point_totals, with_nbgrader_metadata):
        with pytest.raises(TypeError, match="nb must be an nbformat NotebookNode"):
            function(None)
    with pytest.raises(TypeError, match="name must be a str"):
        point_totals(new_notebook(cells=[]), name=1)
