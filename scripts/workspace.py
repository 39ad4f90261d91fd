"""A student's own copy of the course notebooks, in a folder git ignores.

    python scripts/workspace.py [--into DIR]

``make lab`` runs this and then opens JupyterLab in ``my-work/``. Students run, edit and save the
copies there, so the tracked notebooks never change: ``git status`` stays clean and ``git pull``
brings course updates without conflicts. The copies are plain notebooks — no jupytext pairing, so
saving never writes a ``.py`` twin, and each lecture appears once in the file browser. Each copy is
also marked trusted for this user (as ``jupyter trust`` does): JupyterLab renders an untrusted
notebook's saved widgets (sliders, progress bars) as plain text until Run All, a trusted one as
widgets from the state saved with the notebook.

Each run, for every ``lectures/NN_*.ipynb`` and ``exercises/NN_*.ipynb``:

- a notebook with no copy yet is copied;
- a copy the student has not changed is replaced when the course's notebook changed (an update);
- a copy the student has changed is never touched; if the course's notebook changed too, the
  message says so and how to get the new version (rename the copy and run again).

Nothing is ever deleted. What was copied is recorded in ``DIR/.course-workspace.json`` (hidden in
JupyterLab) as the sha256 of each source and of each copy as written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / "my-work"
FOLDERS = ("lectures", "exercises")
MANIFEST = ".course-workspace.json"


@dataclass
class Action:
    path: str     # relative to the workspace, e.g. "lectures/01_autoencoders.ipynb"
    what: str     # "copied", "updated", "kept", "unchanged"
    note: str = ""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def student_copy(source: bytes) -> bytes:
    """The notebook as a student gets it: the jupytext pairing removed from its metadata, so
    that JupyterLab (with jupytext installed) saves only the .ipynb. Everything else — outputs,
    saved widget state, cell ids, tags — is kept."""
    nb = json.loads(source)
    if not isinstance(nb, dict) or "cells" not in nb:
        raise ValueError("expected a Jupyter notebook (a JSON object with 'cells')")
    nb.get("metadata", {}).pop("jupytext", None)
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def trust(data: bytes) -> None:
    """Record the notebook's signature in this user's Jupyter database (``jupyter trust``)."""
    import nbformat
    from nbformat.sign import NotebookNotary

    NotebookNotary().sign(nbformat.reads(data.decode("utf-8"), as_version=4))


def sources(root: Path = ROOT) -> list[Path]:
    found = sorted(p for folder in FOLDERS for p in (root / folder).glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no notebooks under {', '.join(str(root / f) for f in FOLDERS)}")
    return found


def sync(dest: Path = DEFAULT_DIR, root: Path = ROOT, sign: bool = True) -> list[Action]:
    """Bring ``dest`` up to date with the course's notebooks without touching a student's work;
    ``sign``: mark each copy written as trusted (see the module docstring)."""
    manifest_path = dest / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    actions = []
    for source in sources(root):
        rel = source.relative_to(root).as_posix()
        target = dest / rel
        source_bytes = source.read_bytes()
        source_hash, recorded = sha256(source_bytes), manifest.get(rel)
        if target.exists():
            if recorded is None:
                actions.append(Action(rel, "kept", "not made by this script (no record of it): left as it is"))
                continue
            if source_hash == recorded["source"]:
                actions.append(Action(rel, "unchanged"))
                continue
            if sha256(target.read_bytes()) != recorded["copy"]:  # the student's work wins
                actions.append(Action(rel, "kept", "the course's version changed and this copy has your "
                                      "changes: rename it and run again to get the new version"))
                continue
            what = "updated"
        else:
            what = "copied"
        data = student_copy(source_bytes)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if sign:
            trust(data)
        manifest[rel] = {"source": source_hash, "copy": sha256(data)}
        actions.append(Action(rel, what))
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return actions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--into", type=Path, default=DEFAULT_DIR, help="the working folder (default: my-work/)")
    args = parser.parse_args(argv)
    actions = sync(args.into.resolve())
    counts = {what: sum(a.what == what for a in actions) for what in ("copied", "updated", "kept", "unchanged")}
    for action in actions:
        if action.what in ("updated", "kept"):
            print(f"  {action.what}: {action.path}" + (f" — {action.note}" if action.note else ""))
    print(f"your working copies are in {args.into}: " + ", ".join(f"{n} {w}" for w, n in counts.items() if n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
