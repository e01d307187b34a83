"""./pants run deploy -- invoke NAME --event FILE|-

Runs one function once, with its layers, the way Lambda does (see lambda_deploy/invoke.py):
AWS's runtime interface client in a fresh CPython of the runtime's version, with Lambda's
read-only /opt and /var/task, `sys.path` and environment, against a local Runtime API. Like
`sam local invoke`, without Docker. Prints the response on stdout; the function's logs and
Lambda's START/END/REPORT lines on stderr. Exits 0 on success, 1 on a function error (init or
invocation), 2 when it cannot run (usage, configuration, missing artifacts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_deploy.config import LAMBDA_DEFAULT_MEMORY_MB, LAMBDA_DEFAULT_TIMEOUT_SECONDS, load_config
from lambda_deploy.errors import ArtifactError, ConfigError
from lambda_deploy.invoke import InvokeError, InvokeResult, invoke, python_version

EXIT_OK, EXIT_FUNCTION_ERROR, EXIT_CANNOT_RUN = 0, 1, 2


def layer_cache() -> Path:
    """Where layers stay unpacked between invocations (a few hundred MB per set of layers, the
    three most recently used kept). LAMBDA_INVOKE_CACHE overrides it."""
    if os.environ.get("LAMBDA_INVOKE_CACHE"):
        return Path(os.environ["LAMBDA_INVOKE_CACHE"])
    return (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lambda-deploy" / "invoke-layers"
    )


@dataclass(frozen=True)
class FunctionArtifacts:
    name: str  # the AWS function name
    address: str  # the Pants target that builds it
    function_zip: Path
    layer_zips: tuple[Path, ...]  # in the order Lambda applies them
    layer_addresses: tuple[str, ...]
    runtime: str
    architecture: str
    handler: str
    memory_mb: int
    timeout_seconds: int
    region: str


def function_artifacts(name: str, config_path: Path, dist: Path) -> FunctionArtifacts:
    """What to invoke for NAME (an AWS function name, or the address of its target): what
    `./pants package` recorded under `dist`, named and set up as deploy.toml says."""
    config = load_config(config_path, dist, skip_missing=True)
    by_address = {f.address: f for f in config.functions.values()}
    function = config.functions.get(name) or by_address.get(name)
    if function is None:
        known = ", ".join(f"{n} ({f.address})" for n, f in sorted(config.functions.items()))
        raise ConfigError(f"No function {name!r} in the BUILD files. Known: {known}.")
    layers = [config.layers[key] for key in function.layers]
    missing = [(function.address, "function")] if function.artifact is None else []
    missing += [(layer.key, "layer") for layer in layers if layer.artifact is None]
    if missing:
        lines = [f"  {what} {address}: `./pants package {address}`" for address, what in missing]
        addresses = " ".join(address for address, _ in missing)
        raise ArtifactError(
            f"{function.name} cannot run: {len(missing)} of its artifacts "
            f"{'is' if len(missing) == 1 else 'are'} not built:\n" + "\n".join(lines) + "\n"
            f"Build {'it' if len(missing) == 1 else 'them'} with `./pants package {addresses}` "
            f"(or everything with `./pants package ::`), from the repository root, then rerun."
        )
    assert function.artifact and function.runtime and function.architecture and function.handler
    return FunctionArtifacts(
        name=function.name,
        address=function.address,
        function_zip=function.artifact,
        layer_zips=tuple(layer.artifact for layer in layers if layer.artifact),
        layer_addresses=tuple(layer.key for layer in layers),
        runtime=function.runtime,
        architecture=function.architecture,
        handler=function.handler,
        # As Lambda would give a function that deploy.toml sets nothing for.
        memory_mb=function.memory_mb or LAMBDA_DEFAULT_MEMORY_MB,
        timeout_seconds=function.timeout_seconds or LAMBDA_DEFAULT_TIMEOUT_SECONDS,
        region=config.region,
    )


def read_event(source: str) -> bytes:
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as e:
        raise ConfigError(f"Cannot read the event {source}: {e.strerror}.")
    try:
        json.loads(data)
    except ValueError as e:
        where = "standard input" if source == "-" else source
        raise ConfigError(f"The event on {where} is not valid JSON: {e}.")
    return data


def parse_environment(pairs: Sequence[str]) -> dict[str, str]:
    environment = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise ConfigError(f"--env takes KEY=VALUE, not {pair!r}.")
        environment[key] = value
    return environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `invoke`, beside --config and --dist, which every command takes."""
    parser.add_argument("name", metavar="NAME", help="a function name (api-handler) or its target's address")
    parser.add_argument(
        "--event", required=True, metavar="FILE|-", help="the event, a JSON file; - reads it from stdin"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a function environment variable (repeatable); nothing else of yours reaches it",
    )


def print_result(artifacts: FunctionArtifacts, result: InvokeResult) -> None:
    err = sys.stderr
    # What the metadata recorded (the root BUILD's runtime), and the CPython that ran it (invoke
    # checked its version by running it).
    cpython = "{}.{}".format(*python_version(artifacts.runtime))
    print(
        f"{artifacts.name}: {artifacts.runtime} {artifacts.architecture}, run by CPython {cpython} "
        f"({result.python})",
        file=err,
    )
    print(f"START RequestId: {result.request_id} Version: $LATEST", file=err)
    err.write(result.logs if result.logs.endswith("\n") or not result.logs else result.logs + "\n")
    print(f"END RequestId: {result.request_id}", file=err)
    print(result.report_line(), file=err)
    if result.error is not None:
        # What Lambda's Invoke returns for a function error, as the payload.
        kind = "init" if result.error_phase == "init" else "invocation"
        print(
            f"\n{artifacts.name} failed ({kind}): {result.error.get('errorType')}: "
            f"{result.error.get('errorMessage')}",
            file=err,
        )
        print(json.dumps(result.error, indent=2))
        return
    assert result.response is not None
    try:
        print(json.dumps(json.loads(result.response), indent=2))
    except ValueError:
        print(result.response.decode("utf-8", "replace"))


def run(args: argparse.Namespace) -> int:
    try:
        artifacts = function_artifacts(args.name, args.config, args.dist)
        event = read_event(args.event)
        result = invoke(
            artifacts.function_zip,
            artifacts.layer_zips,
            event,
            function_name=artifacts.name,
            runtime=artifacts.runtime,
            architecture=artifacts.architecture,
            handler=artifacts.handler,
            memory_mb=artifacts.memory_mb,
            timeout_seconds=artifacts.timeout_seconds,
            region=artifacts.region,
            environment=parse_environment(args.env),
            layer_cache=layer_cache(),
        )
    except (ConfigError, ArtifactError, InvokeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    print_result(artifacts, result)
    return EXIT_OK if result.ok else EXIT_FUNCTION_ERROR
