"""Installing the course: the interpreter check that runs before any download, the choice of a
CPU build of PyTorch, and the package metadata (no deprecated forms, bounded build requirement)."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import check_python  # noqa: E402
import install_torch  # noqa: E402


# --------------------------------------------------------------------------- which PyTorch build

def test_linux_takes_the_cpu_index_when_it_answers():
    index, why = install_torch.choose_index("Linux", None, probe=lambda url: True)
    assert index == install_torch.CPU_INDEX and "CPU index" in why


def test_linux_falls_back_to_the_default_index_when_the_cpu_index_is_unreachable():
    index, why = install_torch.choose_index("Linux", None, probe=lambda url: False)
    assert index is None and "is not reachable" in why


@pytest.mark.parametrize("system", ["Darwin", "Windows"])
def test_macos_and_windows_never_probe(system):
    def probe(url):
        raise AssertionError("no probe off Linux")
    index, why = install_torch.choose_index(system, None, probe=probe)
    assert index is None and system in why


def test_an_explicit_index_wins():
    cuda = "https://download.pytorch.org/whl/cu128/"
    assert install_torch.choose_index("Linux", cuda, probe=None)[0] == cuda.rstrip("/")
    assert install_torch.choose_index("Linux", "default", probe=None)[0] is None
    with pytest.raises(SystemExit, match="TORCH_INDEX_URL must be an index URL"):
        install_torch.choose_index("Linux", "cu128", probe=None)


def test_an_unreachable_index_answers_false_quickly():
    # A port nobody listens on: refused at once, no retries.
    assert install_torch.reachable("http://127.0.0.1:9/simple", timeout=2) is False


def test_the_script_pins_the_same_torch_as_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert install_torch.TORCH in deps


# --------------------------------------------------------------------------- which Python

def test_this_python_is_suitable():
    assert check_python.problems() == []


def test_an_old_python_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "version_info", (3, 10, 14, "final", 0))
    assert check_python.problems() == ["this is Python 3.10; the course needs Python 3.11 or newer"]


def _fake_python(tmp_path: Path, version: str) -> tuple[Path, Path]:
    """An interpreter that reports ``version`` and logs every command line it is given."""
    log = tmp_path / "calls.log"
    fake = tmp_path / "fakepython"
    major, minor = version.split(".")
    fake.write_text(f"""#!/bin/sh
echo "$@" >> {log}
if [ "$1" = "-c" ]; then exec {sys.executable} "$@"; fi
exec {sys.executable} -c 'import runpy, sys; sys.version_info = ({major}, {minor}, 0, "final", 0); \\
sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")' "$@"
""")
    fake.chmod(0o755)
    return fake, log


def _make(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`make` in a scratch copy of the build files, so the real .venv is never touched."""
    work = tmp_path / "course"
    work.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        (work / name).write_bytes((ROOT / name).read_bytes())
    (work / "scripts").symlink_to(ROOT / "scripts")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    return subprocess.run(["make", "-C", str(work), *args], capture_output=True, text=True, env=env, timeout=60)


def test_make_stops_before_any_download_with_an_old_python(tmp_path):
    fake, log = _fake_python(tmp_path, "3.10")
    run = _make(tmp_path, f"PYTHON={fake}", "test-lib")
    assert run.returncode != 0
    assert "this is Python 3.10; the course needs Python 3.11 or newer" in run.stderr
    assert "make PYTHON=python3.13" in run.stderr
    calls = log.read_text()
    assert "check_python.py" in calls and "-m venv" not in calls and "pip" not in calls
    assert not (tmp_path / "course" / ".venv").exists()


def test_make_says_what_to_do_when_no_python_is_suitable(tmp_path):
    run = _make(tmp_path, "PYTHON=", "test-lib")
    assert run.returncode != 0
    assert "No Python 3.11 or newer found" in run.stdout and "make PYTHON=" in run.stdout
    assert not (tmp_path / "course" / ".venv").exists()


def test_make_finds_a_suitable_python_by_itself(tmp_path):
    run = _make(tmp_path, "-n", "test-lib")  # -n: print the commands, run nothing
    assert run.returncode == 0, run.stderr
    first = run.stdout.split("scripts/check_python.py")[0].splitlines()[-1].strip()
    assert first.startswith("python3")


# --------------------------------------------------------------------------- package metadata

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_is_an_spdx_string_with_its_files():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    for name in project["license-files"]:
        assert (ROOT / name).is_file(), name
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_python_versions_have_no_upper_cap():
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"


def test_the_build_requirement_is_bounded():
    (requirement,) = PYPROJECT["build-system"]["requires"]
    assert requirement.startswith("setuptools>=77") and ",<" in requirement
