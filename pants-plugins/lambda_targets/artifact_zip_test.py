from __future__ import annotations

import os
import zipfile
from pathlib import Path

from lambda_targets.artifact_zip import distribution_sizes, main


def make_tree(root: Path) -> None:
    files = {
        "python/pkg/__init__.py": "x = 1\n",
        "python/pkg/data.bin": "0123456789",
        "python/pkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: Pkg_Name\nVersion: 1.0\n",
        "python/pkg-1.0.dist-info/RECORD": (
            "pkg/__init__.py,,6\npkg/data.bin,,10\npkg-1.0.dist-info/METADATA,,\n"
        ),
        "python/loose.py": "print('hi')\n",
        "python/bin/tool": "#!/bin/sh\n",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    (root / "python/bin/tool").chmod(0o775)


def zip_tree(tree: Path, out: Path) -> bytes:
    main([str(tree), str(out / "a.zip"), str(out / "report.json")])
    return (out / "a.zip").read_bytes()


def test_same_tree_gives_the_same_bytes_whatever_the_timestamps_and_modes(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    make_tree(first)
    make_tree(second)
    os.utime(second / "python/pkg/__init__.py", (1, 1))
    (second / "python/loose.py").chmod(0o600)
    (tmp_path / "out1").mkdir()
    (tmp_path / "out2").mkdir()

    assert zip_tree(first, tmp_path / "out1") == zip_tree(second, tmp_path / "out2")


def test_entries_are_sorted_dated_1980_and_keep_only_the_executable_bit(tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    zip_tree(tmp_path / "tree", tmp_path)

    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        infos = zf.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert "python/pkg/" in names  # directory entries, as `zip -r` makes
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in infos}
    assert modes["python/bin/tool"] == 0o755
    assert modes["python/loose.py"] == 0o644


def test_sizes_are_counted_per_distribution() -> None:
    sizes = {
        "python/pkg/__init__.py": 6,
        "python/pkg/data.bin": 10,
        "python/pkg-1.0.dist-info/METADATA": 40,
        "python/pkg-1.0.dist-info/RECORD": 60,
        "python/loose.py": 12,
    }
    texts = {
        "python/pkg-1.0.dist-info/METADATA": "Name: Pkg_Name\nVersion: 1.0\n",
        "python/pkg-1.0.dist-info/RECORD": "pkg/__init__.py,,6\npkg/data.bin,,10\n",
    }

    ranked = distribution_sizes(sizes, texts.__getitem__)

    assert ranked == [
        {"name": "pkg-name", "version": "1.0", "unzipped_bytes": 116},
        {"name": "loose.py", "version": None, "unzipped_bytes": 12},
    ]
