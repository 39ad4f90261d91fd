"""The pure helpers of scripts/browser_check.py (the browser run itself is `make test-browser`)."""

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("browser_check", ROOT / "scripts" / "browser_check.py")
bc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bc)


def _nb(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _code(source, outputs=()):
    return {"cell_type": "code", "source": source, "outputs": list(outputs), "metadata": {}}


WIDGET_OUT = {"output_type": "display_data", "data": {bc.WIDGET_MIME: {"model_id": "x"}, "text/plain": "HBox()"}}


def test_importing_the_script_does_not_need_playwright():
    # `make test` runs without the [browser] extra: block playwright and import the script.
    code = ("import sys, importlib.util; sys.modules['playwright'] = None; "
            f"spec = importlib.util.spec_from_file_location('bc', {str(ROOT / 'scripts' / 'browser_check.py')!r}); "
            "spec.loader.exec_module(importlib.util.module_from_spec(spec))")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_widget_detection():
    plain = _nb(_code("x = 1", [{"output_type": "stream", "name": "stdout", "text": "1"}]))
    interactive = _nb(_code(["from course_lib.widgets import latent_explorer\n"]))
    progress_only = _nb(_code("fit(model)", [WIDGET_OUT]))
    assert not bc.has_widget(plain)
    assert bc.has_widget(interactive) and bc.is_interactive(interactive)
    assert bc.has_widget(progress_only) and not bc.is_interactive(progress_only)
    assert bc.widget_outputs(progress_only) == 1
    # markdown that talks about ipywidgets is not a widget
    assert not bc.has_widget(_nb({"cell_type": "markdown", "source": "uses ipywidgets", "metadata": {}}))


def test_widget_notebooks_finds_the_lectures_with_widgets(tmp_path):
    (tmp_path / "01_a.ipynb").write_text(json.dumps(_nb(_code("import ipywidgets"))))
    (tmp_path / "02_b.ipynb").write_text(json.dumps(_nb(_code("x = 1"))))
    (tmp_path / "notes.ipynb").write_text(json.dumps(_nb(_code("import ipywidgets"))))
    assert [p.name for p in bc.widget_notebooks(tmp_path)] == ["01_a.ipynb"]
    assert ROOT / "lectures" / "01_autoencoders.ipynb" in bc.widget_notebooks(ROOT / "lectures")


def test_error_outputs_and_code_cells():
    nb = _nb(_code("1/0", [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero",
                            "traceback": []}]),
             _code("print(1)", [{"output_type": "stream", "name": "stderr", "text": "UserWarning: x"}]),
             {"cell_type": "markdown", "source": "", "metadata": {}})
    nb["cells"][0]["execution_count"] = 3
    assert bc.error_outputs(nb) == ["In [3]: ZeroDivisionError: division by zero"]
    assert bc.first_error_cell(nb) == 0 and bc.first_error_cell(_nb(_code("x = 1"))) is None
    assert bc.code_cells(nb) == 2


def test_widget_repr_is_the_plain_text_fallback_only():
    assert bc.WIDGET_REPR.search("interactive(children=(FloatSlider(value=-0.972, continuous_update=False")
    assert bc.WIDGET_REPR.search("FloatSlider(value=0.5, description='z1')")
    assert not bc.WIDGET_REPR.search("ConvAutoencoder:   0%|          | 0/3 [00:00<?, ?epoch/s]")
    assert not bc.WIDGET_REPR.search("torch.Size([500, 2]) torch.float32")


def test_jupyter_command_is_local_with_a_token():
    cmd = bc.jupyter_command("jupyter", Path("/tmp/x"), 8123, "abc", as_root=False)
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.port=8123" in cmd
    assert "--IdentityProvider.token=abc" in cmd and "--ServerApp.root_dir=/tmp/x" in cmd
    assert "--allow-root" not in cmd
    assert "--allow-root" in bc.jupyter_command("jupyter", Path("/tmp/x"), 8123, "abc", as_root=True)


def test_free_port_can_be_bound():
    port = bc.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_chromium_runs_offline_and_headless():
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"):
        assert flag in bc.CHROMIUM_ARGS
    assert bc.CHROMIUM == "/usr/bin/chromium"


def _out(mime="", widget=False, controls=0, text=""):
    return {"mime": mime, "widget": widget, "controls": controls, "text": text}


def test_saved_widgets_must_all_render_as_controls():
    slider = _out(widget=True, controls=2, text="z1 -1.37")
    as_text = _out("text/plain", text="interactive(children=(FloatSlider(value=-1.372, ...")
    assert bc.saved_widget_problems([{"outputs": [slider]}, {"outputs": [slider]}], 2) == []
    problems = bc.saved_widget_problems([{"outputs": [slider]}, {"outputs": [as_text]}], 2)
    assert "code cell 1 shows a saved widget as plain text" in problems[0]
    assert "1 saved widget view(s) rendered as controls; the notebook has 2" in problems[1]
    assert bc.saved_widget_problems([{"outputs": [_out(widget=True, controls=0)]}], 1)  # an empty box


def test_git_state_sees_what_git_status_sees(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)
    git("init", "-q")
    (tmp_path / ".gitignore").write_text("/my-work/\n")
    (tmp_path / "lecture.ipynb").write_text("{}")
    git("add", "."); git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    before = bc.git_state(tmp_path)
    assert before == {}
    (tmp_path / "my-work").mkdir()
    (tmp_path / "my-work" / "lecture.ipynb").write_text('{"saved": 1}')  # ignored: invisible
    assert bc.git_changes(before, bc.git_state(tmp_path)) == []
    (tmp_path / "lecture.ipynb").write_text('{"saved": 1}')
    (tmp_path / "lecture.py").write_text("# twin")
    assert bc.git_changes(before, bc.git_state(tmp_path)) == ["lecture.ipynb", "lecture.py"]
    # A file already modified before the check, then changed again, is noticed by its content.
    modified = bc.git_state(tmp_path)
    (tmp_path / "lecture.ipynb").write_text('{"saved": 2}')
    assert bc.git_changes(modified, bc.git_state(tmp_path)) == ["lecture.ipynb"]


def test_git_state_needs_a_checkout(tmp_path):
    with pytest.raises(bc.CheckFailed, match="needs a git checkout"):
        bc.git_state(tmp_path / "nowhere")
