"""The student's working copy (scripts/workspace.py): copies made once, updated only while the
student has not changed them, never a .py twin, and ignored by git."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import workspace  # noqa: E402


def _notebook(text: str) -> dict:
    return {"cells": [{"cell_type": "code", "id": "c1", "metadata": {"tags": ["nbval-ignore-output"]},
                       "source": text, "outputs": [], "execution_count": None}],
            "metadata": {"jupytext": {"formats": "ipynb,py:percent"},
                         "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    for rel in ("lectures/01_a.ipynb", "exercises/01_a.ipynb"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(_notebook(f"print('{rel}')")))
    (root / "lectures" / "01_a.py").write_text("# the twin is never copied\n")
    return root


@pytest.fixture(autouse=True)
def private_jupyter_data(tmp_path, monkeypatch):
    """Signatures go to a scratch database, not this user's."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))


def _what(actions):
    return {a.path: a.what for a in actions}


def test_first_run_copies_each_notebook_without_its_pairing(course, tmp_path):
    dest = tmp_path / "my-work"
    actions = workspace.sync(dest, course)
    assert _what(actions) == {"exercises/01_a.ipynb": "copied", "lectures/01_a.ipynb": "copied"}
    copy = json.loads((dest / "lectures/01_a.ipynb").read_text())
    assert "jupytext" not in copy["metadata"]  # saving it in JupyterLab writes no .py twin
    assert "widgets" in copy["metadata"] and copy["cells"][0]["metadata"]["tags"] == ["nbval-ignore-output"]
    assert sorted(p.name for p in dest.rglob("*") if p.is_file()) == [".course-workspace.json", "01_a.ipynb", "01_a.ipynb"]


def test_copies_are_trusted_so_saved_widgets_render(course, tmp_path):
    import nbformat
    from nbformat.sign import NotebookNotary

    dest = tmp_path / "my-work"
    workspace.sync(dest, course)
    copy = nbformat.read(dest / "lectures/01_a.ipynb", as_version=4)
    assert NotebookNotary().check_signature(copy)
    assert not NotebookNotary().check_signature(nbformat.read(course / "lectures/01_a.ipynb", as_version=4))


def test_a_second_run_changes_nothing(course, tmp_path):
    dest = tmp_path / "my-work"
    workspace.sync(dest, course)
    before = (dest / "lectures/01_a.ipynb").read_bytes()
    assert set(_what(workspace.sync(dest, course)).values()) == {"unchanged"}
    assert (dest / "lectures/01_a.ipynb").read_bytes() == before


def test_an_untouched_copy_follows_a_course_update(course, tmp_path):
    dest = tmp_path / "my-work"
    workspace.sync(dest, course)
    (course / "lectures/01_a.ipynb").write_text(json.dumps(_notebook("print('new version')")))
    assert _what(workspace.sync(dest, course))["lectures/01_a.ipynb"] == "updated"
    assert "new version" in (dest / "lectures/01_a.ipynb").read_text()


def test_the_students_work_is_never_overwritten(course, tmp_path):
    dest = tmp_path / "my-work"
    workspace.sync(dest, course)
    mine = json.dumps(_notebook("my answer"))
    (dest / "exercises/01_a.ipynb").write_text(mine)
    assert _what(workspace.sync(dest, course))["exercises/01_a.ipynb"] == "unchanged"  # course unchanged
    (course / "exercises/01_a.ipynb").write_text(json.dumps(_notebook("print('new version')")))
    kept = {a.path: a for a in workspace.sync(dest, course)}["exercises/01_a.ipynb"]
    assert kept.what == "kept" and "rename it" in kept.note
    assert (dest / "exercises/01_a.ipynb").read_text() == mine
    # Renamed, as the message says: the next run brings the new version beside it.
    (dest / "exercises/01_a.ipynb").rename(dest / "exercises/01_a-mine.ipynb")
    assert _what(workspace.sync(dest, course))["exercises/01_a.ipynb"] == "copied"
    assert (dest / "exercises/01_a-mine.ipynb").read_text() == mine


def test_a_file_it_did_not_make_is_left_alone(course, tmp_path):
    dest = tmp_path / "my-work"
    (dest / "lectures").mkdir(parents=True)
    (dest / "lectures/01_a.ipynb").write_text("not mine to touch")
    kept = {a.path: a for a in workspace.sync(dest, course)}["lectures/01_a.ipynb"]
    assert kept.what == "kept" and "no record" in kept.note
    assert (dest / "lectures/01_a.ipynb").read_text() == "not mine to touch"


def test_bad_input_is_named(course, tmp_path):
    (course / "lectures/01_a.ipynb").write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a Jupyter notebook"):
        workspace.sync(tmp_path / "my-work", course)
    with pytest.raises(FileNotFoundError, match="no notebooks under"):
        workspace.sync(tmp_path / "my-work", tmp_path / "empty")


def test_the_real_course_makes_a_workspace(tmp_path):
    actions = workspace.sync(tmp_path / "w")
    lectures = sorted(p.name for p in (ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(Path(a.path).name for a in actions if a.path.startswith("lectures/")) == lectures
    assert {a.what for a in actions} == {"copied"} and not list((tmp_path / "w").rglob("*.py"))


def test_git_ignores_the_workspace():
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    probe = "my-work/lectures/01_autoencoders.ipynb"
    assert subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", probe]).returncode == 0


def test_make_lab_opens_jupyterlab_on_the_working_copy():
    run = subprocess.run(["make", "-C", str(ROOT), "-n", "-W", "pyproject.toml", "lab"], capture_output=True, text=True)
    lines = [line for line in run.stdout.splitlines() if "workspace.py" in line or "jupyter lab" in line]
    assert "scripts/workspace.py --into" in lines[0] and "my-work" in lines[0]
    assert "jupyter lab" in lines[1] and f'--ServerApp.root_dir="{ROOT / "my-work"}"' in lines[1]
