"""Zips a Lambda artifact tree reproducibly and reports what takes up its size.

Run by the plugin inside a Pants sandbox, with the CPython of the Lambda runtime:

    python artifact_zip.py TREE OUTPUT.zip REPORT.json

Same tree, same bytes: entries are sorted, timestamps fixed at 1980-01-01 (the zip epoch),
permissions normalised to 0644/0755 and owner-independent. Lambda unzips as a different user,
so nothing else about the build machine belongs in the zip.

The report says how big the artifact is zipped and unzipped and which distributions (from
their `.dist-info/RECORD`) or top-level packages account for the unzipped size, because Lambda
limits a function plus all its layers to 262,144,000 bytes unzipped.
"""

from __future__ import annotations

import csv
import io
import json
import os
import posixpath
import re
import shutil
import stat
import sys
import zipfile
from collections.abc import Iterable
from email.parser import HeaderParser

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Level 6 is zlib's default: level 9 costs a third more time for about 1% less size.
COMPRESS_LEVEL = 6


def tree_entries(tree: str) -> list[tuple[str, bool]]:
    """(zip name, is_dir) for every directory and file below `tree`, in a stable order."""
    entries = []
    for root, dirs, files in os.walk(tree):
        dirs.sort()
        rel_root = os.path.relpath(root, tree)
        for name in dirs:
            entries.append((posixpath.join(*_parts(rel_root), name) + "/", True))
        for name in files:
            entries.append((posixpath.join(*_parts(rel_root), name), False))
    return sorted(entries)


def _parts(rel_root: str) -> list[str]:
    return [] if rel_root == "." else rel_root.split(os.sep)


def write_zip(tree: str, output: str) -> dict[str, int]:
    """Writes the zip; returns each file's unzipped size by zip name."""
    sizes = {}
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for name, is_dir in tree_entries(tree):
            path = os.path.join(tree, *name.rstrip("/").split("/"))
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so that unzip honours the permission bits below.
            if is_dir:
                info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                zf.writestr(info, b"")
                continue
            executable = os.stat(path).st_mode & 0o111
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            sizes[name] = os.path.getsize(path)
    return sizes


def distribution_sizes(sizes: dict[str, int], read_text) -> list[dict[str, object]]:
    """Unzipped bytes per distribution, largest first.

    `sizes` maps zip names to unzipped sizes; `read_text(name)` returns a member's text. Files
    listed in a `.dist-info/RECORD` count for that distribution (the dist-info itself included);
    anything else, like first-party code, counts for its top-level package or module.
    """
    owner: dict[str, tuple[str, str | None]] = {}
    for record in (name for name in sizes if name.endswith(".dist-info/RECORD")):
        dist_info = posixpath.dirname(record)
        site_dir = posixpath.dirname(dist_info)
        metadata = HeaderParser().parsestr(read_text(posixpath.join(dist_info, "METADATA")))
        dist = (canonical_name(metadata["Name"]), metadata["Version"])
        for row in csv.reader(io.StringIO(read_text(record))):
            if row:
                owner[posixpath.normpath(posixpath.join(site_dir, row[0]))] = dist
        for name in sizes:
            if name.startswith(dist_info + "/"):
                owner[name] = dist

    totals: dict[tuple[str, str | None], int] = {}
    for name, size in sizes.items():
        key = owner.get(name) or (_top_level(name), None)
        totals[key] = totals.get(key, 0) + size
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0][0]))
    return [{"name": name, "version": version, "unzipped_bytes": size} for (name, version), size in ranked]


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: `Pydantic_Core` -> `pydantic-core`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _top_level(name: str) -> str:
    """`python/foo/bar.py` -> `foo`; `handler.py` -> `handler.py`."""
    parts = name.split("/")
    if parts[0] == "python" and len(parts) > 1:  # a layer's prefix
        parts = parts[1:]
    return parts[0]


def human_size(size: int) -> str:
    """1234567 -> `1.2 MB`, in decimal units as AWS quotes its limits."""
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def report(output: str, sizes: dict[str, int], tree: str) -> dict[str, object]:
    def read_text(name: str) -> str:
        with open(os.path.join(tree, *name.split("/")), encoding="utf-8", errors="replace") as f:
            return f.read()

    return {
        "zipped_bytes": os.path.getsize(output),
        "unzipped_bytes": sum(sizes.values()),
        "files": len(sizes),
        "distributions": distribution_sizes(sizes, read_text),
    }


def main(argv: Iterable[str]) -> int:
    tree, output, report_path = argv
    sizes = write_zip(tree, output)
    with open(report_path, "w") as f:
        json.dump(report(output, sizes, tree), f, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
