"""A built zip as the deploy tool sees it: its digest, its sizes, and what it was built from."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from email.parser import HeaderParser
from functools import cached_property
from pathlib import Path

from lambda_artifacts.artifact_zip import distribution_sizes
from lambda_deploy.errors import ArtifactError

# The label the bundled framework sample puts on its version (e.g. 0.1.5+sample).
SAMPLE_LABEL = re.compile(r"\+sample\b")
# Where the framework layer records which repository, tag and commit it was built from.
SOURCE_MANIFEST = "python/framework-source.json"


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str | None
    unzipped_bytes: int


# `__pycache__/x.cpython-311.pyc`; and a WHEEL file's `Tag: cp311-cp311-manylinux...` line (an
# interpreter and an ABI of one CPython; `cp38-abi3-...` and `py3-none-any` fit every CPython).
PYC_NAME = re.compile(r"\.cpython-(\d)(\d+)\.pyc$")
WHEEL_TAG = re.compile(r"Tag:\s*cp(\d)(\d+)-cp\d+m?-")


class Artifact:
    def __init__(self, path: Path, what: str, address: str = "::") -> None:
        """`what` says what the artifact is for, e.g. "layer monorepo-pypi", and `address` which
        target builds it, for error messages."""
        if not path.is_file():
            raise ArtifactError(
                f"The artifact for {what} is missing: {path}. Build it with `./pants package ::`, "
                f"then rerun."
            )
        self.path = path
        self.what = what
        self.address = address
        self.content = path.read_bytes()
        self.check_crcs()
        try:
            with zipfile.ZipFile(path) as zf:
                self._infos = [info for info in zf.infolist() if not info.is_dir()]
                self._texts = {
                    info.filename: zf.read(info).decode("utf-8", "replace")
                    for info in self._infos
                    if info.filename.endswith(
                        (".dist-info/RECORD", ".dist-info/METADATA", ".dist-info/WHEEL")
                    )
                    or info.filename == SOURCE_MANIFEST
                }
        except zipfile.BadZipFile as e:
            raise ArtifactError(f"The artifact for {what}, {path}, is not a zip file ({e}). {self.rebuild}")

    @property
    def rebuild(self) -> str:
        return f"Rebuild it with `./pants package {self.address}`, then rerun."

    def check_crcs(self) -> None:
        """Reads every member and checks its CRC-32, as `zipfile.testzip` does, naming the first
        bad one. A zip damaged inside (not truncated: the central directory is intact) opens
        fine, and only this finds it, before any of it is sent."""
        try:
            # The bytes in memory are the ones that will be sent.
            with zipfile.ZipFile(io.BytesIO(self.content)) as zf:
                for info in zf.infolist():
                    try:
                        with zf.open(info) as member:
                            while member.read(1 << 20):
                                pass
                    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
                        raise ArtifactError(
                            f"The artifact for {self.what}, {self.path}, is damaged: its member "
                            f"{info.filename} fails its check ({e}). {self.rebuild} Nothing was changed."
                        )
        except zipfile.BadZipFile as e:
            raise ArtifactError(
                f"The artifact for {self.what}, {self.path}, is not a zip file ({e}). {self.rebuild}"
            )

    @cached_property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def code_sha256(self) -> str:
        """The digest as Lambda reports it (`CodeSha256`): base64 of the SHA-256."""
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode()

    @property
    def zipped_bytes(self) -> int:
        return len(self.content)

    @property
    def unzipped_bytes(self) -> int:
        return sum(info.file_size for info in self._infos)

    @cached_property
    def distributions(self) -> list[Distribution]:
        """What the unzipped bytes are made of, largest first (see artifact_zip.py)."""
        sizes = {info.filename: info.file_size for info in self._infos}
        ranked = distribution_sizes(sizes, lambda name: self._texts.get(name, ""))
        return [Distribution(d["name"], d["version"], d["unzipped_bytes"]) for d in ranked]

    @cached_property
    def cpython_versions(self) -> dict[str, str]:
        """The CPython versions the zip's contents only load on, e.g. {"3.11": "numpy/...pyc"},
        each with one file that says so: bytecode (`.cpython-311.pyc`) and wheels tagged for one
        CPython (`cp311-cp311-...`; `abi3` and `py3` wheels load on any)."""
        found: dict[str, str] = {}
        for info in self._infos:
            match = PYC_NAME.search(info.filename)
            if match:
                found.setdefault(f"{match[1]}.{match[2]}", info.filename)
        for name, text in self._texts.items():
            if name.endswith(".dist-info/WHEEL"):
                for line in text.splitlines():
                    match = WHEEL_TAG.match(line)
                    if match:
                        found.setdefault(f"{match[1]}.{match[2]}", f"{name} ({line.strip()})")
        return found

    @cached_property
    def framework_source(self) -> dict[str, str] | None:
        """Where its framework came from (`source`, `repository`, `tag`, `commit`), if recorded."""
        text = self._texts.get(SOURCE_MANIFEST)
        return json.loads(text) if text else None

    @cached_property
    def sample_builds(self) -> list[str]:
        """What in it was built from the bundled framework sample, for error messages."""
        found = []
        if self.framework_source and self.framework_source.get("source") == "sample":
            found.append(f"{SOURCE_MANIFEST} says source: sample")
        for name, text in self._texts.items():
            if name.endswith("/METADATA"):
                metadata = HeaderParser().parsestr(text)
                if SAMPLE_LABEL.search(metadata.get("Version", "")):
                    found.append(f"{metadata['Name']} {metadata['Version']}")
        return sorted(found)
