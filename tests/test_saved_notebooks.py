"""Executed notebooks as they are displayed without a kernel (nbviewer, a static site, JupyterLab
before Run All): every saved widget must render from the widget state saved with the notebook."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("lectures", "solutions") for p in (ROOT / folder).glob("[0-9][0-9]_*.ipynb"))
VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"


def widget_views(nb: dict) -> list[str]:
    return [out["data"][VIEW]["model_id"] for cell in nb["cells"] if cell["cell_type"] == "code"
            for out in cell.get("outputs", []) if VIEW in out.get("data", {})]


def missing_models(state: dict, roots: list[str]) -> set[str]:
    """Models reachable from ``roots`` (through "IPY_MODEL_<id>" references) without a saved state."""
    missing, seen, todo = set(), set(), list(roots)
    while todo:
        model_id = todo.pop()
        if model_id in seen:
            continue
        seen.add(model_id)
        if model_id not in state:
            missing.add(model_id)
            continue
        todo += re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(state[model_id]["state"]))
    return missing


def test_lectures_with_widgets_exist():
    assert sum(bool(widget_views(json.loads(p.read_text()))) for p in NOTEBOOKS if p.parent.name == "lectures") >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_saved_widget_has_its_state(path):
    nb = json.loads(path.read_text())
    views = widget_views(nb)
    if not views:
        assert "widgets" not in nb["metadata"]
        return
    state = nb["metadata"]["widgets"][STATE]
    assert state["version_major"] == 2
    assert missing_models(state["state"], views) == set()


def test_missing_models_follows_children():
    state = {"a": {"state": {"children": ["IPY_MODEL_b"]}}, "b": {"state": {"layout": "IPY_MODEL_c"}}}
    assert missing_models(state, ["a"]) == {"c"}
    assert missing_models({**state, "c": {"state": {}}}, ["a"]) == set()
