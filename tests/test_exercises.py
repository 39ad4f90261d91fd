"""Exercises: in sync with the solutions, and when run headless they fail only at the blanks.

Also a smoke test of the whole pipeline on a throw-away notebook, and of the nbval set-up
(``conftest.py`` + ``tests/nbval_sanitize.cfg``) that ``make test`` uses on lectures and solutions.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib.authoring import BEGIN, END, count_blanks, edited_exercises, generate, stale_exercises
from course_lib.notebook_client import CourseNotebookClient

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
# A call of a self-check, e.g. `check_reconstruction_loss(reconstruction_loss)`, not in a comment.
CHECK_CALL = re.compile(r"^[^#\n]*\bcheck_\w+\s*\(", re.MULTILINE)


@pytest.fixture
def kernel_env(monkeypatch):
    """Let kernels import course_lib from this checkout even when the package is not installed."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def run_headless(path: Path) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom in its own folder, recording errors instead of stopping."""
    nb = nbformat.read(path, as_version=4)
    client = CourseNotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def _errors(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(i, out) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.outputs if out.output_type == "error"]


def assert_fails_only_at_blanks(nb: nbformat.NotebookNode, name: str) -> None:
    """The rule for an executed exercise notebook.

    1. Every error is a NotImplementedError: anything else (a NameError because a later cell uses
       what a blank should have defined, a CheckFailed, a crash) is a bug in the notebook.
    2. Every cell that calls a ``check_…`` raises NotImplementedError. A blank inside a function
       raises only when called, and a check cell is exactly where that happens; so a check that
       *passes* on an unfilled exercise is not testing the student's code.
    3. At least one NotImplementedError. Blanks are not counted one by one: a function with a
       blank that nothing calls raises nothing, and one check may call several blanks.
    """
    problems = [f"cell {i}: {out.ename}: {out.evalue}" for i, out in _errors(nb) if out.ename != "NotImplementedError"]
    assert not problems, f"{name}: errors other than NotImplementedError from a blank:\n" + "\n".join(problems)
    raised = {i for i, _ in _errors(nb)}
    silent = [i for i, cell in enumerate(nb.cells)
              if cell.cell_type == "code" and CHECK_CALL.search(cell.source) and i not in raised]
    assert not silent, f"{name}: check cells {silent} did not raise NotImplementedError on the blank exercise"
    assert raised, f"{name}: no cell raised NotImplementedError, so the exercise has no working blank"


def assert_solution_structure(nb: nbformat.NotebookNode, name: str) -> None:
    """A solution has at least one blank region, and every check call comes after one."""
    assert count_blanks(nb, name) >= 1, f"{name} has no {BEGIN!r} … {END!r} region"
    seen_region = False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for line in cell.source.split("\n"):
            seen_region = seen_region or line.strip() == BEGIN
            assert seen_region or not CHECK_CALL.search(line), f"{name}, cell {i}: {line.strip()!r} comes before any solution region"


# --- the course's own notebooks ----------------------------------------------------------------

def test_exercises_are_not_stale():
    if not SOLUTIONS.is_dir():
        pytest.skip("no solutions/ folder")
    stale = stale_exercises(SOLUTIONS, EXERCISES)
    assert not stale, "exercises/ is out of date with solutions/; run `make exercises`:\n" + "\n".join(stale)
    # An exercise edited since it was generated is a student's saved work, and must not make this
    # test fail -- unless the edit is committed: exercises are never edited by hand.
    edited = edited_exercises(SOLUTIONS, EXERCISES)
    committed = [str(p) for p in edited if not _changed_since_commit(p)]
    assert not committed, f"committed exercises that the generator did not write as they are: {committed}; run `make exercises`"
    if edited:
        warnings.warn(f"left alone, edited since generated (your work? `make lab` keeps it in my-work/): {edited}")


def _changed_since_commit(path: Path) -> bool:
    """True when git says ``path`` differs from the last commit (or there is no git to ask)."""
    run = subprocess.run(["git", "-C", str(path.parent), "diff", "--quiet", "HEAD", "--", path.name], capture_output=True)
    return run.returncode != 0


@pytest.mark.parametrize("path", sorted(EXERCISES.glob("*.ipynb")), ids=lambda p: p.name)
def test_exercise_fails_only_at_blanks(path, kernel_env):
    assert_fails_only_at_blanks(run_headless(path), path.name)


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.name)
def test_solution_structure(path):
    assert_solution_structure(nbformat.read(path, as_version=4), path.name)


MIN_WRITTEN_ANSWERS = 2  # issue 24: two or three written questions per exercise notebook


def _markdown_regions(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell index, model answer) of every marked region in a markdown cell."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        starts = [n for n, line in enumerate(lines) if line.strip() == BEGIN]
        ends = [n for n, line in enumerate(lines) if line.strip() == END]
        found += [(i, "\n".join(lines[a + 1 : b]).strip()) for a, b in zip(starts, ends)]
    return found


@pytest.mark.parametrize("path", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.name)
def test_written_answers_become_blanks(path):
    """Each exercise notebook asks written questions (markdown blanks) and an investigation, and the
    generated exercise shows the stub where the solution has its model answer — never the answer."""
    solution = nbformat.read(path, as_version=4)
    exercise = nbformat.read(EXERCISES / path.name, as_version=4)
    regions = _markdown_regions(solution)
    assert len(regions) >= MIN_WRITTEN_ANSWERS + 1, (
        f"{path.name}: {len(regions)} written answers; expected at least {MIN_WRITTEN_ANSWERS} questions and the "
        "investigation's decision")
    for i, answer in regions:
        assert answer, f"{path.name}, cell {i}: an empty model answer"
        assert exercise.cells[i].cell_type == "markdown" and "YOUR ANSWER HERE" in exercise.cells[i].source
        assert answer not in exercise.cells[i].source, f"{path.name}, cell {i}: the model answer leaks into the exercise"
    headings = [line for c in solution.cells if c.cell_type == "markdown" for line in c.source.split("\n")
                if line.startswith("## ")]
    assert any("(optional" in h for h in headings), f"{path.name}: no exercise heading marked optional"
    assert "investigation" in "\n".join(c.source for c in solution.cells if c.cell_type == "markdown").lower(), (
        f"{path.name}: no investigation")
    assert re.search(r"\*\*Time:\*\* about \d+ minutes", solution.cells[0].source), (
        f"{path.name}: the first cell must give the expected time as '**Time:** about N minutes'")


# --- the rules themselves, on fabricated outputs -----------------------------------------------

def _executed(*cells: tuple[str, str | None]) -> nbformat.NotebookNode:
    """A notebook of (source, ename) code cells, as if executed: ename None means no error."""
    nb = new_notebook()
    for source, ename in cells:
        cell = new_code_cell(source)
        if ename:
            cell.outputs = [new_output("error", ename=ename, evalue="", traceback=[])]
        nb.cells.append(cell)
    return nb


def test_rules_accept_blank_failures():
    assert_fails_only_at_blanks(_executed(("def f():\n    raise NotImplementedError()", None),
                                          ("check_f(f)", "NotImplementedError")), "ok")


@pytest.mark.parametrize(
    "cells, words",
    [
        ((("x = f()", "NotImplementedError"), ("print(x)", "NameError")), ["cell 1", "NameError"]),
        ((("def f():\n    return 1", None), ("check_f(f)", None)), ["check cells [1]"]),
        ((("x = 1", None),), ["no cell raised"]),
    ],
    ids=["other-error", "check-passes", "no-blank"],
)
def test_rules_reject(cells, words):
    with pytest.raises(AssertionError) as info:
        assert_fails_only_at_blanks(_executed(*cells), "bad")
    assert all(word in str(info.value) for word in words)


def test_solution_structure_rejects_check_before_any_region():
    nb = _executed(("check_f(f)", None), (f"def f():\n    {BEGIN}\n    return 1\n    {END}", None))
    with pytest.raises(AssertionError, match="before any solution region"):
        assert_solution_structure(nb, "bad")
    # a commented-out check or an import is not a call
    assert_solution_structure(_executed(("from course_lib.checks import check_f  # check_f(f) later", None),
                                        (f"{BEGIN}\nx = 1\n{END}", None)), "ok")


# --- end to end on a throw-away notebook --------------------------------------------------------

def _solution_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_code_cell("from course_lib import seed_everything; seed_everything(0)\n"
                      "from course_lib.checks import check_reconstruction_loss, check_train_step", id="setup"),
        new_code_cell("def reconstruction_loss(x_hat, x):\n"
                      f"    {BEGIN}\n    return (x - x_hat).pow(2).flatten(1).sum(dim=1).mean()\n    {END}", id="task-1"),
        new_code_cell("check_reconstruction_loss(reconstruction_loss)", id="check-1"),
        new_markdown_cell(f"Why a per-image sum?\n\n{BEGIN}\nSo the loss has the scale of one image.\n{END}", id="question"),
        new_code_cell("def train_step(model, optimizer, batch, loss_fn):\n"
                      f"    {BEGIN}\n    optimizer.zero_grad()\n    loss = loss_fn(model, batch)\n"
                      f"    loss.backward()\n    optimizer.step()\n    return loss.item()\n    {END}", id="task-2"),
        new_code_cell("check_train_step(train_step)", id="check-2"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def test_pipeline_end_to_end(tmp_path, kernel_env):
    solution = tmp_path / "solutions" / "01_smoke.ipynb"
    solution.parent.mkdir()
    nbformat.write(_solution_notebook(), solution)

    solved = run_headless(solution)  # the solution runs clean and every check passes
    assert _errors(solved) == []
    printed = "".join(out.get("text", "") for cell in solved.cells if cell.cell_type == "code" for out in cell.outputs)
    assert printed.count("✓") == 2
    assert_solution_structure(solved, solution.name)

    nbformat.write(solved, solution)  # executed, with outputs, as committed
    (exercise,) = generate(tmp_path / "solutions", tmp_path / "exercises")
    assert stale_exercises(tmp_path / "solutions", tmp_path / "exercises") == []
    executed = run_headless(exercise)
    assert_fails_only_at_blanks(executed, exercise.name)
    assert [i for i, _ in _errors(executed)] == [2, 5]  # both blanks surface in their check cells


# --- nbval set-up -------------------------------------------------------------------------------

def _nbval_notebook(answer: str) -> nbformat.NotebookNode:
    """Cells whose stored outputs differ from a fresh run only where the set-up says they may."""
    def cell(source, *outputs):
        c = new_code_cell(source, execution_count=1)
        c.outputs = list(outputs)
        return c

    return new_notebook(cells=[
        cell("import sys\nprint('took', 1.23, 's')\nprint('a warning', file=sys.stderr)",
             new_output("stream", name="stdout", text="took 4.56 s\n"),
             new_output("stream", name="stderr", text="some other warning\n")),
        cell("print(object())", new_output("stream", name="stdout", text="<object object at 0x7f00deadbeef>\n")),
        cell("from IPython.display import HTML\nHTML('<b>now</b>')",
             new_output("execute_result", data={"text/plain": "<IPython.core.display.HTML object>", "text/html": "<b>then</b>"},
                        execution_count=1)),
        cell("print(6 * 7)", new_output("stream", name="stdout", text=answer)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def test_nbval_compares_what_matters_only(tmp_path):
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")  # the hook under test, as the root conftest
    nbformat.write(_nbval_notebook("42\n"), tmp_path / "good.ipynb")
    nbformat.write(_nbval_notebook("43\n"), tmp_path / "bad.ipynb")  # a real number changed: must fail
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE),
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-q", "good.ipynb", "bad.ipynb"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    summary = result.stdout.strip().splitlines()[-1]
    assert "1 failed, 7 passed" in summary, result.stdout[-3000:]
    assert "FAILED bad.ipynb::Cell 3" in result.stdout


def test_sanitizers():
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns(SANITIZE.read_text())
    assert len(patterns) == 5

    def sanitize(text: str) -> str:
        for regex, replacement in patterns:
            text = re.sub(regex, replacement, text)
        return text

    assert sanitize("<function f at 0x7f3a2c1b9d30>") == sanitize("<function f at 0x55d1e0>")
    assert sanitize('File /tmp/ipykernel_1234/5678.py:3') == sanitize('File /tmp/ipykernel_99/1.py:3')
    assert sanitize("50/50 [00:03<00:00, 12.34it/s]") == sanitize("50/50 [01:02<00:00,  1.20s/it]")
    assert sanitize("5/5 [00:01<00:00, 3.1epoch/s, loss=0.1]") == sanitize("5/5 [00:09<00:00, 1.0epoch/s, loss=0.2]")
    assert sanitize("took 1.23 s, Wall time: 45.6 ms") == sanitize("took 10 s, Wall time: 3 µs")
    assert sanitize("<Figure size 640x480 with 1 Axes>") == sanitize("<Figure size 1000x500 with 3 Axes>")
    # numbers that a seed fixes stay compared
    for kept in ["shape (4, 1, 64, 64)", "PSNR 23.4 dB", "12 samples", "loss 0.123", "epoch 3/10"]:
        assert sanitize(kept) == kept
