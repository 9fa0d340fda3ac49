"""Benchmarks, run on demand (``make bench`` or ``python -m bench [name ...]``); never timed tests.

Each module exposes ``run() -> dict`` with its figures and the targets they are held to;
results land in ``bench/results/<name>.json``; ``docs/benchmarks.md`` holds the method and
the latest figures with the machine they were measured on.
"""
