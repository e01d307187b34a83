"""The AWS Lambda Python platforms, derived from facts rather than copied from a Lambda image.

A Lambda runtime fixes three things that decide which wheels can run on it:

- the CPython minor version (`python3.11` -> cp311);
- the C library of its Amazon Linux base: Amazon Linux 2 (python3.9-3.11) has glibc 2.26,
  Amazon Linux 2023 (python3.12 and later) has glibc 2.34. A manylinux wheel runs only where
  glibc is at least as new as the one it was built against;
- the CPU architecture (x86_64, or arm64 which Python calls aarch64).

From those, `packaging.tags` gives the ordered list of wheel tags such an interpreter accepts,
the same way `pip` computes it on a live machine. Pex takes that list, plus the PEP 508 marker
values, as a "complete platform". See https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
and https://docs.pex-tool.org/buildingpex.html#complete-platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging import tags

# Runtime identifier -> glibc of the Amazon Linux release it runs on.
_RUNTIME_GLIBC = {
    "python3.9": (2, 26),
    "python3.10": (2, 26),
    "python3.11": (2, 26),
    "python3.12": (2, 34),
    "python3.13": (2, 34),
    "python3.14": (2, 34),
}

# Lambda's architecture name -> the machine name in wheel tags and `platform.machine()`.
_ARCHITECTURE_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}

# The oldest glibc that manylinux tags describe, per machine (PEP 600; as `packaging` does).
_OLDEST_MANYLINUX_GLIBC = {"x86_64": (2, 5), "aarch64": (2, 17)}

# PEP 513/571/599 names for the glibc versions that had a legacy manylinux alias.
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}

# The glibc versions of the manylinux platforms uv's `--python-platform` offers (uv 0.13: 2.17,
# as manylinux2014, then 2.28 and up; see `uv pip install --help`).
_UV_MANYLINUX_GLIBC = ((2, 17), *((2, minor) for minor in (28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)))

KNOWN_RUNTIMES = tuple(_RUNTIME_GLIBC)
KNOWN_ARCHITECTURES = tuple(_ARCHITECTURE_MACHINE)


class UnknownLambdaPlatform(ValueError):
    pass


@dataclass(frozen=True)
class LambdaPlatform:
    runtime: str
    architecture: str

    def __post_init__(self) -> None:
        if self.runtime not in _RUNTIME_GLIBC:
            raise UnknownLambdaPlatform(
                f"Unknown Lambda runtime {self.runtime!r}; known: {', '.join(KNOWN_RUNTIMES)}."
            )
        if self.architecture not in _ARCHITECTURE_MACHINE:
            raise UnknownLambdaPlatform(
                f"Unknown Lambda architecture {self.architecture!r}; known: "
                f"{', '.join(KNOWN_ARCHITECTURES)}."
            )

    @property
    def python_version(self) -> tuple[int, int]:
        major, minor = self.runtime[len("python") :].split(".")
        return int(major), int(minor)

    @property
    def glibc(self) -> tuple[int, int]:
        return _RUNTIME_GLIBC[self.runtime]

    @property
    def machine(self) -> str:
        return _ARCHITECTURE_MACHINE[self.architecture]

    @property
    def slug(self) -> str:
        """A file-name-friendly id, e.g. `python3.11-x86_64`."""
        return f"{self.runtime}-{self.architecture}"

    @property
    def uv_python_platform(self) -> str:
        """uv's `--python-platform` for this runtime: the newest manylinux it offers that the
        runtime's glibc can load. Amazon Linux 2 (glibc 2.26) gets `x86_64-manylinux_2_17`, since
        uv offers nothing between 2.17 and 2.28, so a wheel built for glibc 2.18-2.26 only is
        passed over (the lock, also uv, then picks a release with an older wheel); Amazon Linux
        2023 gets `manylinux_2_34` exactly. Upstream Pants 2.34 maps them the same way."""
        glibc = max(version for version in _UV_MANYLINUX_GLIBC if version <= self.glibc)
        return f"{self.machine}-manylinux_{glibc[0]}_{glibc[1]}"

    @property
    def uv_python_platform_newest(self) -> str:
        """The same CPU with the newest glibc uv knows: what a wheel too new for the runtime
        may be built for (the lock command names such releases)."""
        glibc = max(_UV_MANYLINUX_GLIBC)
        return f"{self.machine}-manylinux_{glibc[0]}_{glibc[1]}"

    @property
    def python_version_string(self) -> str:
        """`3.11`: uv's `--python-version`."""
        return ".".join(map(str, self.python_version))

    def describe(self) -> str:
        return (
            f"Lambda {self.runtime} {self.architecture} (cp{''.join(map(str, self.python_version))},"
            f" glibc {'.'.join(map(str, self.glibc))})"
        )

    def platform_tags(self) -> list[str]:
        """`manylinux_2_26_x86_64`, `manylinux_2_25_x86_64`, ... `manylinux1_x86_64`.

        Newest first, each legacy alias right after the glibc version it stands for, as
        `packaging.tags` orders them for a live interpreter on that glibc.

        A live interpreter would also accept a bare `linux_x86_64` tag. We leave it out on
        purpose: no index serves such wheels, so the only ones that exist are built on the build
        machine, against its newer glibc, and would break on Lambda.
        """
        major, newest_minor = self.glibc
        oldest_major, oldest_minor = _OLDEST_MANYLINUX_GLIBC[self.machine]
        assert major == oldest_major, "every Lambda runtime uses glibc 2.x"
        platforms = []
        for minor in range(newest_minor, oldest_minor - 1, -1):
            platforms.append(f"manylinux_{major}_{minor}_{self.machine}")
            legacy = _LEGACY_MANYLINUX.get((major, minor))
            if legacy:
                platforms.append(f"{legacy}_{self.machine}")
        return platforms

    def compatible_tags(self) -> list[str]:
        """Every wheel tag this runtime accepts, most specific first (what `pip debug` lists)."""
        python_version = self.python_version
        interpreter = f"cp{python_version[0]}{python_version[1]}"
        platforms = self.platform_tags()
        ordered = [
            *tags.cpython_tags(python_version, abis=[interpreter], platforms=platforms),
            *tags.compatible_tags(python_version, interpreter=interpreter, platforms=platforms),
        ]
        return [str(tag) for tag in ordered]

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values. Values AWS may change under us (the kernel) are left out, so a
        requirement marker that needs one fails loudly instead of guessing.

        `python_full_version` is the runtime's X.Y.0, as pip takes `--python-version X.Y` when
        the lockfile is made (3rdparty/python/lock.py): `Requires-Python` and markers are then
        judged the same way by the lock and by Pex. Without it, Pex checks every link's
        `Requires-Python` against each of 31 guessed patch releases, X.Y.0 to X.Y.30: 20 of the
        PyPI layer's 37 s cold resolve on 2 cores, for the same result.
        """
        major, minor = self.python_version
        return {
            "implementation_name": "cpython",
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_system": "Linux",
            "python_full_version": f"{major}.{minor}.0",
            "python_version": f"{major}.{minor}",
            "sys_platform": "linux",
        }

    def complete_platform(self) -> dict[str, object]:
        """The Pex complete platform JSON object."""
        return {
            "marker_environment": self.marker_environment(),
            "compatible_tags": self.compatible_tags(),
        }
