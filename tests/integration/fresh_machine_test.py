"""The README's main job on a fresh machine: a new clone, an empty home, empty caches.

This machine's caches outside the repository (~/.pex, ~/.cache: Pants' store and named caches,
pip's, uv's, the launcher's bootstrap) would hide a first run that fails: Pex 2.1.137 once
poisoned its own cache on a first build, and a warm ~/.pex kept CI green. So ./pants runs here in
a private mount namespace (`unshare --mount`, as root), where the user's home is an empty folder.
Only what a new machine is set up with comes along, read-only: the pyenv interpreters and pip's
configuration. Everything else, Pants itself included, is installed from PyPI as on a new machine.

It asserts what the README promises (every artifact built, the emulator deployed to) and that
nothing was written to ~/.pex: Pex keeps its cache in Pants' named caches, where Pants puts it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest
from integration.repo_copy import PantsRun, RepoCopy

# The machine's own set-up under the home folder, which a new machine has before any run.
MACHINE_SETUP = (".pyenv", ".config/pip")
# The README's main job, as its quick start writes it.
MAIN_JOB = "./pants package :: && ./pants run deploy -- apply"

# Binds the machine's set-up into the empty home, then the empty home over the real one
# (recursively, so that the set-up comes along). Runs as root in a new mount namespace.
ENTER_FRESH_MACHINE = """
set -eu
home="$1" fresh="$2"; shift 2
for setup in %s; do
  if [ -e "$home/$setup" ]; then
    mkdir -p "$fresh/$setup"
    mount --bind -o ro "$home/$setup" "$fresh/$setup"
  fi
done
mount --rbind "$fresh" "$home"
exec bash -c "$@"
""" % " ".join(MACHINE_SETUP)


def can_make_mount_namespaces() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(
    not can_make_mount_namespaces(),
    reason="needs root and `unshare --mount` to hide this machine's caches (as CI has)",
)
def test_the_readme_main_job_passes_on_a_fresh_machine(tmp_path: Path) -> None:
    home = pwd.getpwuid(os.getuid()).pw_dir
    fresh_home = tmp_path / "home"
    fresh_home.mkdir()
    repo = RepoCopy(tmp_path / "repo")
    # Nothing points at this machine's caches: ./pants and Pants use their defaults, under the
    # (empty) home. A new machine serves the framework sample afresh too.
    env = {
        **{
            k: v
            for k, v in repo.environment().items()
            if k not in ("LAMBDA_BOOTSTRAP_CACHE", "XDG_CACHE_HOME")
        },
        "HOME": home,
        "FRAMEWORK_SAMPLE_SERVE_DIR": str(tmp_path / "framework-sample"),
    }
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", ENTER_FRESH_MACHINE]
    argv += ["fresh-machine", home, str(fresh_home), MAIN_JOB]

    process = subprocess.run(argv, cwd=repo.root, env=env, capture_output=True, text=True, timeout=1500)
    repo.stop_pantsd()
    run = PantsRun(argv, process.returncode, process.stdout, process.stderr)

    run.check()
    # It was a first run: everything was installed from PyPI.
    for step in ("Installing Pants", "Building the Pex tool", "Fetching uv"):
        assert step in run.stderr, f"{step!r} not in the output: not a fresh machine"
    # Every artifact the README lists, built and then deployed.
    built = sorted(str(p.relative_to(repo.root / "dist")) for p in (repo.root / "dist").rglob("*.zip"))
    assert "3rdparty.python/pypi.zip" in built and "3rdparty.python/framework.zip" in built
    assert [name for name in built if name.startswith("src.python.")], built
    assert "published" in run.output.lower(), run.output[-3000:]
    # Pex kept its cache where Pants told it to, and nothing in the user's ~/.pex.
    assert not (fresh_home / ".pex").exists(), "a Pex process wrote to ~/.pex instead of PEX_ROOT"
    pex_root = fresh_home / ".cache/pants/named_caches/pex_root"
    assert pex_root.is_dir() and any(pex_root.iterdir())
    assert any((fresh_home / ".cache/pants/named_caches/uv").iterdir())
