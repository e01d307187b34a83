"""How an artifact's tree is split to be zipped in parts: one part per distribution, plus the rest.

Each part is zipped by its own process, which Pants caches by the part's files. After a lock bump
of one pin, only that distribution's part is compressed again; the merge copies every other
part's compressed bytes as they are (lib/lambda_artifacts/artifact_zip.py, `merge`).

A distribution's files are what its `.dist-info/RECORD` lists (relative to the folder it was
installed into). A top-level folder that only one distribution installs into is taken whole
(`python/numpy/**`), with whatever else is in it; in a folder several share (`bin/`), each takes
the files its RECORD names. What no distribution claims (first-party code, generated files) is the
rest.
"""

from __future__ import annotations

import csv
import io
import posixpath
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    name: str  # the dist-info folder's name, or "rest"
    globs: tuple[str, ...]


def _installed_paths(record_path: str, record: bytes) -> tuple[str, list[str]]:
    """(the folder it was installed into, every path its RECORD lists, relative to that folder)."""
    site = posixpath.dirname(posixpath.dirname(record_path))
    paths = []
    for row in csv.reader(io.StringIO(record.decode("utf-8", errors="replace"))):
        if not row or not row[0]:
            continue
        path = posixpath.normpath(row[0])
        if path.startswith("../") or path == ".." or posixpath.isabs(path):
            continue  # installed outside the tree (data files): not ours to zip
        paths.append(path)
    return site, paths


def split_into_parts(records: dict[str, bytes]) -> list[Part]:
    """The parts of a tree, from the contents of its `*.dist-info/RECORD` files by path. The
    last part is the rest; a tree without distributions is one part."""
    installed = {path: _installed_paths(path, content) for path, content in sorted(records.items())}
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)  # (site, top-level name) -> records
    for record_path, (site, paths) in installed.items():
        for path in paths:
            owners[(site, path.split("/")[0])].add(record_path)

    parts, claimed = [], []
    for record_path, (site, paths) in installed.items():
        globs: set[str] = set()
        for path in paths:
            top = path.split("/")[0]
            whole_folder = "/" in path and len(owners[(site, top)]) == 1
            globs.add(posixpath.join(site, top, "**") if whole_folder else posixpath.join(site, path))
        parts.append(Part(posixpath.basename(posixpath.dirname(record_path)), tuple(sorted(globs))))
        claimed.extend(sorted(globs))
    parts.append(Part("rest", ("**", *(f"!{glob}" for glob in claimed))))
    return parts
