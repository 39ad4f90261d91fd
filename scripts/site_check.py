"""The built course website in a real headless Chromium that cannot reach the internet.

    python scripts/site_check.py [--site DIR] [--out DIR] [--timeout S]

``make test-site`` runs this after ``make site`` (scripts/build_site.py). It serves the site in
DIR (default ``site/``) from a local HTTP server on 127.0.0.1 and opens it in Debian's Chromium
(/usr/bin/chromium, driven by Playwright, which never downloads a browser of its own). Every
host but 127.0.0.1 is unreachable: Chromium resolves no other name, and every request for
another host is aborted and recorded; a single one fails the check. It checks

1. that the home page's navigation links to every lecture page (those of ``lectures/*.ipynb``
   in this repository, not a list kept here) and, unless the site was built with
   ``--no-solutions``, to every solution page (``solutions/*.ipynb``); each link answers 200.
   A site built without solutions must have no solution page and no link to one;
2. on every page of the navigation: once MathJax has finished typesetting, that the text outside
   code and outputs holds no raw TeX (``$$``, ``$...\\command...$``, ``\\(...\\)``) and no MathJax
   error (``.MathJax_Error``, ``merror``: an undefined macro is one); it counts the typeset
   equations, and every lecture and solution page must have some;
3. that every ``<img>`` has loaded (complete, natural width > 0); every lecture has a figure;
4. that no page logged a console error or had a request fail or answer an error status;
5. and it saves screenshots (the viewport, 1400 x 1000) in ``--out`` (default ``site-out/``):
   ``home.png``, ``lecture-03-elbo.png`` (lecture 03 scrolled to the ELBO), ``lecture-05-figure.png``
   (a figure of lecture 05) and ``solution-03.png``, and a ``*-FAILED.png`` of a failing page.

It prints a table per page (equations typeset, figures loaded, seconds from the start of loading
until MathJax had finished), then a
summary line, and exits non-zero with the list of failures. Only the pure helpers at the top
are imported by the tests: Playwright is imported inside ``main``, so ``make test`` does not
need it.
"""

from __future__ import annotations

import argparse
import http.server
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# No internet, on purpose: every host name but 127.0.0.1 fails to resolve, and Chromium's own
# background traffic (updates, sync, Google services) is switched off so it does not flood the log.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
VIEWPORT = {"width": 1400, "height": 1000}
BUILD_INFO = ".build-info.json"   # written by build_site.py: what was built, and whether it finished
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
# The screenshots besides home.png: kind -> (preferred page, file). A site without the preferred
# page shows its first lecture (or solution) instead; the equation shot looks for this TeX.
SHOTS = {"equation": ("lectures/03_vae_reparametrization.html", "lecture-03-elbo.png"),
         "figure": ("lectures/05_cyclegan.html", "lecture-05-figure.png"),
         "solution": ("solutions/03_vae_reparametrization.html", "solution-03.png")}
EQUATION_NEEDLE = "ELBO"

# TeX that MathJax should have typeset but the page still shows as text.
RAW_MATH = [re.compile(r"\$\$"),
            re.compile(r"\$[^$\n]{0,300}?\\[A-Za-z]+[^$\n]{0,300}?\$"),
            re.compile(r"\\\((?:(?!\\\)).){0,300}?\\[A-Za-z]+(?:(?!\\\)).){0,300}?\\\)", re.DOTALL),
            re.compile(r"\\\[(?:(?!\\\]).){0,300}?\\[A-Za-z]+(?:(?!\\\]).){0,300}?\\\]", re.DOTALL)]


class CheckFailed(AssertionError):
    """A check that failed, with a message that says what was expected."""


# --------------------------------------------------------------------------- pure helpers

def load_build_info(site: Path) -> dict:
    """build_site.py's record of the site: CheckFailed when the site is missing or unfinished."""
    if not (site / "index.html").is_file():
        raise CheckFailed(f"no site in {site} (no index.html): build it first with `make site`")
    try:
        info = json.loads((site / BUILD_INFO).read_text())
    except (OSError, ValueError) as exc:
        raise CheckFailed(f"{site} was not built by scripts/build_site.py (no readable {BUILD_INFO}): "
                          f"rebuild it with `make site`") from exc
    if not info.get("complete"):
        raise CheckFailed(f"the last build of {site} did not finish ({BUILD_INFO} says so): run `make site` again")
    return info


def expected_pages(root: Path, folder: str) -> list[str]:
    """The site paths of the notebooks in ``root/folder`` (``lectures/01_x.ipynb`` ->
    ``lectures/01_x.html``), in order: what the site must have, found in the repository."""
    return [f"{folder}/{p.stem}.html" for p in sorted((root / folder).glob(NOTEBOOK_GLOB))]


def site_path(url: str, base: str) -> str | None:
    """The path inside the site of an absolute ``url`` served under ``base``, without query or
    fragment (``index.html`` for the root); None for anything else."""
    if not url.startswith(base):
        return None
    path = urlsplit(url).path[len(urlsplit(base).path):]
    return path if path and not path.endswith("/") else path + "index.html"


def missing_links(linked: set[str], expected: list[str]) -> list[str]:
    """The expected site paths that no link of the page points at."""
    return [p for p in expected if p not in linked]


def home_link_failures(nav: set[str], links: set[str], lectures: list[str], solutions: list[str],
                       with_solutions: bool) -> list[str]:
    """What is wrong with the home page's links (site paths): its navigation must link every
    lecture and, when built with solutions, every solution; without them, no link at all may
    point at a solution page."""
    failures = [f"index.html: the navigation has no link to the lecture {p}" for p in missing_links(nav, lectures)]
    if with_solutions:
        failures += [f"index.html: the navigation has no link to the solution {p}"
                     for p in missing_links(nav, solutions)]
    else:
        failures += [f"index.html: links to {p}, but the site was built without solutions"
                     for p in solutions if p in links]
    return failures


def shot_pages(lectures: list[str], solutions: list[str]) -> dict[str, list[str]]:
    """Which page each screenshot of SHOTS is taken on: site path -> kinds of SHOTS."""
    pages: dict[str, list[str]] = {}
    for kind, (preferred, _) in SHOTS.items():
        candidates = solutions if kind == "solution" else lectures
        page = preferred if preferred in candidates else (candidates[0] if candidates else None)
        if page:
            pages.setdefault(page, []).append(kind)
    return pages


def is_local(url: str) -> bool:
    """True for what may load: the local server (127.0.0.1) and URLs that are not fetched from a
    host (data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname == "127.0.0.1"


def raw_math(text: str) -> list[str]:
    """Snippets of TeX left untypeset in a page's text (code and outputs already removed)."""
    found = []
    for pattern in RAW_MATH:
        found += [" ".join(m.group(0).split())[:80] for m in pattern.finditer(text)]
    return found


@dataclass
class PageResult:
    path: str
    equations: int = 0
    displays: int = 0
    figures: int = 0
    typeset_s: float | None = None
    failures: list[str] = field(default_factory=list)


def format_table(rows: list[PageResult]) -> str:
    """One line per page: equations typeset (display ones), figures loaded, seconds to typeset."""
    width = max([len(r.path) for r in rows] + [4])
    lines = [f"{'page':<{width}}  {'equations':>9}  {'display':>7}  {'figures':>7}  {'typeset':>8}  result"]
    for r in rows:
        typeset = f"{r.typeset_s:.1f} s" if r.typeset_s is not None else "-"
        lines.append(f"{r.path:<{width}}  {r.equations:>9}  {r.displays:>7}  {r.figures:>7}  {typeset:>8}  "
                     + ("ok" if not r.failures else f"FAIL ({len(r.failures)})"))
    return "\n".join(lines)


def summary_line(rows: list[PageResult], external: int) -> str:
    return (f"site check: {len(rows)} pages, {sum(r.equations for r in rows)} equations, "
            f"{sum(r.figures for r in rows)} figures, {external} external requests")


# --------------------------------------------------------------------------- the server

@contextmanager
def serve(site: Path):
    """The site on http://127.0.0.1:<free port>/ from a thread; yields (base URL, list of
    'status path' for every answer >= 400)."""
    errors: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # quiet: errors are collected and reported instead
            pass

        def log_request(self, code="-", size="-"):
            if isinstance(code, int) and code >= 400:  # an int or an HTTPStatus; '-' otherwise
                errors.append(f"{int(code)} {self.path}")

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # The browser cancelling a download (it left the page) breaks the pipe: not an error.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), partial(Handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", errors
    finally:
        server.shutdown()
        server.server_close()


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


# --------------------------------------------------------------------------- the browser

# Marks the moment MathJax has run everything queued at start-up (the page's Typeset included):
# StartupHook("End") also fires for a hook registered after the end, and Queue runs after all
# typesetting queued before it. The hook must return nothing: MathJax waits for a callback a hook
# returns (Queue returns one), and that one would wait for the start-up: a deadlock. Returns
# false when the page has no MathJax.
MATHJAX_DONE_JS = """
() => {
  window.__siteCheckTypeset = null;
  if (!window.MathJax || !window.MathJax.Hub) return false;
  MathJax.Hub.Register.StartupHook("End", () => {
    MathJax.Hub.Queue(() => { window.__siteCheckTypeset = performance.now(); });
  });
  return true;
}"""
MATHJAX_IDLE_JS = ("() => window.__siteCheckTypeset !== null && MathJax.Hub.queue.pending === 0"
                   " && MathJax.Hub.queue.running === 0")

# The page's text outside code, outputs, MathJax's own elements and the site's chrome; the
# equations, errors and images.
PAGE_STATE_JS = """
() => {
  const skip = 'pre, code, script, style, textarea, .highlight, .highlight-ipynb, .jp-OutputArea,'
    + ' .jp-InputArea, [class*="MathJax"], [id^="MathJax"], nav, header, footer, .md-search';
  const content = document.querySelector('article') || document.body;
  const clone = content.cloneNode(true);
  clone.querySelectorAll(skip).forEach(e => e.remove());
  const errors = [...document.querySelectorAll('.MathJax_Error, .merror, merror, .noError')]
    .map(e => (e.textContent || '').trim().slice(0, 120));
  const hub = window.MathJax && window.MathJax.Hub;
  const images = [...document.images].map(i => ({
    src: (i.getAttribute('src') || '').slice(0, 60), ok: i.complete && i.naturalWidth > 0,
    figure: content.contains(i)}));
  return {
    text: clone.textContent,
    equations: hub ? hub.getAllJax().length : 0,
    displays: document.querySelectorAll('.MathJax_Display').length,
    rendered: document.querySelectorAll('.MathJax, .MathJax_Display').length,
    errors, images,
  };
}"""

# Scroll to the first display equation whose TeX contains the needle (else the first display).
SCROLL_TO_EQUATION_JS = """
(needle) => {
  const all = MathJax.Hub.getAllJax().filter(j => (j.SourceElement().type || '').includes('mode=display'));
  const jax = all.find(j => j.originalText.includes(needle)) || all[0];
  if (!jax) return null;
  const frame = document.getElementById(jax.inputID + '-Frame');
  (frame.closest('.MathJax_Display') || frame).scrollIntoView({block: 'center'});
  return jax.originalText.trim().slice(0, 80);
}"""
SCROLL_TO_FIGURE_JS = """
() => {
  const imgs = [...document.querySelectorAll('article img')].filter(i => i.naturalHeight >= 150);
  if (!imgs.length) return null;
  imgs[0].scrollIntoView({block: 'center'});
  return imgs[0].naturalWidth + ' x ' + imgs[0].naturalHeight;
}"""


class Browser:
    """One Chromium context for the whole check, offline but for 127.0.0.1, that records every
    request for another host (aborted), console errors, failed requests and error answers."""

    def __init__(self, pw, chromium: str):
        self.external: list[str] = []
        self.problems: list[str] = []   # of the page being checked; moved into its result
        self.browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        self.context = self.browser.new_context(viewport=VIEWPORT)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # ERR_ABORTED is a cancelled request (e.g. by going to the next page): a missing file is
        # an HTTP 404, which the response listener and the server's log catch.
        self.page.on("requestfailed", lambda r: None if not is_local(r.url) or "ERR_ABORTED" in (r.failure or "")
                     else self.problems.append(f"request failed: {r.url[:120]} ({r.failure})"))
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url[:120]}")
                     if r.status >= 400 else None)

    def _route(self, route):
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:  # never let it out: record it, which fails the check
            self.external.append(f"{url[:160]} (from {self.page.url if hasattr(self, 'page') else '?'})")
            route.abort("blockedbyclient")

    def close(self):
        self.context.close()
        self.browser.close()


def check_page(browser: Browser, base: str, path: str, timeout_s: float, notebook: bool,
               lecture: bool) -> PageResult:
    """Open one page, wait for MathJax, and check its math, figures and requests."""
    from playwright.sync_api import Error as PlaywrightError

    result, page = PageResult(path), browser.page
    browser.problems = []
    try:
        response = page.goto(base + path, wait_until="load", timeout=timeout_s * 1000)
        if response is None or response.status != 200:
            result.failures.append(f"answered {response.status if response else 'nothing'}, expected 200")
        if page.evaluate(MATHJAX_DONE_JS):
            page.wait_for_function(MATHJAX_IDLE_JS, timeout=timeout_s * 1000, polling=200)
            result.typeset_s = page.evaluate("window.__siteCheckTypeset") / 1000
        elif notebook:
            result.failures.append("no MathJax on the page")
        # Everything the page asked for has arrived (or failed), so it is counted for this page.
        page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
        state = page.evaluate(PAGE_STATE_JS)
    except PlaywrightError as exc:
        result.failures.append(f"{str(exc).splitlines()[0]} (timeout {timeout_s:.0f} s)")
        result.failures += browser.problems
        return result
    result.equations, result.displays = state["equations"], state["displays"]
    figures = [i for i in state["images"] if i["figure"]]
    result.figures = sum(i["ok"] for i in figures)
    if notebook and (result.equations == 0 or state["rendered"] == 0):
        result.failures.append(f"no equation typeset ({result.equations} MathJax jax, "
                               f"{state['rendered']} rendered elements)")
    if raw := raw_math(state["text"]):
        result.failures.append(f"{len(raw)} piece(s) of raw TeX in the text, e.g. {raw[:3]}")
    if state["errors"]:
        result.failures.append(f"{len(state['errors'])} MathJax error(s), e.g. {state['errors'][:3]}")
    if broken := [i["src"] for i in state["images"] if not i["ok"]]:
        result.failures.append(f"{len(broken)} image(s) did not load, e.g. {broken[:3]}")
    if lecture and result.figures == 0:
        result.failures.append("a lecture without a figure")
    result.failures += browser.problems
    return result


def screenshot(page, out: Path, name: str, what: str) -> None:
    # After a scroll, Material updates the table of contents' highlight on its scroll events:
    # let it (a moment, not a wait for anything MathJax does). Transitions are finished for the
    # picture: the header swaps the site name for the page title when the page scrolls.
    page.wait_for_timeout(300)
    page.screenshot(path=str(out / name), animations="disabled")
    print(f"  screenshot {out / name}: {what}", flush=True)


LINKS_JS = "(selector) => [...document.querySelectorAll(selector)].map(a => a.href)"
NAV_LINKS = "nav.md-nav--primary a.md-nav__link[href]"   # Material's site navigation (not the TOC)


def take_shot(page, out: Path, path: str, kind: str) -> str | None:
    """The screenshot ``kind`` of SHOTS on the open page; what went wrong, or None."""
    name = SHOTS[kind][1]
    if kind == "equation":
        tex = page.evaluate(SCROLL_TO_EQUATION_JS, EQUATION_NEEDLE)
        if tex is None:
            return "no display equation to show"
        screenshot(page, out, name, f"{path} at the display equation {tex!r}")
    elif kind == "figure":
        size = page.evaluate(SCROLL_TO_FIGURE_JS)
        if size is None:
            return "no figure to show"
        screenshot(page, out, name, f"a {size} px figure of {path}")
    else:
        page.evaluate("() => window.scrollTo(0, 0)")
        screenshot(page, out, name, f"the top of {path}")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site (default: site/)")
    parser.add_argument("--out", type=Path, default=ROOT / "site-out", help="screenshots (default: site-out/)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds for one page to load and typeset")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)

    site, out = args.site.resolve(), args.out.resolve()
    try:
        info = load_build_info(site)
        lectures = expected_pages(ROOT, "lectures")
        if not lectures:
            raise CheckFailed(f"no lecture notebook (NN_topic.ipynb) in {ROOT / 'lectures'}: nothing to expect")
        solutions = expected_pages(ROOT, "solutions")
        if not Path(args.chromium).exists():
            raise CheckFailed(f"no Chromium at {args.chromium}: install Debian's chromium (make test-site does)")
    except CheckFailed as exc:
        print(f"site check: {exc}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright  # only here: `make test` does not need Playwright

    failures: list[str] = []
    rows: list[PageResult] = []
    start = time.monotonic()
    print(f"site check: {site} ({'with' if info['solutions'] else 'without'} solutions), "
          f"screenshots in {out}", flush=True)
    with serve(site) as (base, server_errors), sync_playwright() as pw:
        browser = Browser(pw, args.chromium)
        try:
            # 1. The home page and its links: the navigation (and README's table of lectures).
            rows.append(check_page(browser, base, "index.html", args.timeout, notebook=False, lecture=False))
            screenshot(browser.page, out, "home.png", "the home page with the navigation")
            links = {p for p in map(partial(site_path, base=base), browser.page.evaluate(LINKS_JS, "a[href]")) if p}
            nav = [p for p in map(partial(site_path, base=base), browser.page.evaluate(LINKS_JS, NAV_LINKS)) if p]
            failures += home_link_failures(set(nav), links, lectures, solutions, info["solutions"])
            wanted = lectures + (solutions if info["solutions"] else [])
            failures += [f"{p}: answered HTTP {status}, expected 200"
                         for p in wanted if (status := http_status(base + p)) != 200]
            if not info["solutions"]:  # built with --no-solutions: their pages must not be there
                failures += [f"{p} is in the site, but it was built without solutions"
                             for p in solutions if http_status(base + p) != 404]
            # 2-4. Every page of the navigation: the notebooks, then the markdown pages.
            others = [p for p in dict.fromkeys(nav) if p != "index.html" and p not in wanted]
            shots = shot_pages(lectures, solutions if info["solutions"] else [])
            for path in wanted + others:
                result = check_page(browser, base, path, args.timeout, notebook=path in wanted,
                                    lecture=path in lectures)
                rows.append(result)
                print(f"  {path}: {result.equations} equations, {result.figures} figures"
                      + (f", typeset in {result.typeset_s:.1f} s" if result.typeset_s is not None else "")
                      + ("" if not result.failures else f"  FAIL: {result.failures[0]}"), flush=True)
                if result.failures:
                    screenshot(browser.page, out, path.replace("/", "-").replace(".html", "-FAILED.png"),
                               "the failing page")
                # 5. The screenshots that show an equation, a figure, a solution.
                for kind in shots.get(path, []):
                    if problem := take_shot(browser.page, out, path, kind):
                        failures.append(f"{path}: {problem}")
        finally:
            browser.close()
    failures += [f"{r.path}: {f}" for r in rows for f in r.failures]
    # The solution pages probed above, in a site built without them, are meant to answer 404.
    probed = set() if info["solutions"] else {f"404 /{p}" for p in solutions}
    failures += [f"the local server answered {e}" for e in dict.fromkeys(server_errors) if e not in probed]
    failures += [f"external request (blocked): {e}" for e in browser.external]

    print(format_table(rows), flush=True)
    print(summary_line(rows, len(browser.external)) + f" ({time.monotonic() - start:.0f} s)", flush=True)
    if failures:
        print(f"FAIL: {len(failures)} problem(s):\n  " + "\n  ".join(dict.fromkeys(failures)), flush=True)
        return 1
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
