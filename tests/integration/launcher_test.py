"""The launcher's framework-source steps against folders another local user prepared.

./pants runs in a copy of the repository with a stand-in for Pants (a bootstrap cache whose
`pants` records what the launcher hands it, and can fetch, fail or hang), so these tests cost a
launcher run each, not a Pants run. The token-protected git host is the one framework_source_test
uses. Paths in /tmp are shared by every local user: each test plants there what another user
could, and checks that the launcher refuses it, or builds its own, and never hands it the token.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib
from integration import credential_daemons
from integration.git_server import GitHttpServer, make_framework_repository
from integration.repo_copy import SANDBOX_COPY, PantsRun, RepoCopy

TOKEN = secrets.token_hex(20)
FRAMEWORK_URL = "https://github.com/amithasarath/test_common_framework.git"
SERVED_ROOT = Path("/tmp/pants-lambda-framework-sample")
NOBODY = 65534

FAKE_PANTS = """#!{python}
# Stands in for Pants: records what ./pants handed it, then does what its first argument says.
import json, os, subprocess, sys, time

with open(os.environ["FAKE_PANTS_RECORD"], "w") as f:
    json.dump({{"argv": sys.argv[1:], "env": dict(os.environ), "pid": os.getpid()}}, f)
command = sys.argv[1] if len(sys.argv) > 1 else ""
if command == "fetch":
    # What a git process run by Pants (pip's) gets: [subprocess-environment] only, and PATH.
    names = os.environ["FAKE_PANTS_SUBPROCESS_ENV"].split(",") + ["PATH"]
    env = {{name: os.environ[name] for name in names if name in os.environ}}
    sys.exit(subprocess.run(["git", "ls-remote", "--tags", "{url}"], env=env).returncode)
if command == "sleep":
    time.sleep(120)
sys.exit(int(command) if command.isdigit() else 0)
"""


def real_bootstrap_cache() -> Path:
    return Path(os.environ.get("LAMBDA_BOOTSTRAP_CACHE") or Path.home() / ".cache/pants-lambda-bootstrap")


def pants_toml() -> dict:
    return tomllib.loads((SANDBOX_COPY / "pants.toml").read_text())


def sample_digest(sample: Path) -> str:
    """The served folder's name, computed the way main's launcher did (find | sort | sha256sum)."""
    files = sorted(
        ("./" + path.relative_to(sample).as_posix()).encode()
        for path in sample.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and "__pycache__" not in path.parts
        and path.suffix != ".pyc"
    )
    listing = b"".join(
        hashlib.sha256((sample / name.decode()).read_bytes()).hexdigest().encode() + b"  " + name + b"\n"
        for name in files
    )
    return hashlib.sha256(listing).hexdigest()[:16]


@pytest.fixture(scope="module")
def git_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    root = tmp_path_factory.mktemp("git-host")
    sample = SANDBOX_COPY / "3rdparty/framework-sample"
    make_framework_repository(sample, root / "test_common_framework.git", ["v0.1.5"])
    make_framework_repository(sample, root / "untagged.git", ["v0.0.1"])
    server = GitHttpServer(root, TOKEN)
    yield server
    server.close()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    return RepoCopy(tmp_path_factory.mktemp("launcher") / "repo")


@pytest.fixture(scope="module")
def fake_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bootstrap cache as ./pants leaves it, whose Pants is the stand-in above. Its Python is
    the real one (the launcher runs build-support/launcher/launcher_util.py with it)."""
    real = real_bootstrap_cache()
    config = pants_toml()
    cache = tmp_path_factory.mktemp("fake-bootstrap")
    venv = cache / f"pants-{config['GLOBAL']['pants_version']}"
    (venv / "bin").mkdir(parents=True)
    python = real / venv.name / "bin/python"
    assert python.exists(), f"{python} missing: run ./pants once first"
    (venv / "bin/python").symlink_to(python)
    # A virtualenv's python finds its packages through pyvenv.cfg beside bin/: the launcher's
    # lockfile check imports Pants' own (toml, packaging).
    (venv / "pyvenv.cfg").symlink_to(real / venv.name / "pyvenv.cfg")
    (venv / "lib").symlink_to(real / venv.name / "lib")
    (venv / "bin/pants").write_text(FAKE_PANTS.format(python=python, url=FRAMEWORK_URL))
    (venv / "bin/pants").chmod(0o755)
    (venv / ".complete").touch()
    # Looked at for a native client and found none (its lib/ is the real one, which has one):
    # the launcher then execs the stand-in bin/pants.
    (venv / ".native-client-checked").touch()
    # The real tools, which the launcher checks by size before it hands them to Pants.
    pex = f"pex/pex-{config['pex-cli']['version']}"
    uv = f"uv/uv-{config['uv']['version']}-{tool_platform()}.zip"
    for tool in (pex, uv):
        (cache / tool).parent.mkdir()
        (cache / tool).symlink_to(real / tool)
    return cache


def tool_platform() -> str:
    """This machine as pants.toml's known_versions name it, e.g. linux_x86_64."""
    machine = {"aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    return f"{'macos' if sys.platform == 'darwin' else 'linux'}_{machine}"


class Launcher:
    """./pants with the stand-in Pants, a private XDG_RUNTIME_DIR, and what Pants got."""

    def __init__(self, repo: RepoCopy, cache: Path, runtime_dir: Path, git_host: GitHttpServer) -> None:
        self.repo, self.cache, self.runtime_dir, self.git_host = repo, cache, runtime_dir, git_host
        self.record = runtime_dir.parent / "pants-record.json"
        self.socket_dir = runtime_dir / f"pants-lambda-git-credentials-{os.geteuid()}"

    def env(self, repository: str | None = "test_common_framework.git") -> dict[str, str]:
        """The framework from `repository` on the git host, with the token; or, when None, from
        the bundled sample, without one."""
        subprocess_env = pants_toml()["subprocess-environment"]["env_vars"]
        env = {
            "LAMBDA_BOOTSTRAP_CACHE": str(self.cache),
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "FAKE_PANTS_RECORD": str(self.record),
            "FAKE_PANTS_SUBPROCESS_ENV": ",".join(subprocess_env),
        }
        if repository is None:
            return {**env, "FRAMEWORK_SOURCE": "sample"}
        return {**env, "FRAMEWORK_SOURCE": self.git_host.url(repository), "GH_TOKEN": TOKEN}

    def run(
        self, *args: str, prefix: tuple[str, ...] = (), repository: str | None = "test_common_framework.git"
    ) -> PantsRun:
        self.record.unlink(missing_ok=True)
        return self.repo.run(*prefix, "./pants", *args, env=self.env(repository), timeout=120)

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        self.record.unlink(missing_ok=True)
        return subprocess.Popen(
            ["./pants", *args],
            cwd=self.repo.root,
            env={**self.repo.environment(), **self.env(), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a terminal gives a command
        )

    def pants_got(self) -> dict | None:
        """What the stand-in Pants was started with, or None when the launcher never ran it."""
        return json.loads(self.record.read_text()) if self.record.exists() else None

    def wait_until_pants_runs(self, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return json.loads(self.record.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.05)
        raise AssertionError("./pants never started Pants")


@pytest.fixture
def launcher(repo: RepoCopy, fake_cache: Path, git_host: GitHttpServer, tmp_path: Path) -> Iterator[Launcher]:
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir(mode=0o700)
    launcher = Launcher(repo, fake_cache, runtime_dir, git_host)
    yield launcher
    # Whatever a failing launcher left behind does not outlive the test.
    credential_daemons.stop_all(launcher.socket_dir)
    if launcher.socket_dir.exists():
        os.chmod(launcher.socket_dir, 0o700)


class PlantedSocket:
    """A listener where the token's socket would be: what another user would plant to collect
    GH_TOKEN from anyone's ./pants. It records every byte it is sent."""

    def __init__(self, path: Path) -> None:
        self.received = b""
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen()
        self._listener.settimeout(0.1)
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    while data := connection.recv(4096):
                        self.received += data
                except TimeoutError:
                    pass

    def close(self) -> None:
        self._closed = True
        self._thread.join()
        self._listener.close()


def plant_socket_folder(launcher: Launcher, how: str) -> tuple[Path, PlantedSocket]:
    """The folder ./pants puts the token's socket in, made first by "another user"."""
    folder = launcher.socket_dir
    if how == "symlink":
        elsewhere = launcher.runtime_dir.parent / "elsewhere"
        elsewhere.mkdir()
        os.chmod(elsewhere, 0o777)
        folder.symlink_to(elsewhere)
    else:
        folder.mkdir()
        os.chmod(folder, 0o777)
    # Main's launcher named its socket `socket`; a planted folder can hold any name.
    listener = PlantedSocket(folder / "socket")
    if how == "another user's":
        os.chown(folder, NOBODY, NOBODY)
        os.chmod(folder, 0o700)
    return folder, listener


SOCKET_FOLDERS = [
    "mode 777",
    "symlink",
    pytest.param(
        "another user's",
        marks=pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder away needs root"),
    ),
]


@pytest.mark.parametrize("how", SOCKET_FOLDERS)
def test_the_token_never_reaches_a_socket_folder_someone_else_made(launcher: Launcher, how: str) -> None:
    folder, listener = plant_socket_folder(launcher, how)
    try:
        run = launcher.run("fetch")
    finally:
        listener.close()

    assert TOKEN.encode() not in listener.received
    assert listener.received == b""
    assert run.returncode != 0
    assert f"[./pants] error: {folder} " in run.stderr
    assert "rerun ./pants" in run.stderr
    assert "Traceback" not in run.output
    assert launcher.pants_got() is None


def test_the_token_reaches_git_in_pants_processes_and_their_configuration_is_the_same_every_run(
    launcher: Launcher,
) -> None:
    first = launcher.run("fetch").check()
    first_env = launcher.pants_got()["env"]
    second = launcher.run("fetch").check()
    second_env = launcher.pants_got()["env"]

    # The daemon answered git in a stripped environment, as Pants' processes have.
    assert "refs/tags/v0.1.5" in first.stdout and "refs/tags/v0.1.5" in second.stdout
    assert TOKEN not in json.dumps(first_env)
    # Git configuration is part of every Pants process's cache key: a different one per run would
    # rebuild the framework's resolve (and every PEX) every time.
    git_config = {name: value for name, value in first_env.items() if name.startswith("GIT_CONFIG")}
    assert "credential.helper" in git_config.values()
    assert git_config == {name: value for name, value in second_env.items() if name.startswith("GIT_CONFIG")}
    # The watcher and the daemon are gone (this machine's stale ones would fail the run above).
    assert credential_daemons.left_behind(launcher.socket_dir) == []


def test_where_the_framework_came_from_is_valid_json_whatever_the_mirror_is_called(
    launcher: Launcher, tmp_path: Path
) -> None:
    mirror = tmp_path / 'a "quoted" mirror' / "test_common_framework.git"
    make_framework_repository(SANDBOX_COPY / "3rdparty/framework-sample", mirror, ["v0.1.5"])

    launcher.repo.run("./pants", "0", env={**launcher.env(None), "FRAMEWORK_SOURCE": str(mirror)}).check()

    source = json.loads(launcher.pants_got()["env"]["FRAMEWORK_SOURCE_INFO"])
    assert source["repository"] == f"file://{mirror}"
    assert (source["source"], source["tag"]) == ("mirror", "v0.1.5")


def test_a_folder_that_is_not_a_git_repository_is_named_with_the_way_out(
    launcher: Launcher, tmp_path: Path
) -> None:
    folder = tmp_path / "not-a-repository"
    folder.mkdir()

    run = launcher.repo.run("./pants", "0", env={**launcher.env(None), "FRAMEWORK_SOURCE": str(folder)})

    assert run.returncode != 0
    assert f"FRAMEWORK_SOURCE={folder} is a directory, but not a git repository" in run.stderr
    assert "git clone --mirror" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("ending", ["success", "Pants fails", "launcher fails", "SIGTERM", "Ctrl-C"])
def test_no_daemon_or_socket_outlives_the_run(launcher: Launcher, ending: str) -> None:
    if ending == "success":
        launcher.run("0").check()
    elif ending == "Pants fails":
        assert launcher.run("3").returncode == 3
    elif ending == "launcher fails":
        # The token is accepted, so the daemon is up, but the tag is not there.
        run = launcher.run("0", repository="untagged.git")
        assert run.returncode != 0 and "Tag v0.1.5" in run.stderr
    else:
        process = launcher.popen("sleep")
        pants = launcher.wait_until_pants_runs()
        assert pants["pid"] == process.pid, "Pants runs under the launcher's pid (exec)"
        assert list(launcher.socket_dir.glob("*")), "the daemon's socket is there while Pants runs"
        if ending == "SIGTERM":
            os.kill(process.pid, signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
        process.communicate(timeout=30)
        assert process.returncode != 0

    assert credential_daemons.left_behind(launcher.socket_dir) == []
    if launcher.socket_dir.exists():
        assert stat.S_IMODE(launcher.socket_dir.lstat().st_mode) == 0o700


def test_a_run_that_ends_leaves_a_concurrent_run_its_token(launcher: Launcher) -> None:
    long_run = launcher.popen("sleep")
    launcher.wait_until_pants_runs()
    try:
        launcher.run("fetch").check()
    finally:
        long_run.terminate()
        long_run.communicate(timeout=30)
    # The long run's daemon is gone; another run still gets its own.
    assert "refs/tags/v0.1.5" in launcher.run("fetch").check().stdout
    assert credential_daemons.left_behind(launcher.socket_dir) == []


# ---- The served framework sample ----------------------------------------------------------
# Its folder is a fixed path in /tmp (it is in every Pants process's cache key, which remote
# caching needs equal on every machine). These tests plant a folder there in a private mount
# namespace of their own, so the machine's real folder is untouched.


def private_mount_namespace() -> bool:
    try:
        probe = ["unshare", "--user", "--map-root-user", "--mount", "true"]
        return subprocess.run(probe, capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


needs_mount_namespace = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not private_mount_namespace(),
    reason="needs unshare --user --mount (Linux user namespaces)",
)


def with_served_root(folder: Path) -> tuple[str, ...]:
    """A command prefix: in a private mount namespace where `folder` is the served sample's root."""
    SERVED_ROOT.mkdir(exist_ok=True)  # the mount point (the launcher would create it anyway)
    return (
        "unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
        f'mount --bind "$0" {SERVED_ROOT} && exec "$@"', str(folder),
    )  # fmt: skip


def plant_sample(root: Path, digest: str) -> str:
    """A framework repository at the served sample's path: tag v0.1.5, a commit of its own."""
    planted = root / digest
    planted.mkdir(parents=True)
    make_framework_repository(
        SANDBOX_COPY / "3rdparty/framework-sample", planted / "test_common_framework.git", ["v0.1.5"]
    )
    (planted / ".complete").touch()
    return subprocess.run(
        ["git", "--git-dir", str(planted / "test_common_framework.git"), "rev-parse", "v0.1.5^{commit}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@needs_mount_namespace
@pytest.mark.parametrize(
    "how",
    [
        "mode 777",
        pytest.param(
            "another user's",
            marks=pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder away needs root"),
        ),
    ],
)
def test_a_sample_someone_else_planted_is_never_used(launcher: Launcher, tmp_path: Path, how: str) -> None:
    root = tmp_path / "served"
    plant_sample(root, sample_digest(SANDBOX_COPY / "3rdparty/framework-sample"))
    os.chmod(root, 0o777)
    if how == "another user's":
        os.chown(root, NOBODY, NOBODY)
        os.chmod(root, 0o755)

    run = launcher.run("0", prefix=with_served_root(root), repository=None)

    assert run.returncode != 0, f"./pants used a planted sample:\n{run.output}"
    assert f"[./pants] error: {SERVED_ROOT} " in run.stderr
    assert "FRAMEWORK_SAMPLE_SERVE_DIR" in run.stderr
    assert "Traceback" not in run.output
    assert launcher.pants_got() is None


@needs_mount_namespace
def test_a_failure_to_digest_the_sample_stops_the_launcher(
    launcher: Launcher, repo: RepoCopy, tmp_path: Path
) -> None:
    """Main's launcher computed the served path as `local served=".../$(digest)"`, which hid a
    failed digest: it went on with the served root itself as the sample's folder, and emptied it."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "someone-else's-sample").mkdir()
    sample = repo.path("3rdparty/framework-sample")
    sample.rename(sample.with_name("moved-away"))
    try:
        run = launcher.run("0", prefix=with_served_root(root), repository=None)
    finally:
        sample.with_name("moved-away").rename(sample)

    assert [p.name for p in root.iterdir()] == ["someone-else's-sample"]
    assert run.returncode != 0
    assert f"[./pants] error: {sample} is missing" in run.stderr
    assert "Traceback" not in run.output
    assert launcher.pants_got() is None


@needs_mount_namespace
def test_a_sample_folder_others_can_write_is_rebuilt_not_used(launcher: Launcher, tmp_path: Path) -> None:
    root = tmp_path / "served"
    digest = sample_digest(SANDBOX_COPY / "3rdparty/framework-sample")
    planted_commit = plant_sample(root, digest)
    os.chmod(root / digest, 0o777)

    launcher.run("0", prefix=with_served_root(root), repository=None).check()

    source = json.loads(launcher.pants_got()["env"]["FRAMEWORK_SOURCE_INFO"])
    served = root / digest
    assert source["source"] == "sample"
    assert source["commit"] != planted_commit
    assert (
        source["commit"]
        == subprocess.run(
            ["git", "--git-dir", str(served / "test_common_framework.git"), "rev-parse", "v0.1.5^{commit}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    assert stat.S_IMODE(served.stat().st_mode) & 0o022 == 0
    # What is served now is the sample built here, and only what the launcher published.
    assert sorted(p.name for p in root.iterdir()) == [digest]
    assert (served / ".complete").exists()
    shutil.rmtree(root)


# ---- Without GNU tools, as on macOS -------------------------------------------------------

# What macOS has too: POSIX utilities, and a few more its base system ships. Nothing else is on
# the PATH; sha256sum, flock, timeout, realpath, setsid and the rest of GNU/util-linux are not.
MACOS_TOOLS = (
    "awk basename bash cat chmod cmp cp cut date diff dirname env expr find git grep gzip head "
    "id kill ln ls mkdir mktemp mv ps readlink rm rmdir sed sh shasum sleep sort stat tail tar tee "
    "touch tr true false uname unzip wc which xargs zip"
).split()
# Options that exist only in the GNU versions (or mean something else in the BSD ones).
GNU_ONLY = {
    "cp": "-T|-t|--*",
    "date": "-d|--*",
    "find": "-printf|-fprintf|-regextype|-readable|-writable|-executable",
    "grep": "-P|--perl-regexp",
    "head": "--*",
    "ls": "--*",
    "mktemp": "--*",
    "mv": "-T|-t|--*",
    "readlink": "-f|-e|-m|--*",
    "sed": "-i|--*",
    "sort": "-V|--*",
    "stat": "-c|--*",
    "tail": "--*",
    "xargs": "-r|-d|--*",
}
SHIM = """#!/bin/sh
# {tool} as macOS has it: options only GNU's has are refused.
for argument in "$@"; do
  case "$argument" in
    {patterns}) echo "{tool}: $argument is a GNU-only option (not on macOS)" >&2; exit 64 ;;
  esac
done
exec {real} "$@"
"""


def macos_like_path(folder: Path) -> str:
    folder.mkdir()
    for tool in MACOS_TOOLS:
        real = shutil.which(tool)
        assert real, f"{tool} is not on this machine's PATH"
        if tool in GNU_ONLY:
            (folder / tool).write_text(SHIM.format(tool=tool, patterns=GNU_ONLY[tool], real=real))
            (folder / tool).chmod(0o755)
        else:
            (folder / tool).symlink_to(real)
    return str(folder)


@needs_mount_namespace
def test_bootstrap_and_framework_source_need_no_gnu_tools(repo: RepoCopy, tmp_path: Path) -> None:
    """The launcher builds the Pex tool, serves the sample and Pants packages the framework layer
    with only macOS's tools on PATH. The Pants virtualenv is the machine's (installing it takes
    venv and pip only); the sample is served into an empty folder in a private mount namespace,
    at its usual path, so Pants' caches still apply."""
    cache = tmp_path / "bootstrap"
    cache.mkdir()
    venv = f"pants-{pants_toml()['GLOBAL']['pants_version']}"
    (cache / venv).symlink_to(real_bootstrap_cache() / venv)
    path = macos_like_path(tmp_path / "bin")
    digest = sample_digest(SANDBOX_COPY / "3rdparty/framework-sample")

    run = repo.run(
        "unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
        f'mount -t tmpfs -o mode=0755 tmpfs {SERVED_ROOT} && PATH="$0" exec "$@"', path,
        "./pants", "package", "3rdparty/python:framework",
        # No pantsd: Pants' processes must run in this mount namespace, not in a daemon's.
        env={"LAMBDA_BOOTSTRAP_CACHE": str(cache), "FRAMEWORK_SOURCE": "sample", "PANTS_PANTSD": "false"},
    )  # fmt: skip

    run.check()
    assert "Building the Pex tool" in run.stderr and "Fetching uv" in run.stderr
    assert f"Serving the framework sample from {SERVED_ROOT}/{digest} ..." in run.stderr
    for complaint in ("GNU-only option", "command not found", "No such file or directory"):
        assert complaint not in run.output
    with zipfile.ZipFile(repo.path("dist/3rdparty.python/framework.zip")) as zf:
        source = json.loads(zf.read("python/framework-source.json"))
    assert source["source"] == "sample" and source["tag"] == "v0.1.5"


# ---- Ctrl-C means stop ---------------------------------------------------------------------

# Stands in for Pants 2.17's native client, which execs $_PANTS_SERVER_EXE (the Python client)
# whenever its session with pantsd fails: when there is no pantsd to use, and also when the user
# interrupts a session. The Python client would then run the whole command again.
FAKE_NATIVE_CLIENT = """#!{python}
import os, signal, sys, time

def fall_back(*_):
    os.execv(os.environ["_PANTS_SERVER_EXE"], [os.environ["_PANTS_SERVER_EXE"], *sys.argv[1:]])

signal.signal(signal.SIGINT, fall_back)
if sys.argv[1] == "no-daemon":
    fall_back()
if sys.argv[1] == "session":
    with open(os.environ["FAKE_SESSION_STARTED"], "w"):
        pass
    time.sleep(60)
sys.exit(int(sys.argv[2]))
"""


@pytest.fixture
def native_launcher(launcher: Launcher, fake_cache: Path, tmp_path: Path) -> Launcher:
    """The launcher, with a bootstrap cache whose Pants has the stand-in native client."""
    cache = tmp_path / "bootstrap"
    shutil.copytree(fake_cache, cache, symlinks=True)
    venv = cache / f"pants-{pants_toml()['GLOBAL']['pants_version']}"
    python = os.readlink(venv / "bin/python")
    (venv / "bin/native_client").write_text(FAKE_NATIVE_CLIENT.format(python=python))
    (venv / "bin/native_client").chmod(0o755)
    launcher.cache = cache
    return launcher


def test_an_interrupted_session_is_never_run_again_and_exits_130(
    native_launcher: Launcher, tmp_path: Path
) -> None:
    started = tmp_path / "session-started"
    process = native_launcher.popen("session", env={"FAKE_SESSION_STARTED": str(started)})
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists(), "the native client never started its session"

    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130, stderr
    assert native_launcher.pants_got() is None, "the Python client ran the command again"
    assert not list((native_launcher.cache / "native-client-fallback").iterdir())


def test_without_a_daemon_the_python_client_runs_the_command(native_launcher: Launcher) -> None:
    run = native_launcher.run("no-daemon")

    got = native_launcher.pants_got()
    assert got is not None and got["argv"] == ["no-daemon"], run.output
    assert run.returncode == 0, run.output


def test_the_native_clients_exit_code_is_the_commands(native_launcher: Launcher) -> None:
    run = native_launcher.run("done", "3")

    assert run.returncode == 3
    assert native_launcher.pants_got() is None
