"""Repository-wide pytest hooks: what nbval compares when notebooks are collected with --nbval."""

from __future__ import annotations

# Outputs nbval must not compare: stderr carries warnings and tqdm's progress bars; widget views
# carry random model ids; text/html duplicates a text/plain that is compared anyway.
_SKIP_COMPARE = ("stderr", "application/vnd.jupyter.widget-view+json", "text/html")


def pytest_collectstart(collector):
    # nbval's notebook collector has a ``skip_compare`` tuple; extending it is nbval's documented hook.
    if getattr(collector, "path", None) is not None and collector.path.suffix == ".ipynb" and hasattr(collector, "skip_compare"):
        collector.skip_compare = tuple(collector.skip_compare) + _SKIP_COMPARE
