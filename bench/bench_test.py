from __future__ import annotations

import ast
from pathlib import Path

from lambda_targets.platforms import LambdaPlatform

from bench.bench import MEASUREMENTS
from bench.builds import pip_platform_flags, uv_platform_flags

BENCH = Path(__file__).parent


def test_every_measurement_module_is_run_by_the_runner_under_a_name_of_its_own() -> None:
    # A module is a measurement if it defines `measure`: found, so a new one cannot be forgotten.
    defining = {
        path.stem
        for path in BENCH.glob("*.py")
        if not path.name.endswith("_test.py")
        and any(
            isinstance(node, ast.FunctionDef) and node.name == "measure"
            for node in ast.parse(path.read_text()).body
        )
    }
    assert defining == {m.__name__.rpartition(".")[2] for m in MEASUREMENTS}
    names = [m.NAME for m in MEASUREMENTS]
    assert len(set(names)) == len(names), names
    assert all(isinstance(m.BY_DEFAULT, bool) and m.ABOUT for m in MEASUREMENTS)


def test_the_seed_style_builds_install_for_the_platform_the_metadata_names() -> None:
    platform = LambdaPlatform("python3.12", "arm64")
    pip = pip_platform_flags(platform)
    assert pip[pip.index("--python-version") + 1] == "3.12"
    assert "manylinux_2_34_aarch64" in pip and "manylinux2014_aarch64" in pip
    assert not any("x86_64" in flag for flag in pip)
    uv = uv_platform_flags(platform)
    assert uv[uv.index("--python-platform") + 1] == "aarch64-manylinux_2_34"
    assert uv[uv.index("--python-version") + 1] == "3.12"
