"""Trims, compiles and zips a Lambda artifact tree reproducibly, and reports its sizes.

Run by the plugin inside a Pants sandbox, with the CPython of the Lambda runtime:

    python artifact_zip.py TREE OUTPUT.zip REPORT.json [--root python] [--exclude GLOB]...
                           [--compile --ddir /opt] [--handler MODULE:FUNCTION]
                           [-- INSTALL COMMAND...]

0. With an install command after `--` (the plugin's `uv pip install --target TREE/ROOT` of one
   pin), it runs first, in the same sandbox: the installed files go straight into the zip and
   never through Pants' store. If it fails, its output is passed on and the exit code is
   INSTALL_FAILED. What the installer leaves for itself goes: uv's `.lock` in the folder it
   installed into, and the `uv_cache.json` it writes into the `.dist-info` of a wheel it took
   from a local folder (a `file://` index or find-links), which holds that file's mtime, so the
   zip would depend on when the mirror was copied.
1. Files matching an `--exclude` glob (relative to TREE/ROOT, `**` for any folders) are
   dropped: what cannot run on Lambda, like console scripts with this machine's shebang. Then
   every `.dist-info/RECORD` loses the lines of files that are not in the tree: the excluded
   ones, and the `__pycache__` entries that an installer may or may not have recorded depending
   on what this machine's Pex cache held (so the bytes would otherwise depend on the machine).
2. With `--compile`, every .py gets a .pyc in `__pycache__`, in unchecked-hash mode. Lambda's
   /opt and /var/task are read-only, so Python cannot cache bytecode there itself, and
   timestamp-based .pyc would be stale (the zip dates every file 1980). Unchecked-hash .pyc are
   used without looking at the source at all. Their code objects name their files as Lambda
   sees them (`--ddir`), so nothing about this sandbox is in them.
3. The zip: same tree, same bytes. Entries are sorted, timestamps fixed at 1980-01-01 (the zip
   epoch), permissions normalised to 0644/0755. Lambda unzips as another user, so nothing else
   about the build machine belongs in the zip.

Compiling and compressing use every CPU the process may: each file is compiled, or deflated,
on its own in a worker process, and the zip is written in the main process in sorted order. A
file's .pyc and deflate stream depend only on its bytes, so the output is the same whatever the
number of CPUs (tested against a one-process build).

With `--handler`, the report also says whether the handler's module is in the tree and defines
that name at its top level. It reads the source's syntax tree with the runtime's own parser;
nothing of the user's code runs at build time.

The report says how big the artifact is zipped and unzipped, what the excludes saved and the
bytecode cost, and which distributions (from their `.dist-info/RECORD`) or top-level packages
account for the unzipped size: Lambda limits a function plus all its layers to 262,144,000
bytes unzipped. (Run with PYTHONHASHSEED=0: set and frozenset constants in code objects are
ordered by hash, so the .pyc bytes depend on it.)
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import io
import json
import os
import posixpath
import py_compile
import re
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from email.parser import HeaderParser

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Level 6 is zlib's default: level 9 costs a third more time for about 1% less size.
COMPRESS_LEVEL = 6
# Below this many files (a function's zip), starting worker processes costs more than it saves.
PARALLEL_FROM_FILES = 200
# The exit code when the install command (after `--`) fails; its own output is on stderr.
INSTALL_FAILED = 3
# What an installer writes for its own bookkeeping, by file name: `.lock` in the folder uv
# installed into, `uv_cache.json` in a `.dist-info` (a local wheel's mtime).
INSTALLER_LOCK = ".lock"
UV_CACHE_INFO = "uv_cache.json"


def worker_count() -> int:
    """The CPUs this process may run on (a container or `taskset` may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no CPU affinity
        return os.cpu_count() or 1


def _each(function: Callable, items: list, workers: int) -> Iterator:
    """`function` over `items`, results in the items' order, in up to `workers` processes."""
    if workers <= 1 or len(items) < PARALLEL_FROM_FILES:
        yield from map(function, items)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(function, items, chunksize=32)


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


def deflate(path: str) -> bytes:
    """The file's raw deflate stream, exactly as zipfile would write it at COMPRESS_LEVEL."""
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    with open(path, "rb") as f:
        return compressor.compress(f.read()) + compressor.flush()


class _Deflated:
    """Stands in for the compressor of a zipfile entry being written, and hands over the bytes a
    worker deflated. zipfile still computes the CRC and sizes from the raw bytes and writes the
    headers, so the archive is byte for byte what it writes alone."""

    def __init__(self, deflated: bytes) -> None:
        self.deflated = deflated

    def compress(self, data: bytes) -> bytes:
        out, self.deflated = self.deflated, b""
        return out

    def flush(self) -> bytes:
        return b""


def write_zip(tree: str, output: str, workers: int | None = None) -> dict[str, int]:
    """Writes the zip, deflating in `workers` processes (default: every CPU); returns each
    file's unzipped size by zip name."""
    entries = tree_entries(tree)
    paths = {name: os.path.join(tree, *name.rstrip("/").split("/")) for name, _ in entries}
    files = [paths[name] for name, is_dir in entries if not is_dir]
    deflated = _each(deflate, files, worker_count() if workers is None else workers)
    sizes = {}
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for name, is_dir in entries:
            path = paths[name]
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
                # `_compressor` is private, but the same from CPython 3.6 to 3.13; the tests
                # compare the result with zipfile's own output.
                dst._compressor = _Deflated(next(deflated))  # type: ignore[attr-defined]
                dst.write(src.read())
            sizes[name] = os.path.getsize(path)
    return sizes


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """`bin/**`, `**/tests/**`, `**/*.pyi`: `**` spans folders, `*` and `?` stay within one."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex + r"\Z")


def exclude(tree: str, root: str, patterns: list[str]) -> tuple[int, int]:
    """Deletes the files under TREE/ROOT that match a pattern; returns (files, bytes) removed."""
    regexes = [glob_to_regex(pattern) for pattern in patterns]
    base = os.path.join(tree, root)
    files = removed = 0
    emptied = set()
    for name, is_dir in tree_entries(base):
        if is_dir or not any(regex.match(name) for regex in regexes):
            continue
        path = os.path.join(base, *name.split("/"))
        removed += os.path.getsize(path)
        files += 1
        os.remove(path)
        emptied.add(os.path.dirname(path))
    # Folders the excludes emptied go too, deepest first (a child sorts after its parent).
    for folder in sorted(emptied, reverse=True):
        while folder != base and os.path.isdir(folder) and not os.listdir(folder):
            os.rmdir(folder)
            folder = os.path.dirname(folder)
    return files, removed


def prune_empty_folders(tree: str) -> None:
    """Removes every folder below `tree` that holds no file, however deep."""
    for root, dirs, files in os.walk(tree, topdown=False):
        if root != tree and not files and not os.listdir(root):
            os.rmdir(root)


def install(command: list[str], target: str) -> int:
    """Runs the install command; on success removes the installer's bookkeeping below `target`
    (where it installed) and returns 0, else passes its output on and returns INSTALL_FAILED."""
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        sys.stderr.buffer.write(result.stdout)
        return INSTALL_FAILED
    lock = os.path.join(target, INSTALLER_LOCK)
    if os.path.isfile(lock):
        os.remove(lock)
    for name, is_dir in tree_entries(target):
        folder, base = posixpath.split(name)
        if not is_dir and base == UV_CACHE_INFO and folder.endswith(".dist-info"):
            os.remove(os.path.join(target, *name.split("/")))
    return 0


def drop_missing_from_records(tree: str) -> int:
    """Removes from each `*.dist-info/RECORD` the lines of files the tree does not hold; returns
    how many. The other lines are kept byte for byte."""
    dropped = 0
    for name, is_dir in tree_entries(tree):
        folder, base = posixpath.split(name)
        if is_dir or base != "RECORD" or not folder.endswith(".dist-info"):
            continue
        record = os.path.join(tree, *name.split("/"))
        site = os.path.dirname(os.path.dirname(record))
        with open(record, encoding="utf-8", newline="") as f:
            lines = f.read().splitlines(keepends=True)
        kept = [
            line
            for line in lines
            if not line.strip()
            or os.path.lexists(os.path.join(site, *next(csv.reader([line]))[0].split("/")))
        ]
        if len(kept) != len(lines):
            dropped += len(lines) - len(kept)
            with open(record, "w", encoding="utf-8", newline="") as f:
                f.write("".join(kept))
    return dropped


def _compile(job: tuple[str, str]) -> int | None:
    """Writes one unchecked-hash .pyc; returns its size, or None if the source does not compile."""
    source, lambda_path = job
    try:
        pyc = py_compile.compile(
            source,
            dfile=lambda_path,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    except py_compile.PyCompileError:
        return None
    return os.path.getsize(pyc)


def compile_bytecode(tree: str, ddir: str, workers: int | None = None) -> tuple[int, int, list[str]]:
    """Writes an unchecked-hash .pyc for every .py, in `workers` processes (default: every CPU).
    Returns (files, bytes, sources that did not compile).

    A source that does not compile (say, Python 2 code a package ships but never imports) is
    left without a .pyc, as pip leaves it; importing it would fail on Lambda all the same.
    """
    names = [name for name, is_dir in tree_entries(tree) if not is_dir and name.endswith(".py")]
    jobs = [(os.path.join(tree, *name.split("/")), posixpath.join(ddir, name)) for name in names]
    files = size = 0
    failed = []
    for name, pyc_size in zip(names, _each(_compile, jobs, worker_count() if workers is None else workers)):
        if pyc_size is None:
            failed.append(name)
            continue
        files += 1
        size += pyc_size
    return files, size, failed


def source_of(name: str) -> str:
    """`pkg/__pycache__/mod.cpython-311.pyc` -> `pkg/mod.py`; other names unchanged."""
    folder, base = posixpath.split(name)
    if posixpath.basename(folder) != "__pycache__" or not base.endswith(".pyc"):
        return name
    return posixpath.join(posixpath.dirname(folder), base.split(".", 1)[0] + ".py")


def distribution_sizes(sizes: dict[str, int], read_text) -> list[dict[str, object]]:
    """Unzipped bytes per distribution, largest first.

    `sizes` maps zip names to unzipped sizes; `read_text(name)` returns a member's text. Files
    listed in a `.dist-info/RECORD` count for that distribution (the dist-info itself included),
    and so does the .pyc of each of its sources; anything else, like first-party code, counts
    for its top-level package or module.
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
        key = owner.get(source_of(name)) or (_top_level(name), None)
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


def _top_level_names(statements: list[ast.stmt]) -> tuple[set[str], bool]:
    """Names a module binds at import time, and whether it may bind others we cannot see
    (`from x import *`, a module `__getattr__`). Descends into `if`/`try`/`with` blocks, which
    run at import, but not into functions or classes."""
    names: set[str] = set()
    open_ended = False
    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            open_ended |= node.name == "__getattr__"
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    open_ended = True
                else:
                    names.add(alias.asname or alias.name.split(".")[0])
        else:
            for block in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, block, None)
                if isinstance(inner, list):
                    statements_inside = [s for s in inner if isinstance(s, ast.stmt)]
                    statements_inside += [
                        s for h in inner if isinstance(h, ast.ExceptHandler) for s in h.body
                    ]
                    found, unknown = _top_level_names(statements_inside)
                    names |= found
                    open_ended |= unknown
    return names, open_ended


def check_handler(tree: str, handler: str) -> str | None:
    """None if `module:function` is defined in TREE; else what is wrong, for an error message."""

    def read(relative: str) -> bytes | None:
        path = os.path.join(tree, *relative.split("/"))
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    return check_handler_in(read, handler)


def check_handler_in(read: Callable[[str], bytes | None], handler: str) -> str | None:
    """check_handler, with `read(relative zip name)` giving a member's bytes (None if absent)."""
    module, _, function = handler.partition(":")
    base = "/".join(module.split("."))
    candidates = [base + ".py", base + "/__init__.py"]
    found = next(((name, data) for name in candidates if (data := read(name)) is not None), None)
    if found is None:
        return f"the handler's module `{module}` is not in the artifact (neither {' nor '.join(candidates)})"
    relative, source = found
    try:
        syntax_tree = ast.parse(source, filename=relative)
    except SyntaxError as e:
        return f"{relative} does not parse on this Python ({e.msg}, line {e.lineno})"
    names, open_ended = _top_level_names(syntax_tree.body)
    if function in names or open_ended:
        return None
    defined = sorted(name for name in names if not name.startswith("_"))
    return f"{relative} defines no `{function}` at its top level" + (
        f" (it defines: {', '.join(defined)})" if defined else ""
    )


def report(output: str, sizes: dict[str, int], tree: str) -> dict[str, object]:
    def read_text(name: str) -> str:
        with open(os.path.join(tree, *name.split("/")), encoding="utf-8", errors="replace") as f:
            return f.read()

    return _summary(output, sizes, read_text)


def _summary(output: str, sizes: dict[str, int], read_text: Callable[[str], str]) -> dict[str, object]:
    with open(output, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {
        "sha256": digest,
        "zipped_bytes": os.path.getsize(output),
        "unzipped_bytes": sum(sizes.values()),
        "files": len(sizes),
        "distributions": distribution_sizes(sizes, read_text),
    }


# ---- Parts: an artifact zipped one distribution at a time --------------------------------
#
# The plugin zips an artifact with third-party code in parts (one per pin, which uv installs in
# that part's own process, plus the first-party files) and merges them: each part is its own
# Pants process, cached by its pin, so a lock bump of one pin compresses one distribution again,
# not 246 MB. The merge copies each entry's compressed bytes as they are,
# in sorted order, so the artifact is what one process would have written from the whole tree.

PART_ZIP = "part.zip"
PART_REPORT = "part.json"


def _raw_entries(path: str) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """Every entry of a zip with its compressed bytes, read without decompressing."""
    entries = []
    with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
        for info in zf.infolist():
            f.seek(info.header_offset)
            header = f.read(30)
            name_length, extra_length = struct.unpack("<2H", header[26:30])
            f.seek(info.header_offset + 30 + name_length + extra_length)
            entries.append((info, f.read(info.compress_size)))
    return entries


def _dos_time(date_time: tuple[int, ...]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def merge_zips(parts: list[str], output: str) -> None:
    """One zip of every entry of `parts`, sorted by name, each entry's bytes copied as they are.
    A folder may be in several parts (`python/`); a file must be in one only."""
    entries: dict[str, tuple[zipfile.ZipInfo, bytes]] = {}
    for part in parts:
        for info, data in _raw_entries(part):
            if info.filename in entries and not info.is_dir():
                raise ValueError(f"{info.filename} is in two parts of the artifact")
            entries.setdefault(info.filename, (info, data))
    central = []
    with open(output, "wb") as out:
        for name in sorted(entries):
            info, data = entries[name]
            encoded = name.encode("utf-8")
            flags = 0 if encoded.isascii() else 0x800
            dos_time, dos_date = _dos_time(info.date_time)
            fields = (20, flags, info.compress_type, dos_time, dos_date, info.CRC, len(data), info.file_size)
            offset = out.tell()
            out.write(
                struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", *(fields[0], 0), *fields[1:], len(encoded), 0)
            )
            out.write(encoded)
            out.write(data)
            central.append(
                struct.pack(
                    "<4s4B4HL2L5H2L",
                    b"PK\x01\x02",
                    20, 3, 20, 0,  # made by: version 2.0 on Unix; needs 2.0
                    *fields[1:],
                    len(encoded), 0, 0, 0, 0,
                    info.external_attr,
                    offset,
                )  # fmt: skip
                + encoded
            )
        start = out.tell()
        directory = b"".join(central)
        out.write(directory)
        out.write(
            struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), start, 0)
        )


def merge_main(argv: list[str]) -> int:
    """`merge OUTPUT.zip REPORT.json [--handler M:F] PART_FOLDER...`: each folder holds a part's
    zip and report, as `--part` writes them."""
    parser = argparse.ArgumentParser(prog="artifact_zip.py merge")
    parser.add_argument("output")
    parser.add_argument("report")
    parser.add_argument("parts", nargs="+")
    parser.add_argument("--handler", metavar="MODULE:FUNCTION")
    args = parser.parse_args(argv)
    zips = [os.path.join(part, PART_ZIP) for part in args.parts]
    reports = []
    for part in args.parts:
        with open(os.path.join(part, PART_REPORT)) as f:
            reports.append(json.load(f))
    merge_zips(zips, args.output)
    with zipfile.ZipFile(args.output) as zf:
        members = set(zf.namelist())
        sizes = {info.filename: info.file_size for info in zf.infolist() if not info.is_dir()}

        def read(name: str) -> bytes | None:
            return zf.read(name) if name in members else None

        summary = {
            **_summary(args.output, sizes, lambda name: read(name).decode("utf-8", errors="replace")),
            "handler_problem": check_handler_in(read, args.handler) if args.handler else None,
        }
    for key in ("excluded_files", "excluded_bytes", "bytecode_files", "bytecode_bytes"):
        summary[key] = sum(r[key] for r in reports)
    summary["bytecode_failures"] = sorted(f for r in reports for f in r["bytecode_failures"])
    summary["bytecode_python"] = next((r["bytecode_python"] for r in reports if r["bytecode_python"]), None)
    with open(args.report, "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    return 0


def main(argv: Iterable[str]) -> int:
    argv = list(argv)
    if argv[:1] == ["merge"]:
        return merge_main(argv[1:])
    # What follows `--` is the install command (argparse would read its options as ours).
    argv, install_command = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree")
    parser.add_argument("output")
    parser.add_argument("report")
    parser.add_argument("--root", default="", help="the folder --exclude patterns are relative to")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    parser.add_argument("--compile", action="store_true", help="add unchecked-hash .pyc files")
    parser.add_argument("--ddir", default="/", help="where Lambda will see TREE, for code objects")
    parser.add_argument("--handler", metavar="MODULE:FUNCTION", help="check that the tree defines it")
    args = parser.parse_args(list(argv))

    if install_command:
        target = os.path.join(args.tree, args.root)
        if install(install_command, target) != 0:
            return INSTALL_FAILED
    excluded_files, excluded_bytes = exclude(args.tree, args.root, args.exclude)
    # An empty folder installs nothing, and a part of a tree (the plugin's split) may hold the
    # empty shells of folders whose files are in other parts: no zip keeps any.
    prune_empty_folders(args.tree)
    # Before compiling: the .pyc written below are never in RECORD, whatever the installer did.
    drop_missing_from_records(args.tree)
    bytecode_files = bytecode_bytes = 0
    failed: list[str] = []
    if args.compile:
        bytecode_files, bytecode_bytes, failed = compile_bytecode(args.tree, args.ddir)
    sizes = write_zip(args.tree, args.output)
    summary = report(args.output, sizes, args.tree)
    summary.update(
        excluded_files=excluded_files,
        excluded_bytes=excluded_bytes,
        bytecode_files=bytecode_files,
        bytecode_bytes=bytecode_bytes,
        bytecode_python=".".join(map(str, sys.version_info[:2])) if args.compile else None,
        bytecode_failures=failed,
        handler_problem=check_handler(args.tree, args.handler) if args.handler else None,
    )
    with open(args.report, "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
