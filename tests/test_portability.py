"""The notebooks' regression check must hold on any machine: what makes that so is tested here.

nbval compares only outputs that are exact everywhere; cells whose outputs come from training,
sampling or long floating-point sums carry the cell tag ``nbval-ignore-output`` (kept by jupytext
in the ``.py`` twin) and assert their figures with tolerances instead. ``make test-portable``
re-runs everything under perturbed numerics, and ``python -m benchmarks spread`` measures the
spread the tolerances come from, under the same perturbation.
"""

import re
from pathlib import Path

import jupytext
import pytest

from benchmarks.spread import PERTURBED_ENV, reseed

ROOT = Path(__file__).resolve().parents[1]
TWINS = sorted(p for folder in ("lectures", "solutions") for p in (ROOT / folder).glob("[0-9][0-9]_*.py"))


def test_make_test_portable_perturbs_like_the_spread_benchmark():
    makefile = (ROOT / "Makefile").read_text()
    line = re.search(r"^PORTABLE_ENV := (.*)$", makefile, re.MULTILINE)
    assert line, "the Makefile defines PORTABLE_ENV for test-portable"
    assert dict(item.split("=") for item in line.group(1).split()) == PERTURBED_ENV
    assert "make test-portable" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("twin", TWINS, ids=lambda p: str(p.relative_to(ROOT)))
def test_output_exclusion_is_a_cell_tag_not_code(twin):
    """Students must not see test plumbing in their code: no NBVAL_* comments, tags instead."""
    notebook = jupytext.read(twin)
    for index, cell in enumerate(notebook.cells):
        assert "NBVAL_" not in cell.source, f"cell {index}: use the cell tag nbval-ignore-output, not a comment"
    assert any("nbval-ignore-output" in cell.metadata.get("tags", []) for cell in notebook.cells)


@pytest.mark.parametrize("twin", TWINS, ids=lambda p: str(p.relative_to(ROOT)))
def test_ipynb_carries_the_twins_tags(twin):
    """A tag added to the twin reaches the executed notebook nbval reads (make notebooks was run)."""
    def tags(nb):
        return [cell.metadata.get("tags", []) for cell in nb.cells]
    assert tags(jupytext.read(twin)) == tags(jupytext.read(twin.with_suffix(".ipynb")))


def test_reseed_shifts_every_literal_seed_and_leaves_seed_zero_alone():
    source = "seed_everything(0)\ng = torch.Generator().manual_seed(7)\nx = brain_slices(5, seed=3)"
    assert reseed(source, 0) == source
    assert reseed(source, 2) == "seed_everything(2000)\ng = torch.Generator().manual_seed(2007)\nx = brain_slices(5, seed=3)"
