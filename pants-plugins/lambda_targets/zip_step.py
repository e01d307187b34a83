"""The zip step: a Lambda artifact's tree to a reproducible zip and its report.

lib/lambda_artifacts/artifact_zip.py does the work, run in the sandbox by the runtime's CPython
when this machine has it (it compiles the bytecode and reads the handler's source), else by any
CPython. An artifact with third-party code is zipped in parts, each its own cached process: one
per pin, which uv installs into that process's own sandbox right before it is compiled and
zipped, and one for the first-party files; then one process merges the parts' zips. So the
installed files (246 MB for the PyPI layer) never pass through Pants' store, only their zips;
and after a lock bump, only the bumped pin is installed and compressed again. The report holds
the sizes, the digest, the distributions and the handler check.
"""

from __future__ import annotations

import importlib.resources
import json
import posixpath
from dataclasses import dataclass

from lambda_artifacts.artifact_zip import INSTALL_FAILED, PART_REPORT, PART_ZIP
from lambda_targets.interpreters import NoRuntimeInterpreter, RuntimeInterpreter, RuntimeInterpreterRequest
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.trees import LambdaTree
from lambda_targets.uv import UvInstallRequest, UvPinInstall, UvPinInstallRequest, install_failure
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import PythonExecutable
from pants.engine.addresses import Address
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    DigestContents,
    DigestSubset,
    FileContent,
    MergeDigests,
    PathGlobs,
)
from pants.engine.process import FallibleProcessResult, Process, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel


@dataclass(frozen=True)
class ZipTreeRequest:
    address: Address
    tree: LambdaTree
    output_filename: str
    # Where Lambda puts the tree: /opt for a layer, /var/task for a function.
    lambda_root: str
    exclude: tuple[str, ...]
    # Compile .pyc for this runtime; None: ship sources only.
    compile_for: LambdaPlatform | None
    # The runtime, whose CPython (if this machine has it) also zips and reads the handler's
    # source; None: any CPython.
    runtime: LambdaPlatform | None
    # `module:function` to look for in the tree (functions only).
    handler: str | None
    description: str


@dataclass(frozen=True)
class BuiltZip:
    digest: Digest
    report: dict


_ZIP_REPORT = "__lambda_zip/report.json"
# Where each process finds the tree it zips (and uv installs a pin into, under the prefix).
_TREE = "tree"


@dataclass(frozen=True)
class _ZipPython:
    """The CPython that runs artifact_zip.py (and that uv builds a git requirement with)."""

    path: str
    env: FrozenDict[str, str]
    append_only_caches: FrozenDict[str, str]
    immutable_input_digests: FrozenDict[str, Digest]


async def _zip_python(request: ZipTreeRequest) -> _ZipPython:
    compile_for = request.compile_for
    platform = compile_for or request.runtime
    runtime_python = (
        await Get(RuntimeInterpreter, RuntimeInterpreterRequest(platform.python_version))
        if platform
        else None
    )
    if runtime_python is not None and runtime_python.path is not None:
        # The interpreter is not an input Pants digests: name its exact version, so that a
        # changed interpreter recompiles instead of reusing bytecode it did not write.
        env = FrozenDict({"LAMBDA_BYTECODE_PYTHON": runtime_python.version or ""})
        return _ZipPython(runtime_python.path, env, FrozenDict(), FrozenDict())
    if compile_for is not None:
        version = ".".join(map(str, compile_for.python_version))
        raise NoRuntimeInterpreter(
            f"{request.address} sets `compile_bytecode=True` (the default for layers), which "
            f"needs a local CPython {version} to compile for {compile_for.runtime}, and "
            f"{runtime_python.not_found(version)}, or set `compile_bytecode=False` on the target "
            f"to ship sources only."
        )
    # Zipping sources needs no particular CPython. (Pex's interpreter discovery, which this
    # takes, costs seconds on a cold machine: the runtime's CPython is found without it.)
    python = await Get(PythonExecutable, InterpreterConstraints(["CPython>=3.8,<4"]))
    return _ZipPython(python.path, FrozenDict(), python.append_only_caches, python.immutable_input_digests)


async def _zipped_pins(
    request: ZipTreeRequest,
    install: UvInstallRequest,
    script_digest: Digest,
    python: _ZipPython,
    part_args,
    zip_process,
) -> list[ProcessResult]:
    """One process per pin: uv installs it into the sandbox, then it is compiled and zipped.
    Each is cached by its pin line, platform and tools, so a lock bump redoes only its own."""
    target = posixpath.join(_TREE, request.tree.prefix) if request.tree.prefix else _TREE
    pin_requests = [UvPinInstallRequest(install, pin, target, python.path) for pin in install.pins]
    pin_installs = await MultiGet(Get(UvPinInstall, UvPinInstallRequest, r) for r in pin_requests)
    inputs = await MultiGet(
        Get(Digest, MergeDigests([script_digest, pin_install.input_digest])) for pin_install in pin_installs
    )
    processes = [
        zip_process(
            part_args,
            input_digest,
            (PART_ZIP, PART_REPORT),
            f"Install and zip {r.pin.line} for {request.address}",
            pin=pin_install,
        )
        for r, pin_install, input_digest in zip(pin_requests, pin_installs, inputs)
    ]
    results = await MultiGet(Get(FallibleProcessResult, Process, process) for process in processes)
    for pin_request, result in zip(pin_requests, results):
        if result.exit_code == INSTALL_FAILED:
            raise install_failure(pin_request, result.stderr.decode(errors="replace"))
    # Any other failure is Pants' own error for the process (the result is reused, not rerun).
    return list(await MultiGet(Get(ProcessResult, Process, process) for process in processes))


async def _merged(
    request: ZipTreeRequest, parts: list[ProcessResult], script_digest: Digest, handler, zip_process
) -> ProcessResult:
    """The parts' zips merged into the artifact, in the order of their names: the same bytes
    as one process zipping the whole tree would write."""
    folders = [f"__parts/{index:04d}" for index in range(len(parts))]
    placed = await MultiGet(
        Get(Digest, AddPrefix(result.output_digest, folder)) for result, folder in zip(parts, folders)
    )
    merge_input = await Get(Digest, MergeDigests([script_digest, *placed]))
    args = ["merge", request.output_filename, _ZIP_REPORT, *handler, *folders]
    return await Get(
        ProcessResult,
        Process,
        zip_process(args, merge_input, (request.output_filename, _ZIP_REPORT), request.description),
    )


@rule(desc="Zip a Lambda artifact", level=LogLevel.DEBUG)
async def zip_tree(request: ZipTreeRequest) -> BuiltZip:
    script = FileContent(
        "__lambda_zip/artifact_zip.py", importlib.resources.read_binary("lambda_artifacts", "artifact_zip.py")
    )
    tree = request.tree
    script_digest, first_party = await MultiGet(
        Get(Digest, CreateDigest([script])),
        Get(Digest, AddPrefix(tree.first_party, _TREE)),
    )
    python = await _zip_python(request)
    options = [f"--root={tree.prefix}", *(f"--exclude={pattern}" for pattern in request.exclude)]
    if request.compile_for is not None:
        options += ["--compile", f"--ddir={request.lambda_root}"]
    handler = [f"--handler={request.handler}"] if request.handler is not None else []

    def zip_process(
        args: list[str], input_digest: Digest, outputs: tuple[str, ...], description: str, pin=None
    ) -> Process:
        return Process(
            argv=(python.path, script.path, *args, *(("--", *pin.argv) if pin else ())),
            input_digest=input_digest,
            output_files=outputs,
            append_only_caches=FrozenDict(
                {**python.append_only_caches, **(pin.append_only_caches if pin else {})}
            ),
            immutable_input_digests=FrozenDict(
                {**python.immutable_input_digests, **(pin.immutable_input_digests if pin else {})}
            ),
            # Set and frozenset constants in bytecode are ordered by string hashes.
            env=FrozenDict({"PYTHONHASHSEED": "0", **python.env, **(pin.env if pin else {})}),
            description=description,
            level=LogLevel.DEBUG,
        )

    if tree.install is None:
        # No third-party code (a function): one process zips the whole tree.
        input_digest = await Get(Digest, MergeDigests([script_digest, first_party]))
        args = [_TREE, request.output_filename, _ZIP_REPORT, *options, *handler]
        outputs = (request.output_filename, _ZIP_REPORT)
        result = await Get(
            ProcessResult, Process, zip_process(args, input_digest, outputs, request.description)
        )
    else:
        part_args = [_TREE, PART_ZIP, PART_REPORT, *options]
        parts = await _zipped_pins(request, tree.install, script_digest, python, part_args, zip_process)
        if tree.first_party != EMPTY_DIGEST or not parts:
            input_digest = await Get(Digest, MergeDigests([script_digest, first_party]))
            description = f"Zip the first-party files of {request.address}"
            parts.append(
                await Get(
                    ProcessResult,
                    Process,
                    zip_process(part_args, input_digest, (PART_ZIP, PART_REPORT), description),
                )
            )
        result = await _merged(request, parts, script_digest, handler, zip_process)
    zip_digest, report_digest = await MultiGet(
        Get(Digest, DigestSubset(result.output_digest, PathGlobs([request.output_filename]))),
        Get(Digest, DigestSubset(result.output_digest, PathGlobs([_ZIP_REPORT]))),
    )
    (report_file,) = await Get(DigestContents, Digest, report_digest)
    return BuiltZip(zip_digest, json.loads(report_file.content))


def rules():
    return collect_rules()
