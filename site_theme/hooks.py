"""MkDocs hooks of the course site (mkdocs.yml: ``hooks``), run by scripts/build_site.py.

nbconvert's lab template, which mkdocs-jupyter extends, ends every notebook page with a script
that, when the page has a Mermaid diagram, imports mermaid.js and its ELK layouts from cdnjs.
No notebook of the course draws one, yet the CDN URL would sit in every page, and the site must
not name anything a browser could fetch from outside it (build_site.py scans for that). So the
loader is dropped from every page without a ``<div class="jp-Mermaid">`` (the loader's own
selector names the class too, so the element is what counts); a page that has one keeps it
(and then fails the scan, which is the honest outcome: it would need the internet).
"""

from __future__ import annotations

import re

# The <script type="module"> block of nbconvert's lab/mermaidjs.html.j2: it mentions mermaid and
# imports it. The tempered dot keeps the match inside one <script> element.
MERMAID_LOADER = re.compile(
    r'<script type="module">(?:(?!</script>).)*?\bmermaid\b(?:(?!</script>).)*?</script>\s*',
    re.DOTALL)


def strip_mermaid_loader(html: str) -> str:
    """The page without nbconvert's Mermaid loader, unless the page has a Mermaid diagram."""
    if '<div class="jp-Mermaid">' in html:
        return html
    return MERMAID_LOADER.sub("", html)


def on_page_content(html, page, config, files):  # noqa: ARG001  (MkDocs' hook signature)
    return strip_mermaid_loader(html)
