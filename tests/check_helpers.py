"""Shared by the self-check tests: assert a rejection with a named hint, and a blank exercise."""

from __future__ import annotations

import pytest

from course_lib.checks import CheckFailed


def rejects(check, *candidate, words: tuple[str, ...] | list[str] = ()) -> CheckFailed:
    """Assert that ``check(*candidate)`` fails with a hint mentioning every one of ``words``."""
    with pytest.raises(CheckFailed) as info:
        check(*candidate)
    message = str(info.value).lower()
    for word in words:
        assert word.lower() in message, f"hint should mention {word!r}: {info.value}"
    return info.value


def blank(*args, **kwargs):
    """An exercise left blank, as the generated notebook has it."""
    raise NotImplementedError()
