"""The course as a student uses it: JupyterLab driven in a real headless Chromium.

    python scripts/browser_check.py [--out DIR] [--timeout S] [NOTEBOOK ...]

``make test-browser`` runs this. Without arguments it checks every notebook under ``lectures/``
that has a widget, so a new lecture is covered as soon as it lands. For each one it

1. opens JupyterLab on a student's working copy (``make lab``'s, made by scripts/workspace.py),
   walks the file browser into ``lectures/`` and opens the notebook;
2. before running anything, checks that every saved widget (sliders, progress bars) renders
   from the state saved with the notebook, and saves a screenshot ``DIR/NN_topic-saved.png``;
3. clears the outputs and runs every cell from the menu (Run → Run All Cells);
4. checks that no cell failed and that each widget rendered as real controls, not
   "Error displaying widget" or the plain-text repr ``interactive(children=...)`` that
   JupyterLab falls back to when the ipywidgets front-end is missing;
5. moves a slider with the keyboard and checks that the output it drives changed;
6. adds a cell of notes, saves with Ctrl+S, and checks that the save wrote only the working copy:
   no jupytext ``.py`` twin appeared and ``git status`` is what it was before the check;
7. saves a screenshot to ``DIR/NN_topic.png`` (default ``browser-out/``).

The working copy is made in a scratch folder inside ``my-work/`` (which git ignores, as for a
student), so a student's own ``my-work/`` is left alone and the committed ``.ipynb`` files are
never touched; the kernel is the project's ``.venv`` Python (the server's own ``python3``
kernel), which imports ``course_lib`` from the editable install.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; Playwright's own browser
download is never used. Only the pure helpers at the top are imported by the tests: Playwright
is imported inside ``main`` so that ``make test`` does not need it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import workspace  # noqa: E402  (scripts/workspace.py: the working copy `make lab` opens)

CHROMIUM = "/usr/bin/chromium"
# The machine has no internet: without the last four flags Chromium keeps trying to reach
# Google's services and floods the log with refused connections.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# Source lines that make a notebook interactive (sliders to move), not only progress bars.
INTERACTIVE_SOURCE = re.compile(r"\bipywidgets\b|\bcourse_lib\.widgets\b|\binteract(ive)?\(")
# What JupyterLab shows for a widget it cannot render: the Python repr as text/plain,
# e.g. "interactive(children=(FloatSlider(value=-0.97, ...".
WIDGET_REPR = re.compile(r"^\s*[A-Z]?\w*\((children|value|layout|description|_dom_classes)=")


# --------------------------------------------------------------------------- pure helpers

def widget_outputs(nb: dict) -> int:
    """How many outputs of the notebook are widget views (sliders, interact boxes, tqdm bars)."""
    return sum(WIDGET_MIME in out.get("data", {})
               for cell in nb.get("cells", []) if cell.get("cell_type") == "code"
               for out in cell.get("outputs", []))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_interactive(nb: dict) -> bool:
    """True when a code cell builds widgets a student moves (ipywidgets, course_lib.widgets)."""
    return any(cell.get("cell_type") == "code" and INTERACTIVE_SOURCE.search(_source(cell))
               for cell in nb.get("cells", []))


def has_widget(nb: dict) -> bool:
    return is_interactive(nb) or widget_outputs(nb) > 0


def code_cells(nb: dict) -> int:
    return sum(cell.get("cell_type") == "code" for cell in nb.get("cells", []))


def widget_notebooks(folder: Path) -> list[Path]:
    """Every ``NN_*.ipynb`` in ``folder`` that has a widget, in lecture order."""
    return [p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))
            if has_widget(json.loads(p.read_text(encoding="utf-8")))]


def first_error_cell(nb: dict) -> int | None:
    """Index (among code cells) of the first cell with an error output, or None."""
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    return next((i for i, c in enumerate(cells)
                 if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)


def error_outputs(nb: dict) -> list[str]:
    """'In [n]: NameError: ...' for every error output of a (saved) notebook."""
    return [f"In [{cell.get('execution_count')}]: {out.get('ename')}: {out.get('evalue')}"
            for cell in nb.get("cells", []) if cell.get("cell_type") == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def saved_widget_problems(cells: list[dict], expected_widgets: int) -> list[str]:
    """What is wrong with the widgets of a notebook opened from disk, before anything runs: each
    of its ``expected_widgets`` saved widget outputs must render as controls from the saved state."""
    problems = [f"code cell {i} shows a saved widget as plain text (no saved widget state, or the "
                f"notebook is not trusted): {out['text'][:100]!r}"
                for i, cell in enumerate(cells) for out in cell["outputs"]
                if out["mime"] == "text/plain" and WIDGET_REPR.search(out["text"])]
    rendered = sum(out["widget"] and out["controls"] > 0 for cell in cells for out in cell["outputs"])
    if rendered != expected_widgets:
        problems.append(f"{rendered} saved widget view(s) rendered as controls; the notebook has {expected_widgets}")
    return problems


def git_state(root: Path) -> dict[str, str]:
    """What ``git status`` sees: every changed or untracked path (ignored ones excluded) with a
    hash of its content, so that a file changed again is noticed too."""
    out = subprocess.run(["git", "-C", str(root), "status", "--porcelain=v1", "--untracked-files=all", "-z"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise CheckFailed(f"the browser check proves a clean `git status`, so it needs a git checkout: {out.stderr.strip()}")
    state = {}
    for entry in filter(None, out.stdout.split("\0")):
        path = root / entry[3:]
        state[entry[3:]] = entry[:2] + (" " + sha256(path) if path.is_file() else "")
    return state


def git_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths whose git status (or content) differs between two ``git_state`` snapshots."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def free_port() -> int:
    """A port nobody listens on now (the OS picks it); the server is told to take no other."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_command(jupyter: str, root_dir: Path, port: int, token: str, as_root: bool) -> list[str]:
    cmd = [jupyter, "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root_dir}",
           f"--IdentityProvider.token={token}",
           # Offline machine: no news feed, no update check, no PyPI search for extensions.
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly"]
    if as_root:  # Jupyter refuses to run as root unless told; CI runs as root (as `make lab` does)
        cmd.append("--allow-root")
    return cmd


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- the server

def _children(pid: int) -> set[int]:
    """All descendants of pid, from /proc. Kernels run in their own session (jupyter_client
    starts them so), so killing the server's process group alone would leave them behind."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@contextmanager
def jupyter_lab(root_dir: Path, state: Path, log_path: Path, timeout: float):
    """Start `jupyter lab` on 127.0.0.1:<free port> with a token; yield its base URL and token.
    Its settings, runtime files and trust database live under ``state``, not the user's.

    On exit, whatever happened: ask the server to shut down (it stops its kernels), then
    SIGTERM/SIGKILL the process group and every descendant still alive.
    """
    port, token = free_port(), secrets.token_hex(16)
    jupyter = str(Path(sys.executable).with_name("jupyter"))
    env = dict(os.environ, JUPYTER_DATA_DIR=str(state / "data"),
               JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_RUNTIME_DIR=str(state / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"), IPYTHONDIR=str(state / "ipython"))
    env.setdefault("OMP_NUM_THREADS", "1")  # two cores, shared: one thread is kinder and steadier
    # Never ask "fetch Jupyter news?": the toast would cover the screenshot, and there is no internet.
    notification = state / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))

    cmd = jupyter_command(jupyter, root_dir, port, token, as_root=os.getuid() == 0)
    base = f"http://127.0.0.1:{port}"
    log = open(log_path, "w")
    # A new session makes the server a process-group leader we can signal as a whole.
    server = subprocess.Popen(cmd, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {server.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyter lab did not answer on {base} within {timeout:.0f} s; see {log_path}")
            time.sleep(0.5)
        print(f"jupyter lab {base} (pid {server.pid}, log {log_path})", flush=True)
        yield base, token, lambda: seen.update(_children(server.pid))
    finally:
        seen |= _children(server.pid)
        try:  # the clean way: the server stops its kernels, then itself
            req = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                         headers={"Authorization": f"token {token}"})
            urllib.request.urlopen(req, timeout=10).close()
            server.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if server.poll() is None:
                try:
                    os.killpg(server.pid, sig)
                    server.wait(timeout=15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            for pid in [p for p in seen if _alive(p)]:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            time.sleep(0.5 if sig == signal.SIGTERM else 0)
        log.close()
        left = [p for p in seen | {server.pid} if _alive(p)]
        print(f"jupyter lab stopped; processes left behind: {left or 'none'}", flush=True)


def _delete_sessions(base: str, token: str) -> None:
    """Shut down the notebook's kernel between notebooks (two cores: don't keep one idling)."""
    auth = {"Authorization": f"token {token}"}
    with urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions", headers=auth), timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/sessions/{s['id']}", method="DELETE",
                                                      headers=auth), timeout=30).close()


# --------------------------------------------------------------------------- the browser

class CheckFailed(AssertionError):
    """A check that failed; ``cell`` (index among code cells) is shown in the failure screenshot."""

    def __init__(self, message: str, cell: int | None = None):
        super().__init__(message)
        self.cell = cell


# Runs in the page: the state of every code cell and what each output area shows. textContent,
# not innerText: cells scrolled out of view are not laid out (content-visibility) and have no
# innerText. A widget view is an output whose child is a `.jupyter-widgets` element.
CELLS_JS = """
(nb) => [...nb.querySelectorAll('.jp-CodeCell')].map(cell => ({
  prompt: (cell.querySelector('.jp-InputArea-prompt')?.textContent || '').trim(),
  empty: !(cell.querySelector('.jp-InputArea-editor')?.textContent || '').trim(),
  outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => ({
    mime: o.getAttribute('data-mime-type') || '',
    text: (o.textContent || '').slice(0, 300),
    widget: o.querySelector(':scope > .jupyter-widgets') !== null,
    controls: o.querySelectorAll('.widget-slider, .widget-hslider, .widget-vslider, .widget-hprogress,'
                                 + ' .widget-vprogress, .widget-dropdown, .widget-button, .widget-checkbox,'
                                 + ' .widget-toggle-button, .widget-text, input, select, button').length,
  })),
}))
"""


def _menu(page, menu: str, command: str) -> None:
    """Click a top menu, then one of its items (by JupyterLab command id), as a student would."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{menu}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def _open_notebook(page, base: str, token: str, rel: Path, timeout_ms: float) -> None:
    # ?reset: a fresh workspace, so nothing from an earlier notebook is restored.
    page.goto(f"{base}/lab?reset&token={token}", timeout=timeout_ms)
    for part in rel.parts:  # double-click through the file browser: lectures/ then the notebook
        item = page.locator(".jp-DirListing-item").filter(has=page.get_by_text(part, exact=True))
        item.first.dblclick(timeout=timeout_ms)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").wait_for(timeout=timeout_ms)


# True when the status bar says "<kernel name> | Idle". The toolbar's execution indicator is no
# use before the kernel is attached: it reads "idle" while the status bar still says "No Kernel".
KERNEL_IDLE_JS = """() => [...document.querySelectorAll('.jp-StatusBar-Widget')]
                      .some(w => /^(?!No Kernel).+ \\| Idle$/m.test(w.innerText))"""


def _wait_idle(page, timeout_ms: float) -> None:
    page.wait_for_function(KERNEL_IDLE_JS, timeout=timeout_ms, polling=500)


def _run_all(page, notebook, timeout_ms: float) -> list[dict]:
    """Edit → Clear Outputs, Run → Run All Cells; wait until a cell has a number, no cell is
    queued ([*]) and the kernel is idle. Clearing first makes every output we see this run's."""
    _menu(page, "Edit", "editmenu:clear-all")
    _menu(page, "Run", "runmenu:run-all")
    page.wait_for_function(
        """(nb) => {
             const prompts = [...nb.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                               .map(p => p.textContent.trim());
             return prompts.some(p => /^\\[\\d+\\]:$/.test(p))
                    && !prompts.some(p => p === '[*]:') && (%s)();
           }""" % KERNEL_IDLE_JS, arg=notebook.element_handle(), timeout=timeout_ms, polling=1000)
    page.wait_for_timeout(2000)  # let the last widgets finish rendering their views
    return notebook.evaluate(CELLS_JS)


def _check_cells(cells: list[dict], expected_cells: int, expected_widgets: int) -> int:
    """Raise CheckFailed listing what is wrong; return how many widget views rendered."""
    problems, first = [], None
    if len(cells) != expected_cells:
        problems.append(f"the page shows {len(cells)} code cells, the notebook has {expected_cells}")
    not_run = [i for i, c in enumerate(cells) if not c["empty"] and not re.fullmatch(r"\[\d+\]:", c["prompt"])]
    if not_run:  # Run All stops at the first error and leaves the rest unnumbered
        first = not_run[0]
        problems.append(f"code cells not executed (a cell before them failed?): {not_run}")
    rendered = 0
    for i, cell in enumerate(cells):
        for out in cell["outputs"]:
            text = out["text"]
            if out["mime"] == "application/vnd.jupyter.stderr" and (
                    "Traceback (most recent call last)" in text or re.search(r"^\w+(Error|Exception):", text, re.M)):
                problems.append(f"code cell {i} shows an error: {text[:200]!r}")
            if "Error displaying widget" in text:
                problems.append(f"code cell {i}: {text[:200]!r}")
            if out["mime"] == "text/plain" and WIDGET_REPR.search(text):
                problems.append(f"code cell {i} shows a widget as plain text (is the ipywidgets front-end "
                                f"extension jupyterlab_widgets installed?): {text[:120]!r}")
            if out["widget"]:
                if out["controls"] == 0:
                    problems.append(f"code cell {i}: widget output without controls: {text[:120]!r}")
                else:
                    rendered += 1
    if rendered < max(expected_widgets, 1):
        problems.append(f"{rendered} widget view(s) rendered with controls; the committed notebook has "
                        f"{expected_widgets} widget output(s)")
    if problems:
        first = first if first is not None else next(
            (int(m.group(1)) for p in problems if (m := re.match(r"code cell (\d+)", p))), None)
        raise CheckFailed("\n  ".join(["the notebook did not run cleanly in JupyterLab:"] + problems), first)
    return rendered


def _move_slider(page, notebook, timeout_ms: float) -> tuple[str, str]:
    """Press → three times on the first slider's handle; wait for the output it drives to change.
    Returns the slider's readout before and after."""
    slider_cell = notebook.locator(".jp-CodeCell").filter(has=page.locator(".widget-slider .noUi-handle")).first
    if slider_cell.count() == 0:
        raise CheckFailed("this notebook builds interactive widgets but no slider was found to move; "
                          "teach scripts/browser_check.py the new kind of control")
    handle = slider_cell.locator(".widget-slider .noUi-handle").first
    readout = slider_cell.locator(".widget-slider .widget-readout").first
    # What the slider drives: the widget Output area (the decoded image and its title) of the same cell.
    driven = slider_cell.locator(".widget-output")
    if driven.count() == 0:
        raise CheckFailed("the slider's cell has no widget Output area to watch")
    before, value_before = driven.first.inner_html(), readout.text_content()
    # Bring the whole widget (sliders and what they draw) into view for the screenshot.
    slider_cell.locator(".jp-OutputArea").first.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
    handle.blur()  # continuous_update=False sliders send their value on 'change'
    try:
        page.wait_for_function("([el, before]) => el.innerHTML !== before && el.querySelector('img, pre, svg')",
                               arg=[driven.first.element_handle(), before], timeout=timeout_ms, polling=500)
    except Exception as exc:  # Playwright's TimeoutError: say what did not change
        raise CheckFailed(f"moved slider from {value_before} to {readout.text_content()} but its output did "
                          f"not change within {timeout_ms / 1000:.0f} s") from exc
    page.wait_for_timeout(1000)
    return value_before, readout.text_content()


def _scroll_to(page, locator) -> None:
    """Scroll a cell to the top of the notebook view. Twice: cells above it that were skipped by
    content-visibility get laid out on the way and shift it."""
    for _ in range(2):
        locator.evaluate("el => el.scrollIntoView({block: 'start'})", timeout=10_000)
        page.wait_for_timeout(500)


NOTE = "# my notes: the code z is what the decoder sees"


def _check_saved_widgets(page, notebook, expected: int, shot: Path, timeout_s: float = 60) -> int:
    """Before anything runs: wait until every saved widget output renders as controls (or raise
    what is wrong), then screenshot the first widget. Returns how many rendered."""
    deadline = time.monotonic() + timeout_s
    while problems := saved_widget_problems(notebook.evaluate(CELLS_JS), expected):
        if time.monotonic() > deadline:
            raise CheckFailed("the saved notebook's widgets did not render:\n  " + "\n  ".join(problems))
        page.wait_for_timeout(1000)
    widget_cells = notebook.locator(".jp-CodeCell").filter(has=page.locator(".jupyter-widgets"))
    sliders = widget_cells.filter(has=page.locator(".widget-slider"))
    if expected:
        _scroll_to(page, sliders.first if sliders.count() else widget_cells.first)
    page.screenshot(path=str(shot))
    return expected


def _add_note_cell(page, notebook, text: str) -> None:
    """As a student would: select the last cell, insert a cell below (B), type into it."""
    last = notebook.locator(".jp-Cell").last
    _scroll_to(page, last)
    last.locator(".jp-InputPrompt").first.click()  # selects the cell in command mode
    cells_before = notebook.locator(".jp-Cell").count()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.wait_for_function("([nb, n]) => nb.querySelectorAll('.jp-Cell').length > n",
                           arg=[notebook.element_handle(), cells_before], timeout=10_000)
    page.keyboard.press("Enter")
    page.keyboard.type(text)
    page.keyboard.press("Escape")


def _save_through_ui(page, path: Path) -> dict:
    """Ctrl+S (the notebook is a temporary copy) and read it back: the saved outputs say exactly
    which cells raised, where the page only shows red text."""
    saved_at = path.stat().st_mtime_ns
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while path.stat().st_mtime_ns == saved_at:
        if time.monotonic() > deadline:
            raise CheckFailed("Ctrl+S did not save the notebook within 30 s")
        time.sleep(0.5)
    time.sleep(1)  # were the notebook paired, the server would write its jupytext twin next
    return json.loads(path.read_text(encoding="utf-8"))


def check_notebook(browser, base: str, token: str, root_dir: Path, rel: Path, out_dir: Path,
                   timeout_s: float) -> None:
    from playwright.sync_api import Error as PlaywrightError

    nb = json.loads((root_dir / rel).read_text(encoding="utf-8"))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    console = []  # the page's errors and warnings, kept in a log next to the screenshot
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    start, step = time.monotonic(), "opening the notebook from the file browser"
    try:
        _open_notebook(page, base, token, rel, 120_000)
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        step = "waiting for the kernel to start"
        _wait_idle(page, 120_000)
        step = "rendering the saved widgets"
        shown = _check_saved_widgets(page, notebook, widget_outputs(nb), out_dir / f"{rel.stem}-saved.png")
        print(f"  before running: {shown} saved widget view(s) rendered as controls; screenshot "
              f"{out_dir / f'{rel.stem}-saved.png'}", flush=True)
        step = f"running all cells (timeout {timeout_s:.0f} s)"
        cells = _run_all(page, notebook, timeout_s * 1000)
        print(f"  ran {len(cells)} code cells in {time.monotonic() - start:.0f} s", flush=True)
        step = "adding a cell of notes"
        _add_note_cell(page, notebook, NOTE)
        step = "saving the notebook"
        saved = _save_through_ui(page, root_dir / rel)
        if errors := error_outputs(saved):
            raise CheckFailed("cells raised errors:\n  " + "\n  ".join(errors), first_error_cell(saved))
        if not any(cell.get("source") in (NOTE, [NOTE]) for cell in saved["cells"]):
            raise CheckFailed(f"the saved notebook lacks the cell typed into it ({NOTE!r})")
        if twins := sorted(str(p.relative_to(root_dir)) for p in root_dir.rglob("*.py")):
            raise CheckFailed(f"saving wrote jupytext twins into the working copy: {twins}")
        print("  edited and saved: only the working copy changed, no .py twin", flush=True)
        rendered = _check_cells(cells, code_cells(nb), widget_outputs(nb))
        print(f"  no error output; {rendered} widget view(s) rendered as controls", flush=True)
        if is_interactive(nb):
            step = "moving a slider"
            before, after = _move_slider(page, notebook, 120_000)
            print(f"  moved a slider {before} -> {after}: the output it drives changed", flush=True)
        shot = out_dir / f"{rel.stem}.png"
        page.screenshot(path=str(shot))
        print(f"  screenshot {shot}", flush=True)
    except BaseException as exc:
        shot = out_dir / f"{rel.stem}-FAILED.png"
        try:
            if getattr(exc, "cell", None) is not None:  # show the offending cell, not wherever Run All ended
                _scroll_to(page, page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").nth(exc.cell))
            page.screenshot(path=str(shot))
            print(f"  screenshot of the failure: {shot}", flush=True)
        except Exception:
            pass
        if isinstance(exc, PlaywrightError):  # e.g. a timeout: say which step it was
            raise CheckFailed(f"{step}: {str(exc).splitlines()[0]}") from exc
        raise
    finally:
        (out_dir / f"{rel.stem}-console.log").write_text("\n".join(console) + "\n")
        context.close()
        try:
            _delete_sessions(base, token)
        except OSError:
            pass  # the server is stopped at the end anyway


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lecture with a widget")
    parser.add_argument("--out", type=Path, default=ROOT / "browser-out", help="screenshots and logs")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for one notebook's Run All")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or widget_notebooks(ROOT / "lectures")
    if not notebooks:
        print("no lecture notebook with a widget found under lectures/: nothing to check", file=sys.stderr)
        return 1
    out_dir = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"browser check: {len(notebooks)} notebook(s); screenshots and logs in {out_dir}", flush=True)
    before = {p: sha256(p) for p in notebooks}
    git_before = git_state(ROOT)

    # SIGTERM (e.g. CI's time limit) and SIGHUP (a closed terminal) become exceptions, as Ctrl-C
    # (SIGINT) already is, so the finally blocks stop the server, its kernels and Chromium, and
    # remove the working copy and the temporary folder (scripts/browser_cleanup_check.py proves it).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(128 + signal.SIGHUP))
    failures: list[Path] = []
    work_parent = workspace.DEFAULT_DIR
    made_parent = not work_parent.exists()
    root_dir = work_parent / f"browser-check-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="browser-check-") as tmp:
        state = Path(tmp) / "jupyter-state"
        # The trust database workspace.sync signs into is the one the server reads.
        os.environ["JUPYTER_DATA_DIR"] = str(state / "data")
        try:
            workspace.sync(root_dir)  # what `make lab` does, into a scratch folder of my-work/
            rels = []
            for p in notebooks:
                rel = p.relative_to(ROOT) if p.is_relative_to(ROOT) else Path(p.name)
                if not (root_dir / rel).exists():  # e.g. a solution notebook named on the command line
                    (root_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                    (root_dir / rel).write_bytes(data := workspace.student_copy(p.read_bytes()))
                    workspace.trust(data)
                rels.append(rel)
            failures += run_checks(args, root_dir, state, rels, out_dir)
        finally:
            shutil.rmtree(root_dir, ignore_errors=True)
            if made_parent and work_parent.exists() and not any(work_parent.iterdir()):
                work_parent.rmdir()
    print(f"{len(notebooks) - len(failures)} of {len(notebooks)} notebook(s) passed", flush=True)
    if changed := [str(p) for p in notebooks if sha256(p) != before[p]]:
        print(f"FAIL: committed notebooks changed on disk: {changed}", flush=True)
    if git_changed := git_changes(git_before, git_state(ROOT)):
        print(f"FAIL: running and saving changed what `git status` sees: {git_changed}", flush=True)
    else:
        print("git status: unchanged by running, editing and saving the notebooks", flush=True)
    return 1 if failures or changed or git_changed else 0


def run_checks(args, root_dir: Path, state: Path, rels: list[Path], out_dir: Path) -> list[Path]:
    """Start JupyterLab on the working copy and check each notebook; return the failed ones."""
    from playwright.sync_api import sync_playwright  # only here: `make test` does not need Playwright

    failures = []
    with jupyter_lab(root_dir, state, out_dir / "jupyter-server.log", timeout=180) as (base, token, track), \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            for rel in rels:
                print(f"{rel}:", flush=True)
                start = time.monotonic()
                try:
                    check_notebook(browser, base, token, root_dir, rel, out_dir, args.timeout)
                    print(f"  PASS ({time.monotonic() - start:.0f} s)", flush=True)
                except CheckFailed as exc:
                    print(f"  FAIL: {exc}", flush=True)
                    failures.append(rel)
                finally:
                    track()
        finally:
            browser.close()
    return failures


if __name__ == "__main__":
    sys.exit(main())
