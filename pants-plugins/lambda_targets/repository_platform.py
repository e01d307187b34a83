"""The one place the repository's Lambda platform is set: the root BUILD's `__defaults__`.

    __defaults__({(python_aws_lambda_function, python_aws_lambda_layer): dict(runtime=..., architecture=...)})

Pants applies it to every function and layer. Tools that run outside Pants' target graph (the
lock command, the lockfile check ./pants runs before Pants starts) read it from here, so the
runtime is written once. The BUILD file is parsed, never executed.
"""

from __future__ import annotations

import ast
from pathlib import Path

from lambda_artifacts.lockfile_header import lockfile_header
from lambda_artifacts.metadata import LAMBDA_TARGET_TYPES
from lambda_targets.platforms import LambdaPlatform, UnknownLambdaPlatform

ROOT_BUILD = "BUILD"
_LAMBDA_TARGET_TYPES = LAMBDA_TARGET_TYPES
_KNOBS = ("runtime", "architecture")


class PlatformNotConfigured(Exception):
    """The root BUILD does not say, in a form we can read, which platform Lambda targets use."""


def _target_types(key: ast.expr) -> tuple[str, ...]:
    elements = key.elts if isinstance(key, (ast.Tuple, ast.List)) else [key]
    return tuple(e.id if isinstance(e, ast.Name) else getattr(e, "value", "") for e in elements)


def _literal_fields(value: ast.expr) -> dict[str, object]:
    """`dict(runtime="python3.11", ...)` or `{"runtime": "python3.11", ...}`: its literal fields."""
    fields: dict[str, object] = {}
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
        for keyword in value.keywords:
            if keyword.arg and isinstance(keyword.value, ast.Constant):
                fields[keyword.arg] = keyword.value.value
    elif isinstance(value, ast.Dict):
        for k, v in zip(value.keys, value.values):
            if isinstance(k, ast.Constant) and isinstance(v, ast.Constant):
                fields[str(k.value)] = v.value
    return fields


def read_repository_platform(buildroot: Path) -> LambdaPlatform:
    """The `runtime` and `architecture` the root BUILD's `__defaults__` gives Lambda targets."""
    path = buildroot / ROOT_BUILD
    how = (
        f"Set them once in {ROOT_BUILD} as `__defaults__({{(python_aws_lambda_function, "
        f'python_aws_lambda_layer): dict(runtime="python3.11", architecture="x86_64")}})`.'
    )
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError) as e:
        raise PlatformNotConfigured(f"Cannot read the Lambda runtime from {path}: {e}. {how}")
    found: dict[str, dict[str, object]] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__defaults__"):
            continue
        if not node.args or not isinstance(node.args[0], ast.Dict):
            continue
        for key, value in zip(node.args[0].keys, node.args[0].values):
            if key is None:
                continue
            fields = {k: v for k, v in _literal_fields(value).items() if k in _KNOBS}
            for target_type in _target_types(key):
                if target_type in _LAMBDA_TARGET_TYPES and fields:
                    found.setdefault(target_type, {}).update(fields)
    settings = {tuple(sorted(found.get(t, {}).items())) for t in _LAMBDA_TARGET_TYPES}
    if len(settings) != 1:
        raise PlatformNotConfigured(
            f"{path} gives python_aws_lambda_function and python_aws_lambda_layer different "
            f"platforms ({found}); a function runs only with layers built for its own. {how}"
        )
    fields = dict(settings.pop())
    missing = [k for k in _KNOBS if not isinstance(fields.get(k), str)]
    if missing:
        raise PlatformNotConfigured(
            f"{path} sets no literal {' or '.join(missing)} for the Lambda targets in `__defaults__`. {how}"
        )
    try:
        return LambdaPlatform(str(fields["runtime"]), str(fields["architecture"]))
    except UnknownLambdaPlatform as e:
        raise PlatformNotConfigured(f"{path}: {e}")


# The key under which the lock command records, in a lockfile's metadata header, the Lambda
# platform it resolved for (3rdparty/python/lockfiles.py).
LOCKFILE_PLATFORM_KEY = "lambda_platform"


def locked_platform(lockfile_text: str) -> tuple[str, str] | None:
    """(runtime, architecture) a lockfile was resolved for, from its header; None if not recorded."""
    recorded = (lockfile_header(lockfile_text) or {}).get(LOCKFILE_PLATFORM_KEY)
    try:
        return str(recorded["runtime"]), str(recorded["architecture"])
    except (KeyError, TypeError):
        return None
