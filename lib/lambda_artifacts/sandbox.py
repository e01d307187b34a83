"""Unpacks built artifacts the way Lambda does, and runs a handler the way Lambda would.

Lambda unzips each layer, in order, into /opt (a later layer overwrites an earlier one) and the
function's zip into /var/task; both are read-only at run time. The Python runtime's `sys.path`
starts with /var/task, /opt/python/lib/pythonX.Y/site-packages and /opt/python, then the
standard library. `LambdaSandbox` rebuilds that in a temporary folder and runs the handler in a
fresh interpreter that sees nothing else: no site-packages, no PYTHONPATH, not the test's own
dependencies.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNTIME_PYTHON = (3, 11)
LAYER_SITE_PACKAGES = "python/lib/python{}.{}/site-packages".format(*RUNTIME_PYTHON)

# Runs inside the Lambda-like process: `python -I -S -c BOOTSTRAP task opt handler`.
BOOTSTRAP = textwrap.dedent("""
    import importlib, json, os, sys

    task, opt, handler_spec, probe = sys.argv[1:5]
    # With -S the interpreter has no site-packages: only the standard library is on sys.path.
    sys.path[:] = [task, opt + "/{site}", opt + "/python"] + [p for p in sys.path if p]

    class Context:
        function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        aws_request_id = "sandbox-request"
        memory_limit_in_mb = 512
        def get_remaining_time_in_millis(self):
            return 30000

    # Record every module compiled from source: with valid .pyc, none from the layers should be.
    import importlib.machinery
    compiled = []
    _source_to_code = importlib.machinery.SourceFileLoader.source_to_code
    def source_to_code(self, data, path, *args, **kwargs):
        compiled.append(path)
        return _source_to_code(self, data, path, *args, **kwargs)
    importlib.machinery.SourceFileLoader.source_to_code = source_to_code

    report = {{"sys_path": list(sys.path), "write_errors": {{}}, "compiled_from_source": compiled}}
    if probe == "probe-writes":
        for name, folder in (("task", task), ("opt", opt)):
            try:
                open(os.path.join(folder, "written-at-run-time"), "w").close()
            except OSError as e:
                report["write_errors"][name] = e.strerror
    module_name, _, func_name = handler_spec.rpartition(".")
    handler = getattr(importlib.import_module(module_name), func_name)
    report["result"] = handler(json.load(sys.stdin), Context())
    report["modules"] = {{
        name: getattr(module, "__file__", None) for name, module in sorted(sys.modules.items())
    }}
    json.dump(report, sys.stdout)
    """).format(site=LAYER_SITE_PACKAGES)


def unpack(archive: Path, destination: Path) -> None:
    """Unzips like Lambda: files land with the permission bits the zip records."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            zf.extract(info, destination)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(destination / info.filename, mode)


def unzipped_size(archive: Path) -> int:
    with zipfile.ZipFile(archive) as zf:
        return sum(info.file_size for info in zf.infolist())


def unpack_layers(layers: Iterable[Path], opt: Path) -> None:
    """Unpacks layers in order into a new read-only folder, as Lambda fills /opt."""
    opt.mkdir(parents=True)
    for layer in layers:
        unpack(layer, opt)
    make_read_only(opt)


def make_read_only(folder: Path) -> None:
    # Enough where the tests run as a normal user; as root, see read_only_prefix().
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)


@dataclass(frozen=True)
class Invocation:
    result: dict[str, Any]
    modules: dict[str, str | None]
    sys_path: list[str]
    write_errors: dict[str, str]
    compiled_from_source: list[str]
    stderr: str

    def module_origin(self, module: str) -> str | None:
        return self.modules.get(module)


class HandlerFailed(AssertionError):
    pass


def read_only_prefix(folders: Sequence[Path]) -> list[str] | None:
    """An argv prefix that runs a command with `folders` mounted read-only, if this machine can.

    A private mount namespace (util-linux `unshare`, as an unprivileged user namespace) is the
    only way to make them truly read-only when the tests run as root, as they do in CI
    containers: root ignores permission bits.
    """
    if not shutil.which("unshare"):
        return None
    mounts = " && ".join(
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder}" for folder in folders
    )
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mounts], capture_output=True
    )
    if probe.returncode != 0:
        return None
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mounts + ' && exec "$@"', "sh"]


class LambdaSandbox:
    """A /opt and a /var/task, unpacked from built zips, and a way to invoke handlers in them."""

    def __init__(self, root: Path, layers: Iterable[Path], opt: Path | None = None) -> None:
        """Unpacks `layers` into root/opt; or, with `opt`, uses that folder, where they were
        unpacked (and made read-only) before by `unpack_layers`."""
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        if opt is not None:
            self.opt = opt
            return
        self.opt = root / "opt"
        unpack_layers(layers, self.opt)

    def task(self, function_zip: Path) -> Path:
        task = self.root / "task" / function_zip.parent.name
        task.mkdir(parents=True)
        unpack(function_zip, task)
        make_read_only(task)
        return task

    def invoke(
        self,
        task: Path,
        event: dict[str, Any],
        handler: str = "lambda_function.handler",
        probe_writes: bool = False,
    ) -> Invocation:
        read_only = read_only_prefix([task, self.opt]) or []
        scratch = self.root / "tmp"
        scratch.mkdir(exist_ok=True)
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TMPDIR": str(scratch),  # Lambda's /tmp, the one writable place.
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": task.name,
        }
        argv = [
            *read_only,
            sys.executable,
            "-I",  # ignore PYTHON* variables and the user's site-packages
            "-S",  # no site-packages at all: only what Lambda's sys.path holds
            "-c",
            BOOTSTRAP,
            str(task),
            str(self.opt),
            handler,
            "probe-writes" if probe_writes else "-",
        ]
        process = subprocess.run(
            argv, input=json.dumps(event), capture_output=True, text=True, env=env, cwd=task
        )
        if process.returncode != 0:
            raise HandlerFailed(f"{handler} failed in {task}:\n{process.stderr}")
        report = json.loads(process.stdout)
        return Invocation(
            result=report["result"],
            modules=report["modules"],
            sys_path=report["sys_path"],
            write_errors=report["write_errors"],
            compiled_from_source=report["compiled_from_source"],
            stderr=process.stderr,
        )

    def files(self) -> set[Path]:
        """Every path under the unpacked /opt and /var/task folders."""
        return set(self.root.joinpath("opt").rglob("*")) | set(self.root.joinpath("task").rglob("*"))

    @property
    def read_only_enforced(self) -> bool:
        return read_only_prefix([self.opt]) is not None or os.geteuid() != 0
