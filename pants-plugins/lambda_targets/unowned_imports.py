"""Says, when a function imports a package no requirements file lists, where to list it.

Pants' own error ("Pants cannot infer owners for the following imports") suggests
`# pants: no-infer-dep`, which only hides the import: the zip then builds without the package
and fails on Lambda at the import. This adds the fix that fits this repository: the requirements
files of the target's resolve, and the command that relocks it. Both come from the module that
defines the resolves (lockfiles.py, beside the resolve's lockfile in pants.toml), so a resolve or
requirements file a team adds is named too.

Pants raises the error in `_handle_unowned_imports`, which the inference rule looks up by name
when it runs: a wrapper put in its place awaits the original (the same Gets, which the rule graph
already knows) and re-raises its error with the hint. If a Pants upgrade renames it, this does
nothing (docs/upgrading-pants.md).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from pants.backend.python.dependency_inference import rules as python_inference
from pants.base.build_environment import get_buildroot

_LOCKFILES_MODULE = "lockfiles.py"


def _load_lockfiles(lockfile: Path) -> ModuleType | None:
    path = lockfile.parent / _LOCKFILES_MODULE
    if not path.is_file():
        return None
    name = "lambda_targets._lockfiles_for_hints"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    except Exception:  # a hint must never hide Pants' own error
        del sys.modules[name]
        return None
    return module


def requirements_hint(resolve: str, lockfile: str) -> str:
    """Which files to add the package to, and the command that relocks, for `resolve`."""
    buildroot = Path(get_buildroot())
    lockfiles = _load_lockfiles(buildroot / lockfile)
    known = getattr(lockfiles, "RESOLVES_BY_NAME", {}).get(resolve) if lockfiles else None
    if known is None:
        return (
            f"If it is a third-party package, add the distribution that provides it to a "
            f"requirements file of the resolve `{resolve}` (lockfile {lockfile}), then relock."
        )
    folder = Path(lockfile).parent
    files = " or ".join(f"{folder / name}" for name in known.requirement_files)
    where = (
        "so that it ships in the Lambda layers built from them"
        if known.for_lambda
        else "so that the tools of this resolve can import it"
    )
    return (
        f"If it is a third-party package, add the distribution that provides it to {files} "
        f"(the resolve `{resolve}`), {where}, then relock: `{lockfiles.lock_command(resolve)}`. "
        f"If Pants should map it to an existing requirement (a module named unlike its "
        f"distribution, e.g. cv2), add `module_mapping` to that `python_requirements` target in "
        f"{folder / 'BUILD'}. `# pants: no-infer-dep` only hides the import: the artifact would "
        f"build without the package and fail at the import."
    )


def install() -> None:
    """Puts the hinting wrapper in place of Pants' own helper; once."""
    original = getattr(python_inference, "_handle_unowned_imports", None)
    error = getattr(python_inference, "UnownedDependencyError", None)
    if original is None or error is None or getattr(original, "adds_requirements_hint", False):
        return

    async def handle_unowned_imports_with_hint(*args, resolve: str, **kwargs) -> None:
        try:
            await original(*args, resolve=resolve, **kwargs)
        except error as unowned:
            python_setup = next(arg for arg in args if hasattr(arg, "resolves"))
            hint = requirements_hint(resolve, python_setup.resolves.get(resolve, "its lockfile"))
            raise error(f"{unowned}\n\n{hint}") from None

    handle_unowned_imports_with_hint.adds_requirements_hint = True  # type: ignore[attr-defined]
    python_inference._handle_unowned_imports = handle_unowned_imports_with_hint
