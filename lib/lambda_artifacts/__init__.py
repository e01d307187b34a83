"""Helpers shared by the Pants plugin, the deploy tool, the tests and the benchmark.

Pure Python with no third-party imports, so it runs on Pants' CPython 3.9 (inside the plugin)
and on the Lambda runtime's CPython (deploy tool, tests, benchmark, and inside build sandboxes).

Shipped into Pants' sandboxes as files, and run there on the runtime's CPython:
- artifact_zip.py: builds every zip (lambda_targets/zip_step.py);
- lambda_check.py, with sandbox.py and size_limit.py: the package-time Lambda-sandbox check
  (lambda_sandbox/rules.py, CHECK_MODULES).

Imported, in the plugin and by the deploy tool, tests and benchmark: metadata.py (the
`.metadata.json` beside each zip), size_limit.py (Lambda's limit, judged once), sandbox.py (the
one Lambda sandbox), cpython.py (finding a CPython) and lockfile_header.py. What only the deploy
tool uses lives in deploy/lambda_deploy.
"""
