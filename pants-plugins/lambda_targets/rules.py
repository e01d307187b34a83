"""Packaging rules for `python_aws_lambda_function` and `python_aws_lambda_layer`.

The steps follow Pants 2.18's FaaS packaging (pants.backend.python.util_rules.faas):

1. build a PEX of the target's closure for the Lambda platform;
2. `pex3 venv create --layout flat` it into a plain tree (under `python/` for a layer);
3. zip the tree reproducibly with the runtime's CPython, and report its sizes.

Step 3 replaces Pex's own `flat-zipped` layout so that the zip and its size report come from one
place we control.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass

from lambda_artifacts.artifact_zip import UNZIPPED_LIMIT_BYTES, human_size
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.target_types import (
    AWSLambdaArchitectureField,
    PythonAWSLambda,
    PythonAwsLambdaCompileBytecode,
    PythonAwsLambdaExclude,
    PythonAwsLambdaHandlerField,
    PythonAwsLambdaIncludeRequirements,
    PythonAwsLambdaIncludeSources,
    PythonAWSLambdaLayer,
    PythonAwsLambdaLayerDependenciesField,
    PythonAwsLambdaRuntime,
)
from pants.backend.python.target_types import PexLayout
from pants.backend.python.util_rules.faas import (
    PythonFaaSCompletePlatforms,
    PythonFaaSDependencies,
    ResolvedPythonFaaSHandler,
    ResolvePythonFaaSHandlerRequest,
)
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import CompletePlatforms, Pex, PythonExecutable
from pants.backend.python.util_rules.pex_cli import PexCliProcess
from pants.backend.python.util_rules.pex_from_targets import PexFromTargetsRequest
from pants.core.goals.package import BuiltPackage, BuiltPackageArtifact, OutputPathField, PackageFieldSet
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
    RemovePrefix,
    Snapshot,
)
from pants.engine.process import Process, ProcessResult
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import InvalidTargetException
from pants.engine.unions import UnionRule
from pants.util.logging import LogLevel

# Where Lambda looks in a layer for Python code, whatever the runtime version.
# https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths
LAYER_PREFIX = "python"
# Where Lambda unpacks layers and the function's own zip.
LAYER_ROOT = "/opt"
FUNCTION_ROOT = "/var/task"


@dataclass(frozen=True)
class _BaseFieldSet(PackageFieldSet):
    include_requirements: PythonAwsLambdaIncludeRequirements
    runtime: PythonAwsLambdaRuntime
    architecture: AWSLambdaArchitectureField
    complete_platforms: PythonFaaSCompletePlatforms
    output_path: OutputPathField
    exclude: PythonAwsLambdaExclude
    compile_bytecode: PythonAwsLambdaCompileBytecode


@dataclass(frozen=True)
class PythonAwsLambdaFieldSet(_BaseFieldSet):
    required_fields = (PythonAwsLambdaHandlerField,)

    handler: PythonAwsLambdaHandlerField


@dataclass(frozen=True)
class PythonAwsLambdaLayerFieldSet(_BaseFieldSet):
    required_fields = (PythonAwsLambdaLayerDependenciesField,)

    dependencies: PythonFaaSDependencies
    include_sources: PythonAwsLambdaIncludeSources


@dataclass(frozen=True)
class BuildLambdaArtifactRequest:
    address: Address
    target_alias: str
    runtime: PythonAwsLambdaRuntime
    architecture: AWSLambdaArchitectureField
    complete_platforms: PythonFaaSCompletePlatforms
    output_path: OutputPathField
    include_requirements: bool
    include_sources: bool
    handler: PythonAwsLambdaHandlerField | None
    prefix: str | None
    exclude: tuple[str, ...]
    compile_bytecode: bool


@dataclass(frozen=True)
class LambdaPlatformRequest:
    runtime: PythonAwsLambdaRuntime
    architecture: AWSLambdaArchitectureField
    complete_platforms: PythonFaaSCompletePlatforms


@dataclass(frozen=True)
class ResolvedLambdaPlatform:
    complete_platforms: CompletePlatforms
    # Set when derived from `runtime`; None for user-supplied complete platforms.
    platform: LambdaPlatform | None


@rule(desc="Determine the Lambda platform", level=LogLevel.DEBUG)
async def resolve_lambda_platform(request: LambdaPlatformRequest) -> ResolvedLambdaPlatform:
    if request.complete_platforms.value is not None:
        complete_platforms = await Get(
            CompletePlatforms, PythonFaaSCompletePlatforms, request.complete_platforms
        )
        return ResolvedLambdaPlatform(complete_platforms, None)
    platform = LambdaPlatform(request.runtime.value, request.architecture.value)
    content = json.dumps(platform.complete_platform(), indent=2, sort_keys=True).encode()
    snapshot = await Get(
        Snapshot, CreateDigest([FileContent(f"__lambda_platforms/{platform.slug}.json", content)])
    )
    return ResolvedLambdaPlatform(CompletePlatforms.from_snapshot(snapshot), platform)


@rule(desc="Package a Python AWS Lambda function", level=LogLevel.DEBUG)
async def package_python_aws_lambda_function(field_set: PythonAwsLambdaFieldSet) -> BuiltPackage:
    return await Get(
        BuiltPackage,
        BuildLambdaArtifactRequest(
            address=field_set.address,
            target_alias=PythonAWSLambda.alias,
            runtime=field_set.runtime,
            architecture=field_set.architecture,
            complete_platforms=field_set.complete_platforms,
            output_path=field_set.output_path,
            include_requirements=field_set.include_requirements.value,
            include_sources=True,
            handler=field_set.handler,
            prefix=None,
            exclude=field_set.exclude.value or (),
            compile_bytecode=field_set.compile_bytecode.value,
        ),
    )


@rule(desc="Package a Python AWS Lambda layer", level=LogLevel.DEBUG)
async def package_python_aws_lambda_layer(field_set: PythonAwsLambdaLayerFieldSet) -> BuiltPackage:
    return await Get(
        BuiltPackage,
        BuildLambdaArtifactRequest(
            address=field_set.address,
            target_alias=PythonAWSLambdaLayer.alias,
            runtime=field_set.runtime,
            architecture=field_set.architecture,
            complete_platforms=field_set.complete_platforms,
            output_path=field_set.output_path,
            include_requirements=field_set.include_requirements.value,
            include_sources=field_set.include_sources.value,
            handler=None,
            prefix=LAYER_PREFIX,
            exclude=field_set.exclude.value or (),
            compile_bytecode=field_set.compile_bytecode.value,
        ),
    )


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
    description: str


class NoRuntimeInterpreter(Exception):
    pass


@dataclass(frozen=True)
class BuiltZip:
    digest: Digest
    report: dict


@rule(desc="Zip a Lambda artifact", level=LogLevel.DEBUG)
async def zip_tree(request: ZipTreeRequest) -> BuiltZip:
    script = FileContent(
        "__lambda_zip/artifact_zip.py", importlib.resources.read_binary("lambda_artifacts", "artifact_zip.py")
    )
    report_path = "__lambda_zip/report.json"
    script_digest, tree_digest = await MultiGet(
        Get(Digest, CreateDigest([script])),
        Get(Digest, AddPrefix(request.tree, "tree")),
    )
    compile_for = request.compile_for
    if compile_for is None:
        constraints = InterpreterConstraints(["CPython>=3.7,<4"])
    else:
        # Bytecode is specific to a Python minor version: only the runtime's own will do.
        constraints = InterpreterConstraints(["CPython=={}.{}.*".format(*compile_for.python_version)])
    try:
        python = await Get(PythonExecutable, InterpreterConstraints, constraints)
    except Exception as e:
        assert compile_for is not None
        raise NoRuntimeInterpreter(
            f"{request.address} sets `compile_bytecode=True` (the default for layers), which needs "
            f"a local CPython {'.'.join(map(str, compile_for.python_version))} to compile for "
            f"{compile_for.runtime}, and none was found on [python-bootstrap].search_path "
            f"(pyenv and PATH). Install one (e.g. `pyenv install "
            f"{'.'.join(map(str, compile_for.python_version))}`), or set "
            f"`compile_bytecode=False` on the target to ship sources only.\\n\\n({e})"
        ) from e
    args = ["tree", request.output_filename, report_path, f"--root={request.exclude_root}"]
    args += [f"--exclude={pattern}" for pattern in request.exclude]
    if compile_for is not None:
        args += ["--compile", f"--ddir={request.lambda_root}"]
    input_digest = await Get(Digest, MergeDigests([script_digest, tree_digest]))
    result = await Get(
        ProcessResult,
        Process(
            argv=(python.path, script.path, *args),
            input_digest=input_digest,
            output_files=(request.output_filename, report_path),
            append_only_caches=python.append_only_caches,
            immutable_input_digests=python.immutable_input_digests,
            # Set and frozenset constants in bytecode are ordered by string hashes.
            env={"PYTHONHASHSEED": "0"},
            description=request.description,
            level=LogLevel.DEBUG,
        ),
    )
    zip_digest, report_digest = await MultiGet(
        Get(Digest, DigestSubset(result.output_digest, PathGlobs([request.output_filename]))),
        Get(Digest, DigestSubset(result.output_digest, PathGlobs([report_path]))),
    )
    (report_file,) = await Get(DigestContents, Digest, report_digest)
    return BuiltZip(zip_digest, json.loads(report_file.content))


def _reexported_handler(handler: ResolvedPythonFaaSHandler) -> FileContent:
    # Every function gets the same handler setting in AWS, whatever its module is called.
    module = PythonAwsLambdaHandlerField.reexported_handler_module
    return FileContent(f"{module}.py", f"from {handler.module} import {handler.func} as handler\n".encode())


@rule(desc="Build a Python AWS Lambda artifact", level=LogLevel.DEBUG)
async def build_lambda_artifact(request: BuildLambdaArtifactRequest) -> BuiltPackage:
    lambda_platform = await Get(
        ResolvedLambdaPlatform,
        LambdaPlatformRequest(request.runtime, request.architecture, request.complete_platforms),
    )
    complete_platforms = lambda_platform.complete_platforms

    additional_sources = EMPTY_DIGEST
    if request.handler is not None:
        handler = await Get(ResolvedPythonFaaSHandler, ResolvePythonFaaSHandlerRequest(request.handler))
        additional_sources = await Get(Digest, CreateDigest([_reexported_handler(handler)]))

    pex = await Get(
        Pex,
        PexFromTargetsRequest(
            addresses=[request.address],
            internal_only=False,
            include_requirements=request.include_requirements,
            include_source_files=request.include_sources,
            output_filename="lambda_repository.pex",
            complete_platforms=complete_platforms,
            layout=PexLayout.PACKED,
            additional_sources=additional_sources,
            warn_for_transitive_files_targets=True,
            description=f"Resolve {request.target_alias} {request.address}",
        ),
    )

    tree = "lambda_tree"
    install_input = await Get(Digest, MergeDigests([pex.digest, complete_platforms.digest]))
    install = await Get(
        ProcessResult,
        PexCliProcess(
            subcommand=("venv", "create"),
            extra_args=(
                f"--dest-dir={tree}",
                f"--pex-repository={pex.name}",
                "--layout=flat",
                *((f"--prefix={request.prefix}",) if request.prefix else ()),
                *complete_platforms.generate_pex_arg_list(),
            ),
            additional_input_digest=install_input,
            output_directories=(tree,),
            description=f"Install {request.target_alias} {request.address}",
        ),
    )

    if request.compile_bytecode and lambda_platform.platform is None:
        raise InvalidTargetException(
            f"The {request.target_alias} {request.address} sets `compile_bytecode=True` but no "
            f"`runtime`, so the Python version to compile for is unknown. Set `runtime`, or set "
            f"`compile_bytecode=False`."
        )
    output_filename = request.output_path.value_or_default(file_ending="zip")
    installed_tree = await Get(Digest, RemovePrefix(install.output_digest, tree))
    zipped = await Get(
        BuiltZip,
        ZipTreeRequest(
            address=request.address,
            tree=installed_tree,
            output_filename=output_filename,
            lambda_root=LAYER_ROOT if request.prefix else FUNCTION_ROOT,
            exclude_root=request.prefix or "",
            exclude=request.exclude,
            compile_for=lambda_platform.platform if request.compile_bytecode else None,
            description=f"Zip {request.target_alias} {request.address}",
        ),
    )

    extra_log_lines = []
    if lambda_platform.platform is not None:
        extra_log_lines.append(
            f"    Runtime: {lambda_platform.platform.runtime} {lambda_platform.platform.architecture}"
        )
    else:
        extra_log_lines.extend(f"    Complete platform: {path}" for path in complete_platforms)
    if request.handler is not None:
        extra_log_lines.append(
            f"    Handler: {PythonAwsLambdaHandlerField.reexported_handler_module}.handler"
        )
    extra_log_lines.extend(size_log_lines(zipped.report))
    return BuiltPackage(
        digest=zipped.digest,
        artifacts=(BuiltPackageArtifact(output_filename, extra_log_lines=tuple(extra_log_lines)),),
    )


def size_log_lines(report: dict, largest: int = 5) -> list[str]:
    unzipped = report["unzipped_bytes"]
    share = 100 * unzipped / UNZIPPED_LIMIT_BYTES
    share_text = f"{share:.1f}%" if share >= 0.1 else "<0.1%"
    lines = [
        f"    Size: {human_size(report['zipped_bytes'])} zipped, {human_size(unzipped)} unzipped "
        f"({share_text} of Lambda's {UNZIPPED_LIMIT_BYTES:,}-byte limit for a function and its layers, "
        f"{human_size(UNZIPPED_LIMIT_BYTES - unzipped)} headroom)"
    ]
    if report.get("bytecode_python"):
        failures = report["bytecode_failures"]
        lines.append(
            f"    Bytecode: +{human_size(report['bytecode_bytes'])} unzipped, {report['bytecode_files']:,} "
            f".pyc for CPython {report['bytecode_python']} (unchecked-hash)"
            + (f"; {len(failures)} sources did not compile, e.g. {failures[0]}" if failures else "")
        )
    if report.get("excluded_files"):
        lines.append(
            f"    Excluded: {human_size(report['excluded_bytes'])} in {report['excluded_files']:,} files "
            f"(`exclude`)"
        )

    top = [
        f"{d['name']}{' ' + d['version'] if d['version'] else ''} {human_size(d['unzipped_bytes'])}"
        for d in report["distributions"][:largest]
    ]
    if top:
        lines.append(f"    Largest: {', '.join(top)}")
    return lines


def rules():
    return [
        *collect_rules(),
        UnionRule(PackageFieldSet, PythonAwsLambdaFieldSet),
        UnionRule(PackageFieldSet, PythonAwsLambdaLayerFieldSet),
    ]
