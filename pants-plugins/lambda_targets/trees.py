"""A Lambda artifact's tree: the files its zip holds, before bytecode.

First-party sources and resources, stripped of their source roots as Lambda imports them, plus
the generated handler module; with `include_requirements`, the lockfile's pins that its
requirements need, which uv installs for the Lambda platform (uv.py, locked_pins.py) in the zip
step's own processes, one per pin (zip_step.py); all under `python/` for a layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambda_artifacts.artifact_zip import canonical_name
from lambda_targets.locked_pins import PinsNotRecorded, locked_pins, pins_for, relock_command
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.repository_platform import locked_platform
from lambda_targets.target_types import PythonAwsLambdaHandlerField
from lambda_targets.uv import UvInstallRequest
from pants.backend.python.target_types import PythonRequirementsField
from pants.backend.python.util_rules.faas import ResolvedPythonFaaSHandler
from pants.backend.python.util_rules.pex_from_targets import (
    ChosenPythonResolve,
    ChosenPythonResolveRequest,
)
from pants.backend.python.util_rules.python_sources import (
    PythonSourceFilesRequest,
    StrippedPythonSourceFiles,
)
from pants.engine.addresses import Address, Addresses
from pants.engine.fs import (
    EMPTY_DIGEST,
    AddPrefix,
    CreateDigest,
    Digest,
    DigestContents,
    FileContent,
    MergeDigests,
    PathGlobs,
)
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import InvalidTargetException, TransitiveTargets, TransitiveTargetsRequest
from pants.util.logging import LogLevel


async def _install_request(address: Address, platform: LambdaPlatform, subject: str) -> UvInstallRequest:
    """What uv installs for the target: the pins of its resolve's lockfile that its requirements
    need. The lockfile must pin every one of them, and be locked for the target's platform: a lock
    for another runtime or architecture pins wheels that would not load on it."""
    resolve, transitive = await MultiGet(
        Get(ChosenPythonResolve, ChosenPythonResolveRequest(Addresses([address]))),
        Get(TransitiveTargets, TransitiveTargetsRequest([address])),
    )
    lockfile = resolve.lockfile.url
    relock = relock_command(resolve.name)
    contents = await Get(DigestContents, PathGlobs([lockfile]))
    text = contents[0].content.decode() if contents else ""
    requirements = {
        (requirement, target.address)
        for target in transitive.closure
        if target.has_field(PythonRequirementsField)
        for requirement in target[PythonRequirementsField].value
    }
    pinned = locked_pins(text)
    unpinned = sorted(
        f"{requirement} (from {owner})"
        for requirement, owner in requirements
        if canonical_name(requirement.project_name) not in pinned
    )
    if unpinned:
        raise InvalidTargetException(
            f"{address} depends on requirements that {lockfile} does not pin: "
            f"{', '.join(unpinned)}. Put each in the requirements file the resolve "
            f"`{resolve.name}` is locked from (3rdparty/python/), then run `{relock}`."
        )
    locked = locked_platform(text)
    if locked != (platform.runtime, platform.architecture):
        raise InvalidTargetException(
            f"{address} is built for Lambda {platform.runtime} {platform.architecture}, but its "
            f"resolve `{resolve.name}` ({lockfile}) was "
            + (f"locked for Lambda {' '.join(locked)}" if locked else "not locked for a Lambda platform")
            + ": its pins may have no wheel that loads there. Set `runtime` and `architecture` "
            f"once, in the root BUILD's `__defaults__`, rather than on this target, and relock "
            f"with `{relock}`."
        )
    try:
        pins = pins_for(
            text, (r.project_name for r, _ in requirements), lockfile=lockfile, relock_command=relock
        )
    except PinsNotRecorded as e:
        raise InvalidTargetException(f"{address}: {e}") from e
    return UvInstallRequest(pins, platform, subject, lockfile)


def reexported_handler(handler: ResolvedPythonFaaSHandler) -> FileContent:
    # Every function gets the same handler setting in AWS, whatever its module is called.
    module = PythonAwsLambdaHandlerField.reexported_handler_module
    return FileContent(f"{module}.py", f"from {handler.module} import {handler.func} as handler\n".encode())


async def _install_for(request: LambdaTreeRequest) -> UvInstallRequest:
    """The lockfile's pins that the artifact's requirements need, for uv to install."""
    subject = f"{request.target_alias} {request.address}"
    if request.platform is None:
        raise InvalidTargetException(
            f"The {subject} sets `complete_platforms`, which this plugin cannot install "
            f"third-party code for: uv chooses wheels by Lambda runtime and architecture. Set "
            f"`runtime` and `architecture` instead (best once, in the root BUILD's "
            f"`__defaults__`), or `include_requirements=False`."
        )
    return await _install_request(request.address, request.platform, subject)


@dataclass(frozen=True)
class FirstPartyTreeRequest:
    address: Address
    include_sources: bool
    additional_sources: Digest


@rule(desc="Collect a Lambda artifact's first-party code", level=LogLevel.DEBUG)
async def first_party_tree(request: FirstPartyTreeRequest) -> Digest:
    """The target's sources and resources, stripped of their source roots (as Lambda imports
    them), plus the generated handler module."""
    if not request.include_sources:
        return request.additional_sources
    transitive = await Get(TransitiveTargets, TransitiveTargetsRequest([request.address]))
    sources = await Get(
        StrippedPythonSourceFiles,
        PythonSourceFilesRequest(transitive.closure, include_resources=True, include_files=False),
    )
    return await Get(
        Digest, MergeDigests([sources.stripped_source_files.snapshot.digest, request.additional_sources])
    )


@dataclass(frozen=True)
class LambdaTreeRequest:
    address: Address
    target_alias: str
    # None for user-supplied complete platforms, for which nothing third-party can be installed.
    platform: LambdaPlatform | None
    include_requirements: bool
    include_sources: bool
    # The function's handler, re-exported as `lambda_function.handler`; None for a layer.
    handler: ResolvedPythonFaaSHandler | None
    # "python" for a layer; None for a function, whose tree is the zip's root.
    prefix: str | None


@dataclass(frozen=True)
class LambdaTree:
    """The first-party files (under the prefix), and the pins uv installs beside them."""

    first_party: Digest
    # None without `include_requirements`.
    install: UvInstallRequest | None
    # Where the tree's files go in the zip: "python" for a layer, "" for a function.
    prefix: str


@rule(desc="Collect a Lambda artifact's files", level=LogLevel.DEBUG)
async def lambda_tree(request: LambdaTreeRequest) -> LambdaTree:
    additional_sources = (
        await Get(Digest, CreateDigest([reexported_handler(request.handler)]))
        if request.handler is not None
        else EMPTY_DIGEST
    )
    install = await _install_for(request) if request.include_requirements else None
    first_party = await Get(
        Digest, FirstPartyTreeRequest(request.address, request.include_sources, additional_sources)
    )
    prefixed = await Get(Digest, AddPrefix(first_party, request.prefix)) if request.prefix else first_party
    return LambdaTree(prefixed, install, request.prefix or "")


def rules():
    return collect_rules()
