"""Executing the course's notebooks headless: nbclient, with one known stall worked around.

Used by the tools that run notebooks outside JupyterLab — ``scripts/build_notebooks.py``, the
benchmarks' timing and spread runs, and the exercise tests. It needs the ``[dev]`` extra
(nbclient); nothing a lecture imports depends on it.

The stall (jupyter/nbclient#312, open): in a cell that displays an ``Output`` widget —
``ipywidgets.interactive``, as lecture 01's latent explorer and lecture 06's flow stepper do —
nbclient sends comm messages to the kernel on the shell socket while it waits on that same socket
for the cell's ``execute_reply`` (the issue's diagnosis). Sometimes the reply's arrival wakes
nobody: the kernel is idle, and nbclient sleeps until its whole per-cell timeout has passed, then
finds the reply and goes on — nothing fails, the build just takes the timeout longer (15 minutes
in ``scripts/build_notebooks.py``). Cutting the wait into short slices, each begun by a
non-waiting look at the socket, bounds a missed wake-up to one slice. Measured on lecture 06's
flow-stepper cell with a 30 s timeout: 30.0 s with nbclient's single wait, 0.5 s with slices.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_core.utils import run_sync
from nbclient import NotebookClient

POLL_SLICE_S = 0.5


def wait_in_slices(get_msg, slice_s: float = POLL_SLICE_S):
    """Wrap a channel's ``async get_msg(timeout)`` so that it waits in slices of ``slice_s``
    seconds, each begun by a non-waiting look; it still raises ``Empty`` at the timeout.
    Raises TypeError for a ``get_msg`` that is not callable, ValueError for ``slice_s`` ≤ 0."""
    if not callable(get_msg):
        raise TypeError(f"get_msg must be a channel's async get_msg(timeout) (a callable), got {type(get_msg).__name__}")
    if isinstance(slice_s, bool) or not isinstance(slice_s, (int, float)) or not 0 < slice_s < float("inf"):
        raise ValueError(f"slice_s must be a finite number of seconds > 0, got {slice_s!r}")

    async def get_msg_in_slices(timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return await get_msg(timeout=0)  # already there?
            except Empty:
                pass
            left = slice_s if deadline is None else min(slice_s, deadline - time.monotonic())
            try:
                return await get_msg(timeout=max(left, 0.0))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_slices


class CourseNotebookClient(NotebookClient):
    """``nbclient.NotebookClient`` whose wait for each cell's reply never sleeps through it."""

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        client.shell_channel.get_msg = wait_in_slices(client.shell_channel.get_msg)
        return client

    # NotebookClient binds its synchronous twin to its own coroutine: rebind it to this one.
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
