"""The solutions → exercises generator, on small in-memory notebooks and in temporary folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib.authoring import (ExerciseConflictError, count_blanks, edited_exercises, exercise_path, generate, main,
                                  make_exercise, stale_exercises)

ROOT = Path(__file__).resolve().parents[1]

SOLVED_FUNCTION = '''\
def reconstruction_loss(x_hat, x):
    """Per-image sum, batch mean."""
    ### BEGIN SOLUTION
    err = (x - x_hat).pow(2)
    return err.flatten(1).sum(dim=1).mean()
    ### END SOLUTION'''


def _notebook(*sources: str, markdown: str = "Why?") -> nbformat.NotebookNode:
    """A small executed-looking solution notebook: one markdown cell, then one code cell per source."""
    cells = [new_markdown_cell(markdown, id="intro")]
    for i, source in enumerate(sources):
        cell = new_code_cell(source, id=f"code-{i}", execution_count=i + 1)
        cell.outputs = [new_output("stream", name="stdout", text="hello\n")]
        cell.metadata["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00Z"}
        cell.metadata["tags"] = ["keep-me"]
        cells.append(cell)
    return new_notebook(
        cells=cells,
        metadata={
            "jupytext": {"formats": "ipynb,py:percent"},
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )


def _write(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


# --- make_exercise -----------------------------------------------------------------------------

def test_region_is_replaced_at_the_markers_indentation():
    exercise = make_exercise(_notebook(SOLVED_FUNCTION))
    assert exercise.cells[1].source == (
        'def reconstruction_loss(x_hat, x):\n'
        '    """Per-image sum, batch mean."""\n'
        '    # YOUR CODE HERE\n'
        '    raise NotImplementedError()'
    )


def test_several_regions_and_top_level_code():
    source = "a = 1\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION\nif a:\n        ### BEGIN SOLUTION\n        c = 3\n        ### END SOLUTION\nprint(a)\n"
    exercise = make_exercise(_notebook(source))
    assert exercise.cells[1].source == (
        "a = 1\n# YOUR CODE HERE\nraise NotImplementedError()\nif a:\n"
        "        # YOUR CODE HERE\n        raise NotImplementedError()\nprint(a)\n"
    )


def test_markdown_region_becomes_your_answer_here():
    nb = _notebook("x = 1", markdown="Which is better?\n\n### BEGIN SOLUTION\nThe sum.\n### END SOLUTION\n")
    assert make_exercise(nb).cells[0].source == "Which is better?\n\nYOUR ANSWER HERE\n"


def test_marker_text_inside_a_line_is_not_a_marker():
    source = 'label = "### BEGIN SOLUTION"\nprint(label)'
    assert make_exercise(_notebook(source)).cells[1].source == source


def test_outputs_cleared_and_metadata_cleaned_but_ids_and_tags_kept():
    solution = _notebook(SOLVED_FUNCTION, "print('hello')")
    exercise = make_exercise(solution)
    assert "jupytext" not in exercise.metadata
    assert exercise.metadata.kernelspec.name == "python3" and exercise.metadata.language_info.name == "python"
    assert [c.id for c in exercise.cells] == [c.id for c in solution.cells]
    for cell in exercise.cells[1:]:
        assert cell.outputs == [] and cell.execution_count is None
        assert "execution" not in cell.metadata and cell.metadata.tags == ["keep-me"]
    # the solution itself is untouched
    assert "jupytext" in solution.metadata and solution.cells[1].outputs and "### BEGIN SOLUTION" in solution.cells[1].source


@pytest.mark.parametrize(
    "source, words",
    [
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n### END SOLUTION", ["nested"]),
        ("x = 1\n### END SOLUTION", ["without a matching"]),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1", ["never closed"]),
    ],
    ids=["nested", "end-without-begin", "begin-without-end"],
)
def test_unbalanced_markers_name_notebook_and_cell(source, words):
    nb = _notebook("x = 0", source)
    with pytest.raises(ValueError) as info:
        make_exercise(nb, "01_demo.ipynb")
    message = str(info.value)
    assert "01_demo.ipynb" in message and "cell 2" in message
    for word in words:
        assert word in message
    with pytest.raises(ValueError):
        count_blanks(nb)


def test_make_exercise_rejects_non_notebooks():
    with pytest.raises(TypeError, match="NotebookNode"):
        make_exercise({"cells": []})


def test_count_blanks():
    nb = _notebook(SOLVED_FUNCTION, "x = 1", markdown="### BEGIN SOLUTION\nA.\n### END SOLUTION")
    assert count_blanks(nb) == 2
    assert count_blanks(make_exercise(nb)) == 0


# --- files: generate, determinism, staleness, CLI ----------------------------------------------

@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder with two solution notebooks and no exercises yet."""
    _write(_notebook(SOLVED_FUNCTION), tmp_path / "solutions" / "01_autoencoders.ipynb")
    _write(_notebook("x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION"), tmp_path / "solutions" / "02_denoising.ipynb")
    return tmp_path


def test_exercise_path(tmp_path):
    assert exercise_path("solutions/03_vae.ipynb", tmp_path) == tmp_path / "03_vae.ipynb"


def test_generate_writes_one_exercise_per_solution(course):
    written = generate(course / "solutions", course / "exercises")
    assert [p.name for p in written] == ["01_autoencoders.ipynb", "02_denoising.ipynb"]
    nb = nbformat.read(written[0], as_version=4)
    nbformat.validate(nb)
    assert "raise NotImplementedError()" in nb.cells[1].source and "BEGIN SOLUTION" not in nb.cells[1].source


def test_generation_is_byte_for_byte_deterministic(course):
    first = [p.read_bytes() for p in generate(course / "solutions", course / "exercises")]
    second = [p.read_bytes() for p in generate(course / "solutions", course / "elsewhere")]
    assert first == second
    # re-executing the solution (new outputs, counts, timings) does not change the exercise
    solution = course / "solutions" / "01_autoencoders.ipynb"
    nb = nbformat.read(solution, as_version=4)
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="another run\n")]
    nb.cells[1].execution_count = 42
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2027-01-01T00:00:00Z"}
    _write(nb, solution)
    assert stale_exercises(course / "solutions", course / "exercises") == []


def test_stale_detection_missing_modified_orphan(course):
    solutions, exercises = course / "solutions", course / "exercises"
    missing = stale_exercises(solutions, exercises)
    assert len(missing) == 2 and all("missing" in line for line in missing)

    generate(solutions, exercises)
    assert stale_exercises(solutions, exercises) == []

    _write(_notebook("z = 1"), solutions / "99_orphan.ipynb")
    generate(solutions, exercises)  # 99_orphan's exercise is now the generator's own ...
    (solutions / "99_orphan.ipynb").unlink()  # ... and its solution is gone
    edited = solutions / "02_denoising.ipynb"
    nb = nbformat.read(edited, as_version=4)
    nb.cells[1].source += "\nprint(y)"
    _write(nb, edited)
    stale = stale_exercises(solutions, exercises)
    assert len(stale) == 2
    assert "02_denoising.ipynb" in stale[0] and "out of date" in stale[0]
    assert "99_orphan.ipynb" in stale[1] and "orphan" in stale[1]

    generate(solutions, exercises)  # regenerates the edited one and removes the orphan
    assert stale_exercises(solutions, exercises) == []
    assert not (exercises / "99_orphan.ipynb").exists()


def test_a_students_edited_exercise_is_never_overwritten_nor_stale(course):
    solutions, exercises = course / "solutions", course / "exercises"
    generate(solutions, exercises)
    target = exercises / "01_autoencoders.ipynb"
    mine = target.read_text().replace("# YOUR CODE HERE", "return 0")
    target.write_text(mine)
    assert stale_exercises(solutions, exercises) == []  # saving work does not make `make test` fail
    assert edited_exercises(solutions, exercises) == [target]
    other = exercises / "02_denoising.ipynb"
    other.unlink()  # a file generate would write: proves that nothing at all is written on conflict
    with pytest.raises(ExerciseConflictError, match="01_autoencoders.ipynb.*Nothing was written"):
        generate(solutions, exercises)
    assert target.read_text() == mine and not other.exists()


def test_a_students_copy_is_not_an_orphan(course):
    solutions, exercises = course / "solutions", course / "exercises"
    generate(solutions, exercises)
    copy = exercises / "01_autoencoders-Copy1.ipynb"
    copy.write_bytes((exercises / "01_autoencoders.ipynb").read_bytes())  # JupyterLab's "Duplicate"
    foreign = _write(_notebook("z = 1"), exercises / "99_mine.ipynb")
    assert stale_exercises(solutions, exercises) == []
    generate(solutions, exercises)
    assert copy.exists() and foreign.exists()


def test_refuses_to_write_into_the_solutions_folder(course):
    solutions = course / "solutions"
    before = {p: p.read_bytes() for p in solutions.iterdir()}
    with pytest.raises(ExerciseConflictError, match="is the solutions folder"):
        generate(solutions, solutions)
    with pytest.raises(ExerciseConflictError, match="did not write"):
        generate(solutions, _solutions_copy(course))
    assert {p: p.read_bytes() for p in solutions.iterdir()} == before


def _solutions_copy(course):
    """Another folder holding the solutions themselves (e.g. `--exercises` pointed at a copy)."""
    target = course / "copy"
    target.mkdir()
    for p in (course / "solutions").iterdir():
        (target / p.name).write_bytes(p.read_bytes())
    return target


@pytest.mark.parametrize("line", ["## BEGIN SOLUTION", "###BEGIN SOLUTION", "### begin solution",
                                  "#### BEGIN SOLUTION", "# END SOLUTION", "### END SOLUTION!"])
def test_near_miss_markers_are_errors_naming_the_line(course, line):
    _write(_notebook(f"x = 1\n{line}\ny = 2"), course / "solutions" / "03_typo.ipynb")
    with pytest.raises(ValueError, match=r"03_typo.ipynb, cell 1, line 2: .*looks like a solution marker"):
        generate(course / "solutions", course / "exercises")
    assert not (course / "exercises").exists()  # the valid notebooks were not written either


def test_a_marker_in_a_raw_cell_is_an_error(course):
    nb = _notebook("x = 1")
    nb.cells.append(nbformat.v4.new_raw_cell("answer:\n### BEGIN SOLUTION\n42\n### END SOLUTION"))
    _write(nb, course / "solutions" / "03_raw.ipynb")
    with pytest.raises(ValueError, match=r"03_raw.ipynb, cell 2 \(raw\), line 2"):
        generate(course / "solutions", course / "exercises")


def test_a_misindented_marker_that_breaks_the_exercise_is_an_error(course):
    source = "def f(x):\n### BEGIN SOLUTION\n    return x\n### END SOLUTION"
    _write(_notebook(source), course / "solutions" / "03_indent.ipynb")
    with pytest.raises(ValueError, match=r"03_indent.ipynb, cell 1: the generated exercise does not compile"):
        generate(course / "solutions", course / "exercises")
    assert not (course / "exercises").exists()


def test_missing_solutions_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        stale_exercises(tmp_path / "nope", tmp_path / "exercises")


def test_main_check_exit_codes(course, capsys):
    args = ["--solutions", str(course / "solutions"), "--exercises", str(course / "exercises")]
    assert main([*args, "--check"]) == 1
    assert "stale:" in capsys.readouterr().out
    assert main(args) == 0
    assert main([*args, "--check"]) == 0


def test_cli_as_module(course):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "course_lib.authoring", *extra], cwd=course, env=env,
                              capture_output=True, text=True, timeout=120)

    check = run("--check")  # default folders: ./solutions and ./exercises
    assert check.returncode == 1 and "01_autoencoders.ipynb" in check.stdout and "make exercises" in check.stderr
    assert run().returncode == 0  # (each run imports torch: keep them few; main() covers the rest)
    assert stale_exercises(course / "solutions", course / "exercises") == []


def test_notebook_functions_refuse_what_is_not_a_notebook():
    """Issue 27: a TypeError naming the argument, before any cell is read."""
    with pytest.raises(TypeError, match="nb must be an nbformat NotebookNode"):
        count_blanks(None)
    with pytest.raises(TypeError, match="name must be a str"):
        count_blanks(new_notebook(cells=[]), name=None)
    with pytest.raises(TypeError, match="solution_path must be a path"):
        exercise_path(None, "exercises")
    with pytest.raises(TypeError, match="exercises_dir must be a path"):
        exercise_path("solutions/01_x.ipynb", 3)
    with pytest.raises(ValueError, match="solution_path must name a notebook file"):
        exercise_path("", "exercises")
