"""The zip step: a Lambda artifact's tree to a reproducible zip and its report.

lib/lambda_artifacts/artifact_zip.py does the work, run in the sandbox by the runtime's CPython
when this machine has it (it compiles the bytecode and reads the handler's source), else by any
CPython. A tree with third-party distributions is zipped one part per distribution (zip_parts.py),
each its own cached process, then merged: a changed pin compresses only its own distribution
again. The report holds the sizes, the digest, the distributions and the handler check.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass

from lambda_artifacts.artifact_zip import PART_REPORT, PART_ZIP
from lambda_targets.interpreters import NoRuntimeInterpreter, RuntimeInterpreter, RuntimeInterpreterRequest
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.zip_parts import Part, split_into_parts
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
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel


@dataclass(frozen=True)
class ZipTreeRequest:
    address: Address
    tree: Digest
    output_filename: str
    # Where Lambda puts the tree: /opt for a layer, /var/task for a function.
    lambda_root: str
    exclude_root: str
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


async def _zip_in_parts(
    request: ZipTreeRequest, parts: list[Part], script_digest: Digest, options, handler, zip_process
) -> ProcessResult:
    """One process per distribution, each cached by that distribution's files, then one that
    merges their zips: a changed pin compresses only its own distribution again."""
    subsets = await MultiGet(Get(Digest, DigestSubset(request.tree, PathGlobs(part.globs))) for part in parts)
    present = [(part, subset) for part, subset in zip(parts, subsets) if subset != EMPTY_DIGEST]
    trees = await MultiGet(Get(Digest, AddPrefix(subset, "tree")) for _, subset in present)
    inputs = await MultiGet(Get(Digest, MergeDigests([script_digest, tree])) for tree in trees)
    results = await MultiGet(
        Get(
            ProcessResult,
            Process,
            zip_process(
                ["tree", PART_ZIP, PART_REPORT, *options],
                input_digest,
                (PART_ZIP, PART_REPORT),
                f"Zip {part.name} for {request.address}",
            ),
        )
        for (part, _), input_digest in zip(present, inputs)
    )
    folders = [f"__parts/{index:04d}" for index in range(len(results))]
    placed = await MultiGet(
        Get(Digest, AddPrefix(result.output_digest, folder)) for result, folder in zip(results, folders)
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
    report_path = _ZIP_REPORT
    script_digest, tree_digest = await MultiGet(
        Get(Digest, CreateDigest([script])),
        Get(Digest, AddPrefix(request.tree, "tree")),
    )
    compile_for = request.compile_for
    platform = compile_for or request.runtime
    runtime_python = (
        await Get(RuntimeInterpreter, RuntimeInterpreterRequest(platform.python_version))
        if platform
        else None
    )
    if runtime_python is not None and runtime_python.path is not None:
        python_path = runtime_python.path
        # The interpreter is not an input Pants digests: name its exact version, so that a
        # changed interpreter recompiles instead of reusing bytecode it did not write.
        python_env = {"LAMBDA_BYTECODE_PYTHON": runtime_python.version}
        append_only_caches, immutable_input_digests = FrozenDict(), FrozenDict()
    elif compile_for is not None:
        version = ".".join(map(str, compile_for.python_version))
        raise NoRuntimeInterpreter(
            f"{request.address} sets `compile_bytecode=True` (the default for layers), which "
            f"needs a local CPython {version} to compile for {compile_for.runtime}, and "
            f"{runtime_python.not_found(version)}, or set `compile_bytecode=False` on the target "
            f"to ship sources only."
        )
    else:
        # Zipping sources needs no particular CPython. (Pex's interpreter discovery, which this
        # takes, costs seconds on a cold machine: the runtime's CPython is found without it.)
        python = await Get(PythonExecutable, InterpreterConstraints(["CPython>=3.7,<4"]))
        python_path, python_env = python.path, {}
        append_only_caches, immutable_input_digests = (
            python.append_only_caches,
            python.immutable_input_digests,
        )
    options = [f"--root={request.exclude_root}", *(f"--exclude={pattern}" for pattern in request.exclude)]
    if compile_for is not None:
        options += ["--compile", f"--ddir={request.lambda_root}"]
    handler = [f"--handler={request.handler}"] if request.handler is not None else []

    def zip_process(
        args: list[str], input_digest: Digest, outputs: tuple[str, ...], description: str
    ) -> Process:
        return Process(
            argv=(python_path, script.path, *args),
            input_digest=input_digest,
            output_files=outputs,
            append_only_caches=append_only_caches,
            immutable_input_digests=immutable_input_digests,
            # Set and frozenset constants in bytecode are ordered by string hashes.
            env={"PYTHONHASHSEED": "0", **python_env},
            description=description,
            level=LogLevel.DEBUG,
        )

    records = await Get(DigestContents, DigestSubset(request.tree, PathGlobs(["**/*.dist-info/RECORD"])))
    parts = split_into_parts({record.path: record.content for record in records})
    if len(parts) == 1:
        # No third-party distributions (a function): one process zips the whole tree.
        input_digest = await Get(Digest, MergeDigests([script_digest, tree_digest]))
        args = ["tree", request.output_filename, report_path, *options, *handler]
        process = zip_process(args, input_digest, (request.output_filename, report_path), request.description)
        result = await Get(ProcessResult, Process, process)
    else:
        result = await _zip_in_parts(request, parts, script_digest, options, handler, zip_process)
    zip_digest, report_digest = await MultiGet(
        Get(Digest, DigestSubset(result.output_digest, PathGlobs([request.output_filename]))),
        Get(Digest, DigestSubset(result.output_digest, PathGlobs([report_path]))),
    )
    (report_file,) = await Get(DigestContents, Digest, report_digest)
    return BuiltZip(zip_digest, json.loads(report_file.content))


def rules():
    return collect_rules()
