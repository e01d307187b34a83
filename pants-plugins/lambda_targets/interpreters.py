"""The local CPython of a Lambda runtime's version, which compiles its bytecode, zips its trees
and runs uv's installs and the Lambda-sandbox checks."""

from __future__ import annotations

from dataclasses import dataclass

from pants.core.subsystems.python_bootstrap import PythonBootstrap
from pants.core.util_rules.system_binaries import BinaryPathRequest, BinaryPaths, BinaryPathTest
from pants.engine.rules import Get, collect_rules, rule
from pants.util.logging import LogLevel


class NoRuntimeInterpreter(Exception):
    pass


@dataclass(frozen=True)
class RuntimeInterpreterRequest:
    python_version: tuple[int, int]


@dataclass(frozen=True)
class RuntimeInterpreter:
    """A local CPython of a runtime's minor version, or None and where we looked."""

    path: str | None
    # The full version, e.g. `3.12.1`.
    version: str | None
    searched: tuple[str, ...]

    def not_found(self, version: str) -> str:
        """What every refusal for want of this CPython says: where we looked, and how to get one."""
        return (
            f"no working `python{version}` was found on [python-bootstrap].search_path (here: "
            f"{', '.join(self.searched) or 'nothing'}). Install one (e.g. `pyenv install {version}`)"
        )


# Prints the full version and succeeds only on CPython of the wanted minor version. Must run on
# any Python a search path may hold (2.7 included), and on pyenv shims, which fail unless
# selected: a failure only rules the candidate out.
_VERSION_PROBE = (
    "import sys; v = sys.version_info; print('%d.%d.%d' % tuple(v[:3])); "
    "sys.exit(0 if sys.implementation.name == 'cpython' and tuple(v[:2]) == ({}, {}) else 1)"
)


@rule(desc="Find the Lambda runtime's CPython", level=LogLevel.DEBUG)
async def find_runtime_interpreter(
    request: RuntimeInterpreterRequest, python_bootstrap: PythonBootstrap
) -> RuntimeInterpreter:
    """`pythonX.Y` on [python-bootstrap].search_path (pyenv, PATH, ...), checked by running it.

    Not Pants' `PythonExecutable`: that runs Pex's interpreter discovery over every interpreter
    the constraints allow, to pick one. Compiling bytecode needs only the runtime's minor version,
    found by name. (The Pex that Pants 2.17 ships, v2.1.137, also called CPython 3.12 and 3.13
    broken; the pinned Pex no longer does, but this needs no Pex at all.)

    Any patch release of the runtime's minor version will do: the bytecode format (its magic
    number) is fixed within a minor version, and Lambda updates the patch release under us anyway.
    The CPU does not matter either: bytecode is the same on every architecture, so the local
    x86_64 CPython 3.13 compiles valid .pyc for python3.13 on arm64.
    """
    major, minor = request.python_version
    paths = await Get(
        BinaryPaths,
        BinaryPathRequest(
            search_path=python_bootstrap.interpreter_search_paths,
            binary_name=f"python{major}.{minor}",
            test=BinaryPathTest(["-c", _VERSION_PROBE.format(major, minor)], fingerprint_stdout=False),
        ),
    )
    searched = tuple(python_bootstrap.interpreter_search_paths)
    found = paths.first_path
    if found is None:
        return RuntimeInterpreter(None, None, searched)
    # Without fingerprinting, BinaryPath keeps the probe's output: the version it printed.
    return RuntimeInterpreter(found.path, found.fingerprint.strip(), searched)


def rules():
    return collect_rules()
