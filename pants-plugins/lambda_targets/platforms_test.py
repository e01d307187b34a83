from __future__ import annotations

import pytest
from lambda_targets.platforms import LambdaPlatform, UnknownLambdaPlatform


def test_python311_x86_64_accepts_manylinux_up_to_glibc_2_26() -> None:
    tags = LambdaPlatform("python3.11", "x86_64").compatible_tags()

    assert tags[0] == "cp311-cp311-manylinux_2_26_x86_64"
    assert "cp311-cp311-manylinux2014_x86_64" in tags
    assert "cp311-abi3-manylinux2014_x86_64" in tags  # opencv-python-headless ships abi3
    assert "cp311-cp311-manylinux1_x86_64" in tags
    assert tags[-1] == "py30-none-any"
    assert "py3-none-any" in tags
    # numpy 2.3+ ships only manylinux_2_28 wheels for x86_64: they must not fit.
    assert not [t for t in tags if "manylinux_2_27" in t or "manylinux_2_28" in t]
    # A locally built wheel would be tagged linux_x86_64 and linked against the wrong glibc.
    assert not [t for t in tags if t.endswith("-linux_x86_64")]


def test_tag_order_matches_a_live_interpreter() -> None:
    platforms = LambdaPlatform("python3.11", "x86_64").platform_tags()

    assert platforms[:3] == ["manylinux_2_26_x86_64", "manylinux_2_25_x86_64", "manylinux_2_24_x86_64"]
    # Legacy aliases follow the glibc version they stand for.
    assert platforms[platforms.index("manylinux_2_17_x86_64") + 1] == "manylinux2014_x86_64"
    assert platforms[platforms.index("manylinux_2_12_x86_64") + 1] == "manylinux2010_x86_64"
    assert platforms[-2:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64"]


@pytest.mark.parametrize("runtime", ["python3.12", "python3.13"])
def test_amazon_linux_2023_runtimes_accept_glibc_2_34(runtime: str) -> None:
    platform = LambdaPlatform(runtime, "x86_64")

    assert platform.glibc == (2, 34)
    assert platform.platform_tags()[0] == "manylinux_2_34_x86_64"


def test_arm64_uses_aarch64_tags_from_glibc_2_17() -> None:
    platform = LambdaPlatform("python3.11", "arm64")

    assert platform.platform_tags()[0] == "manylinux_2_26_aarch64"
    assert platform.platform_tags()[-1] == "manylinux2014_aarch64"
    assert platform.marker_environment()["platform_machine"] == "aarch64"


def test_python313_arm64_is_cp313_on_aarch64_up_to_glibc_2_34() -> None:
    platform = LambdaPlatform("python3.13", "arm64")
    tags = platform.compatible_tags()

    assert platform.python_version == (3, 13) and platform.machine == "aarch64"
    assert tags[0] == "cp313-cp313-manylinux_2_34_aarch64"
    # numpy 2.5 ships cp313 manylinux_2_28 aarch64 wheels: they fit Amazon Linux 2023.
    assert "cp313-cp313-manylinux_2_28_aarch64" in tags
    assert "cp313-abi3-manylinux2014_aarch64" in tags
    # aarch64 manylinux starts at glibc 2.17, and nothing for another CPU or Python fits.
    assert not [t for t in tags if "manylinux_2_16" in t or "manylinux1" in t or "x86_64" in t]
    assert not [t for t in tags if t.startswith("cp312-cp312")]
    assert platform.complete_platform()["marker_environment"]["python_version"] == "3.13"


def test_python312_x86_64_accepts_wheels_up_to_glibc_2_34_but_not_newer() -> None:
    tags = LambdaPlatform("python3.12", "x86_64").compatible_tags()

    assert tags[0] == "cp312-cp312-manylinux_2_34_x86_64"
    assert "cp312-abi3-manylinux2014_x86_64" in tags
    assert not [t for t in tags if "manylinux_2_35" in t or "manylinux_2_39" in t]


def test_marker_environment_leaves_out_what_aws_may_change() -> None:
    markers = LambdaPlatform("python3.11", "x86_64").marker_environment()

    assert markers["python_version"] == "3.11"
    assert markers["sys_platform"] == "linux"
    assert "platform_release" not in markers


def test_the_patch_release_is_the_one_pip_assumes_when_locking() -> None:
    # lock.py runs uv with --python-version 3.11, which uv takes as 3.11.0.
    assert LambdaPlatform("python3.11", "x86_64").marker_environment()["python_full_version"] == "3.11.0"


def test_complete_platform_is_what_pex_reads() -> None:
    complete = LambdaPlatform("python3.9", "x86_64").complete_platform()

    assert set(complete) == {"marker_environment", "compatible_tags"}
    assert complete["compatible_tags"][0] == "cp39-cp39-manylinux_2_26_x86_64"


@pytest.mark.parametrize("runtime, architecture", [("python3.8", "x86_64"), ("python3.11", "amd64")])
def test_unknown_platforms_are_refused(runtime: str, architecture: str) -> None:
    with pytest.raises(UnknownLambdaPlatform, match="known:"):
        LambdaPlatform(runtime, architecture)


@pytest.mark.parametrize(
    "runtime, architecture, expected",
    [
        ("python3.9", "x86_64", "x86_64-manylinux_2_17"),
        ("python3.11", "x86_64", "x86_64-manylinux_2_17"),
        ("python3.11", "arm64", "aarch64-manylinux_2_17"),
        ("python3.12", "x86_64", "x86_64-manylinux_2_34"),
        ("python3.13", "arm64", "aarch64-manylinux_2_34"),
    ],
)
def test_uv_gets_the_newest_manylinux_it_offers_that_the_runtime_loads(
    runtime: str, architecture: str, expected: str
) -> None:
    platform = LambdaPlatform(runtime, architecture)

    assert platform.uv_python_platform == expected
    # Never newer than the runtime's glibc: such wheels would fail to load on Lambda.
    glibc = tuple(int(part) for part in expected.rsplit("_", 2)[-2:])
    assert glibc <= platform.glibc
