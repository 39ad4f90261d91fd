"""A property-based mutation fuzzer over course_lib's public API (issue 27, part 3).

Every public callable gets a small valid call (``valid_calls``); the engine (``engine``) mutates
one argument at a time — wrong shape, dtype, values, type, device; bad ints, floats, choices;
``None`` for a module — runs each case in a forked child under a time and memory limit, and
classifies what happened. Run it as

    .venv/bin/python -m tests.api_fuzz [--only MODULE_OR_NAME ...] [--jobs 2] [--json OUT] [--timeout S]

No file here matches ``test_*.py``: ``pytest tests`` never runs the fuzz itself, only
``tests/test_api_fuzz_engine.py``, which tests the engine and the registry's coverage.
"""
