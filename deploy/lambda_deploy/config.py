"""What to deploy: the artifacts `./pants package` built, named for AWS by deploy/deploy.toml.

BUILD files say what each artifact is; `package` records it in a `.metadata.json` beside each
zip (lib/lambda_artifacts/metadata.py): the target's address, runtime, architecture, handler and,
for a function, its layers in order. deploy.toml keeps only what Pants cannot know: the region,
the S3 bucket, how targets are named in AWS, and settings for functions created on the emulator.

AWS names follow a convention, so that a new function needs no entry:

- a layer is `[naming] layer_prefix` + its target name: `3rdparty/python:pypi` -> `monorepo-pypi`;
- a function is `[naming] function_prefix` + its BUILD folder's name with `_` as `-`, plus
  `-<target name>` when that is not `lambda`: `src/python/api_handler:lambda` -> `api-handler`.

`[layers."<address>"]` and `[functions."<address>"]` override the name or settings of one target.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3.session
import botocore
import tomllib
from lambda_artifacts.metadata import ArtifactMetadata, MetadataError, find_metadata
from lambda_deploy.errors import ArtifactError, ConfigError
from lambda_deploy.rollout import ALL_AT_ONCE, Rollout, RolloutSyntaxError, parse_rollout

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("deploy/deploy.toml")
DEFAULT_DIST = Path("dist")
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_LAYERS_PER_FUNCTION = 5
# The target name the README gives functions; other names are appended to the AWS name.
DEFAULT_FUNCTION_TARGET = "lambda"
# What Lambda accepts as a function or layer name.
AWS_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# SnapStart for Python starts with python3.12.
# https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html
SNAPSTART_OLDEST_PYTHON = (3, 12)
# What Lambda accepts as an alias name: not all digits, which would read as a version.
ALIAS_NAME = re.compile(r"(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}")
# The alias every deploy moves to the version it publishes, unless deploy.toml names another.
DEFAULT_ALIAS = "live"
# Where in the bucket each deploy's record goes, one object per deploy, under a folder per
# environment (history.py).
DEFAULT_HISTORY_PREFIX = "deploy-history/"
# The environment of the top-level settings: what a command without --env deploys to.
DEFAULT_ENVIRONMENT = "default"
# What an [environments.NAME] table may set; anything it does not set is the top-level value.
ENVIRONMENT_KEYS = (
    "region",
    "account_id",
    "layer_prefix",
    "function_prefix",
    "bucket",
    "alias",
    "rollout",
    "alarms",
)
ACCOUNT_ID = re.compile(r"[0-9]{12}")


def lambda_regions() -> set[str]:
    """Every region botocore's endpoint data lists for Lambda, in every partition (aws, aws-cn,
    aws-us-gov, ...). The local emulator fails obscurely on any other."""
    session = boto3.session.Session()
    return {
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("lambda", partition_name=partition)
    }


# The shape of every AWS region name: eu-west-1, us-gov-west-1, ap-southeast-3, il-central-1.
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
# What Lambda gives a function created without them.
# https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
LAMBDA_DEFAULT_MEMORY_MB = 128
LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class LayerConfig:
    key: str  # the target's address
    name: str  # in AWS
    artifact: Path | None  # None: not built this time (--skip-missing)
    sha256: str | None  # what `package` recorded for the zip
    description: str
    compatible_runtimes: tuple[str, ...]
    compatible_architectures: tuple[str, ...]


@dataclass(frozen=True)
class FunctionConfig:
    name: str  # in AWS
    address: str
    artifact: Path | None  # None: not built this time (--skip-missing)
    sha256: str | None  # what `package` recorded for the zip
    layers: tuple[str, ...]  # layer addresses, in Lambda's order
    runtime: str | None
    architecture: str | None
    handler: str | None
    # Used only to create the function on the local emulator (and by `invoke`). None: neither
    # the function's table nor [function_defaults] sets it; an error only if it is needed.
    memory_mb: int | None
    timeout_seconds: int | None
    # How its alias moves to a new version, and the CloudWatch alarms that move it back (rollout.py).
    rollout: Rollout = Rollout(ALL_AT_ONCE)
    alarms: tuple[str, ...] = ()
    # Lambda SnapStart on its published versions: True/False as deploy.toml says, None: as it is.
    snapstart: bool | None = None


@dataclass(frozen=True)
class DeployConfig:
    path: Path
    region: str
    bucket: str
    prefix: str
    layers: dict[str, LayerConfig]
    functions: dict[str, FunctionConfig]
    alias: str = DEFAULT_ALIAS  # what event sources and API Gateway invoke
    history_prefix: str = DEFAULT_HISTORY_PREFIX
    environment: str = DEFAULT_ENVIRONMENT
    account_id: str | None = None  # the AWS account this environment must be in, if set

    @property
    def history_folder(self) -> str:
        """Where this environment's deploy records are: one folder per environment, so that
        environments may share a bucket."""
        return f"{self.history_prefix}{self.environment}/"


@dataclass(frozen=True)
class Settings:
    """deploy.toml, read and checked."""

    path: Path
    region: str
    bucket: str
    prefix: str
    layer_prefix: str
    function_prefix: str
    function_defaults: _Table
    layer_overrides: dict[str, _Table]
    function_overrides: dict[str, _Table]
    alias: str = DEFAULT_ALIAS
    history_prefix: str = DEFAULT_HISTORY_PREFIX
    environment: str = DEFAULT_ENVIRONMENT
    account_id: str | None = None
    rollout: Rollout = Rollout(ALL_AT_ONCE)
    alarms: tuple[str, ...] = ()

    def deploy_config(
        self, layers: dict[str, LayerConfig], functions: dict[str, FunctionConfig]
    ) -> DeployConfig:
        return DeployConfig(
            self.path,
            self.region,
            self.bucket,
            self.prefix,
            layers,
            functions,
            alias=self.alias,
            history_prefix=self.history_prefix,
            environment=self.environment,
            account_id=self.account_id,
        )

    def without_artifacts(self) -> DeployConfig:
        """The configuration with no layer or function: what reading the history needs, on a
        machine that has built nothing."""
        return self.deploy_config({}, {})


class _Table:
    """Typed access to one TOML table, with errors that name the file and the key."""

    def __init__(self, path: Path, where: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: `{where}` must be a table.")
        self.path, self.where, self.data = path, where, data

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        if key not in self.data:
            if default is None:
                raise ConfigError(f"{self.path}: `{self._key(key)}` is missing.")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise ConfigError(f"{self.path}: `{self._key(key)}` must be a {kind.__name__}, not {value!r}.")
        return value

    def has(self, key: str) -> bool:
        return key in self.data

    def table(self, key: str) -> _Table:
        return _Table(self.path, self._key(key), self.get(key, dict, {}))

    def tables(self) -> dict[str, _Table]:
        return {key: self.table(key) for key in self.data}


def _environment_table(path: Path, root: _Table, environment: str | None) -> _Table:
    """The [environments.NAME] table `--env NAME` selects (an empty one without --env)."""
    tables = root.table("environments").tables()
    if environment is None or (environment == DEFAULT_ENVIRONMENT and environment not in tables):
        return _Table(path, "", {})
    if environment not in tables:
        known = ", ".join(sorted(tables)) or "none"
        raise ConfigError(
            f"{path} has no [environments.{environment}] (--env {environment}); its environments: "
            f"{known}. Add the table, or pick one of them. Nothing was changed."
        )
    table = tables[environment]
    unknown = sorted(set(table.data) - set(ENVIRONMENT_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: [environments.{environment}] sets {', '.join(unknown)}, which an environment "
            f"cannot set; it may set {', '.join(ENVIRONMENT_KEYS)}."
        )
    return table


def load_settings(path: Path = DEFAULT_CONFIG, environment: str | None = None) -> Settings:
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"No deploy configuration at {path}. Run from the repository root, or pass --config."
        )
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}")
    root = _Table(path, "", raw)
    naming = root.table("naming")
    s3 = root.table("s3")
    env = _environment_table(path, root, environment)

    def chosen(key: str, fallback: _Table, kind: type, default: Any = None) -> Any:
        """The environment's value, else the top-level one."""
        return env.get(key, kind) if env.has(key) else fallback.get(key, kind, default)

    region = chosen("region", root, str)
    if not REGION.fullmatch(region):
        raise ConfigError(
            f"{path}: `region` is {region!r}, which is not an AWS region name. Use a region's code, "
            f'e.g. region = "eu-west-1".'
        )
    known = lambda_regions()
    if region not in known:
        raise ConfigError(
            f"{path}: `region` is {region!r}, which is not a region Lambda runs in, as far as "
            f"botocore {botocore.__version__} knows: {', '.join(sorted(known))}. Use one of them; if "
            f"{region} is a region AWS opened since, upgrade botocore in the dev resolve "
            f"(3rdparty/python/dev-requirements.txt, then ./pants run 3rdparty/python/lock.py)."
        )
    alias = chosen("alias", root, str, DEFAULT_ALIAS)
    if not ALIAS_NAME.fullmatch(alias):
        raise ConfigError(
            f"{path}: `alias` is {alias!r}, which Lambda does not take as an alias name: 1 to 128 "
            f'letters, digits, `-` and `_`, not all digits. E.g. alias = "{DEFAULT_ALIAS}".'
        )
    history_prefix = s3.get("history_prefix", str, DEFAULT_HISTORY_PREFIX)
    if not history_prefix.strip("/"):
        raise ConfigError(
            f"{path}: `s3.history_prefix` must name a folder of the bucket, e.g. "
            f'history_prefix = "{DEFAULT_HISTORY_PREFIX}".'
        )
    account_id = env.get("account_id", str) if env.has("account_id") else None
    if account_id is not None and not ACCOUNT_ID.fullmatch(account_id):
        raise ConfigError(
            f"{path}: [environments.{environment}] account_id is {account_id!r}: it takes the 12-digit "
            f'AWS account ID, as a string, e.g. account_id = "123456789012".'
        )
    where = f"[environments.{environment}] " if env.has("rollout") else ""
    rollout = _rollout(path, where, chosen("rollout", root, str, ALL_AT_ONCE))
    alarms = _alarms(path, env if env.has("alarms") else root, "alarms")
    return Settings(
        path=path,
        region=region,
        rollout=rollout,
        alarms=alarms,
        alias=alias,
        history_prefix=history_prefix.rstrip("/") + "/",
        environment=environment or DEFAULT_ENVIRONMENT,
        account_id=account_id,
        bucket=chosen("bucket", s3, str),
        prefix=s3.get("prefix", str, ""),
        layer_prefix=chosen("layer_prefix", naming, str, ""),
        function_prefix=chosen("function_prefix", naming, str, ""),
        function_defaults=root.table("function_defaults"),
        layer_overrides=root.table("layers").tables(),
        function_overrides=root.table("functions").tables(),
    )


def _rollout(path: Path, where: str, text: str) -> Rollout:
    try:
        return parse_rollout(text)
    except RolloutSyntaxError as e:
        raise ConfigError(f"{path}: {where}{e}.")


def _alarms(path: Path, table: _Table, key: str) -> tuple[str, ...]:
    if not table.has(key):
        return ()
    value = table.data[key]
    if not isinstance(value, list) or not all(isinstance(name, str) and name for name in value):
        raise ConfigError(
            f'{path}: `{table._key(key)}` must be a list of CloudWatch alarm names, e.g. alarms = ["api-errors"].'
        )
    return tuple(value)


def function_name(address: str, prefix: str = "") -> str:
    """`src/python/api_handler:lambda` -> `api-handler`; `src/python/jobs:nightly` -> `jobs-nightly`."""
    path, _, target = address.rpartition(":")
    folder = path.rstrip("/").rsplit("/", 1)[-1] or target
    name = folder if target in (DEFAULT_FUNCTION_TARGET, folder) else f"{folder}-{target}"
    return prefix + name.replace("_", "-")


def layer_name(address: str, prefix: str = "") -> str:
    """`3rdparty/python:pypi` -> `<prefix>pypi`."""
    return prefix + address.rpartition(":")[2].replace("_", "-")


def _newest(metadata: list[ArtifactMetadata]) -> ArtifactMetadata:
    """The artifact of the latest `./pants package` run: its view of the repository is current."""
    return max(metadata, key=lambda m: (m.path.stat().st_mtime_ns, m.address))


def load_config(
    path: Path = DEFAULT_CONFIG,
    dist: Path = DEFAULT_DIST,
    skip_missing: bool = False,
    environment: str | None = None,
) -> DeployConfig:
    """deploy.toml plus what `./pants package` recorded under `dist`.

    Every function in the repository is deployed. One that was not built is an error, unless
    `skip_missing` (CI builds only what changed): then its code stays as deployed, and its layer
    list is still brought up to date.
    """
    settings = load_settings(path, environment)
    try:
        found = find_metadata(dist)
    except MetadataError as e:
        raise ArtifactError(str(e))
    if not found:
        raise ArtifactError(
            f"No Lambda artifacts under {dist}/ (no *.metadata.json). Build them with "
            f"`./pants package ::`, then rerun."
        )
    newest = _newest(found)
    repository = newest.repository_functions
    built = {m.address: m for m in found}
    stale = sorted(m.address for m in found if m.is_function and m.address not in repository)
    for address in stale:
        logger.warning(
            "Ignoring %s: %s is no longer a function in the BUILD files.", built[address].path, address
        )

    functions: dict[str, FunctionConfig] = {}
    wanted_layers: list[str] = []
    for address, layer_addresses in sorted(repository.items()):
        metadata = built.get(address)
        if metadata is None and not skip_missing:
            raise ArtifactError(
                f"The function {address} is in the BUILD files but was not built (no metadata "
                f"under {dist}/). Build it with `./pants package {address}` (or `./pants package ::`), "
                f"or pass --skip-missing to keep its deployed code. If you removed it from the BUILD "
                f"files, run `./pants package ::` first: the newest build here "
                f"({newest.path}) still lists it. Nothing was changed."
            )
        function = _function_config(settings, address, layer_addresses, metadata)
        if function.name in functions:
            other = functions[function.name].address
            raise ConfigError(
                f"{address} and {other} would both be the AWS function {function.name!r}. Give "
                f'one of them its own name in {settings.path}: [functions."{address}"] name = "...".'
            )
        functions[function.name] = function
        wanted_layers += [layer for layer in layer_addresses if layer not in wanted_layers]

    # Layers no function uses are published too: something outside this repository may use them.
    wanted_layers += sorted(m.address for m in found if not m.is_function and m.address not in wanted_layers)
    layers: dict[str, LayerConfig] = {}
    names: dict[str, str] = {}
    for address in wanted_layers:
        layer = _layer_config(settings, address, built.get(address), dist, skip_missing)
        if layer.name in names:
            raise ConfigError(
                f"{address} and {names[layer.name]} would both be the AWS layer {layer.name!r}. Give "
                f'one of them its own name in {settings.path}: [layers."{address}"] name = "...".'
            )
        names[layer.name] = address
        layers[address] = layer

    _check_overrides_name_targets(settings, set(repository), set(wanted_layers))
    return settings.deploy_config(layers, functions)


def creation_setting(config: DeployConfig, function: FunctionConfig, key: str) -> int:
    """`memory_mb` or `timeout_seconds`, for a function about to be created on the emulator."""
    value = getattr(function, key)
    if value is None:
        raise ConfigError(
            f"{config.path}: the local emulator creates the function {function.name} "
            f"({function.address}), which needs `{key}`, and neither [function_defaults] nor "
            f'[functions."{function.address}"] sets it. Add `{key} = ...` to one of them.'
        )
    return value


def _aws_name(settings: Settings, kind: str, address: str, table: _Table | None, default: str) -> str:
    name = table.get("name", str, default) if table else default
    if not AWS_NAME.fullmatch(name):
        raise ConfigError(
            f"{settings.path}: the AWS name {name!r} of {address} is not valid: Lambda allows 1 to "
            f'64 letters, digits, `-` and `_`. Set one with `name = "..."` under [{kind}."{address}"].'
        )
    return name


def _function_config(
    settings: Settings, address: str, layer_addresses: tuple[str, ...], metadata: ArtifactMetadata | None
) -> FunctionConfig:
    override = settings.function_overrides.get(address)

    def setting(key: str) -> int | None:
        # The function's own value, else the default, else None: only creating a function on the
        # emulator needs these, so a missing one is an error only then (plan.py).
        if override is not None and override.has(key):
            return override.get(key, int)
        if settings.function_defaults.has(key):
            return settings.function_defaults.get(key, int)
        return None

    return FunctionConfig(
        name=_aws_name(
            settings, "functions", address, override, function_name(address, settings.function_prefix)
        ),
        address=address,
        artifact=metadata.artifact if metadata else None,
        sha256=metadata.sha256 if metadata else None,
        layers=tuple(layer_addresses),
        runtime=metadata.runtime if metadata else None,
        architecture=metadata.architecture if metadata else None,
        handler=metadata.handler if metadata else None,
        memory_mb=setting("memory_mb"),
        timeout_seconds=setting("timeout_seconds"),
        rollout=(
            _rollout(settings.path, f'[functions."{address}"] ', override.get("rollout", str))
            if override is not None and override.has("rollout")
            else settings.rollout
        ),
        alarms=(
            _alarms(settings.path, override, "alarms")
            if override is not None and override.has("alarms")
            else settings.alarms
        ),
        snapstart=_snapstart(settings.path, address, override, metadata),
    )


def _snapstart(
    path: Path, address: str, override: _Table | None, metadata: ArtifactMetadata | None
) -> bool | None:
    if override is None or not override.has("snapstart"):
        return None
    enabled = override.get("snapstart", bool)
    runtime = metadata.runtime if metadata else None
    if enabled and runtime is not None:
        version = tuple(int(part) for part in runtime.removeprefix("python").split("."))
        if version < SNAPSTART_OLDEST_PYTHON:
            oldest = "python{}.{}".format(*SNAPSTART_OLDEST_PYTHON)
            raise ConfigError(
                f'{path}: [functions."{address}"] snapstart = true, but {address} is built for {runtime} '
                f"(the root BUILD's runtime), and Lambda offers SnapStart for Python from {oldest} on. "
                f"Move the runtime to {oldest} or later, or remove `snapstart`."
            )
    return enabled


def _layer_config(
    settings: Settings, address: str, metadata: ArtifactMetadata | None, dist: Path, skip_missing: bool
) -> LayerConfig:
    override = settings.layer_overrides.get(address)
    if metadata is None and not skip_missing:
        raise ArtifactError(
            f"The layer {address}, which functions use, was not built (no metadata under {dist}/). "
            f"Build it with `./pants package {address}` (or `./pants package ::`), or pass "
            f"--skip-missing to keep its deployed version. Nothing was changed."
        )
    return LayerConfig(
        key=address,
        name=_aws_name(settings, "layers", address, override, layer_name(address, settings.layer_prefix)),
        artifact=metadata.artifact if metadata else None,
        sha256=metadata.sha256 if metadata else None,
        description=override.get("description", str, "") if override else "",
        compatible_runtimes=(metadata.runtime,) if metadata and metadata.runtime else (),
        compatible_architectures=(metadata.architecture,) if metadata and metadata.architecture else (),
    )


def _check_overrides_name_targets(settings: Settings, functions: set[str], layers: set[str]) -> None:
    """An override for a target that does not exist is a typo, or a leftover: say so."""
    for kind, overrides, known in (
        ("functions", settings.function_overrides, functions),
        ("layers", settings.layer_overrides, layers),
    ):
        for address in overrides:
            if address not in known:
                raise ConfigError(
                    f'{settings.path}: [{kind}."{address}"] names no {kind[:-1]} this deploy knows '
                    f"(known: {', '.join(sorted(known)) or 'none'}). Use the target's address, "
                    f"e.g. `src/python/api_handler:lambda`, or remove the table."
                )
