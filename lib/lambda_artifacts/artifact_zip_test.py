from __future__ import annotations

import inspect
import json
import marshal
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lambda_artifacts import artifact_zip
from lambda_artifacts.artifact_zip import (
    distribution_sizes,
    glob_to_regex,
    main,
)


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


@pytest.mark.parametrize(
    "pattern, matches, misses",
    [
        ("bin/**", ["bin/tool", "bin/sub/x"], ["lib/bin/tool", "binary"]),
        ("**/tests/**", ["tests/a.py", "numpy/_core/tests/data/x.csv"], ["numpy/testing/x.py", "contests/a"]),
        ("**/*.pyi", ["a.pyi", "numpy/__init__.pyi"], ["a.py", "a.pyi.txt"]),
        ("**/__pycache__/**", ["__pycache__/a.pyc", "pkg/__pycache__/m.cpython-39.pyc"], ["pkg/m.py"]),
        ("pkg/?.py", ["pkg/a.py"], ["pkg/ab.py", "pkg/a/b.py"]),
    ],
)
def test_exclude_globs(pattern: str, matches: list[str], misses: list[str]) -> None:
    regex = glob_to_regex(pattern)

    assert [name for name in matches if regex.match(name)] == matches
    assert [name for name in misses if regex.match(name)] == []


def test_excludes_and_bytecode_are_reported(tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    (tmp_path / "tree/python/pkg/__pycache__").mkdir()
    (tmp_path / "tree/python/pkg/__pycache__/old.cpython-39.pyc").write_bytes(b"stale")

    main(
        [
            str(tmp_path / "tree"),
            str(tmp_path / "a.zip"),
            str(tmp_path / "report.json"),
            "--root=python",
            "--exclude=bin/**",
            "--exclude=**/__pycache__/**",
            "--compile",
            "--ddir=/opt",
        ]
    )

    report = json.loads((tmp_path / "report.json").read_text())
    names = zipfile.ZipFile(tmp_path / "a.zip").namelist()
    assert report["excluded_files"] == 2 and report["excluded_bytes"] == len("#!/bin/sh\n") + len(b"stale")
    assert "python/bin/" not in names  # the folder it emptied goes too
    tag = sys.implementation.cache_tag
    assert f"python/pkg/__pycache__/__init__.{tag}.pyc" in names
    assert report["bytecode_files"] == 2  # pkg/__init__.py and loose.py
    assert report["bytecode_python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_bytecode_is_unchecked_hash_and_names_the_lambda_path(tmp_path: Path) -> None:
    make_tree(tmp_path / "tree")
    main(
        [
            str(tmp_path / "tree"),
            str(tmp_path / "a.zip"),
            str(tmp_path / "r.json"),
            "--compile",
            "--ddir=/opt",
        ]
    )

    data = zipfile.ZipFile(tmp_path / "a.zip").read(
        f"python/pkg/__pycache__/__init__.{sys.implementation.cache_tag}.pyc"
    )
    assert int.from_bytes(data[4:8], "little") == 0b01  # PEP 552: hash-based, source not checked
    code = marshal.loads(data[16:])
    assert code.co_filename == "/opt/python/pkg/__init__.py"


def test_bytecode_is_the_same_bytes_from_another_folder_and_process(tmp_path: Path) -> None:
    """The .pyc name Lambda's path, not the sandbox's, and do not depend on the process."""
    script = Path(inspect.getsourcefile(artifact_zip))
    outputs = []
    for name in ("first", "second"):
        make_tree(tmp_path / name)
        subprocess.run(
            [
                sys.executable,
                str(script),
                str(tmp_path / name),
                str(tmp_path / f"{name}.zip"),
                str(tmp_path / f"{name}.json"),
                "--compile",
                "--ddir=/opt",
            ],
            check=True,
            env={"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")},
        )
        outputs.append((tmp_path / f"{name}.zip").read_bytes())

    assert outputs[0] == outputs[1]


def test_record_lines_of_files_not_shipped_are_dropped_so_the_installer_cache_does_not_matter(
    tmp_path: Path,
) -> None:
    """Pex may or may not have recorded the .pyc pip compiled at install time (it depends on its
    cache): the zips must not differ for that."""
    zips = []
    for name, stale in (("recorded", True), ("not_recorded", False)):
        tree = tmp_path / name
        make_tree(tree)
        if stale:
            record = tree / "python/pkg-1.0.dist-info/RECORD"
            record.write_text(record.read_text() + "pkg/__pycache__/__init__.cpython-311.pyc,sha256=abc,99\n")
        args = [str(tree), str(tmp_path / f"{name}.zip"), str(tmp_path / f"{name}.json"), "--compile"]
        main([*args, "--root=python", "--exclude=bin/**"])
        zips.append((tmp_path / f"{name}.zip").read_bytes())

    assert zips[0] == zips[1]
    with zipfile.ZipFile(tmp_path / "recorded.zip") as zf:
        record = zf.read("python/pkg-1.0.dist-info/RECORD").decode()
        assert record == "pkg/__init__.py,,6\npkg/data.bin,,10\npkg-1.0.dist-info/METADATA,,\n"
        assert "python/pkg/__pycache__/__init__.cpython-311.pyc" in zf.namelist()


def many_files(root: Path) -> None:
    """More files than the parallel threshold, of every kind a layer holds."""
    for i in range(artifact_zip.PARALLEL_FROM_FILES + 50):
        package = root / "python" / f"pkg{i % 7}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"mod{i}.py").write_text(f"VALUE = {i}\nNAMES = {{'a{i}', 'b', 'c'}}\n" * (i % 40 + 1))
    (root / "python/pkg0/empty.txt").write_bytes(b"")
    (root / "python/pkg1/random.bin").write_bytes(os.urandom(300_000))
    (root / "python/pkg2/zeros.so").write_bytes(bytes(3_000_000))
    (root / "python/pkg3/py2_only.py").write_text("print 'never imported'\n")
    (root / "python/pkg4/naïve.py").write_text("x = 'ü'\n")
    (root / "python/pkg5/tool").write_text("#!/bin/sh\n")
    (root / "python/pkg5/tool").chmod(0o755)


def zipfile_alone(tree: Path, out: Path) -> bytes:
    """The zip that zipfile writes by itself, one process: what the parallel writer must match."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=artifact_zip.COMPRESS_LEVEL) as zf:
        for name, is_dir in artifact_zip.tree_entries(str(tree)):
            info = zipfile.ZipInfo(name, date_time=artifact_zip.ZIP_EPOCH)
            info.create_system = 3
            path = tree / name.rstrip("/")
            if is_dir:
                info.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(info, b"")
                continue
            info.external_attr = (0o100755 if os.access(path, os.X_OK) else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as src, zf.open(info, "w") as dst:
                while chunk := src.read(65536):
                    dst.write(chunk)
    return out.read_bytes()


def test_the_bytes_do_not_depend_on_how_many_processes_compile_and_compress(tmp_path: Path) -> None:
    outputs = {}
    for workers in (1, 2, 5):
        tree = tmp_path / f"tree{workers}"
        many_files(tree)
        # Same random bytes in every tree.
        (tree / "python/pkg1/random.bin").write_bytes(
            (tmp_path / "tree1/python/pkg1/random.bin").read_bytes()
        )
        files, _, failed = artifact_zip.compile_bytecode(str(tree), "/opt", workers=workers)
        assert failed == ["python/pkg3/py2_only.py"] and files > artifact_zip.PARALLEL_FROM_FILES
        artifact_zip.write_zip(str(tree), str(tmp_path / f"{workers}.zip"), workers=workers)
        outputs[workers] = (tmp_path / f"{workers}.zip").read_bytes()

    assert outputs[1] == outputs[2] == outputs[5]
    assert outputs[1] == zipfile_alone(tmp_path / "tree1", tmp_path / "reference.zip")
    with zipfile.ZipFile(tmp_path / "5.zip") as zf:
        assert zf.testzip() is None


def split_tree(tree: Path, parts: dict[str, list[str]], root: Path) -> list[Path]:
    """Copies each part's files (zip names) of `tree` into a tree of its own under `root`."""
    folders = []
    for part, names in parts.items():
        for name in names:
            destination = root / part / "tree" / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes((tree / name).read_bytes())
            destination.chmod((tree / name).stat().st_mode)
        folders.append(root / part)
    return folders


def test_a_tree_zipped_in_parts_and_merged_is_the_zip_of_the_whole_tree(tmp_path: Path) -> None:
    tree = tmp_path / "whole"
    make_tree(tree)
    # Two distributions that share a folder (bin/, as console scripts do), and the rest.
    extra = {
        "python/other/__init__.py": "y = 2\n",
        "python/other-2.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: other\nVersion: 2.0\n",
        "python/other-2.0.dist-info/RECORD": "other/__init__.py,,6\nbin/other-tool,,\nother-2.0.dist-info/METADATA,,\n",
        "python/bin/other-tool": "#!/bin/sh\n",
    }
    for name, content in extra.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(content)
    options = ["--root=python", "--exclude=**/*.bin", "--compile", "--ddir=/opt"]
    parts = {
        "pkg": ["python/pkg/__init__.py", "python/pkg/data.bin", "python/pkg-1.0.dist-info/METADATA",
                "python/pkg-1.0.dist-info/RECORD", "python/bin/tool"],
        "other": [name for name in extra],
        "rest": ["python/loose.py"],
    }  # fmt: skip
    folders = split_tree(tree, parts, tmp_path / "parts")
    for folder in folders:
        main([str(folder / "tree"), str(folder / "part.zip"), str(folder / "part.json"), *options])
    whole = tmp_path / "whole-out"
    whole.mkdir()
    main([str(tree), str(whole / "a.zip"), str(whole / "report.json"), *options])

    main(["merge", str(tmp_path / "merged.zip"), str(tmp_path / "merged.json"), *map(str, folders)])

    assert (tmp_path / "merged.zip").read_bytes() == (whole / "a.zip").read_bytes()
    merged, alone = (json.loads(p.read_text()) for p in (tmp_path / "merged.json", whole / "report.json"))
    assert merged == {key: value for key, value in alone.items()}
    assert merged["excluded_files"] == 1 and merged["bytecode_files"] == 3
    assert {d["name"] for d in merged["distributions"]} >= {"pkg-name", "other"}


def test_a_file_in_two_parts_is_refused(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    make_tree(tree)
    folders = split_tree(tree, {"a": ["python/loose.py"], "b": ["python/loose.py"]}, tmp_path / "parts")
    for folder in folders:
        main([str(folder / "tree"), str(folder / "part.zip"), str(folder / "part.json")])

    with pytest.raises(ValueError, match="python/loose.py is in two parts"):
        main(["merge", str(tmp_path / "merged.zip"), str(tmp_path / "merged.json"), *map(str, folders)])


# An installer as uv behaves with `--target DIR`, for a wheel from a local folder: the package,
# its .dist-info with a RECORD that lists uv_cache.json (that wheel file's mtime), and uv's .lock.
FAKE_INSTALLER = """
import pathlib, sys, time
target = pathlib.Path(sys.argv[1])
(target / "pkg").mkdir(parents=True)
(target / "pkg/__init__.py").write_text("x = 1\\n")
info = target / "pkg-1.0.dist-info"
info.mkdir()
(info / "METADATA").write_text("Metadata-Version: 2.1\\nName: pkg\\nVersion: 1.0\\n")
(info / "uv_cache.json").write_text('{"timestamp": %d}' % time.time_ns())
(info / "RECORD").write_text("pkg/__init__.py,,6\\npkg-1.0.dist-info/METADATA,,\\npkg-1.0.dist-info/uv_cache.json,,\\n")
(target / ".lock").write_text("")
"""


def test_an_install_command_runs_first_and_its_bookkeeping_is_not_shipped(tmp_path: Path) -> None:
    zips = []
    for run in ("a", "b"):
        out = tmp_path / run
        out.mkdir()
        installer = [sys.executable, "-c", FAKE_INSTALLER, str(out / "tree/python")]
        assert (
            main(
                [
                    str(out / "tree"),
                    str(out / "a.zip"),
                    str(out / "r.json"),
                    "--root=python",
                    "--",
                    *installer,
                ]
            )
            == 0
        )
        zips.append((out / "a.zip").read_bytes())
        with zipfile.ZipFile(out / "a.zip") as zf:
            names = zf.namelist()
            record = zf.read("python/pkg-1.0.dist-info/RECORD").decode()
        assert "python/pkg/__init__.py" in names
        assert not [name for name in names if name.endswith(("uv_cache.json", ".lock"))]
        assert "uv_cache.json" not in record and "pkg/__init__.py" in record

    assert zips[0] == zips[1]  # the installer's timestamps never reach the zip


def test_a_failed_install_passes_its_output_on_and_writes_no_zip(tmp_path: Path) -> None:
    failing = [sys.executable, "-c", "import sys; print('no wheel for native==1.0'); sys.exit(2)"]
    script = inspect.getsourcefile(artifact_zip)
    result = subprocess.run(
        [
            sys.executable,
            script,
            str(tmp_path / "tree"),
            str(tmp_path / "a.zip"),
            str(tmp_path / "r.json"),
            "--",
            *failing,
        ],
        capture_output=True,
        text=True,
    )

    assert result.returncode == artifact_zip.INSTALL_FAILED
    assert "no wheel for native==1.0" in result.stderr
    assert not (tmp_path / "a.zip").exists()
