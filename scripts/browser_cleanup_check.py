"""The browser check leaves nothing behind, however it ends.

    python scripts/browser_cleanup_check.py

``make test-browser`` runs this after the browser check itself. Four times it starts
``scripts/browser_check.py`` on one lecture and ends it a different way once its JupyterLab
server and kernel are running: Ctrl-C (SIGINT), SIGTERM (a CI time limit), SIGHUP (a closed
terminal), and an exception (a Chromium that cannot be started). Each time it then asserts that
no process the check started is alive (server, kernel, browser), and that its temporary folder
and its working copy under ``my-work/`` are gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from browser_check import _alive, _children  # noqa: E402

LECTURE = ROOT / "lectures" / "06_normalizing_flows.ipynb"
READY = "before running:"  # printed once the kernel runs and the saved widgets were checked
WORK = ROOT / "my-work"


def leftovers(tmp_before: set[str], work_before: set[str]) -> tuple[list[str], list[str]]:
    tmp = sorted(set(p.name for p in Path(tempfile.gettempdir()).glob("browser-check-*")) - tmp_before)
    work = sorted(set(p.name for p in WORK.glob("browser-check-*")) - work_before) if WORK.exists() else []
    return tmp, work


def run(how: str, out: Path) -> list[str]:
    """Start the check, end it by ``how``; return what was left behind (empty: clean)."""
    tmp_before = {p.name for p in Path(tempfile.gettempdir()).glob("browser-check-*")}
    work_before = {p.name for p in WORK.glob("browser-check-*")} if WORK.exists() else set()
    args = [sys.executable, "-u", str(ROOT / "scripts" / "browser_check.py"), "--out", str(out), str(LECTURE)]
    if how == "exception":
        args += ["--chromium", "/nonexistent/chromium"]
    check = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen: set[int] = set()
    log = []
    deadline = time.monotonic() + 240
    for line in check.stdout:
        log.append(line.rstrip())
        seen |= _children(check.pid)  # the server, its kernel and Chromium, as they appear
        if how != "exception" and READY in line:
            check.send_signal({"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP}[how])
            break
        if time.monotonic() > deadline:
            break
    try:
        for line in check.stdout:
            log.append(line.rstrip())
        check.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(check.pid, signal.SIGKILL)
        return [f"{how}: the check did not exit within 120 s of the signal"] + log[-20:]
    time.sleep(1)
    problems = []
    if how != "exception" and not any(READY in line for line in log):
        problems.append(f"{how}: the check never reached a running kernel; its output:\n  " + "\n  ".join(log[-20:]))
    if not seen:
        problems.append(f"{how}: no child process was seen (server not started?)")
    alive = [p for p in seen if _alive(p)]
    if alive:
        problems.append(f"{how}: processes left running: {alive}")
    tmp, work = leftovers(tmp_before, work_before)
    if tmp or work:
        problems.append(f"{how}: folders left behind: {tmp + [f'my-work/{w}' for w in work]}")
    print(f"{how}: exit status {check.returncode}; {len(seen)} child process(es) seen, "
          f"{'none' if not alive else len(alive)} left; folders left: {tmp + work or 'none'}", flush=True)
    return problems


def main() -> int:
    problems = []
    with tempfile.TemporaryDirectory(prefix="cleanup-check-") as out:
        for how in ("SIGINT", "SIGTERM", "SIGHUP", "exception"):
            problems += run(how, Path(out) / how)
    for problem in problems:
        print(f"FAIL: {problem}", flush=True)
    print("the browser check cleans up on every way it can end" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
