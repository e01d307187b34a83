"""Builds a real layer and a real function with Pants' engine, then opens the zips.

Hermetic: the requirements are wheels written by the test into a find-links folder, so no index
is needed. uv is the project's own pinned uv, which ./pants fetched.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import zipfile
from pathlib import Path

import pytest
import toml
from lambda_artifacts import size_limit
from lambda_targets import register
from lambda_targets import rules as lambda_rules
from lambda_targets.rules import PythonAwsLambdaFieldSet, PythonAwsLambdaLayerFieldSet
from lambda_targets.target_types import PythonAWSLambda
from pants.backend.python.dependency_inference.rules import import_rules
from pants.backend.python.goals import package_pex_binary
from pants.backend.python.target_types import PythonRequirementTarget, PythonSourcesGeneratorTarget
from pants.backend.python.target_types_rules import rules as python_target_types_rules
from pants.backend.python.util_rules import pex_cli as pex_cli_rules
from pants.backend.python.util_rules import pex_from_targets
from pants.core.goals import package
from pants.core.goals.package import BuiltPackage
from pants.core.target_types import rules as core_target_types_rules
from pants.engine.addresses import Address
from pants.engine.fs import DigestContents
from pants.engine.internals.scheduler import ExecutionError
from pants.engine.target import InvalidFieldException, InvalidTargetException
from pants.testutil.rule_runner import QueryRule, RuleRunner, engine_error

PANTS_TOML = Path("pants.toml")
# importlib.util.MAGIC_NUMBER of every CPython 3.13 release (Lib/importlib/_bootstrap_external.py).
CPYTHON_313_MAGIC = (3571).to_bytes(2, "little") + b"\r\n"


def wheel(name: str, version: str, files: dict[str, str], tag: str = "py3-none-any") -> tuple[str, bytes]:
    """A minimal wheel (pure Python unless `tag` says otherwise)."""
    dist_info = f"{name}-{version}.dist-info"
    contents = {
        **files,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": (f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"),
    }
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    contents[f"{dist_info}/RECORD"] = "\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path, text in contents.items():
            zf.writestr(path, text)
    return f"{name}-{version}-{tag}.whl", buffer.getvalue()


def lockfile(runtime: str, architecture: str, pins: dict[str, list[str]] | None = None) -> str:
    """A lockfile as the lock command writes it for a Lambda platform (header trimmed): each pin,
    and which top-level requirements need it."""
    platform = {"runtime": runtime, "architecture": architecture}
    pins = {"greeting==1.0": ["greeting"]} if pins is None else pins
    header = json.dumps(
        {
            "version": 3,
            "valid_for_interpreter_constraints": ["CPython==3.11.*"],
            "generated_with_requirements": ["greeting==1.0"],
            "manylinux": "manylinux2014",
            "requirement_constraints": [],
            "only_binary": [],
            "no_binary": [],
            "lambda_platform": platform,
            "required_by": {line.split("==")[0]: needed_by for line, needed_by in pins.items()},
        }
    )
    return (
        "# --- BEGIN PANTS LOCKFILE METADATA: DO NOT EDIT OR REMOVE ---\n"
        f"# {header}\n"
        "# --- END PANTS LOCKFILE METADATA ---\n" + "".join(f"{line}\n" for line in pins)
    )


@pytest.fixture
def rule_runner(tmp_path: Path) -> RuleRunner:
    find_links = tmp_path / "wheels"
    find_links.mkdir()
    name, content = wheel(
        "greeting",
        "1.0",
        {
            "greeting/__init__.py": "def hello():\n    return 'hello'\n",
            # A console script, as pip would install it into bin/ (with this machine's shebang).
            "greeting-1.0.data/scripts/greet": "#!python\nimport greeting\nprint(greeting.hello())\n",
        },
    )
    (find_links / name).write_bytes(content)
    # Built against glibc 2.28, newer than Lambda python3.11's 2.26: no wheel that fits.
    name, content = wheel(
        "native", "1.0", {"native/__init__.py": ""}, tag="cp311-cp311-manylinux_2_28_x86_64"
    )
    (find_links / name).write_bytes(content)

    rule_runner = RuleRunner(
        rules=[
            *register.rules(),
            *core_target_types_rules(),
            *python_target_types_rules(),
            *package.rules(),
            *package_pex_binary.rules(),
            *pex_from_targets.rules(),
            *pex_cli_rules.rules(),
            *import_rules(),
            QueryRule(BuiltPackage, (PythonAwsLambdaFieldSet,)),
            QueryRule(BuiltPackage, (PythonAwsLambdaLayerFieldSet,)),
        ],
        target_types=[
            *register.target_types(),
            PythonSourcesGeneratorTarget,
            PythonRequirementTarget,
        ],
    )
    # The project's Pex and uv pins, and the tools ./pants made from them (Pants' default Pex
    # download comes from GitHub, which is unreachable here).
    config = toml.loads(PANTS_TOML.read_text())
    tool_options = [
        f"--{scope}-{option}={value}"
        for scope in ("pex-cli", "uv")
        for option, value in (
            ("version", config[scope]["version"]),
            ("known-versions", json.dumps(config[scope]["known_versions"])),
            (
                "url-template",
                config[scope]["url_template"].replace(
                    "%(env.LAMBDA_BOOTSTRAP_CACHE)s", os.environ["LAMBDA_BOOTSTRAP_CACHE"]
                ),
            ),
        )
    ]
    rule_runner.set_options(
        [
            *tool_options,
            "--python-interpreter-constraints=['CPython==3.11.*']",
            "--python-enable-resolves",
            "--python-resolves={'python-default': 'test.lock'}",
            "--python-resolves-generate-lockfiles=false",
            "--python-repos-indexes=[]",
            f"--python-repos-find-links=['file://{find_links}']",
            "--python-bootstrap-search-path=['<PYENV>', '<PATH>']",
            "--source-root-patterns=['src']",
        ],
        env_inherit={"PATH", "PYENV_ROOT", "HOME"},
    )
    rule_runner.write_files(
        {
            "test.lock": lockfile("python3.11", "x86_64"),
            "src/app/handler.py": (
                "import greeting\n\ndef handle(event, context):\n    return greeting.hello()\n"
            ),
            "src/app/BUILD": "python_sources()",
            "3rdparty/BUILD": "python_requirement(name='greeting', requirements=['greeting==1.0'])",
            "BUILD": (
                "python_aws_lambda_function(name='fn', handler='src/app/handler.py:handle',"
                " include_requirements=False, runtime='python3.11', layers=[':layer'])\n"
                "python_aws_lambda_layer(name='layer', dependencies=['3rdparty:greeting'],"
                " include_sources=False, runtime='python3.11')\n"
            ),
        }
    )
    return rule_runner


def build(rule_runner: RuleRunner, target_name: str) -> tuple[BuiltPackage, zipfile.ZipFile]:
    built, contents = build_files(rule_runner, target_name)
    return built, zipfile.ZipFile(io.BytesIO(contents[built.artifacts[0].relpath]))


def build_files(rule_runner: RuleRunner, target_name: str) -> tuple[BuiltPackage, dict[str, bytes]]:
    target = rule_runner.get_target(Address("", target_name=target_name))
    field_set_type = (
        PythonAwsLambdaFieldSet if target.alias == PythonAWSLambda.alias else PythonAwsLambdaLayerFieldSet
    )
    built = rule_runner.request(BuiltPackage, [field_set_type.create(target)])
    contents = rule_runner.request(DigestContents, [built.digest])
    return built, {content.path: content.content for content in contents}


FUNCTION_WITH = (
    "python_aws_lambda_layer(name='layer', dependencies=['3rdparty:greeting'], include_sources=False,"
    " runtime='python3.11')\n"
    "python_aws_lambda_function(name='fn', runtime='python3.11', include_requirements=False, {})\n"
)


def test_layer_installs_requirements_under_python(rule_runner: RuleRunner) -> None:
    built, zf = build(rule_runner, "layer")

    assert built.artifacts[0].relpath == "layer.zip"
    names = zf.namelist()
    assert "python/greeting/__init__.py" in names
    assert "python/greeting-1.0.dist-info/METADATA" in names
    assert all(name.startswith("python/") for name in names)
    assert not [name for name in names if name.startswith("python/app")]  # include_sources=False
    # The wheel comes from a local folder, for which uv records the file's mtime in the
    # .dist-info (uv_cache.json); that, and uv's .lock, stay out of the zip.
    assert not [name for name in names if name.endswith(("uv_cache.json", ".lock"))]
    log = "\n".join(built.artifacts[0].extra_log_lines)
    assert "Runtime: python3.11 x86_64" in log
    assert "Largest: greeting 1.0" in log


def test_layer_ships_bytecode_for_the_runtime_and_drops_console_scripts(rule_runner: RuleRunner) -> None:
    built, zf = build(rule_runner, "layer")

    names = zf.namelist()
    pyc = zf.read("python/greeting/__pycache__/__init__.cpython-311.pyc")
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # unchecked-hash
    assert not [name for name in names if name.startswith("python/bin/")]
    log = "\n".join(built.artifacts[0].extra_log_lines)
    assert "Bytecode: +" in log and ".pyc for CPython 3.11 (unchecked-hash)" in log
    assert "Excluded: " in log and "in 1 files" in log


def test_compiling_needs_the_runtimes_python_and_says_so(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "BUILD": (
                "python_aws_lambda_layer(name='layer', dependencies=['3rdparty:greeting'],"
                " include_sources=False, runtime='python3.14')"
            ),
            "test.lock": lockfile("python3.14", "x86_64"),
        }
    )

    with engine_error(contains="needs a local CPython 3.14 to compile for python3.14"):
        build(rule_runner, "layer")


def test_function_is_code_only_and_reexports_its_handler(rule_runner: RuleRunner) -> None:
    built, zf = build(rule_runner, "fn")

    # Code only, and sources only: compile_bytecode defaults to False for functions.
    assert sorted(zf.namelist()) == ["app/", "app/handler.py", "lambda_function.py"]

    assert zf.read("lambda_function.py") == b"from app.handler import handle as handler\n"
    assert "    Handler: lambda_function.handler" in built.artifacts[0].extra_log_lines


def test_unknown_runtime_is_a_clear_error(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "BUILD": (
                "python_aws_lambda_layer(name='layer', dependencies=['3rdparty:greeting'],"
                " runtime='python2.7')"
            )
        }
    )

    with engine_error(InvalidTargetException, contains="python3.11"):
        rule_runner.get_target(Address("", target_name="layer"))


def test_metadata_beside_each_zip_says_what_it_is(rule_runner: RuleRunner) -> None:
    function, function_files = build_files(rule_runner, "fn")
    layer, layer_files = build_files(rule_runner, "layer")

    assert [a.relpath for a in function.artifacts] == ["fn.zip", "fn.metadata.json"]
    metadata = json.loads(function_files["fn.metadata.json"])
    assert metadata == {
        "version": 1,
        "address": "//:fn",
        "target_type": "python_aws_lambda_function",
        "kind": "function",
        "artifact": "fn.zip",
        "runtime": "python3.11",
        "architecture": "x86_64",
        "handler": "lambda_function.handler",
        "handler_source": "app.handler:handle",
        "layers": ["//:layer"],
        "layer_artifacts": ["layer.zip"],
        "sha256": hashlib.sha256(function_files["fn.zip"]).hexdigest(),
        "zipped_bytes": len(function_files["fn.zip"]),
        "unzipped_bytes": metadata["unzipped_bytes"],
        "unzipped_bytes_with_layers": metadata["unzipped_bytes_with_layers"],
        "repository_functions": {"//:fn": ["//:layer"]},
    }
    layer_metadata = json.loads(layer_files["layer.metadata.json"])
    assert layer_metadata["kind"] == "layer" and layer_metadata["handler"] is None
    assert layer_metadata["sha256"] == hashlib.sha256(layer_files["layer.zip"]).hexdigest()
    assert (
        metadata["unzipped_bytes_with_layers"]
        == metadata["unzipped_bytes"] + layer_metadata["unzipped_bytes"]
    )
    assert "    Layers: //:layer (layer.zip)" in function.artifacts[0].extra_log_lines
    # Written with the function, which is deployed and invoked with it.
    assert function_files["layer.zip"] == layer_files["layer.zip"]


@pytest.mark.parametrize(
    "handler, problem",
    [
        (
            "src/app/handler.py:handel",
            "app/handler.py defines no `handel` at its top level (it defines: greeting, handle)",
        ),
        ("app.missing:handle", "the handler's module `app.missing` is not in the artifact"),
    ],
)
def test_a_handler_the_module_does_not_define_is_refused(
    rule_runner: RuleRunner, handler: str, problem: str
) -> None:
    rule_runner.write_files({"BUILD": FUNCTION_WITH.format(f"handler='{handler}', layers=[':layer']")})

    with engine_error(contains=problem):
        build(rule_runner, "fn")


def test_a_handler_bound_by_import_or_assignment_is_found(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "src/app/entry.py": (
                "from app.handler import handle as imported\n"
                "try:\n    assigned = imported\nexcept ImportError:\n    pass\n"
            ),
            "BUILD": FUNCTION_WITH.format("handler='src/app/entry.py:assigned', layers=[':layer']"),
        }
    )

    built, zf = build(rule_runner, "fn")

    assert zf.read("lambda_function.py") == b"from app.entry import assigned as handler\n"


def test_a_requirement_no_layer_provides_is_refused(rule_runner: RuleRunner) -> None:
    rule_runner.write_files({"BUILD": FUNCTION_WITH.format("handler='src/app/handler.py:handle'")})

    with engine_error(contains="//:fn depends on third-party code that none of its layers provides"):
        build(rule_runner, "fn")
    with engine_error(contains="    greeting (from 3rdparty:greeting)"):
        build(rule_runner, "fn")


def test_a_layer_for_another_runtime_is_refused(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "BUILD": (
                "python_aws_lambda_layer(name='layer312', dependencies=['3rdparty:greeting'],"
                " runtime='python3.12', architecture='arm64')\n"
                "python_aws_lambda_function(name='fn', handler='src/app/handler.py:handle',"
                " runtime='python3.11', include_requirements=False, layers=[':layer312'])\n"
            )
        }
    )

    with engine_error(
        InvalidFieldException,
        contains="names //:layer312, which is built for python3.12 arm64, but the function runs on python3.11 x86_64",
    ):
        build(rule_runner, "fn")


def test_a_function_and_layers_over_lambdas_unzipped_limit_are_refused(
    rule_runner: RuleRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real artifacts, a lower limit: building 262 MB for real would take minutes. One byte less
    # than the function and its layer: the layer alone still fits.
    _, files = build_files(rule_runner, "fn")
    limit = json.loads(files["fn.metadata.json"])["unzipped_bytes_with_layers"] - 1
    monkeypatch.setattr(size_limit, "UNZIPPED_LIMIT_BYTES", limit)
    # The same function under another name, so that the engine builds it again.
    rule_runner.write_files(
        {
            "BUILD": FUNCTION_WITH.replace("name='fn'", "name='fn_over'").format(
                "handler='src/app/handler.py:handle', layers=[':layer']"
            )
        }
    )

    with engine_error(contains="//:fn_over and its `layers` unzip to"):
        build(rule_runner, "fn_over")
    with engine_error(
        contains=f"of Lambda's {limit:,}-byte limit for a function and all its layers, over by 1 B"
    ):
        build(rule_runner, "fn_over")


def test_a_layer_over_the_limit_on_its_own_is_refused_with_what_to_do(
    rule_runner: RuleRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The layer is about 1 kB: a limit of 100 bytes puts it over on its own.
    monkeypatch.setattr(size_limit, "UNZIPPED_LIMIT_BYTES", 100)

    with pytest.raises(ExecutionError) as error:
        build(rule_runner, "layer")

    (underlying,) = error.value.wrapped_exceptions
    message = str(underlying)
    assert isinstance(underlying, lambda_rules.LambdaCheckFailed)
    assert message.startswith("The python_aws_lambda_layer //:layer unzips to ")
    assert "of Lambda's 100-byte limit for a function and all its layers, over by " in message
    assert (
        ", on its own, so no function could use it. Its largest distributions:\n    greeting 1.0 " in message
    )
    assert "with the layer's `exclude`" in message
    assert "split its requirements into two layers" in message
    assert "drop greeting or move to a slimmer alternative" in message
    assert "ship the functions that need it as container images" in message


def share_of_limit(line: str) -> float:
    """The percentage in `..., 95.1% of Lambda's ... limit`."""
    match = re.search(r"([0-9.]+)% of Lambda's", line)
    assert match, line
    return float(match.group(1))


def test_a_layer_close_to_the_limit_warns(
    rule_runner: RuleRunner, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    built, files = build_files(rule_runner, "layer")
    size = json.loads(files["layer.metadata.json"])["unzipped_bytes"]
    assert not [line for line in built.artifacts[0].extra_log_lines if "WARNING" in line]
    # The same layer under another name (so the engine builds it again) with a limit it fills to 95%.
    monkeypatch.setattr(size_limit, "UNZIPPED_LIMIT_BYTES", int(size / 0.95))
    rule_runner.write_files(
        {
            "BUILD": (
                "python_aws_lambda_layer(name='near_limit', dependencies=['3rdparty:greeting'],"
                " include_sources=False, runtime='python3.11')"
            )
        }
    )

    near, _ = build_files(rule_runner, "near_limit")

    lines = near.artifacts[0].extra_log_lines
    warning = next(line for line in lines if line.startswith("    WARNING: "))
    assert "//:near_limit unzips to" in warning and share_of_limit(warning) == pytest.approx(95, abs=0.2)
    assert "Above 90%, one more dependency or version bump may not fit" in warning
    assert [
        r for r in caplog.records if r.levelno == logging.WARNING and "//:near_limit unzips to" in r.message
    ]


def test_a_python313_arm64_layer_gets_bytecode_from_the_local_cpython_313(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "BUILD": (
                "python_aws_lambda_layer(name='layer', dependencies=['3rdparty:greeting'],"
                " include_sources=False, runtime='python3.13', architecture='arm64')"
            ),
            "test.lock": lockfile("python3.13", "arm64"),
        }
    )

    built, files = build_files(rule_runner, "layer")
    zf = zipfile.ZipFile(io.BytesIO(files[built.artifacts[0].relpath]))

    # The plugin finds CPython 3.13 by name, without Pex. Bytecode does not depend on the CPU,
    # so this machine's CPython 3.13 compiles it for arm64.
    pyc = zf.read("python/greeting/__pycache__/__init__.cpython-313.pyc")
    assert pyc[:4] == CPYTHON_313_MAGIC
    log = "\n".join(built.artifacts[0].extra_log_lines)
    assert "Runtime: python3.13 arm64" in log and ".pyc for CPython 3.13 (unchecked-hash)" in log
    # What the deploy tool reads: the platform the target was built for, not the default one.
    metadata = json.loads(files[built.artifacts[1].relpath])
    assert (metadata["runtime"], metadata["architecture"]) == ("python3.13", "arm64")


def test_a_function_and_layers_close_to_the_limit_warn(
    rule_runner: RuleRunner, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, files = build_files(rule_runner, "fn")
    total = json.loads(files["fn.metadata.json"])["unzipped_bytes_with_layers"]
    # The same function under another name (so the engine builds it again), with a limit that it
    # and its layer fill to 95%.
    monkeypatch.setattr(size_limit, "UNZIPPED_LIMIT_BYTES", int(total / 0.95))
    rule_runner.write_files(
        {
            "BUILD": FUNCTION_WITH.replace("name='fn'", "name='fn_near_limit'").format(
                "handler='src/app/handler.py:handle', layers=[':layer']"
            )
        }
    )

    near, _ = build_files(rule_runner, "fn_near_limit")

    warnings = [line for line in near.artifacts[0].extra_log_lines if line.startswith("    WARNING: ")]
    assert len(warnings) == 1 and "//:fn_near_limit and its layers unzip to" in warnings[0]
    assert share_of_limit(warnings[0]) == pytest.approx(95, abs=0.2)
    logged = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert [m for m in logged if "//:fn_near_limit and its layers unzip to" in m]


def test_a_target_for_another_platform_than_its_lockfile_is_refused(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "BUILD": (
                "python_aws_lambda_layer(name='layer', dependencies=['3rdparty:greeting'],"
                " include_sources=False, runtime='python3.12', architecture='arm64')"
            )
        }
    )

    with engine_error(
        InvalidTargetException,
        contains=(
            "//:layer is built for Lambda python3.12 arm64, but its resolve `python-default` "
            "(test.lock) was locked for Lambda python3.11 x86_64"
        ),
    ):
        build(rule_runner, "layer")


def test_a_requirement_the_lockfile_does_not_pin_is_refused(rule_runner: RuleRunner) -> None:
    rule_runner.write_files(
        {
            "3rdparty/BUILD": (
                "python_requirement(name='greeting', requirements=['greeting==1.0'])\n"
                "python_requirement(name='extra', requirements=['tenacity'])\n"
            ),
            "BUILD": (
                "python_aws_lambda_layer(name='layer', dependencies=['3rdparty:greeting', '3rdparty:extra'],"
                " include_sources=False, runtime='python3.11')"
            ),
        }
    )

    with engine_error(
        InvalidTargetException,
        contains="//:layer depends on requirements that test.lock does not pin: tenacity (from 3rdparty:extra)",
    ):
        build(rule_runner, "layer")


def test_a_layer_installs_only_the_pins_its_own_requirements_need(rule_runner: RuleRunner) -> None:
    # The resolve also pins what another layer needs (as the Lambda resolve pins the framework
    # beside the PyPI layer's packages); uv is never asked for it, so it needs no wheel here.
    rule_runner.write_files(
        {
            "test.lock": lockfile(
                "python3.11", "x86_64", {"greeting==1.0": ["greeting"], "other==2.0": ["other"]}
            )
        }
    )

    _, zf = build(rule_runner, "layer")

    distributions = sorted({name.split("/")[1] for name in zf.namelist() if ".dist-info/" in name})
    assert distributions == ["greeting-1.0.dist-info"]


def test_a_pin_with_no_wheel_for_the_lambda_platform_is_refused_naming_it_and_the_way_out(
    rule_runner: RuleRunner,
) -> None:
    rule_runner.write_files(
        {
            "3rdparty/BUILD": "python_requirement(name='native', requirements=['native==1.0'])",
            "BUILD": (
                "python_aws_lambda_layer(name='layer', dependencies=['3rdparty:native'],"
                " include_sources=False, runtime='python3.11')"
            ),
            "test.lock": lockfile("python3.11", "x86_64", {"native==1.0": ["native"]}),
        }
    )

    with pytest.raises(ExecutionError) as failure:
        build(rule_runner, "layer")

    message = str(failure.value)
    assert (
        "uv could not install native==1.0, a pin of test.lock, for python_aws_lambda_layer //:layer"
        in message
    )
    assert "Lambda python3.11 x86_64 (cp311, glibc 2.26)" in message
    assert "--python-platform x86_64-manylinux_2_17" in message
    assert "native" in message  # uv's own words name the pin
    assert "pin an older release" in message and "another runtime" in message


def test_a_lockfile_that_does_not_say_which_requirement_needs_which_pin_is_refused(
    rule_runner: RuleRunner,
) -> None:
    header_only = re.sub(r', "required_by": \{[^}]*\}', "", lockfile("python3.11", "x86_64"))
    rule_runner.write_files({"test.lock": header_only})

    with engine_error(InvalidTargetException, contains="does not record which requirements need each pin"):
        build(rule_runner, "layer")
