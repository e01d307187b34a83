"""The Lambda sandbox: built artifacts unpacked the way Lambda does, and a process started in them
the way Lambda starts its Python runtime. The one module that does this, for the package-time
check (lambda_check.py), local invoke (lambda_deploy/invoke.py) and the artifact tests.

Lambda unzips each layer, in order, into /opt (a later layer overwrites an earlier one) and the
function's zip into /var/task; both are read-only at run time. The Python runtime's `sys.path`
starts with /var/task, /opt/python/lib/pythonX.Y/site-packages and /opt/python, then the
standard library. `LambdaSandbox` rebuilds that in a folder, read-only for real where this
machine allows a private mount namespace, and `command` starts `python -I -S -B` there with
exactly that `sys.path`: no site-packages, no PYTHONPATH, nothing of the caller's environment.

Standard library only: lambda_check.py runs beside it in a test sandbox, on the runtime's CPython.
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

# Prepended to every program run in the sandbox: its first argument is the sys.path to run with,
# as JSON, ahead of the standard library (with -S, all the interpreter has). The argument is
# removed, so the program sees its own arguments from sys.argv[1].
SYS_PATH_PRELUDE = (
    "import json as _json, sys as _sys\n"
    "_sys.path[:] = _json.loads(_sys.argv.pop(1)) + [_p for _p in _sys.path if _p]\n"
    "del _json, _sys\n"
)

# Records every module compiled from source: with valid .pyc, none from the layers should be.
RECORD_COMPILED = textwrap.dedent("""
    import importlib.machinery
    compiled_from_source = []
    _source_to_code = importlib.machinery.SourceFileLoader.source_to_code
    def _recording_source_to_code(self, data, path, *args, **kwargs):
        compiled_from_source.append(path)
        return _source_to_code(self, data, path, *args, **kwargs)
    importlib.machinery.SourceFileLoader.source_to_code = _recording_source_to_code
    """)

# The artifact tests' handler call: `invoke` below. Lambda's own runtime client is lambda_deploy/invoke.py's.
_CALL_HANDLER = RECORD_COMPILED + textwrap.dedent("""
    import importlib, json, os, sys
    handler_spec, probe = sys.argv[1:3]
    task, opt = os.environ["LAMBDA_TASK_ROOT"], os.environ["LAMBDA_SANDBOX_OPT"]

    class Context:
        function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        aws_request_id = "sandbox-request"
        memory_limit_in_mb = 512
        def get_remaining_time_in_millis(self):
            return 30000

    report = {"sys_path": list(sys.path), "write_errors": {}, "compiled_from_source": compiled_from_source}
    if probe == "probe-writes":
        for name, folder in (("task", task), ("opt", opt)):
            try:
                open(os.path.join(folder, "written-at-run-time"), "w").close()
            except OSError as e:
                report["write_errors"][name] = e.strerror
    module_name, _, func_name = handler_spec.rpartition(".")
    handler = getattr(importlib.import_module(module_name), func_name)
    report["result"] = handler(json.load(sys.stdin), Context())
    report["modules"] = {
        name: getattr(module, "__file__", None) for name, module in sorted(sys.modules.items())
    }
    json.dump(report, sys.stdout)
    """)


def python_version(runtime: str) -> tuple[int, int]:
    """`python3.11` -> (3, 11)."""
    major, _, minor = runtime.removeprefix("python").partition(".")
    if not (runtime.startswith("python") and major.isdigit() and minor.isdigit()):
        raise ValueError(f"{runtime!r} is not a Lambda Python runtime such as python3.11")
    return int(major), int(minor)


def unpack(archive: Path, destination: Path) -> int:
    """Unzips like Lambda, keeping the permission bits the zip records; returns the unzipped bytes."""
    total = 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            zf.extract(info, destination)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(destination / info.filename, mode)
            total += info.file_size
    return total


def unzipped_size(archive: Path) -> int:
    with zipfile.ZipFile(archive) as zf:
        return sum(info.file_size for info in zf.infolist())


def make_read_only(folder: Path) -> None:
    """Enough where the caller is a normal user; root ignores it (see read_only_prefix)."""
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)


def unpack_layers(layers: Iterable[Path], opt: Path) -> dict[Path, int]:
    """Unpacks layers in order into a new read-only folder, as Lambda fills /opt; returns each
    layer's unzipped bytes."""
    opt.mkdir(parents=True)
    sizes = {layer: unpack(layer, opt) for layer in layers}
    make_read_only(opt)
    return sizes


def remove(root: Path) -> None:
    """Removes a sandbox, whose read-only folders a normal user must make writable first."""
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
    shutil.rmtree(root, ignore_errors=True)


def read_only_prefix(folders: Sequence[Path]) -> list[str] | None:
    """An argv prefix that runs a command with `folders` mounted read-only, if this machine can.

    A private mount namespace (util-linux `unshare`, as an unprivileged user namespace) is the
    only way to make them truly read-only when the caller is root, as in CI containers: root
    ignores permission bits.
    """
    if not shutil.which("unshare"):
        return None
    mounts = " && ".join(
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder}" for folder in folders
    )
    prefix = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c"]
    if subprocess.run([*prefix, mounts], capture_output=True).returncode != 0:
        return None
    return [*prefix, mounts + ' && exec "$@"', "sh"]


def read_only_enforced(folders: Sequence[Path]) -> bool:
    return read_only_prefix(folders) is not None or os.geteuid() != 0


@dataclass(frozen=True)
class Invocation:
    result: dict[str, Any]
    modules: dict[str, str | None]
    sys_path: list[str]
    write_errors: dict[str, str]
    compiled_from_source: list[str]
    stderr: str


class HandlerFailed(AssertionError):
    pass


class LambdaSandbox:
    """An /opt and a /var/task for one runtime, unpacked from built zips, and the way to start the
    runtime's CPython in them."""

    def __init__(self, root: Path, layers: Iterable[Path], runtime: str, opt: Path | None = None) -> None:
        """Unpacks `layers` into root/opt; or, with `opt`, uses that folder, where they were
        unpacked (and made read-only) before by `unpack_layers`."""
        self.root = root
        self.runtime = runtime
        self.python_version = python_version(runtime)
        root.mkdir(parents=True, exist_ok=True)
        self.opt = opt if opt is not None else root / "opt"
        self.layer_sizes = unpack_layers(layers, self.opt) if opt is None else {}
        self.task_sizes: dict[Path, int] = {}

    @property
    def site_packages(self) -> Path:
        """The layers' site-packages on Lambda's sys.path: opt/python/lib/pythonX.Y/site-packages."""
        return self.opt / "python" / "lib" / "python{}.{}".format(*self.python_version) / "site-packages"

    def task(self, function_zip: Path, name: str | None = None) -> Path:
        """The function unpacked, read-only, into its own task/ folder (its unzipped bytes go to
        `task_sizes`)."""
        task = self.root / "task" / (name or function_zip.parent.name)
        task.mkdir(parents=True)
        self.task_sizes[task] = unpack(function_zip, task)
        make_read_only(task)
        return task

    def sys_path(self, task: Path, *after: Path) -> list[str]:
        """Lambda's sys.path before the standard library, with `after` (e.g. /var/runtime)."""
        return [str(task), str(self.site_packages), str(self.opt / "python"), *map(str, after)]

    def command(
        self,
        python: str,
        task: Path,
        program: str,
        *args: str,
        path_after: Sequence[Path] = (),
        read_only: Sequence[Path] = (),
    ) -> list[str]:
        """argv that runs `program` (Python source) on `python` in the sandbox: task/ and opt/
        (and `read_only`) mounted read-only where possible, `python -I -S` with Lambda's sys.path
        plus `path_after`, and `args` as its sys.argv[1:]. The caller sets the environment and
        runs it with cwd=task, as Lambda does."""
        mounts = read_only_prefix([task, self.opt, *read_only]) or []
        return [
            *mounts,
            python,
            "-I",  # ignore PYTHON* variables and the user's site-packages
            "-S",  # no site-packages at all: only what Lambda's sys.path holds
            "-B",  # no bytecode written, as on Lambda, even where the folders are not read-only
            "-c",
            SYS_PATH_PRELUDE + program,
            json.dumps(self.sys_path(task, *path_after)),
            *args,
        ]

    def check_python(self, python: str) -> None:
        """Refuses an interpreter of another minor version than the runtime's."""
        probe = subprocess.run(
            [python, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        wanted = "{}.{}".format(*self.python_version)
        if probe.stdout.strip() != wanted:
            raise HandlerFailed(
                f"{python} is CPython {probe.stdout.strip() or '?'}, but the artifacts were built for "
                f"{self.runtime}: run this with CPython {wanted}."
            )

    def invoke(
        self,
        task: Path,
        event: dict[str, Any],
        handler: str,
        probe_writes: bool = False,
        python: str = sys.executable,
    ) -> Invocation:
        """Calls the handler once with `event` and a minimal context (the artifact tests' way;
        lambda_deploy/invoke.py runs Lambda's own runtime client instead), and reports what it imported."""
        self.check_python(python)
        scratch = self.root / "tmp"
        scratch.mkdir(exist_ok=True)
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TMPDIR": str(scratch),  # Lambda's /tmp, the one writable place.
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": task.name,
            "LAMBDA_TASK_ROOT": str(task),
            "LAMBDA_SANDBOX_OPT": str(self.opt),
        }
        argv = self.command(python, task, _CALL_HANDLER, handler, "probe-writes" if probe_writes else "-")
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
        return set(self.opt.rglob("*")) | set(self.root.joinpath("task").rglob("*"))

    @property
    def read_only_enforced(self) -> bool:
        return read_only_enforced([self.opt])
