"""The deploy history, kept in AWS: one JSON object per deploy in the artifacts bucket, under
`[s3] history_prefix` of deploy.toml, in a folder per environment, written as a deploy's last step. Any machine with read
access can list it, and a rollback reads it to know which version each function was on.

A record names the deploy (a sortable id: its UTC time, then a random part), the commit it was
built from when known (CI's GITHUB_SHA, else `git rev-parse HEAD`, marked dirty if the working
tree has changes), the environment, and for every function the version its alias points at
with that version's code digest and layer versions, and for every layer the version in use.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from lambda_deploy.aws import Aws
from lambda_deploy.errors import DeployError

RECORD_VERSION = 1


def new_deploy_id(now: float | None = None) -> str:
    """`20261203T130712.104823Z-3f9a1c`: ids sort as the deploys happened (to the microsecond,
    so two deploys in one second keep their order), and two at once still differ."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    return f"{stamp}.{int(now % 1 * 1_000_000):06d}Z-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Commit:
    sha: str | None
    dirty: bool = False

    def describe(self) -> str:
        if self.sha is None:
            return "unknown commit"
        return f"{self.sha[:12]}{' (with uncommitted changes)' if self.dirty else ''}"


def current_commit() -> Commit:
    """What the artifacts were built from: CI says (GITHUB_SHA); else ask git, if this is a
    repository; else unknown."""
    if os.environ.get("GITHUB_SHA"):
        return Commit(os.environ["GITHUB_SHA"])
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return Commit(None)
    return Commit(sha or None, dirty=bool(status.strip()))


@dataclass(frozen=True)
class DeployedFunction:
    address: str
    version: str  # the published version the alias points at
    code_sha256: str  # Lambda's base64 CodeSha256 of that version
    layers: tuple[str, ...]  # the layer version ARNs of that version, in order


@dataclass(frozen=True)
class DeployedLayer:
    address: str
    version: int
    arn: str
    code_sha256: str


@dataclass(frozen=True)
class DeployRecord:
    deploy_id: str
    kind: str  # "apply", "rollback" or "promote"
    environment: str
    region: str
    alias: str
    time: str  # ISO 8601, UTC
    commit: Commit
    functions: dict[str, DeployedFunction]  # by AWS name
    layers: dict[str, DeployedLayer]  # by AWS name
    artifacts: dict[str, str]  # the SHA-256 (hex) of every zip deployed, by target address
    changed: tuple[str, ...] = field(default_factory=tuple)  # what this deploy changed, by AWS name
    rolled_back_to: str | None = None  # a rollback: the deploy whose versions it restored
    promoted_from: str | None = None  # a promotion: `ENV:DEPLOY_ID` whose bytes it deployed

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["record_version"] = RECORD_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str) -> DeployRecord:
        if data.get("record_version") != RECORD_VERSION:
            raise DeployError(
                f"{where} is a deploy record of format {data.get('record_version')!r}; this tool "
                f"reads format {RECORD_VERSION}. Upgrade the deploy tool (or the repository) to read it."
            )
        try:
            return cls(
                deploy_id=data["deploy_id"],
                kind=data["kind"],
                environment=data["environment"],
                region=data["region"],
                alias=data["alias"],
                time=data["time"],
                commit=Commit(**data["commit"]),
                functions={
                    name: DeployedFunction(f["address"], f["version"], f["code_sha256"], tuple(f["layers"]))
                    for name, f in data["functions"].items()
                },
                layers={name: DeployedLayer(**layer) for name, layer in data["layers"].items()},
                artifacts=dict(data["artifacts"]),
                changed=tuple(data.get("changed", ())),
                rolled_back_to=data.get("rolled_back_to"),
                promoted_from=data.get("promoted_from"),
            )
        except (KeyError, TypeError) as e:
            raise DeployError(
                f"{where} is not a deploy record this tool can read: {e!r} is missing or malformed."
            )


class History:
    """The records under one prefix of one bucket."""

    def __init__(self, aws: Aws, bucket: str, prefix: str) -> None:
        self.aws, self.bucket, self.prefix = aws, bucket, prefix

    def key(self, deploy_id: str) -> str:
        return f"{self.prefix}{deploy_id}.json"

    def write(self, record: DeployRecord) -> None:
        body = json.dumps(record.as_json(), indent=2, sort_keys=True).encode()
        self.aws.put_object(self.bucket, self.key(record.deploy_id), body)

    def ids(self) -> list[str]:
        """Every deploy's id, newest first (ids sort by time)."""
        if not self.aws.bucket_exists(self.bucket):
            return []
        keys = self.aws.list_keys(self.bucket, self.prefix)
        found = [key[len(self.prefix) : -len(".json")] for key in keys if key.endswith(".json")]
        return sorted(found, reverse=True)

    def read(self, deploy_id: str) -> DeployRecord:
        where = f"s3://{self.bucket}/{self.key(deploy_id)}"
        body = self.aws.read_object(self.bucket, self.key(deploy_id))
        if body is None:
            raise DeployError(f"There is no deploy {deploy_id!r} in the history ({where} does not exist).")
        try:
            data = json.loads(body)
        except ValueError as e:
            raise DeployError(f"{where} is not JSON ({e}); it is not a record this tool wrote.")
        return DeployRecord.from_json(data, where)

    def newest(self, count: int | None = None) -> list[DeployRecord]:
        ids = self.ids()
        return [self.read(deploy_id) for deploy_id in (ids if count is None else ids[:count])]
