"""uv installs the third-party code of Lambda artifacts: exactly a lockfile's pins, for the Lambda
platform, in Pants' sandbox.

Why uv and not Pex: Pants 2.17 runs Pex, and Pex runs pip 23.1.2 under Pants' CPython 3.9, which
took 24 s to resolve and install the PyPI layer on 2 cores; uv installs the same pins in about
1 s from a warm cache. Nothing is resolved at build time: the lockfile already chose every
version for the Lambda platform (3rdparty/python/lock.py), so uv gets those lines with
`--no-deps`. Upstream Pants 2.34 builds FaaS artifacts with `uv pip install --python-platform`
the same way; see https://docs.astral.sh/uv/pip/environments/#using-arbitrary-python-environments.

uv's download cache is a Pants named cache (`uv`), so it is shared by every build on the machine
and never part of an artifact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from lambda_targets.interpreters import RuntimeInterpreter, RuntimeInterpreterRequest
from lambda_targets.locked_pins import LockedPin
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.uv_args import COMMON_ARGS, UV_ENV, index_args
from pants.backend.python.subsystems.repos import PythonRepos
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.pex import PythonExecutable
from pants.core.util_rules.external_tool import (
    DownloadedExternalTool,
    ExternalToolRequest,
    TemplatedExternalTool,
)
from pants.core.util_rules.subprocess_environment import SubprocessEnvironmentVars
from pants.core.util_rules.system_binaries import GitBinary
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import CreateDigest, Digest, DigestSubset, FileContent, PathGlobs, RemovePrefix
from pants.engine.platform import Platform
from pants.engine.process import FallibleProcessResult, Process
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.option.option_types import StrListOption
from pants.util.frozendict import FrozenDict
from pants.util.logging import LogLevel
from pants.util.strutil import help_text

UV_CACHE = ".cache/uv"


class Uv(TemplatedExternalTool):
    options_scope = "uv"
    name = "uv"
    help = help_text("""
        uv, which installs the third-party code of Lambda artifacts (https://docs.astral.sh/uv/).

        Its version and digests are set in pants.toml, where ./pants reads them to fetch uv's
        wheel from PyPI (the wheel carries the binary).
        """)
    # Set in pants.toml's [uv], the one place ./pants and Pants both read.
    default_version = ""
    default_known_versions: list[str] = []
    default_url_template = ""
    default_url_platform_mapping = {
        platform: platform for platform in ("linux_x86_64", "linux_arm64", "macos_x86_64", "macos_arm64")
    }

    env_vars = StrListOption(
        default=[
            # Where the machine's certificate store is, if not in the usual place.
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "no_proxy",
        ],
        help=help_text("""
            Variables of Pants' own environment that uv gets (it gets no others): how this
            machine reaches the package index. They are part of the install's cache key.
            """),
    )

    def generate_exe(self, plat: Platform) -> str:
        # The binary inside the wheel, which Pants unpacks as a zip.
        return f"./uv-{self.version}.data/scripts/uv"


@dataclass(frozen=True)
class UvInstallRequest:
    pins: tuple[LockedPin, ...]
    platform: LambdaPlatform
    # For messages: "python_aws_lambda_layer 3rdparty/python:pypi", and the lockfile's path.
    subject: str
    lockfile: str


@dataclass(frozen=True)
class UvInstalledTree:
    digest: Digest


class UvInstallFailed(Exception):
    """uv could not install a pin for the Lambda platform: the message names it and the way out."""


@rule(desc="Install a Lambda artifact's third-party code with uv", level=LogLevel.DEBUG)
async def uv_install(
    request: UvInstallRequest,
    uv: Uv,
    python_repos: PythonRepos,
    platform: Platform,
    subprocess_env: SubprocessEnvironmentVars,
) -> UvInstalledTree:
    lambda_platform = request.platform
    builds = [pin for pin in request.pins if pin.is_direct_reference]
    pins_file = "".join(f"{pin.line}\n" for pin in request.pins).encode()
    downloaded, pins_digest, uv_env, python = await MultiGet(
        Get(DownloadedExternalTool, ExternalToolRequest, uv.get_request(platform)),
        Get(Digest, CreateDigest([FileContent("__pins.txt", pins_file)])),
        Get(EnvironmentVars, EnvironmentVarsRequest(tuple(uv.env_vars))),
        Get(RuntimeInterpreter, RuntimeInterpreterRequest(lambda_platform.python_version)),
    )
    if python.path is not None:
        python_path, python_version = python.path, python.version or ""
        python_caches, python_inputs = FrozenDict(), FrozenDict()
    else:
        # Wheels for the Lambda platform install with any CPython; only a git requirement would
        # be built with it (the zip step still insists on the runtime's own for bytecode).
        fallback = await Get(PythonExecutable, InterpreterConstraints(["CPython>=3.8,<4"]))
        python_path, python_version = fallback.path, ""
        python_caches, python_inputs = fallback.append_only_caches, fallback.immutable_input_digests
    env = {
        **UV_ENV,
        **dict(uv_env),
        # The framework's git settings (a URL rewrite, a credential helper), from ./pants.
        **subprocess_env.vars,
    }
    if builds:
        # uv clones git requirements with git, and builds them with the runtime's CPython.
        git = await Get(GitBinary)
        env["PATH"] = os.path.dirname(git.path)
    tree = "__uv_tree"
    argv = [
        f"__uv/{downloaded.exe}",
        "pip",
        "install",
        "--target",
        tree,
        # The interpreter is only what uv builds a git requirement with, and what a console
        # script's shebang would name; the wheels are chosen for the Lambda platform below.
        "--python",
        python_path,
        "--python-platform",
        lambda_platform.uv_python_platform,
        "--python-version",
        lambda_platform.python_version_string,
        "--no-deps",
        *COMMON_ARGS,
        "--cache-dir",
        UV_CACHE,
        *index_args(python_repos.indexes, python_repos.find_links),
        # Wheels only, except what can only be built (the framework's git requirement).
        *(arg for pin in request.pins if not pin.is_direct_reference for arg in ("--only-binary", pin.name)),
        "--requirements",
        "__pins.txt",
    ]
    result = await Get(
        FallibleProcessResult,
        Process(
            argv=argv,
            input_digest=pins_digest,
            immutable_input_digests=FrozenDict({"__uv": downloaded.digest, **python_inputs}),
            append_only_caches=FrozenDict({"uv": UV_CACHE, **python_caches}),
            # The interpreter is not an input Pants digests: its version is in the cache key.
            env=FrozenDict({**env, "LAMBDA_BUILD_PYTHON": python_version}),
            output_directories=(tree,),
            description=f"Install the third-party code of {request.subject} with uv",
            level=LogLevel.DEBUG,
        ),
    )
    if result.exit_code != 0:
        raise UvInstallFailed(_install_failure(request, result.stderr.decode(errors="replace")))
    # uv leaves a lock file in the folder it installs into.
    installed = await Get(
        Digest, DigestSubset(result.output_digest, PathGlobs([f"{tree}/**", f"!{tree}/.lock"]))
    )
    return UvInstalledTree(await Get(Digest, RemovePrefix(installed, tree)))


def _install_failure(request: UvInstallRequest, stderr: str) -> str:
    platform = request.platform
    return (
        f"uv could not install {request.lockfile}'s pins for {request.subject} on "
        f"{platform.describe()} (`--python-platform {platform.uv_python_platform} --python-version "
        f"{platform.python_version_string}`). uv said:\n\n{stderr.strip()}\n\n"
        f"If a pin has no wheel for this platform, relock so that the lock command picks one "
        f"that has (`./pants run 3rdparty/python/lock.py`), pin an older release in the "
        f"requirements file, or choose another runtime in the root BUILD. If uv could not reach "
        f"the index, check the network and pip's index settings (./pants hands them to uv)."
    )


def rules():
    return collect_rules()
