"""The deploy configuration (deploy/deploy.toml): which artifact is which layer or function."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib
from lambda_deploy.errors import ConfigError

DEFAULT_CONFIG = Path("deploy/deploy.toml")
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_LAYERS_PER_FUNCTION = 5


@dataclass(frozen=True)
class LayerConfig:
    key: str
    name: str
    artifact: Path
    description: str
    compatible_runtimes: tuple[str, ...]
    compatible_architectures: tuple[str, ...]


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    artifact: Path
    layers: tuple[str, ...]
    # Used only to create the function on the local emulator.
    runtime: str
    architecture: str
    handler: str
    memory_mb: int
    timeout_seconds: int


@dataclass(frozen=True)
class DeployConfig:
    path: Path
    region: str
    bucket: str
    prefix: str
    layers: dict[str, LayerConfig]
    functions: dict[str, FunctionConfig]


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

    def strings(self, key: str, default: list[str] | None = None) -> tuple[str, ...]:
        values = self.get(key, list, default)
        if not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{self.path}: `{self._key(key)}` must be a list of strings.")
        return tuple(values)

    def table(self, key: str) -> _Table:
        return _Table(self.path, self._key(key), self.get(key, dict, {}))


def load_config(path: Path = DEFAULT_CONFIG) -> DeployConfig:
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"No deploy configuration at {path}. Run from the repository root, or pass --config."
        )
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}")
    root = _Table(path, "", raw)
    s3 = root.table("s3")

    layers = {}
    for key in root.table("layers").data:
        table = root.table("layers").table(key)
        layers[key] = LayerConfig(
            key=key,
            name=table.get("name", str),
            artifact=Path(table.get("artifact", str)),
            description=table.get("description", str, ""),
            compatible_runtimes=table.strings("compatible_runtimes", []),
            compatible_architectures=table.strings("compatible_architectures", []),
        )

    defaults = root.table("function_defaults")
    functions = {}
    for name in root.table("functions").data:
        table = root.table("functions").table(name)

        def setting(key: str, kind: type) -> Any:
            return table.get(key, kind, defaults.get(key, kind))

        function = FunctionConfig(
            name=name,
            artifact=Path(table.get("artifact", str)),
            layers=table.strings("layers", []),
            runtime=setting("runtime", str),
            architecture=setting("architecture", str),
            handler=setting("handler", str),
            memory_mb=setting("memory_mb", int),
            timeout_seconds=setting("timeout_seconds", int),
        )
        unknown = [key for key in function.layers if key not in layers]
        if unknown:
            raise ConfigError(
                f"{path}: `functions.{name}.layers` names {', '.join(unknown)}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not under [layers] (known: {', '.join(layers)})."
            )
        functions[name] = function

    if not functions and not layers:
        raise ConfigError(f"{path} configures no [layers] and no [functions]: there is nothing to deploy.")
    return DeployConfig(
        path=path,
        region=root.get("region", str),
        bucket=s3.get("bucket", str),
        prefix=s3.get("prefix", str, ""),
        layers=layers,
        functions=functions,
    )
