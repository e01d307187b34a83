"""Runs one invocation of a built function, with its layers, the way Lambda does. No Docker.

The pieces are Lambda's own, rebuilt in a temporary folder:

- `opt/` and `task/`: the layers and the function zip, unpacked read-only by `LambdaSandbox`
  (sandbox.py, the one Lambda sandbox), as Lambda's /opt and /var/task;
- `runtime/`: AWS's runtime interface client, `awslambdaric`, as Lambda's /var/runtime;
- `tmp/`: the one writable folder, as Lambda's /tmp (TMPDIR);
- a fresh `python -I -S` of the runtime's CPython, whose `sys.path` is Lambda's: task,
  opt/python/lib/pythonX.Y/site-packages, opt/python, runtime, then the standard library;
- Lambda's environment variables, and a local Runtime API (runtime_api.py) that hands the
  runtime one event and takes back its response or error.

Standard library only: `awslambdaric` is located in the environment this runs in (the deploy
tool's, resolve `dev`, which pins it) and copied, never imported here.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_artifacts import sandbox as lambda_sandbox
from lambda_artifacts.artifact_zip import canonical_name
from lambda_artifacts.cpython import find_cpython, where_searched
from lambda_artifacts.sandbox import LambdaSandbox, make_read_only, read_only_enforced, remove, unpack_layers
from lambda_deploy.runtime_api import RuntimeApi

RUNTIME_CLIENT = "awslambdaric"
# Lambda gives init 10 seconds; past that it retries init within the invocation's own timeout.
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
INIT_TIMEOUT_SECONDS = 10.0
ACCOUNT_ID = "000000000000"

# Runs in the Lambda sandbox, with runtime/ after Lambda's sys.path, as Lambda's
# /var/runtime/bootstrap does: `BOOTSTRAP handler`.
BOOTSTRAP = textwrap.dedent("""
    import sys
    from awslambdaric.__main__ import main
    main([sys.argv[0], sys.argv[1]])
    """)


class InvokeError(Exception):
    """The invocation could not be set up (no interpreter, wrong architecture, ...)."""


@dataclass(frozen=True)
class InvokeResult:
    request_id: str
    response: bytes | None  # the handler's response, as the runtime serialised it
    error: dict[str, Any] | None  # errorType, errorMessage, stackTrace, as Lambda returns them
    error_phase: str | None  # "init" or "invoke"
    logs: str  # the runtime's stdout and stderr, interleaved
    init_ms: float | None  # process start to the runtime's first `next` (or its init error)
    duration_ms: float | None  # event handed out to response or error
    memory_mb: int
    max_memory_used_mb: int | None
    python: str = ""  # the runtime's CPython that ran it

    @property
    def ok(self) -> bool:
        return self.error is None

    def report_line(self) -> str:
        """Lambda's REPORT log line."""
        parts = [f"REPORT RequestId: {self.request_id}"]
        if self.duration_ms is not None:
            parts.append(f"Duration: {self.duration_ms:.2f} ms")
            parts.append(f"Billed Duration: {max(1, round(self.duration_ms + 0.5))} ms")
        parts.append(f"Memory Size: {self.memory_mb} MB")
        if self.max_memory_used_mb is not None:
            parts.append(f"Max Memory Used: {self.max_memory_used_mb} MB")
        if self.init_ms is not None:
            parts.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.error is not None:
            parts.append(f"Status: error\tError Type: {self.error.get('errorType', 'Unknown')}")
        return "\t".join(parts)


def python_version(runtime: str) -> tuple[int, int]:
    try:
        return lambda_sandbox.python_version(runtime)
    except ValueError as e:
        raise InvokeError(f"{e}.") from e


def find_runtime_python(runtime: str) -> str:
    """The runtime's CPython: this one if its version matches, else one from PATH or pyenv."""
    version = python_version(runtime)
    found = find_cpython(version)
    if found is None:
        raise InvokeError(
            f"The {runtime} runtime needs CPython {'{}.{}'.format(*version)}, and {where_searched(version)} and rerun."
        )
    return found


def _requirement_names(dist: importlib.metadata.Distribution) -> list[tuple[str, bool]]:
    """(name, has a marker) of what `dist` requires, leaving out what only its extras need."""
    found = []
    for requirement in dist.requires or []:
        spec, _, marker = requirement.partition(";")
        if re.search(r"\bextra\s*==", marker):
            continue
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if name:
            found.append((name[1], bool(marker.strip())))
    return found


def runtime_client_distributions() -> list[importlib.metadata.Distribution]:
    """awslambdaric and what it requires (simplejson, snapshot-restore-py), as installed here."""
    found: dict[str, importlib.metadata.Distribution] = {}
    queue = [(RUNTIME_CLIENT, False)]
    while queue:
        name, optional = queue.pop()
        key = canonical_name(name)
        if key in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            if optional:  # behind a marker (e.g. python_version) that may not apply here
                continue
            raise InvokeError(
                f"{name} is not installed in {sys.executable}'s environment: local invoke copies "
                f"{RUNTIME_CLIENT} and its requirements from there. It comes with the deploy "
                f"tool (resolve `dev`, 3rdparty/python/dev-requirements.txt)."
            )
        found[key] = dist
        queue += _requirement_names(dist)
    return list(found.values())


def _distribution_files(dist: importlib.metadata.Distribution) -> list[tuple[Path, Path]]:
    """(installed file, path relative to site-packages) of every file `dist` installed."""
    root = Path(str(dist.locate_file("")))
    if dist.files:  # its RECORD, as pip writes it
        listed = [(Path(str(dist.locate_file(f))), Path(str(f))) for f in dist.files if ".." not in f.parts]
        return [(source, relative) for source, relative in listed if source.is_file()]
    # Pex, which installs each wheel into a folder of its own, drops RECORD: take the wheel's
    # top-level modules and packages (top_level.txt) and its .dist-info from that folder.
    stem = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
    tops = (dist.read_text("top_level.txt") or stem).split()
    found: list[Path] = []
    for entry in root.iterdir():
        name = entry.name.split(".")[0]
        is_dist_info = entry.name.lower() == f"{stem}-{dist.version}.dist-info"
        if name in tops or is_dist_info:
            found += [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
    return [(path, path.relative_to(root)) for path in found]


def install_runtime_client(runtime_dir: Path, python: str) -> list[str]:
    """Puts awslambdaric and its requirements into `runtime_dir`, Lambda's /var/runtime.

    They are copied, file by file, from the environment this code runs in: the deploy tool's,
    where the `dev` lockfile pins them. That is the install pip (or Pex) made of the same pinned
    wheels, with no download and no second resolve. Their compiled parts (runtime_client,
    simplejson's speedups) are built for this interpreter, so the runtime's CPython must be the
    same version. Returns "name version" of each distribution copied.
    """
    if python != sys.executable and not _same_version(python):
        raise InvokeError(
            f"{RUNTIME_CLIENT} here is installed for CPython {sys.version_info[0]}.{sys.version_info[1]} "
            f"({sys.executable}), and its compiled parts cannot run on {python}. Local invoke "
            f"supports functions whose runtime is python{sys.version_info[0]}.{sys.version_info[1]}."
        )
    copied = []
    for dist in runtime_client_distributions():
        files = _distribution_files(dist)
        if not files:
            raise InvokeError(f"Found no files of {dist.metadata['Name']} {dist.version} to copy.")
        for source, relative in files:
            target = runtime_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)  # keeps mtimes, so any timestamped .pyc stay valid
        copied.append(f"{dist.metadata['Name']} {dist.version}")
    return copied


def _same_version(python: str) -> bool:
    check = f"import sys; sys.exit(sys.version_info[:2] != {tuple(sys.version_info[:2])})"
    return subprocess.run([python, "-c", check], capture_output=True).returncode == 0


def check_architecture(architecture: str) -> None:
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(platform.machine().lower(), platform.machine())
    if architecture != machine:
        raise InvokeError(
            f"The function is built for {architecture}, and this machine is {machine}: its "
            f"compiled code cannot run here."
        )


def _lambda_environment(
    *,
    function_name: str,
    handler: str,
    runtime: str,
    memory_mb: int,
    region: str,
    api_address: str,
    task: Path,
    opt: Path,
    runtime_dir: Path,
    scratch: Path,
    extra: Mapping[str, str],
) -> dict[str, str]:
    """Lambda's environment variables for a Python runtime, with this sandbox's paths.

    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    """
    # Lambda's LD_LIBRARY_PATH, with the interpreter's own libraries (/var/lang/lib) standing
    # first as whatever this machine's interpreter needs.
    libraries = [
        os.environ.get("LD_LIBRARY_PATH", ""),
        str(runtime_dir),
        str(runtime_dir / "lib"),
        str(task),
        str(task / "lib"),
        str(opt / "lib"),
    ]
    date = time.strftime("%Y/%m/%d", time.gmtime())
    env = {
        **extra,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{date}/[$LATEST]{os.urandom(16).hex()}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_RUNTIME_API": api_address,
        "LAMBDA_TASK_ROOT": str(task),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "_HANDLER": handler,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LD_LIBRARY_PATH": ":".join(p for p in libraries if p),
        "TMPDIR": str(scratch),
    }
    return env


def _peak_memory_mb(pid: int) -> int | None:
    """The process's peak resident memory (Linux's VmHWM), as Lambda's Max Memory Used.

    Read while it runs: wait4's ru_maxrss would count the deploy tool's own memory too, which
    the child shares from fork until it execs."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(match[1]) / 1024) if match else None


def invoke(
    function_zip: Path,
    layers: Sequence[Path],
    event: bytes,
    *,
    function_name: str,
    runtime: str,
    architecture: str,
    handler: str,
    memory_mb: int = 128,
    timeout_seconds: float = 3.0,
    region: str = "us-east-1",
    environment: Mapping[str, str] | None = None,
    workdir: Path | None = None,
    layer_cache: Path | None = None,
) -> InvokeResult:
    """Runs `event` through the function once, in a fresh Lambda-like sandbox under `workdir`
    (a temporary folder, removed afterwards, if None). With `layer_cache`, the layers are
    unpacked there once and reused while their bytes stay the same (see cached_layers)."""
    check_architecture(architecture)
    python = find_runtime_python(runtime)
    root = Path(tempfile.mkdtemp(prefix="lambda-invoke-")) if workdir is None else workdir
    try:
        opt = None
        if layer_cache is not None and read_only_enforced([root]):
            opt = cached_layers(layer_cache, layers)
        sandbox = LambdaSandbox(root, layers, runtime, opt=opt)
        task = sandbox.task(function_zip)
        runtime_dir = root / "runtime"
        runtime_dir.mkdir()
        install_runtime_client(runtime_dir, python)
        make_read_only(runtime_dir)
        scratch = root / "tmp"
        scratch.mkdir()
        log_path = root / "logs.txt"
        arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        with RuntimeApi(event, function_arn=arn, timeout_seconds=timeout_seconds) as api:
            env = _lambda_environment(
                function_name=function_name,
                handler=handler,
                runtime=runtime,
                memory_mb=memory_mb,
                region=region,
                api_address=api.address,
                task=task,
                opt=sandbox.opt,
                runtime_dir=runtime_dir,
                scratch=scratch,
                extra=environment or {},
            )
            argv = sandbox.command(
                python, task, BOOTSTRAP, handler, path_after=[runtime_dir], read_only=[runtime_dir]
            )
            with log_path.open("wb") as log:
                started = time.monotonic()
                # Its own process group, so that whatever the handler starts is stopped with it.
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=task,
                    start_new_session=True,
                )
            peak_mb, timed_out = None, False
            try:
                while not api.wait(0.02):
                    if process.poll() is not None:
                        break  # it exited without answering
                    peak_mb = _peak_memory_mb(process.pid) or peak_mb
                    handed_out = api.outcome.handed_out_at
                    now = time.monotonic()
                    if (handed_out is None and now > started + INIT_TIMEOUT_SECONDS + timeout_seconds) or (
                        handed_out is not None and now > handed_out + timeout_seconds
                    ):
                        timed_out = True
                        break
                stopped = time.monotonic()
            finally:
                # One invocation only: stop the runtime, which is waiting for the next event.
                peak_mb = _peak_memory_mb(process.pid) or peak_mb
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        outcome = api.outcome
        logs = log_path.read_text(errors="replace")
    finally:
        if workdir is None:
            remove(root)

    def ms(start: float | None, end: float | None) -> float | None:
        return None if start is None or end is None else (end - start) * 1000

    # Init ends with the first `next`, or with an init error; if neither came, when it stopped.
    init_end = outcome.finished_at if outcome.kind == "init_error" else outcome.first_next_at
    end = outcome.finished_at if outcome.finished_at is not None else stopped
    error, phase = outcome.error, None
    if outcome.kind == "init_error":
        phase = "init"
    elif outcome.kind == "error":
        phase = "invoke"
    elif outcome.kind is None:
        phase = "invoke" if outcome.handed_out_at is not None else "init"
        init_end = init_end if init_end is not None else stopped
        if timed_out:
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {api.request_id} Error: Task timed out after "
                f"{timeout_seconds:.2f} seconds",
            }
        else:
            status = process.returncode
            how = f"signal: {signal.Signals(-status).name}" if status < 0 else f"exit status {status}"
            error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {api.request_id} Error: Runtime exited with error: {how}",
            }
    return InvokeResult(
        request_id=api.request_id,
        response=outcome.body if outcome.kind == "response" else None,
        error=error,
        error_phase=phase,
        logs=logs,
        init_ms=ms(started, init_end),
        duration_ms=ms(outcome.handed_out_at, end),
        memory_mb=memory_mb,
        max_memory_used_mb=peak_mb,
        python=python,
    )


def cached_layers(cache: Path, layers: Sequence[Path], keep: int = 3) -> Path:
    """The layers, unpacked in order into a read-only cache/<digest>/opt that later invocations
    share: the PyPI layer alone takes seconds to unpack. The digest covers every layer's bytes
    and their order; the `keep` most recently used entries stay, older ones are removed.

    Only for sandboxes whose opt/ is read-only for real (see `invoke`): a function that could
    write to the cache would change what every later invocation sees.
    """
    digest = hashlib.sha256()
    for layer in layers:
        digest.update(hashlib.sha256(layer.read_bytes()).digest())
    cache.mkdir(parents=True, exist_ok=True)
    entry = cache / digest.hexdigest()[:32]
    if not entry.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=cache))
        unpack_layers(layers, staging / "opt")
        try:
            staging.rename(entry)
        except OSError:  # another invocation unpacked the same layers first
            remove(staging)
    os.utime(entry)
    entries = sorted(
        (p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
    )
    for old in entries[:-keep]:
        remove(old)
    return entry / "opt"
