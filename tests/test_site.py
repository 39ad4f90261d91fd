"""The pure helpers of the course website: scripts/build_site.py (staging, link rewriting, the
widget strip, the self-containment scan, bad input) and scripts/site_check.py (what it expects,
what counts as raw TeX or an external request), and site_theme/hooks.py. The build itself is
`make site`, the browser run `make test-site`; neither MkDocs nor Playwright is needed here."""

import importlib.util
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bs = _load("build_site", ROOT / "scripts" / "build_site.py")
sc = _load("site_check", ROOT / "scripts" / "site_check.py")
hooks = _load("site_hooks", ROOT / "site_theme" / "hooks.py")

WIDGET = bs.WIDGET_MIME
STATE = bs.WIDGET_STATE_MIME


def _nb(*cells, widgets=None):
    meta = {"kernelspec": {"name": "python3", "language": "python"}}
    if widgets is not None:
        meta["widgets"] = {STATE: {"state": widgets, "version_major": 2, "version_minor": 0}}
    return {"cells": list(cells), "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def _md(source):
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def _code(source="x = 1", outputs=(), count=1):
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": list(outputs),
            "execution_count": count}


def _course(tmp_path, lectures=("01_a", "02_b"), solutions=("01_a", "02_b"), readme="# Course\n"):
    """A minimal course folder: README, executed lectures and solutions."""
    root = tmp_path / "course"
    root.mkdir(parents=True)
    (root / "README.md").write_text(readme)
    for folder, names in (("lectures", lectures), ("solutions", solutions)):
        if names is None:
            continue
        (root / folder).mkdir()
        for name in names:
            title = ("Lecture " if folder == "lectures" else "Exercises ") + name[:2] + " — " + name[3:]
            nb = _nb(_md(f"# {title}\n\nText with $x$."), _code(outputs=[{"output_type": "stream",
                                                                        "name": "stdout", "text": "1\n"}]))
            (root / folder / f"{name}.ipynb").write_text(json.dumps(nb))
    return root


# --------------------------------------------------------------------------- imports

def test_importing_the_scripts_needs_neither_mkdocs_nor_playwright():
    # `make test` runs without the [site] and [browser] extras: block them and import both scripts.
    blocked = "; ".join(f"sys.modules[{m!r}] = None" for m in
                        ("mkdocs", "material", "mkdocs_jupyter", "jupyter_server_mathjax", "playwright"))
    for script in ("build_site.py", "site_check.py"):
        code = (f"import sys, importlib.util; {blocked}; "
                f"spec = importlib.util.spec_from_file_location('m', {str(ROOT / 'scripts' / script)!r}); "
                "sys.modules['m'] = m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)")
        subprocess.run([sys.executable, "-c", code], check=True)


def test_mkdocs_yml_keeps_the_site_offline():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["font"] is False                       # no Google Fonts
    assert config["use_directory_urls"] is False                  # works opened as files
    assert config["strict"] is True and config["docs_dir"] == bs.STAGING.as_posix()
    jupyter = next(p["mkdocs-jupyter"] for p in config["plugins"] if isinstance(p, dict) and "mkdocs-jupyter" in p)
    assert jupyter["execute"] is False and jupyter["include_requirejs"] is False
    url = jupyter["custom_mathjax_url"]
    assert url.startswith("../assets/mathjax/MathJax.js?config=") and "//" not in url
    assert url.endswith(bs.MATHJAX_URL_CONFIG) and "local/course" in url
    assert "material/offline" not in str(config["plugins"])       # it adds a polyfill from unpkg.com


def test_mathjax_config_uses_the_shipped_web_fonts_only():
    js = bs.MATHJAX_LOCAL_CONFIG
    for setting in ('availableFonts: []', 'preferredFont: null', 'webFont: "STIX-Web"', 'imageFont: null',
                    'noUndefined: {disabled: true}'):
        assert setting in js
    assert js.rstrip().endswith('MathJax.Ajax.loadComplete("[MathJax]/config/local/course.js");')
    assert "about:blank" not in js and "url(" not in js


# --------------------------------------------------------------------------- sources and nav

def test_collect_sources_finds_notebooks_and_markdown_pages(tmp_path):
    root = _course(tmp_path)
    (root / "TEACHING.md").write_text("# Teaching\n")
    src = bs.collect_sources(root)
    assert src.lectures == ["lectures/01_a.ipynb", "lectures/02_b.ipynb"]
    assert src.solutions == ["solutions/01_a.ipynb", "solutions/02_b.ipynb"]
    assert src.markdown == ["README.md", "TEACHING.md"]
    assert src.pages()["README.md"] == "index.md" and src.pages()["TEACHING.md"] == "teaching.md"
    assert bs.collect_sources(root, solutions=False).solutions == []


def test_bad_input_is_a_clear_error(tmp_path):
    root = _course(tmp_path, lectures=None)
    with pytest.raises(bs.SiteError, match=r"no lectures/ folder .*expected the executed notebooks lectures/NN_topic.ipynb"):
        bs.collect_sources(root)
    (root / "lectures").mkdir()
    (root / "lectures" / "notes.ipynb").write_text("{}")  # not NN_topic.ipynb
    with pytest.raises(bs.SiteError, match=r"has no notebook named NN_topic.ipynb"):
        bs.collect_sources(root)

    root = _course(tmp_path / "b", solutions=None)
    with pytest.raises(bs.SiteError, match=r"no solutions/ folder .*--no-solutions"):
        bs.collect_sources(root)
    assert bs.collect_sources(root, solutions=False).lectures  # fine without them

    root = _course(tmp_path / "c")
    (root / "lectures" / "03_c.ipynb").write_text(json.dumps(_nb(_code(count=None))))
    with pytest.raises(bs.SiteError, match=r"lectures/03_c.ipynb has not been executed"):
        bs.collect_sources(root)
    (root / "lectures" / "03_c.ipynb").write_text("{not json")
    with pytest.raises(bs.SiteError, match=r"lectures/03_c.ipynb is not a readable notebook"):
        bs.collect_sources(root)

    (root / "README.md").unlink()
    with pytest.raises(bs.SiteError, match=r"no README.md"):
        bs.collect_sources(root)


def test_out_dir_must_be_a_folder_of_its_own(tmp_path):
    root = _course(tmp_path)
    for bad in (root, root.parent, root / "lectures", root / "lectures" / "site", root / "build" / "site-src"):
        with pytest.raises(bs.SiteError, match="expected a folder of its own"):
            bs.check_out_dir(bad, root)
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.tex").write_text("mine")
    with pytest.raises(bs.SiteError, match="non-empty folder that this script did not build"):
        bs.check_out_dir(other, root)
    assert bs.check_out_dir(root / "site", root) == (root / "site").resolve()        # new
    (root / "site").mkdir()
    (root / "site" / "index.html").write_text("old")
    (root / "site" / bs.BUILD_INFO).write_text("{}")
    assert bs.check_out_dir(root / "site", root) == (root / "site").resolve()        # a previous build


def test_titles_come_from_the_h1():
    nb = _nb(_md("Some intro"), _md("# Lecture 03 — The `VAE` and [links](x.md)\n\ntext\n# Second"))
    assert bs.notebook_title(nb, "fallback") == "Lecture 03 — The VAE and links"
    assert bs.notebook_title(_nb(_md("## no h1")), "03 vae") == "03 vae"
    assert bs.solution_title("Exercises 03 — The VAE") == "Solutions 03 — The VAE"
    assert bs.plain_heading("**Bold** snake_case") == "Bold snake_case"


def test_nav_with_and_without_solutions(tmp_path):
    root = _course(tmp_path)
    titles = {"lectures/01_a.ipynb": "Lecture 01", "lectures/02_b.ipynb": "Lecture 02",
              "solutions/01_a.ipynb": "Solutions 01", "solutions/02_b.ipynb": "Solutions 02"}
    nav = bs.make_nav(bs.collect_sources(root), titles)
    assert nav[0] == {"Home": "index.md"}
    assert nav[1] == {"Lectures": [{"Lecture 01": "lectures/01_a.ipynb"}, {"Lecture 02": "lectures/02_b.ipynb"}]}
    assert nav[2] == {"Solutions": [{"Solutions 01": "solutions/01_a.ipynb"}, {"Solutions 02": "solutions/02_b.ipynb"}]}
    (root / "TEACHING.md").write_text("# Teaching\n")
    (root / "CHANGELOG.md").write_text("# Changelog\n")
    nav = bs.make_nav(bs.collect_sources(root, solutions=False), titles)
    assert [list(item)[0] for item in nav] == ["Home", "Lectures", "For teachers", "About the course"]
    assert "solutions/" not in json.dumps(nav)
    assert nav[2] == {"For teachers": "teaching.md"} and nav[3] == {"About the course": [{"Changelog": "changelog.md"}]}


def test_staging_without_solutions_leaves_no_link_to_them(tmp_path, monkeypatch):
    readme = ("# Course\n\n| 01 | [A](lectures/01_a.ipynb) | [answers](solutions/01_a.ipynb) |\n\n"
              "See [LICENSE](LICENSE) and ![logo](docs/logo.png).\n")
    root = _course(tmp_path, readme=readme)
    (root / "docs").mkdir()
    (root / "docs" / "logo.png").write_bytes(b"\x89PNG")
    monkeypatch.setattr(bs, "copy_mathjax", lambda dest: dest.mkdir(parents=True))  # needs the [site] extra
    staging = tmp_path / "staged"
    nav = bs.stage(bs.collect_sources(root, solutions=False), staging, solutions_left_out=True)
    index = (staging / "index.md").read_text()
    assert "[A](lectures/01_a.ipynb)" in index and "answers (`solutions/01_a.ipynb`)" in index
    assert "`LICENSE`" in index and "](LICENSE)" not in index
    assert "![logo](docs/logo.png)" in index and (staging / "docs" / "logo.png").is_file()
    assert "leaves the solutions out" in index and index.index("# Course") < index.index("!!! note")
    assert not (staging / "solutions").exists()
    assert nav[1]["Lectures"] == [{"Lecture 01 — a": "lectures/01_a.ipynb"}, {"Lecture 02 — b": "lectures/02_b.ipynb"}]
    assert (root / "README.md").read_text() == readme  # the original is untouched


# --------------------------------------------------------------------------- links

PAGES = {"README.md": "index.md", "CONTRIBUTING.md": "contributing.md", "benchmarks/README.md": "benchmarks.md",
         "lectures/01_autoencoders.ipynb": "lectures/01_autoencoders.ipynb"}


def _rewrite(text, src="README.md", dest="index.md", pages=PAGES, root=None):
    return bs.rewrite_links(text, src, dest, pages, root)[0]


def test_links_to_pages_stay_links():
    assert _rewrite("[AE](lectures/01_autoencoders.ipynb)") == "[AE](lectures/01_autoencoders.ipynb)"
    assert _rewrite("[c](CONTRIBUTING.md#rules)") == "[c](contributing.md#rules)"
    assert _rewrite('[AE](<lectures/01_autoencoders.ipynb> "title")') == '[AE](lectures/01_autoencoders.ipynb "title")'
    # from a page in a subfolder of the repository, staged at the top of the site
    assert (_rewrite("[back](../README.md) [l1](../lectures/01_autoencoders.ipynb)", src="benchmarks/README.md",
                     dest="benchmarks.md") == "[back](index.md) [l1](lectures/01_autoencoders.ipynb)")


def test_links_to_other_files_become_plain_text():
    assert _rewrite("MIT ([LICENSE](LICENSE)); cite [CITATION.cff](CITATION.cff).") == \
        "MIT (`LICENSE`); cite `CITATION.cff`."
    assert _rewrite("[the notice](course_lib/data/NOTICE)") == "the notice (`course_lib/data/NOTICE`)"
    assert _rewrite("[`course_lib/zoo.py`](course_lib/zoo.py)") == "`course_lib/zoo.py`"
    assert _rewrite("[solution](solutions/01_autoencoders.ipynb)") == "solution (`solutions/01_autoencoders.ipynb`)"
    assert _rewrite("![missing](docs/none.png)") == "missing"


def test_links_in_code_and_external_links_are_left_alone():
    text = ("[paper](https://doi.org/10.1/x) [mail](mailto:a@b.c) [top](#the-lectures) "
            "`[x](LICENSE)`\n\n```md\n[y](LICENSE)\n```\n")
    assert _rewrite(text) == text


def test_home_page_note_goes_under_the_title():
    assert bs.add_site_note("# T\n\nbody\n", "NOTE\n") == "# T\n\nNOTE\n\nbody\n"
    assert bs.add_site_note("no title\n", "NOTE\n") == "NOTE\n\nno title\n"


# --------------------------------------------------------------------------- notebooks

def _widget_state():
    model = lambda name, **st: {"model_name": name, "model_module": "@jupyter-widgets/controls", "state": st}
    return {
        "bar": model("HBoxModel", children=["IPY_MODEL_lbl", "IPY_MODEL_prog", "IPY_MODEL_txt"]),
        "lbl": model("HTMLModel", value="ConvAE:\u2007100%"),
        "prog": model("FloatProgressModel", value=3.0, max=3.0, min=0.0),
        "txt": model("HTMLModel", value="\u20073/3\u2007[00:03&lt;00:00]"),
        "box": model("VBoxModel", children=["IPY_MODEL_s1", "IPY_MODEL_out"]),
        "s1": model("FloatSliderModel", description="z1", value=-1.5),
        "out": {"model_name": "OutputModel", "model_module": "@jupyter-widgets/output",
                "state": {"outputs": [{"output_type": "display_data", "metadata": {},
                                       "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}]}},
    }


def _view(model_id, kind="display_data"):
    out = {"output_type": kind, "metadata": {},
           "data": {WIDGET: {"model_id": model_id, "version_major": 2}, "text/plain": f"repr of {model_id}"}}
    if kind == "execute_result":
        out["execution_count"] = 4
    return out


def test_widgets_become_static_outputs_and_their_metadata_goes():
    nb = _nb(_code(outputs=[_view("bar")]), _code(outputs=[_view("box", "execute_result")]),
             _code(outputs=[_view("gone")]), widgets=_widget_state())
    out = bs.static_widgets(nb)
    assert "widgets" not in out["metadata"] and "widgets" in nb["metadata"]   # a copy: input untouched
    assert WIDGET not in json.dumps(out["cells"])
    bar, slider, gone = (c["outputs"] for c in out["cells"])
    assert bar == [{"output_type": "display_data", "metadata": {},
                    "data": {"text/plain": "ConvAE: 100%|██████████| 3/3 [00:03<00:00]"}}]
    assert slider[0]["data"]["text/plain"].startswith("Interactive widget, saved at z1 = -1.5.")
    assert "JupyterLab" in slider[0]["data"]["text/plain"]
    assert slider[1]["data"]["image/png"] == "iVBOR"               # the figure drawn for the saved values
    assert gone == [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": "repr of gone"}}]


def test_notebook_without_widgets_is_unchanged():
    nb = _nb(_md("# T"), _code(outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}]))
    assert bs.static_widgets(nb) == nb


def test_inline_math_is_joined_onto_one_line():
    # A wrapped "- w" line inside $...$ must not become a list item (solutions/07).
    src = "guided: $\\tilde\\varepsilon = (1 + w)\\,\\varepsilon\n- w\\,\\varepsilon_0$ (Ho & Salimans)."
    assert bs.join_inline_math_lines(src) == \
        "guided: $\\tilde\\varepsilon = (1 + w)\\,\\varepsilon - w\\,\\varepsilon_0$ (Ho & Salimans)."
    for same in ("costs $5\n- or $10", "$$\n\\alpha\n$$", "`$a\n\\b$`", "$a\n\n\\b$", "```\n$\\a\n- b$\n```\n"):
        assert bs.join_inline_math_lines(same) == same
    nb = bs.prepare_notebook(_nb(_md(["$\\alpha\n", "- 1$\n"])))
    assert nb["cells"][0]["source"] == "$\\alpha - 1$\n"


# --------------------------------------------------------------------------- the built site

def test_external_fetches_are_caught_but_links_are_not():
    page = """<html><head>
<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"></script>
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
<link rel="canonical" href="https://example.org/course/">
<style>@font-face { src: url(https://fonts.gstatic.com/x.woff2) }</style>
<script type="module">const m = (await import("https://cdnjs.cloudflare.com/mermaid.esm.min.mjs")).default;</script>
<script>var widgetRendererSrc = 'https://unpkg.com/@jupyter-widgets/html-manager@*/dist/embed-amd.js';</script>
</head><body>
<a href="https://doi.org/10.48550/arXiv.1312.6114">Kingma &amp; Welling</a>
<svg xmlns="http://www.w3.org/2000/svg"><path d="M0"/></svg>
<div style="background: url('//cdn.example.com/bg.png')"></div>
<img src="data:image/png;base64,iVBOR" srcset="a.png 1x, https://cdn.example.com/b.png 2x">
<script>document.createElementNS("http://www.w3.org/2000/svg", "svg"); fetch("search/index.json");</script>
</body></html>"""
    found = "\n".join(bs.external_fetches(page, "html"))
    for url in ("cdnjs.cloudflare.com/ajax/libs/mathjax", "fonts.googleapis.com", "fonts.gstatic.com",
                "mermaid.esm.min.mjs", "unpkg.com/@jupyter-widgets", "//cdn.example.com/bg.png",
                "https://cdn.example.com/b.png"):
        assert url in found, url
    for fine in ("doi.org", "example.org/course", "www.w3.org", "search/index.json"):
        assert fine not in found, fine
    assert len(bs.external_fetches(page, "html")) == 7
    assert bs.external_fetches("a{background:url(https://x.org/a.png)} b{src:url(fonts/a.woff)}", "css") == \
        ["url(https://x.org/a.png)"]
    assert bs.external_fetches('x.src="https://x.org/a.js"; y="http://www.w3.org/1998/Math/MathML"', "js") == \
        ["fetches https://x.org/a.js"]


def test_relative_references_resolve_inside_the_site():
    assert bs.resolve_reference("lectures/01.html", "../assets/mathjax/MathJax.js?config=x") == "assets/mathjax/MathJax.js"
    assert bs.resolve_reference("lectures/01.html", "02.html#section") == "lectures/02.html"
    assert bs.resolve_reference("index.html", ".") == "."
    assert bs.resolve_reference("index.html", "#top") is None
    assert bs.resolve_reference("index.html", "data:image/png;base64,xx") is None
    assert bs.resolve_reference("index.html", "../../etc/passwd").startswith("..")


def test_check_site_reports_external_fetches_and_broken_references(tmp_path):
    site = tmp_path / "site"
    (site / "lectures").mkdir(parents=True)
    (site / "assets").mkdir()
    (site / "assets" / "ok.js").write_text("console.log(1)")
    (site / "index.html").write_text('<a href="lectures/01.html">L1</a><a href=".">home</a>'
                                     '<a href="https://doi.org/x">paper</a><script src="assets/ok.js"></script>')
    (site / "lectures" / "01.html").write_text('<a href="../index.html#top">home</a>')
    assert bs.check_site(site) == []
    (site / "lectures" / "01.html").write_text('<a href="02.html">next</a><img src="../assets/fig.png">')
    (site / "assets" / "theme.css").write_text("body{background:url(https://x.org/bg.png)}")
    problems = bs.check_site(site)
    assert len(problems) == 3
    assert "assets/theme.css: url(https://x.org/bg.png)" in problems
    assert any("lectures/01.html: broken reference '02.html'" in p for p in problems)
    assert any("'../assets/fig.png' (no assets/fig.png" in p for p in problems)


def test_mermaid_loader_is_dropped_unless_a_diagram_needs_it():
    loader = ('<script type="module">\n document.addEventListener("DOMContentLoaded", async () => {\n'
              '  const diagrams = document.querySelectorAll(".jp-Mermaid > pre.mermaid");\n'
              '  const mermaid = (await import("https://cdnjs.cloudflare.com/mermaid.esm.min.mjs")).default;\n'
              ' });\n</script>\n')
    page = '<script type="module">import "./ok.js";</script>' + loader + '<style>.jp-Mermaid {}</style><p>x</p>'
    stripped = hooks.strip_mermaid_loader(page)
    assert "cdnjs" not in stripped and './ok.js' in stripped and "<p>x</p>" in stripped
    assert bs.external_fetches(stripped, "html") == [] and bs.external_fetches(page, "html")
    with_diagram = page + '<div class="jp-Mermaid"><pre class="mermaid">graph LR</pre></div>'
    assert hooks.strip_mermaid_loader(with_diagram) == with_diagram


# --------------------------------------------------------------------------- site_check.py

def test_site_check_expects_the_lectures_of_the_repository(tmp_path):
    root = _course(tmp_path, lectures=("01_a", "02_b", "10_z"))
    assert sc.expected_pages(root, "lectures") == ["lectures/01_a.html", "lectures/02_b.html", "lectures/10_z.html"]
    assert sc.expected_pages(root, "nowhere") == []
    assert sc.expected_pages(ROOT, "lectures")[0] == "lectures/01_autoencoders.html"
    assert sc.missing_links({"lectures/01_a.html"}, ["lectures/01_a.html", "lectures/02_b.html"]) == ["lectures/02_b.html"]


def test_site_paths_and_local_urls():
    base = "http://127.0.0.1:8123/"
    assert sc.site_path(base + "lectures/01_a.html#x", base) == "lectures/01_a.html"
    assert sc.site_path(base, base) == "index.html"
    assert sc.site_path("https://doi.org/x", base) is None
    assert sc.is_local(base + "assets/mathjax/MathJax.js") and sc.is_local("data:image/png;base64,x")
    assert not sc.is_local("https://cdnjs.cloudflare.com/x.js") and not sc.is_local("http://localhost:8123/")


def test_chromium_cannot_resolve_any_host_but_the_local_one():
    assert "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1" in sc.CHROMIUM_ARGS
    assert sc.CHROMIUM == "/usr/bin/chromium" and "--headless" in sc.CHROMIUM_ARGS


def test_raw_math_is_found_outside_typeset_equations():
    assert "$$" in sc.raw_math("the ELBO $$\\log p(x) \\ge \\mathcal{L}$$ and")
    assert sc.raw_math("where $\\sigma_x$ is the noise") == ["$\\sigma_x$"]
    assert sc.raw_math("inline \\(\\alpha + 1\\) left") == ["\\(\\alpha + 1\\)"]
    assert sc.raw_math("it costs $5 and $10; a ≥ 0 typeset") == []


def test_build_info_must_say_the_build_finished(tmp_path):
    with pytest.raises(sc.CheckFailed, match="no index.html"):
        sc.load_build_info(tmp_path)
    (tmp_path / "index.html").write_text("<html>")
    with pytest.raises(sc.CheckFailed, match="not built by scripts/build_site.py"):
        sc.load_build_info(tmp_path)
    (tmp_path / sc.BUILD_INFO).write_text(json.dumps({"complete": False, "solutions": True}))
    with pytest.raises(sc.CheckFailed, match="did not finish"):
        sc.load_build_info(tmp_path)
    (tmp_path / sc.BUILD_INFO).write_text(json.dumps({"complete": True, "solutions": False}))
    assert sc.load_build_info(tmp_path)["solutions"] is False
    assert sc.BUILD_INFO == bs.BUILD_INFO


def test_table_and_summary():
    rows = [sc.PageResult("index.html"), sc.PageResult("lectures/01_a.html", 12, 2, 3, 1.25),
            sc.PageResult("solutions/01_a.html", 4, 0, 1, 0.5, ["no figure"])]
    table = sc.format_table(rows).splitlines()
    assert table[0].split() == ["page", "equations", "display", "figures", "typeset", "result"]
    assert table[2].split() == ["lectures/01_a.html", "12", "2", "3", "1.2", "s", "ok"]
    assert table[3].endswith("FAIL (1)")
    assert sc.summary_line(rows, 0) == "site check: 3 pages, 16 equations, 4 figures, 0 external requests"


def test_the_local_server_serves_the_site_and_logs_errors(tmp_path):
    (tmp_path / "index.html").write_text("<p>home</p>")
    with sc.serve(tmp_path) as (base, errors):
        assert base.startswith("http://127.0.0.1:")
        assert urllib.request.urlopen(base + "index.html", timeout=10).read() == b"<p>home</p>"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(base + "missing.html", timeout=10)
        assert sc.http_status(base + "missing.html") == 404 and sc.http_status(base) == 200
    assert errors == ["404 /missing.html", "404 /missing.html"]


def test_home_page_must_link_every_lecture_and_solution():
    lectures, solutions = ["lectures/01_a.html", "lectures/02_b.html"], ["solutions/01_a.html"]
    nav = set(lectures + solutions)
    assert sc.home_link_failures(nav, nav, lectures, solutions, with_solutions=True) == []
    assert sc.home_link_failures(nav - {"lectures/02_b.html"}, nav, lectures, solutions, True) == \
        ["index.html: the navigation has no link to the lecture lectures/02_b.html"]
    assert sc.home_link_failures(set(lectures), set(lectures), lectures, solutions, True) == \
        ["index.html: the navigation has no link to the solution solutions/01_a.html"]
    # built with --no-solutions: none is expected, and a link to one anywhere is a failure
    assert sc.home_link_failures(set(lectures), set(lectures), lectures, solutions, False) == []
    assert sc.home_link_failures(set(lectures), nav, lectures, solutions, False) == \
        ["index.html: links to solutions/01_a.html, but the site was built without solutions"]


def test_screenshots_fall_back_to_the_first_page():
    lectures = ["lectures/01_a.html", "lectures/03_vae_reparametrization.html"]
    assert sc.shot_pages(lectures, []) == {"lectures/03_vae_reparametrization.html": ["equation"],
                                           "lectures/01_a.html": ["figure"]}
    assert sc.shot_pages(lectures, ["solutions/01_a.html"])["solutions/01_a.html"] == ["solution"]


def test_model_answer_markers_become_a_label():
    text = "### BEGIN SOLUTION\nBecause $x$.\n### END SOLUTION\n"
    assert bs.model_answer(text) == "**Model answer.**\nBecause $x$.\n"
    assert bs.model_answer("## Exercise 1\ntext") == "## Exercise 1\ntext"
    staged = bs.prepare_notebook({"metadata": {}, "cells": [
        {"cell_type": "markdown", "source": text, "metadata": {}},
        {"cell_type": "code", "source": "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "metadata": {}, "outputs": []}]})
    assert staged["cells"][0]["source"].startswith("**Model answer.**")
    assert staged["cells"][1]["source"].startswith("### BEGIN SOLUTION"), "code keeps its markers"
