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

from lambda_targets.locked_pins import LockedPin
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.uv_args import COMMON_ARGS, UV_ENV, index_args
from pants.backend.python.subsystems.repos import PythonRepos
from pants.core.util_rules.external_tool import (
    DownloadedExternalTool,
    ExternalToolRequest,
    TemplatedExternalTool,
)
from pants.core.util_rules.subprocess_environment import SubprocessEnvironmentVars
from pants.core.util_rules.system_binaries import GitBinary
from pants.engine.env_vars import EnvironmentVars, EnvironmentVarsRequest
from pants.engine.fs import CreateDigest, Digest, FileContent
from pants.engine.platform import Platform
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
    """Everything a target's third-party code needs: its lockfile's pins, for the platform."""

    pins: tuple[LockedPin, ...]
    platform: LambdaPlatform
    # For messages: "python_aws_lambda_layer 3rdparty/python:pypi", and the lockfile's path.
    subject: str
    lockfile: str


@dataclass(frozen=True)
class UvPinInstallRequest:
    """One pin of an install request, into `target` (a folder of the sandbox it runs in)."""

    install: UvInstallRequest
    pin: LockedPin
    target: str
    # The CPython that runs the process: what uv builds a git requirement with, and what a console
    # script's shebang would name (the wheels are chosen for the Lambda platform, not for it).
    python_path: str


@dataclass(frozen=True)
class UvPinInstall:
    """The command that installs one pin, and what its process needs besides the command."""

    argv: tuple[str, ...]
    input_digest: Digest
    immutable_input_digests: FrozenDict[str, Digest]
    append_only_caches: FrozenDict[str, str]
    env: FrozenDict[str, str]


class UvInstallFailed(Exception):
    """uv could not install a pin for the Lambda platform: the message names it and the way out."""


PINS_FILE = "__pins.txt"


@rule(desc="Set up uv's install of one pin for the Lambda platform", level=LogLevel.DEBUG)
async def uv_pin_install(
    request: UvPinInstallRequest,
    uv: Uv,
    python_repos: PythonRepos,
    platform: Platform,
    subprocess_env: SubprocessEnvironmentVars,
) -> UvPinInstall:
    pin, lambda_platform = request.pin, request.install.platform
    downloaded, pins_digest, uv_env = await MultiGet(
        Get(DownloadedExternalTool, ExternalToolRequest, uv.get_request(platform)),
        Get(Digest, CreateDigest([FileContent(PINS_FILE, f"{pin.line}\n".encode())])),
        Get(EnvironmentVars, EnvironmentVarsRequest(tuple(uv.env_vars))),
    )
    env = {**UV_ENV, **dict(uv_env)}
    if pin.is_direct_reference:
        # uv clones a git requirement with git, with the framework's git settings from ./pants
        # (a URL rewrite, a credential helper); only such a pin gets them. It builds it with the
        # process's CPython.
        git = await Get(GitBinary)
        env = {**env, **subprocess_env.vars, "PATH": os.path.dirname(git.path)}
    argv = (
        f"__uv/{downloaded.exe}",
        "pip",
        "install",
        "--target",
        request.target,
        "--python",
        request.python_path,
        "--python-platform",
        lambda_platform.uv_python_platform,
        "--python-version",
        lambda_platform.python_version_string,
        "--no-deps",
        *COMMON_ARGS,
        "--cache-dir",
        UV_CACHE,
        *index_args(python_repos.indexes, python_repos.find_links),
        # A wheel, unless the pin can only be built (the framework's git requirement).
        *(() if pin.is_direct_reference else ("--only-binary", pin.name)),
        "--requirements",
        PINS_FILE,
    )
    return UvPinInstall(
        argv=argv,
        input_digest=pins_digest,
        immutable_input_digests=FrozenDict({"__uv": downloaded.digest}),
        append_only_caches=FrozenDict({"uv": UV_CACHE}),
        env=FrozenDict(env),
    )


def install_failure(request: UvPinInstallRequest, uv_output: str) -> UvInstallFailed:
    install, platform = request.install, request.install.platform
    return UvInstallFailed(
        f"uv could not install {request.pin.line}, a pin of {install.lockfile}, for "
        f"{install.subject} on {platform.describe()} (`--python-platform "
        f"{platform.uv_python_platform} --python-version {platform.python_version_string}`). uv "
        f"said:\n\n{uv_output.strip()}\n\n"
        f"If the pin has no wheel for this platform, relock so that the lock command picks one "
        f"that has (`./pants run 3rdparty/python/lock.py`), pin an older release in the "
        f"requirements file, or choose another runtime in the root BUILD. If uv could not reach "
        f"the index, check the network and pip's index settings (./pants hands them to uv)."
    )


def rules():
    return collect_rules()
