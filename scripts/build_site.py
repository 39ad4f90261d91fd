"""The course as a static website for teachers, built offline from the executed notebooks.

    python scripts/build_site.py [--out DIR] [--no-solutions]

``make site`` runs this (``make site SITE_SOLUTIONS=0`` adds ``--no-solutions``, for a class
that is graded on the exercises). It

1. stages the sources into ``build/site-src/`` (the originals are never modified): README.md as
   the home page, the executed ``lectures/NN_topic.ipynb`` and ``solutions/NN_topic.ipynb``,
   TEACHING.md when it exists, CONTRIBUTING.md, CHANGELOG.md and benchmarks/README.md. Markdown
   links to lectures and other pages stay links; links to files that are not pages of the site
   (LICENSE, code paths) become plain text. Each notebook's saved widget state becomes static
   output (the slider values and the figure they drew, a progress bar's last line): nbconvert
   would otherwise load the widget manager from a CDN;
2. copies MathJax 2.7 from the installed ``jupyter_server_mathjax`` into ``assets/mathjax/``
   with the course's config (``config/local/course.js``: STIX-Web web fonts only, undefined
   macros are errors), so equations are typeset with no CDN;
3. builds ``mkdocs.yml`` with MkDocs (strict: a broken link is an error) into DIR (default
   ``site/``), with the navigation Home, Lectures, Solutions, For teachers, About the course;
   the notebooks are never executed;
4. fails if any page, script or stylesheet of the built site would make a browser fetch from
   outside the site (``<script src="https://...">``, ``url(https://...)``, ``import("https://...")``;
   links to papers are fine), or if a relative link or resource points at a missing file;
5. prints the build time and the number of HTML pages.

The site works served (``python -m http.server -d site``) and opened from disk, except search,
which needs it served. ``make test-site`` (scripts/site_check.py) checks it in a headless
Chromium that cannot reach the internet. Only the pure helpers at the top are imported by the
tests: MkDocs and jupyter_server_mathjax are imported where they are used, so ``make test``
does not need them.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import logging
import posixpath
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
STAGING = Path("build") / "site-src"    # relative to the repository root; mkdocs.yml's docs_dir
BUILD_INFO = ".build-info.json"         # in the site: what was built (site_check.py reads it)
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
# Markdown files of the repository that become pages, and their names in the site.
MARKDOWN_PAGES = {"README.md": "index.md", "TEACHING.md": "teaching.md",
                  "CONTRIBUTING.md": "contributing.md", "CHANGELOG.md": "changelog.md",
                  "benchmarks/README.md": "benchmarks.md"}
# Folders --out must never be (MkDocs empties its output folder before building).
SOURCE_FOLDERS = ("lectures", "solutions", "exercises", "course_lib", "scripts", "tests",
                  "benchmarks", "site_theme", ".ci", ".git", ".venv", "build/site-src",
                  "build/site-cache")
MATHJAX_URL_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe,local/course"
# The course's MathJax settings, loaded as config=...,local/course after the combined config.
# HTML-CSS with the STIX-Web web fonts that jupyter_server_mathjax ships, and nothing else: no
# local-font probing (a machine's own STIX fonts would make pages look different) and no image
# fonts (not shipped). Without noErrors/noUndefined a TeX error or an undefined macro is a
# visible MathJax error (merror), which site_check.py fails on, not quiet red text.
# Two @font-face rules would make Chromium fetch what is not there; local() names no file:
# - HTML-CSS probes web fonts against a "MathJax_Blank" font at url('about:blank'), which
#   Chromium refuses with a console error on every page;
# - the NativeMML output (not used: Chromium and Firefox get HTML-CSS) styles MathML with
#   MathJax's TeX fonts (TeX/otf, not shipped); the hidden MathML that AssistiveMML adds for
#   screen readers is rendered by Chromium, which then asks for them (404).
MATHJAX_LOCAL_CONFIG = """\
/* The course site's MathJax 2.7 settings: written by scripts/build_site.py, loaded by every page
   as MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe,local/course (see build_site.py for why) */
(function () {
  var nativeFonts = {};
  ["Caligraphic", "Caligraphic", "AMS", "Script", "Fraktur", "Fraktur"].forEach(function (name, i) {
    nativeFonts["@font-face /*" + (i + 1) + "*/"] = {src: "local('MathJax_" + name + "')"};
  });
  MathJax.Hub.Config({
    "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
                 styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local('MathJax_Blank')"}}},
    NativeMML: {styles: nativeFonts},
    TeX: {noErrors: {disabled: true}, noUndefined: {disabled: true}}
  });
})();
MathJax.Ajax.loadComplete("[MathJax]/config/local/course.js");
"""
SITE_NOTE = """\
!!! note "About these pages"
    The lectures{solutions} are the executed notebooks as they were saved: code, printed results
    and figures, nothing re-run. The interactive widgets (sliders) need a running Python kernel:
    here each shows the values it was saved with and the figure it drew for them; open the
    notebook in JupyterLab (`make lab`) to move them.{no_solutions}
"""

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"


class SiteError(Exception):
    """Bad input or a failed build, with a message that says what was expected."""


# --------------------------------------------------------------------------- sources

@dataclass
class Sources:
    """What the site is built from: repository-relative paths, in lecture order."""
    root: Path
    lectures: list[str]
    solutions: list[str] = field(default_factory=list)   # empty with --no-solutions
    markdown: list[str] = field(default_factory=list)     # keys of MARKDOWN_PAGES that exist

    def pages(self) -> dict[str, str]:
        """Every source that becomes a page: repository path -> path in the staged docs."""
        pages = {rel: MARKDOWN_PAGES[rel] for rel in self.markdown}
        pages.update({rel: rel for rel in self.lectures + self.solutions})
        return pages


def _notebooks(root: Path, folder: str, hint: str) -> list[str]:
    path = root / folder
    if not path.is_dir():
        raise SiteError(f"no {folder}/ folder in {root}: expected the executed notebooks "
                        f"{folder}/NN_topic.ipynb{hint}")
    found = sorted(path.glob(NOTEBOOK_GLOB))
    if not found:
        raise SiteError(f"{path} has no notebook named NN_topic.ipynb (e.g. {folder}/01_autoencoders.ipynb){hint}")
    for nb_path in found:
        try:
            nb = json.loads(nb_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SiteError(f"{folder}/{nb_path.name} is not a readable notebook: {exc}") from exc
        if not is_executed(nb):
            raise SiteError(f"{folder}/{nb_path.name} has not been executed (no code cell has an output "
                            f"or an execution count): run `make notebooks` first; the site never runs notebooks")
    return [f"{folder}/{p.name}" for p in found]


def collect_sources(root: Path, solutions: bool = True) -> Sources:
    """The notebooks and markdown pages under ``root``; SiteError names what is missing."""
    if not (root / "README.md").is_file():
        raise SiteError(f"no README.md in {root}: it is the site's home page")
    lectures = _notebooks(root, "lectures", "")
    sols = _notebooks(root, "solutions", " (or build with --no-solutions)") if solutions else []
    markdown = [rel for rel in MARKDOWN_PAGES if (root / rel).is_file()]
    return Sources(root, lectures, sols, markdown)


def is_executed(nb: dict) -> bool:
    """True when the notebook was run: some code cell has an output or an execution count
    (a notebook without code cells counts as executed)."""
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    return not code or any(c.get("outputs") or c.get("execution_count") is not None for c in code)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def plain_heading(text: str) -> str:
    """A markdown heading as plain text: links, code marks and emphasis dropped."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[`*]|(?<!\w)_|_(?!\w)", "", text)
    return " ".join(text.split())


def notebook_title(nb: dict, fallback: str) -> str:
    """The first ``# H1`` of the notebook's markdown cells, as plain text; else ``fallback``."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            if m := re.search(r"^#[ \t]+(.+?)[ \t#]*$", _source(cell), re.MULTILINE):
                return plain_heading(m.group(1))
    return fallback


def solution_title(h1: str) -> str:
    """A solution notebook's title in the nav: its H1 says "Exercises 03 — ...", which would be
    mistaken for the exercise notebooks (no answers); the site says "Solutions 03 — ..."."""
    return re.sub(r"^Exercises?\b", "Solutions", h1)


def make_nav(sources: Sources, titles: dict[str, str]) -> list:
    """MkDocs' nav: Home, Lectures, Solutions (unless left out), For teachers (if TEACHING.md
    exists), About the course. ``titles`` maps each notebook's repository path to its title."""
    pages = sources.pages()
    nav: list = [{"Home": pages["README.md"]}]
    nav.append({"Lectures": [{titles[rel]: pages[rel]} for rel in sources.lectures]})
    if sources.solutions:
        nav.append({"Solutions": [{titles[rel]: pages[rel]} for rel in sources.solutions]})
    if "TEACHING.md" in pages:
        nav.append({"For teachers": pages["TEACHING.md"]})
    about = [{name: pages[rel]} for name, rel in (("Contributing", "CONTRIBUTING.md"),
                                                   ("Changelog", "CHANGELOG.md"),
                                                   ("Benchmarks", "benchmarks/README.md"))
             if rel in pages]
    if about:
        nav.append({"About the course": about})
    return nav


# --------------------------------------------------------------------------- markdown links

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t]*\1[`~]*[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
# [text](target "title") and ![alt](target); text may hold one level of brackets.
LINK = re.compile(r"(!?)\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]\(\s*(<[^<>\n]*>|[^\s()<>]+)"
                  r"(\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


def rewrite_links(text: str, src: str, dest: str, pages: dict[str, str],
                  root: Path | None = None) -> tuple[str, list[str]]:
    """Rewrite the relative links of a markdown file for the site.

    ``src`` is the file's repository path, ``dest`` its path in the staged docs, ``pages`` maps
    the repository path of every page to its staged path. A link to a page points at the staged
    page (MkDocs turns ``.ipynb``/``.md`` into the page's URL); an image that exists under
    ``root`` is kept and returned in the list of files to copy; a link to anything else (LICENSE,
    code, a left-out solution) becomes plain text naming the path, so nothing is a broken link.
    External links, anchors and code (spans and fenced blocks) are left as they are.
    """
    copies: list[str] = []

    def one_part(part: str) -> str:
        spans: list[str] = []

        def mask(m):
            spans.append(m.group(0))
            return f"\x00{len(spans) - 1}\x00"

        def unmask(s: str) -> str:
            return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], s)

        def link(m):
            bang, label, target, title = m.group(1), m.group(2), m.group(3), m.group(4) or ""
            target = target[1:-1] if target.startswith("<") else target
            if not target or target.startswith(("#", "//")) or SCHEME.match(target):
                return m.group(0)
            path, _, frag = target.partition("#")
            path = unquote(path.partition("?")[0])
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(src), path))
            inside = not resolved.startswith("..")
            here = posixpath.dirname(dest) or "."
            if resolved in pages:
                new = posixpath.relpath(pages[resolved], here) + (f"#{frag}" if frag else "")
                return f"{bang}[{label}]({new}{title})"
            if (bang and inside and root is not None and Path(resolved).suffix.lower() in IMAGE_SUFFIXES
                    and (root / resolved).is_file()):
                copies.append(resolved)
                return f"{bang}[{label}]({posixpath.relpath(resolved, here)}{title})"
            shown = resolved if inside else path
            if bang:
                return label
            if unmask(label).strip().strip("`") == shown.rstrip("/") or unmask(label).strip().strip("`") == path:
                return label if "`" in unmask(label) else f"`{shown}`"
            return f"{label} (`{shown}`)"

        return unmask(LINK.sub(link, CODE_SPAN.sub(mask, part)))

    out, pos = [], 0
    for fence in FENCE.finditer(text):
        out += [one_part(text[pos:fence.start()]), fence.group(0)]
        pos = fence.end()
    out.append(one_part(text[pos:]))
    return "".join(out), copies


def add_site_note(readme: str, note: str) -> str:
    """The home page with ``note`` after its first H1 (or at the top when it has none)."""
    m = re.search(r"^#[ \t]+.*$", readme, re.MULTILINE)
    if not m:
        return note + "\n" + readme
    return readme[:m.end()] + "\n\n" + note.rstrip("\n") + readme[m.end():]


# --------------------------------------------------------------------------- notebooks

def _model_ids(model_id: str, state: dict) -> list[str]:
    """The widget and its descendants (through ``children``), depth first, each once."""
    seen, order, stack = set(), [], [model_id]
    while stack:
        mid = stack.pop()
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        order.append(mid)
        children = state[mid].get("state", {}).get("children", [])
        stack.extend(reversed([c.removeprefix("IPY_MODEL_") for c in children if isinstance(c, str)]))
    return order


def _label_text(value: str) -> str:
    """An HTML/Label widget's value as plain text (tqdm writes figure spaces and &lt;)."""
    return html.unescape(re.sub(r"<[^>]*>", "", value)).replace("\u2007", " ")


def _plain_output(out: dict) -> dict:
    """An output kept from a widget's Output area, made valid outside it: no nested widget
    view (its text/plain stays), an execute_result becomes display_data."""
    out = copy.deepcopy(out)
    if out.get("output_type") in ("display_data", "execute_result"):
        out["output_type"] = "display_data"
        out.pop("execution_count", None)
        out.setdefault("metadata", {})
        out["data"] = {k: v for k, v in out.get("data", {}).items() if k != WIDGET_MIME}
    return out


def static_widget(model_id: str, state: dict) -> list[dict]:
    """What a saved widget view shows, as plain notebook outputs: a line of text (a progress bar
    as tqdm prints it, or the saved values of the sliders) and the outputs its Output areas
    held when the notebook was saved (e.g. the figure drawn for those slider values)."""
    pieces, controls, outputs = [], [], []
    for mid in _model_ids(model_id, state):
        name, st = state[mid].get("model_name", ""), state[mid].get("state", {})
        if name == "OutputModel":
            outputs += [_plain_output(o) for o in st.get("outputs", [])]
        elif name.endswith("ProgressModel"):
            lo, hi, value = st.get("min", 0), st.get("max", 1), st.get("value", 0)
            filled = round(10 * (value - lo) / (hi - lo)) if hi > lo else 10
            pieces.append("|" + "█" * filled + " " * (10 - filled) + "|")
        elif name in ("HTMLModel", "LabelModel", "HTMLMathModel"):
            pieces.append(_label_text(str(st.get("value", ""))))
        elif "value" in st and name not in ("BoxModel", "HBoxModel", "VBoxModel"):
            controls.append(f"{st.get('description') or name.removesuffix('Model')} = {st['value']}")
    if controls:
        text = ("Interactive widget, saved at " + ", ".join(controls) + ". Moving it needs a running "
                "kernel: open this notebook in JupyterLab (make lab)."
                + (" Below: the output for these values." if outputs else ""))
    else:
        text = "".join(pieces).strip() or "Widget: open this notebook in JupyterLab (make lab) to see it."
    line = {"output_type": "display_data", "data": {"text/plain": text}, "metadata": {}}
    return [line] + outputs


# Inline math $...$ (not $$): escaped characters allowed, a line break allowed but no blank line.
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)((?:[^$\\\n]|\\.|\n(?![ \t]*\n))+?)(?<![\\$])\$(?!\$)")
TEX_LIKE = re.compile(r"\\[A-Za-z]|[\^_{}]")


def join_inline_math_lines(markdown: str) -> str:
    """The markdown with every line break inside inline math ``$...$`` made a space.

    JupyterLab takes the math out before parsing the markdown; nbconvert's parser does not, so a
    wrapped line inside ``$...$`` that starts with ``- `` or ``1. `` becomes a list item there, and
    the math is split (solutions/07 had "$... y)\\n- w ...$ (Ho & Salimans)": MathJax then read
    "$ (Ho & Salimans, 2021). At $" as math, "Misplaced &"). In TeX a line break is a space, so
    the equation is unchanged. Only spans that look like TeX are touched (not "$5 or $10"); code
    spans and fenced blocks are left alone."""
    def one_part(part: str) -> str:
        spans: list[str] = []

        def mask(m):
            spans.append(m.group(0))
            return f"\x00{len(spans) - 1}\x00"

        def join(m):
            body = m.group(1)
            return f"${body.replace(chr(10), ' ')}$" if "\n" in body and TEX_LIKE.search(body) else m.group(0)

        text = INLINE_MATH.sub(join, CODE_SPAN.sub(mask, part))
        return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], text)

    out, pos = [], 0
    for fence in FENCE.finditer(markdown):
        out += [one_part(markdown[pos:fence.start()]), fence.group(0)]
        pos = fence.end()
    out.append(one_part(markdown[pos:]))
    return "".join(out)


def model_answer(markdown: str) -> str:
    """A written answer's solution markers as a reader expects them: ``### BEGIN SOLUTION`` (a
    heading in markdown, which would fill the page's contents list) becomes a bold "Model
    answer." line and ``### END SOLUTION`` goes. Code cells keep their markers, as comments."""
    lines = []
    for line in markdown.split("\n"):
        if line.strip() == "### BEGIN SOLUTION":
            lines.append("**Model answer.**")
        elif line.strip() != "### END SOLUTION":
            lines.append(line)
    return "\n".join(lines)


def prepare_notebook(nb: dict) -> dict:
    """The staged copy of a notebook: widgets made static, inline math on one line, written
    answers' markers shown as "Model answer."."""
    nb = static_widgets(nb)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            cell["source"] = model_answer(join_inline_math_lines(_source(cell)))
    return nb


def static_widgets(nb: dict) -> dict:
    """A copy of the notebook without ipywidgets: no ``metadata.widgets`` (with it nbconvert
    loads the widget manager from a CDN) and each widget view replaced by ``static_widget``'s
    outputs (a view whose model was not saved keeps its own text/plain)."""
    nb = copy.deepcopy(nb)
    state = nb.get("metadata", {}).pop("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_MIME)
            if view is None:
                outputs.append(out)
            elif view.get("model_id") in state:
                outputs += static_widget(view["model_id"], state)
            else:
                outputs.append(_plain_output(out))
        cell["outputs"] = outputs
    return nb


# --------------------------------------------------------------------------- staging

def stage(sources: Sources, staging: Path, solutions_left_out: bool = False) -> list:
    """Write the site's sources into ``staging`` (emptied first) and return MkDocs' nav."""
    root = sources.root
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    pages = sources.pages()
    titles = {}
    for rel in sources.lectures + sources.solutions:
        nb = json.loads((root / rel).read_text(encoding="utf-8"))
        h1 = notebook_title(nb, Path(rel).stem.replace("_", " "))
        titles[rel] = solution_title(h1) if rel in sources.solutions else h1
        dest = staging / pages[rel]
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(prepare_notebook(nb), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for rel in sources.markdown:
        text = (root / rel).read_text(encoding="utf-8")
        if rel == "README.md":
            text = add_site_note(text, SITE_NOTE.format(
                solutions="" if solutions_left_out else " and solutions",
                no_solutions="\n    This build leaves the solutions out." if solutions_left_out else ""))
        text, copies = rewrite_links(text, rel, pages[rel], pages, root)
        (staging / pages[rel]).write_text(text, encoding="utf-8")
        for image in copies:
            (staging / image).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / image, staging / image)
    copy_mathjax(staging / "assets" / "mathjax")
    return make_nav(sources, titles)


def copy_mathjax(dest: Path) -> None:
    """MathJax 2.7 from jupyter_server_mathjax (English messages only), plus the course config."""
    import jupyter_server_mathjax  # only here: `make test` does not need it

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (static / "MathJax.js").is_file():
        raise SiteError(f"jupyter_server_mathjax has no static/MathJax.js in {static}: reinstall the [site] extra")

    def ignore(folder, names):  # other languages' messages: 2 MB nobody here loads
        return [n for n in names if Path(folder).name == "localization" and n != "en"]

    shutil.copytree(static, dest, ignore=ignore)
    (dest / "config" / "local").mkdir(parents=True, exist_ok=True)
    (dest / "config" / "local" / "course.js").write_text(MATHJAX_LOCAL_CONFIG, encoding="utf-8")


def check_out_dir(out: Path, root: Path) -> Path:
    """The output folder, resolved; SiteError when it is the repository, one of its parents, a
    source folder, or a non-empty folder this script did not build (MkDocs empties it)."""
    out, root = out.resolve(), root.resolve()
    if out == root or out in root.parents:
        raise SiteError(f"--out {out} is the repository or a folder above it: expected a folder of "
                        f"its own for the built site, e.g. --out site")
    for folder in SOURCE_FOLDERS:
        src = (root / folder).resolve()
        if out == src or src in out.parents or out in src.parents:
            raise SiteError(f"--out {out} is or holds the source folder {folder}/: expected a folder of its "
                            f"own for the built site, e.g. --out site")
    if out.exists() and not out.is_dir():
        raise SiteError(f"--out {out} is a file: expected a folder for the built site")
    if out.is_dir() and any(out.iterdir()) and not (out / BUILD_INFO).is_file():
        raise SiteError(f"--out {out} is a non-empty folder that this script did not build (no {BUILD_INFO}); "
                        f"the build would empty it. Remove it or choose another folder")
    return out


# --------------------------------------------------------------------------- checking the build

URL = r"(?:https?:)?//[^\s\"'`<>()\\]+"
# What a script makes a browser fetch: import()/import ... from, fetch(), importScripts(), workers,
# and anything assigned to a src (script.src = "...", widgetRendererSrc = '...').
JS_FETCH = re.compile(
    r"\bimport\s*\(\s*[\"'`](" + URL + r")"
    r"|\bimport\s+(?:[\w*{}\s,$]+\s+from\s*)?[\"'](" + URL + r")"
    r"|\b(?:fetch|importScripts|(?:Shared)?Worker|EventSource|WebSocket)\s*\(\s*[\"'`](" + URL + r")"
    r"|\w*src\s*=\s*[\"'`](" + URL + r")", re.IGNORECASE)
CSS_FETCH = re.compile(r"\burl\(\s*[\"']?(" + URL + r")|@import\s+[\"'](" + URL + r")", re.IGNORECASE)
# Attributes a browser loads by itself (an <a href> is only followed when clicked).
FETCH_ATTRS = {"script": ("src",), "img": ("src", "srcset"), "source": ("src", "srcset"),
               "video": ("src", "poster"), "audio": ("src",), "track": ("src",), "iframe": ("src",),
               "frame": ("src",), "embed": ("src",), "object": ("data",), "input": ("src",),
               "image": ("href", "xlink:href"), "use": ("href", "xlink:href"), "link": ("href",)}
# <link rel=...> that fetch nothing: navigation hints and metadata.
QUIET_RELS = {"canonical", "prev", "next", "alternate", "author", "license", "help", "bookmark",
              "external", "nofollow", "noopener", "noreferrer", "me", "tag", "search"}


def _is_external(url: str) -> bool:
    url = url.strip()
    return url.startswith("//") or urlsplit(url).scheme.lower() in ("http", "https")


def _script_fetches(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in JS_FETCH.finditer(text)]


def _css_fetches(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in CSS_FETCH.finditer(text)]


class _Refs(HTMLParser):
    """One pass over a page: what it fetches from outside (``external``) and the relative
    references (``relative``: links, scripts, styles, images) to check against the site."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.external: list[str] = []
        self.relative: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): v or "" for k, v in attrs}
        line = self.getpos()[0]
        rels = set(a.get("rel", "").lower().split())
        quiet_link = tag == "link" and rels and rels <= QUIET_RELS
        for attr in FETCH_ATTRS.get(tag, ()):
            if attr not in a:
                continue
            urls = [u.split()[0] for u in a[attr].split(",") if u.strip()] if attr == "srcset" else [a[attr]]
            for url in urls:
                if _is_external(url) and not quiet_link:
                    self.external.append(f"line {line}: <{tag} {attr}=\"{url}\">")
                elif not _is_external(url):
                    self.relative.append(url)
        if tag == "a" and "href" in a and not _is_external(a["href"]):
            self.relative.append(a["href"])
        for url in _css_fetches(a.get("style", "")):
            self.external.append(f"line {line}: <{tag} style=\"...url({url})...\">")
        self._in = tag if tag in ("script", "style") and not a.get("src") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        line = self.getpos()[0]
        if self._in == "script":
            self.external += [f"line {line}: <script> fetches {url}" for url in _script_fetches(data)]
            self.external += [f"line {line}: <script> loads url({url})" for url in _css_fetches(data)]
        elif self._in == "style":
            self.external += [f"line {line}: <style> loads {url}" for url in _css_fetches(data)]


def external_fetches(text: str, kind: str) -> list[str]:
    """What a page (``kind`` "html"), script ("js") or stylesheet ("css") would make a browser
    fetch from outside the site, one description each; ordinary ``<a href>`` links are fine."""
    if kind == "css":
        return [f"url({u})" for u in _css_fetches(text)]
    if kind == "js":
        return [f"fetches {u}" for u in _script_fetches(text)] + [f"url({u})" for u in _css_fetches(text)]
    parser = _Refs()
    parser.feed(text)
    parser.close()
    return parser.external


def relative_references(text: str) -> list[str]:
    """The relative URLs of a page: its links and the files it loads."""
    parser = _Refs()
    parser.feed(text)
    parser.close()
    return parser.relative


def resolve_reference(page: str, url: str) -> str | None:
    """The site path that a relative ``url`` on ``page`` (a site path) names, without query or
    fragment; None for a bare anchor, data:/mailto:/javascript: URLs and the like."""
    url = url.strip()
    if not url or url.startswith("#") or SCHEME.match(url):
        return None
    path = unquote(urlsplit(url).path)
    if not path:
        return None
    if path.startswith("/"):
        target = posixpath.normpath(path.lstrip("/"))
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    return target + ("/" if path.endswith("/") and target != "." else "")


def check_site(site: Path) -> list[str]:
    """Every problem of the built site: fetches from outside it and references to missing files."""
    problems = []
    for path in sorted(site.rglob("*")):
        kind = path.suffix.lower().lstrip(".")
        if kind not in ("html", "js", "css") or not path.is_file():
            continue
        rel = path.relative_to(site).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        problems += [f"{rel}: {what}" for what in external_fetches(text, kind)]
        if kind != "html":
            continue
        for url in set(relative_references(text)):
            target = resolve_reference(rel, url)
            if target is None:
                continue
            file = site / target
            if target.startswith("..") or not (file.is_file() or (file / "index.html").is_file()):
                problems.append(f"{rel}: broken reference {url!r} (no {target} in the site)")
    return problems


# --------------------------------------------------------------------------- MkDocs

def run_mkdocs(root: Path, staging: Path, out: Path, nav: list) -> None:
    """Build ``root/mkdocs.yml`` from ``staging`` into ``out`` with ``nav``, strictly."""
    from mkdocs.commands.build import build  # only here: `make test` does not need MkDocs
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  mkdocs %(levelname)s: %(message)s"))
    handler.setLevel(logging.WARNING)  # warnings are what strict turns into errors: show them all
    mk_log = logging.getLogger("mkdocs")
    mk_log.addHandler(handler)
    mk_log.setLevel(logging.INFO)
    try:
        config = load_config(config_file=str(root / "mkdocs.yml"), docs_dir=str(staging),
                             site_dir=str(out), nav=nav, strict=True)
        plugin = config.plugins["mkdocs-jupyter"]
        cache = Path(plugin.config["cache_dir"])  # relative to the repository, not to where we run
        plugin.config["cache_dir"] = str(cache if cache.is_absolute() else root / cache)
        build(config)
    except MkDocsException as exc:
        raise SiteError(f"mkdocs build failed: {exc} (the warnings above say why)") from exc
    finally:
        mk_log.removeHandler(handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="the built site (default: site/)")
    parser.add_argument("--no-solutions", action="store_true", help="leave the solution notebooks out")
    args = parser.parse_args(argv)

    start = time.monotonic()
    try:
        out = check_out_dir(args.out, ROOT)
        sources = collect_sources(ROOT, solutions=not args.no_solutions)
        staging = ROOT / STAGING
        print(f"staging {len(sources.lectures)} lectures, {len(sources.solutions)} solutions and "
              f"{len(sources.markdown)} markdown pages into {staging}", flush=True)
        if "TEACHING.md" not in sources.markdown:
            print("  (no TEACHING.md: the site has no 'For teachers' page)", flush=True)
        nav = stage(sources, staging, solutions_left_out=args.no_solutions)
        out.mkdir(parents=True, exist_ok=True)
        info = {"complete": False, "solutions": not args.no_solutions,
                "lectures": [posixpath.splitext(p)[0] + ".html" for p in sources.lectures],
                "solution_pages": [posixpath.splitext(p)[0] + ".html" for p in sources.solutions],
                "teaching": "TEACHING.md" in sources.markdown}
        # Written before MkDocs runs (which keeps dotfiles): a failed build is marked incomplete,
        # and the folder is still recognised as ours next time.
        (out / BUILD_INFO).write_text(json.dumps(info, indent=1) + "\n")
        print(f"building {out} with MkDocs (strict; notebooks are not executed)", flush=True)
        run_mkdocs(ROOT, staging, out, nav)
        print("checking the built site for fetches from outside it and broken references", flush=True)
        if problems := check_site(out):
            raise SiteError(f"the built site in {out} is not self-contained ({len(problems)} problem(s)):\n  "
                            + "\n  ".join(problems[:50]) + ("\n  ..." if len(problems) > 50 else ""))
        (out / BUILD_INFO).write_text(json.dumps(info | {"complete": True}, indent=1) + "\n")
    except SiteError as exc:
        print(f"build_site: {exc}", file=sys.stderr)
        return 1
    pages = sum(1 for _ in out.rglob("*.html"))
    print(f"site built in {time.monotonic() - start:.1f} s: {pages} HTML pages in {out} "
          f"({len(sources.lectures)} lectures, {len(sources.solutions)} solutions)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
