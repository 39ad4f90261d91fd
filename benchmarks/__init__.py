"""Benchmarks: `python -m benchmarks NAME --json [--out DIR]` (see benchmarks/README.md)."""
