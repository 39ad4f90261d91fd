"""course_lib.notebook_client: the reply wait that a missed wake-up cannot stall (nbclient#312)."""

import asyncio
import time
from queue import Empty

import pytest

from course_lib.notebook_client import CourseNotebookClient, wait_in_slices


class MissedWakeUp:
    """A channel whose waiting polls never see the message (they sleep their whole timeout and
    find nothing), while a non-waiting look finds it once it has arrived."""

    def __init__(self, arrives_after_calls: int):
        self.calls, self.arrives_after_calls = [], arrives_after_calls

    async def get_msg(self, timeout=None):
        self.calls.append(timeout)
        if timeout == 0 and len(self.calls) > self.arrives_after_calls:
            return {"msg_type": "execute_reply"}
        await asyncio.sleep(timeout or 0)
        raise Empty


def test_a_missed_wake_up_costs_one_slice_not_the_timeout():
    channel = MissedWakeUp(arrives_after_calls=1)
    get_msg = wait_in_slices(channel.get_msg, slice_s=0.01)
    start = time.monotonic()
    assert asyncio.run(get_msg(timeout=60))["msg_type"] == "execute_reply"
    assert channel.calls == [0, 0.01, 0]  # look, wait one slice (missed), look again: found
    assert time.monotonic() - start < 30  # nowhere near the 60 s timeout


def test_the_timeout_still_holds():
    channel = MissedWakeUp(arrives_after_calls=10**9)
    with pytest.raises(Empty):
        asyncio.run(wait_in_slices(channel.get_msg, slice_s=0.01)(timeout=0.05))
    assert channel.calls[0] == 0 and all(t <= 0.01 for t in channel.calls)


def test_both_ways_of_starting_a_kernel_install_the_sliced_wait():
    # nbclient's synchronous start_new_kernel_client is bound to its own coroutine unless rebound.
    assert CourseNotebookClient.start_new_kernel_client is not CourseNotebookClient.__mro__[1].start_new_kernel_client
    assert "wait_in_slices" in CourseNotebookClient.async_start_new_kernel_client.__code__.co_names


def test_wait_in_slices_refuses_bad_arguments():
    with pytest.raises(TypeError, match="get_msg must be"):
        wait_in_slices(None)
    for slice_s in (0, -1.0, float("nan"), True):
        with pytest.raises(ValueError, match="slice_s must be a finite number of seconds > 0"):
            wait_in_slices(MissedWakeUp(arrives_after_calls=1).get_msg, slice_s=slice_s)
