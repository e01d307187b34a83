"""Helpers shared by the Pants plugin, the deploy tool, the tests and the benchmark.

Pure Python with no third-party imports, so it runs on Pants' CPython 3.9 (inside the plugin)
and on the Lambda runtime's CPython (deploy tool, tests, benchmark, and inside build sandboxes).
"""
