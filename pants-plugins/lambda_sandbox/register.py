"""Checks every `python_aws_lambda_function` the way Lambda will load it, as part of `pants test`.

Each function target is also a test: `./pants test ::` builds it and its layers, unpacks them
into a read-only `/opt` and `/var/task`, and imports its handler with Lambda's `sys.path` on the
runtime's CPython (lib/lambda_artifacts/lambda_check.py). A function a user adds gets the checks
by existing; no test list names it. Skip them with `--lambda-sandbox-skip`.
Not part of upstream Pants. See https://www.pantsbuild.org/2.17/docs/plugins-overview.
"""

from lambda_sandbox import rules as sandbox_rules


def rules():
    return sandbox_rules.rules()
