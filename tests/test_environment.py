"""pyproject.toml and environment.yml must pin the same packages the same way."""

import re
import tomllib
from pathlib import Path

import yaml

import course_lib

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> tuple[str, str]:
    """'Pytest < 10' -> ('pytest', '<10'): name lower-cased with - for _, specifier without spaces."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*(.*)", requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    return match.group(1).lower().replace("_", "-"), match.group(3).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return dict(map(_normalise, reqs))


def environment_requirements() -> tuple[dict[str, str], str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return dict(_normalise(r) for r in pip if not r.startswith("-e")), python


def test_pyproject_and_environment_agree():
    ours, (theirs, _) = pyproject_requirements(), environment_requirements()
    assert ours == theirs, (
        f"only in pyproject: {sorted(set(ours.items()) - set(theirs.items()))}; "
        f"only in environment.yml: {sorted(set(theirs.items()) - set(ours.items()))}"
    )


def test_the_pins_the_course_is_tested_with():
    ours = pyproject_requirements()
    assert ours["torch"] == "==2.13.0"
    assert ours["nbval"] == "==0.11.0"
    assert ours["pytest"] == "<10"


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    _, python = environment_requirements()
    assert python == "python=3.11" and project["requires-python"].startswith(">=3.11")


def test_environment_installs_the_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip


def test_version_is_exposed():
    assert re.fullmatch(r"\d+\.\d+\.\d+", course_lib.__version__)
