"""pyproject.toml and the conda environments must pin the same packages the same way: environment.yml
(students) its dependencies, environment-dev.yml (working on the course) those and every extra."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

import course_lib

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> tuple[str, str]:
    """'Pytest < 10' -> ('pytest', '<10'): name lower-cased with - for _, specifier without spaces."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*(.*)", requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    return match.group(1).lower().replace("_", "-"), match.group(3).replace(" ", "")


def pyproject_requirements(extras: bool = True) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"]
    if extras:
        reqs = reqs + [r for extra in project["optional-dependencies"].values() for r in extra]
    return dict(map(_normalise, reqs))


def environment_requirements(name: str = "environment.yml") -> tuple[dict[str, str], str]:
    env = yaml.safe_load((ROOT / name).read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return dict(_normalise(r) for r in pip if not r.startswith("-")), python  # not -e . or --options


@pytest.mark.parametrize("name, extras", [("environment.yml", False), ("environment-dev.yml", True)])
def test_pyproject_and_environment_agree(name, extras):
    ours, (theirs, _) = pyproject_requirements(extras), environment_requirements(name)
    assert ours == theirs, (
        f"only in pyproject: {sorted(set(ours.items()) - set(theirs.items()))}; "
        f"only in {name}: {sorted(set(theirs.items()) - set(ours.items()))}"
    )


def test_the_student_environment_has_no_test_tools():
    theirs, _ = environment_requirements("environment.yml")
    assert not {"pytest", "nbval", "playwright", "jupytext"} & set(theirs)


def test_the_pins_the_course_is_tested_with():
    ours = pyproject_requirements()
    assert ours["torch"] == "==2.13.0"
    assert ours["nbval"] == "==0.11.0"
    assert ours["pytest"] == "<10"


@pytest.mark.parametrize("name", ["environment.yml", "environment-dev.yml"])
def test_python_version_agrees(name):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    _, python = environment_requirements(name)
    assert python == "python=3.11" and project["requires-python"].startswith(">=3.11")


@pytest.mark.parametrize("name", ["environment.yml", "environment-dev.yml"])
def test_environment_installs_the_package_itself(name):
    env = yaml.safe_load((ROOT / name).read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-e ." in pip


@pytest.mark.parametrize("name", ["environment.yml", "environment-dev.yml"])
def test_environment_takes_the_cpu_build_of_torch(name):
    env = yaml.safe_load((ROOT / name).read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip


def test_version_is_exposed():
    assert re.fullmatch(r"\d+\.\d+\.\d+", course_lib.__version__)


def test_one_version_in_the_library_the_changelog_and_the_citation():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    released = re.findall(r"^## (\d+\.\d+\.\d+)", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert str(citation["version"]) == course_lib.__version__ == released[0]
