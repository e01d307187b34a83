"""The benchmark: bench.py runs one module per measurement (see docs/benchmark.md)."""
