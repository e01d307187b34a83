"""What ./pants and build-support/framework-source.sh need beyond POSIX shell tools.

Run with the CPython 3.9 that runs Pants (standard library only), so the launcher needs no
GNU-only tool (sha256sum, `mv -T`, `stat -c`, ...) and works the same on Linux and macOS:

    launcher_util.py sha256 FILE
    launcher_util.py private-dir DIR                  # create or verify a folder only we can read
    launcher_util.py served-sample SAMPLE ROOT        # where the framework sample is served from
    launcher_util.py publish STAGING DEST             # move a privately built folder into place
    launcher_util.py source-info KEY=VALUE ...        # FRAMEWORK_SOURCE_INFO, as JSON
    launcher_util.py pip-repositories                 # pip's indexes and find-links, for Pants

A refusal is one `[./pants] error: ...` message that names the folder and the fix, exit code 1.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys

# json and shutil, which import much more, only in the commands that use them: every ./pants runs
# this once or twice, and start-up time is most of what it costs.


class Refused(Exception):
    pass


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sample_digest(sample: str) -> str:
    """The first 16 hex digits of what this printed, byte for byte, so the served path (which is
    in every Pants process's cache key) is unchanged:

        find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z |
          xargs -0 sha256sum | sha256sum
    """
    if not os.path.isdir(sample):
        raise Refused(
            f"{sample} is missing: it holds the framework sample that FRAMEWORK_SOURCE=sample (the "
            f"default) serves. Restore it (git checkout -- 3rdparty/framework-sample), or set "
            f"FRAMEWORK_SOURCE (see docs/framework.md), then rerun ./pants."
        )
    files = []

    def unreadable(error: OSError) -> None:
        raise error

    for folder, subfolders, names in os.walk(sample, onerror=unreadable):
        subfolders.sort()
        for name in names:
            path = os.path.join(folder, name)
            relative = "./" + os.path.relpath(path, sample).replace(os.sep, "/")
            if "/__pycache__/" in relative or name.endswith(".pyc"):
                continue
            if stat.S_ISREG(os.lstat(path).st_mode):
                files.append((relative.encode(), path))
    listing = b"".join(
        sha256_file(path).encode() + b"  " + relative + b"\n" for relative, path in sorted(files)
    )
    return hashlib.sha256(listing).hexdigest()[:16]


def _why_untrusted(path: str, st: os.stat_result, forbidden_bits: int) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    if st.st_uid != os.geteuid():
        return f"is owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    if st.st_mode & forbidden_bits:
        return f"has mode {stat.S_IMODE(st.st_mode):04o}, which opens it to other users"
    return None


def _check_parent(path: str) -> None:
    # Whoever may rename entries in the parent can swap our folder for theirs after we checked
    # it. /tmp is world-writable but sticky: there only a folder's owner can rename it.
    parent = os.path.dirname(os.path.abspath(path))
    st = os.stat(parent)
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX and st.st_uid != os.geteuid():
        raise Refused(
            f"{parent} can be written by other users and is not sticky (like /tmp), so the folder "
            f"{path} could be swapped for another user's. Use a folder of your own."
        )


def own_folder(path: str, mode: int, forbidden_bits: int, fix: str) -> bool:
    """Creates `path` (atomically, with `mode`) or checks that the existing one is a real folder
    that is ours and that no one else can write to (nor read, when `forbidden_bits` says so).
    Returns whether it was created."""
    _check_parent(path)
    try:
        os.mkdir(path, mode)
        created = True
    except FileExistsError:
        created = False
    why = _why_untrusted(path, os.lstat(path), forbidden_bits)
    if why:
        raise Refused(f"{path} {why}. {fix}")
    return created


def private_dir(path: str) -> None:
    """The folder for the credential daemon's socket: anyone who can enter it can ask the
    daemon for GH_TOKEN, and anyone who could create it first would receive the token."""
    own_folder(
        path,
        0o700,
        0o077,
        f"GH_TOKEN is handed to a daemon whose socket lives there, so ./pants uses it only if it "
        f"is yours and private (mode 700). If you did not create it, someone else may have: "
        f"remove it (rm -rf '{path}') or set XDG_RUNTIME_DIR to a private folder of yours, then "
        f"rerun ./pants.",
    )


def served_sample(sample: str, root: str) -> str:
    """Prints `ok PATH` when the sample is served, verified, from PATH, or `build PATH` when it
    must be built (privately, then published with `publish`)."""
    fix = (
        "The framework sample served from there would be built into your framework layer, so "
        f"./pants uses it only if it is yours and no one else can write to it. Remove it "
        f"(rm -rf '{root}'), or serve the sample from a folder of your own with "
        f"FRAMEWORK_SAMPLE_SERVE_DIR=<folder> (builds then share cache entries only with builds "
        f"that use the same folder), then rerun ./pants."
    )
    os.makedirs(os.path.dirname(os.path.abspath(root)), exist_ok=True)  # for FRAMEWORK_SAMPLE_SERVE_DIR
    own_folder(root, 0o755, 0o022, fix)
    served = os.path.join(root, sample_digest(sample))
    try:
        st = os.lstat(served)
    except FileNotFoundError:
        return f"build {served}"
    complete = os.path.isfile(os.path.join(served, ".complete"))
    if _why_untrusted(served, st, 0o022) or not complete:
        # Only we can create or rename entries in a root that is ours and closed to others, so
        # this is a leftover of ours (an older launcher's half-built folder, say): rebuild it.
        if stat.S_ISDIR(st.st_mode):
            import shutil

            shutil.rmtree(served)
        else:
            os.unlink(served)
        return f"build {served}"
    return f"ok {served}"


def publish(staging: str, dest: str) -> None:
    """rename(2) is atomic: readers see no folder or the complete one. It fails if `dest` is
    already there (another run published first), and then that one stays."""
    try:
        os.rename(staging, dest)
    except OSError:
        if not os.path.isdir(dest):
            raise
        import shutil

        shutil.rmtree(staging)


def source_info(pairs: list[str]) -> str:
    import json

    return json.dumps(dict(pair.split("=", 1) for pair in pairs), sort_keys=True)


PYPI = "https://pypi.org/simple/"


def _pip_config_files() -> list[str]:
    """pip's configuration files, in the order pip reads them (later ones win): global, user,
    then PIP_CONFIG_FILE; none at all when PIP_CONFIG_FILE is the null device, as for pip."""
    config_file = os.environ.get("PIP_CONFIG_FILE")
    if config_file == os.devnull:
        return []
    home = os.path.expanduser("~")
    xdg_dirs = (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
    user_dir = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return [
        *(os.path.join(folder, "pip", "pip.conf") for folder in xdg_dirs),
        "/etc/pip.conf",
        "/Library/Application Support/pip/pip.conf",
        os.path.join(home, ".pip", "pip.conf"),
        os.path.join(home, "Library", "Application Support", "pip", "pip.conf"),
        os.path.join(user_dir, "pip", "pip.conf"),
        *([config_file] if config_file else []),
    ]


def pip_repositories() -> str:
    """Where pip on this machine looks for packages (index-url, extra-index-url, find-links,
    no-index from pip's configuration files and PIP_* variables, as `pip download` reads them),
    as two lines of Pants list options: [python-repos] indexes, then find_links. Nothing when
    pip has no such configuration: Pants' defaults (PyPI) then apply."""
    import configparser
    import json

    settings: dict[str, str] = {}
    keys = ("index-url", "extra-index-url", "find-links", "no-index")
    for path in _pip_config_files():
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except configparser.Error as e:
            raise Refused(f"{path}: pip's configuration cannot be read ({e}). Fix it, then rerun ./pants.")
        for section in ("global", "download"):  # Pex runs `pip download`
            if parser.has_section(section):
                for key, value in parser.items(section):
                    if key.replace("_", "-") in keys:
                        settings[key.replace("_", "-")] = value
    for key in keys:
        value = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        if value is not None:
            settings[key] = value
    if not settings:
        return ""
    no_index = settings.get("no-index", "").strip().lower() in ("1", "true", "yes", "on")
    indexes = [] if no_index else [settings.get("index-url", "").strip() or PYPI]
    indexes += [] if no_index else settings.get("extra-index-url", "").split()
    find_links = [
        link if "://" in link else os.path.abspath(os.path.expanduser(link))
        for link in settings.get("find-links", "").split()
    ]
    return json.dumps(indexes) + "\n" + json.dumps(find_links)


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    try:
        if command == "sha256":
            print(sha256_file(args[0]))
        elif command == "private-dir":
            private_dir(args[0])
        elif command == "served-sample":
            print(served_sample(args[0], args[1]))
        elif command == "publish":
            publish(args[0], args[1])
        elif command == "source-info":
            print(source_info(args))
        elif command == "pip-repositories":
            print(pip_repositories())
        else:
            raise Refused(f"launcher_util.py: unknown command {command}")
    except Refused as e:
        print(f"[./pants] error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"[./pants] error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        # Ctrl-C while ./pants is still getting ready: stop, as the shell does, without a traceback.
        sys.exit(130)
