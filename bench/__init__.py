"""Benchmarks: each module has `run(args) -> dict`; none runs as part of the test suite."""
