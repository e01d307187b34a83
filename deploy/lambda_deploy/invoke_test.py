"""`./pants run deploy -- invoke`: the real artifacts, AWS's real runtime interface client and a
real local Runtime API, as people run it."""

from __future__ import annotations

import base64
import io
import json
import re
import sys
import sysconfig
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from doubles.sample_events import api_event, png
from lambda_artifacts.artifact_zip import write_zip
from lambda_artifacts.metadata import AWS_HANDLER
from lambda_deploy.cli import main
from lambda_deploy.conftest import Workspace, built_platform, real_pypi_layer
from lambda_deploy.invoke import cached_layers, invoke

# The framework layer, as runtime_package_dependencies put it in the sandbox.
BUILT_FRAMEWORK = Path("3rdparty.python/framework.zip")

ORDER = {
    "customer": {"name": "Grace Hopper", "email": "grace@example.com"},
    "items": [{"sku": "COBOL-85", "quantity": 3, "unit_price": "19.99"}],
}

# Invoking runs the handlers, which import the real layer's packages.
pytestmark = real_pypi_layer


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def payload(self) -> dict:
        return json.loads(self.stdout)

    def report(self, field: str) -> float:
        match = re.search(rf"^REPORT RequestId: \S+\t.*\b{field}: ([\d.]+) ms", self.stderr, re.MULTILINE)
        assert match, self.stderr
        return float(match[1])


def function_zip(root: Path, name: str, source: str) -> Path:
    """A function artifact built with the same zipper as Pants', at dist/<folder>/lambda.zip."""
    tree = root / f"tree-{name}"
    tree.mkdir()
    (tree / "lambda_function.py").write_text(source)
    artifact = root / "dist" / f"src.python.{name}" / "lambda.zip"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    write_zip(str(tree), str(artifact))
    return artifact


@pytest.fixture(autouse=True)
def layer_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "layer-cache"
    monkeypatch.setenv("LAMBDA_INVOKE_CACHE", str(cache))
    return cache


def run_invoke(workspace: Workspace, name: str, event: object, *, stdin: bool = False) -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    data = json.dumps(event).encode()
    argv = ["invoke", name, "--config", str(workspace.config), "--dist", str(workspace.dist), "--event"]
    saved_stdin = sys.stdin
    if stdin:
        sys.stdin = io.TextIOWrapper(io.BytesIO(data))
        argv.append("-")
    else:
        event_file = workspace.root / "event.json"
        event_file.write_bytes(data)
        argv.append(str(event_file))
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = main(argv)
    finally:
        sys.stdin = saved_stdin
    return Run(code, stdout.getvalue(), stderr.getvalue())


def test_invoke_prices_an_order_with_the_built_function_and_layers(workspace: Workspace) -> None:
    run = run_invoke(workspace, "api-handler", api_event(ORDER))

    assert run.exit_code == 0, run.stderr
    assert run.payload["statusCode"] == 200
    assert json.loads(run.payload["body"]) == {
        "request_id": "test-request",
        "customer": "Grace Hopper",
        "item_count": 3,
        "total": "59.97",
        "currency": "EUR",
        "framework_version": "0.1.5+sample",
    }
    # The handler's own log line, between Lambda's START and END lines, then REPORT.
    lines = run.stderr.splitlines()
    runtime, architecture = built_platform()
    cpython = runtime.removeprefix("python")
    assert lines[0].startswith(f"api-handler: {runtime} {architecture}, run by CPython {cpython} (")
    assert lines[1].startswith("START RequestId: ")
    assert any("Priced order test-request" in line for line in lines)
    assert run.report("Init Duration") > 0
    assert run.report("Duration") > 0


def test_invoke_takes_the_target_address_and_the_event_on_stdin(workspace: Workspace) -> None:
    event = api_event({"image_base64": base64.b64encode(png(40, 30)).decode(), "max_size": 8})

    run = run_invoke(workspace, "src/python/thumbnail:lambda", event, stdin=True)

    assert run.exit_code == 0, run.stderr
    body = json.loads(run.payload["body"])
    assert body["original"] == {"width": 40, "height": 30}
    assert body["thumbnail"] == {"width": 8, "height": 6, "format": "png"}
    assert "Memory Size: 512 MB" in run.stderr


def test_a_handler_error_exits_1_with_lambdas_error_document(workspace: Workspace, tmp_path: Path) -> None:
    raising = function_zip(
        tmp_path,
        "raising",
        "def handler(event, context):\n"
        "    print('checking order', event['order'])\n"
        "    raise ValueError('order ' + event['order'] + ' is out of stock')\n",
    )
    workspace.add_function("src/python/raising:lambda", raising, layers=[])

    run = run_invoke(workspace, "raising", {"order": "A-42"})

    assert run.exit_code == 1
    error = run.payload
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "order A-42 is out of stock"
    assert 'lambda_function.py", line 3, in handler' in error["stackTrace"][0]
    assert "checking order A-42" in run.stderr
    assert "[ERROR] ValueError: order A-42 is out of stock" in run.stderr
    assert "Status: error\tError Type: ValueError" in run.stderr
    assert run.report("Duration") > 0


def test_an_init_failure_is_a_function_error_that_shows_the_init_error(
    workspace: Workspace, tmp_path: Path
) -> None:
    broken = function_zip(
        tmp_path, "broken", "import not_in_any_layer\n\ndef handler(event, context):\n    pass\n"
    )
    workspace.add_function("src/python/broken:lambda", broken, layers=["3rdparty/python:framework"])

    run = run_invoke(workspace, "broken", {})

    assert run.exit_code == 1
    assert run.payload["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'not_in_any_layer'" in run.payload["errorMessage"]
    assert "broken failed (init): Runtime.ImportModuleError" in run.stderr
    assert run.report("Init Duration") > 0


def test_a_missing_artifact_says_what_to_build(workspace: Workspace) -> None:
    workspace.unbuild("api-handler")

    run = run_invoke(workspace, "api-handler", api_event(ORDER))

    assert run.exit_code == 2
    assert (
        "function src/python/api_handler:lambda: `./pants package src/python/api_handler:lambda`"
        in run.stderr
    )
    assert run.stdout == ""


def test_an_unknown_function_is_a_usage_error(workspace: Workspace) -> None:
    run = run_invoke(workspace, "no-such-function", {})

    assert run.exit_code == 2
    assert "No function 'no-such-function'" in run.stderr
    assert "api-handler (src/python/api_handler:lambda)" in run.stderr


def test_the_runtime_sees_lambdas_paths_and_environment_and_nothing_of_ours(tmp_path: Path) -> None:
    probe = function_zip(
        tmp_path,
        "probe",
        "import os, sys\n"
        "def handler(event, context):\n"
        "    written = {}\n"
        "    for name in ('LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR', 'TMPDIR'):\n"
        "        try:\n"
        "            open(os.path.join(os.environ[name], 'probe'), 'w').close()\n"
        "            written[name] = True\n"
        "        except OSError:\n"
        "            written[name] = False\n"
        "    return {\n"
        "        'sys_path': sys.path,\n"
        "        'env': dict(os.environ),\n"
        "        'cwd': os.getcwd(),\n"
        "        'written': written,\n"
        "        'remaining_ms': context.get_remaining_time_in_millis(),\n"
        "        'arn': context.invoked_function_arn,\n"
        "        'modules': {n: getattr(m, '__file__', None) for n, m in sys.modules.items()},\n"
        "    }\n",
    )
    workdir = tmp_path / "sandbox"
    workdir.mkdir()
    runtime_name, architecture = built_platform()

    result = invoke(
        probe,
        [BUILT_FRAMEWORK],
        b"{}",
        function_name="probe",
        runtime=runtime_name,
        architecture=architecture,
        handler=AWS_HANDLER,
        memory_mb=256,
        timeout_seconds=7,
        region="eu-west-1",
        environment={"STAGE": "test"},
        workdir=workdir,
    )

    assert result.ok, result.logs
    seen = json.loads(result.response)
    task, opt, runtime = workdir / "task" / "src.python.probe", workdir / "opt", workdir / "runtime"
    assert seen["sys_path"][:4] == [
        str(task),
        str(opt / "python/lib/python3.11/site-packages"),
        str(opt / "python"),
        str(runtime),
    ]
    stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    assert all(path.startswith(stdlib) or path.endswith(".zip") for path in seen["sys_path"][4:])
    origins = {name: origin for name, origin in seen["modules"].items() if origin}
    assert origins["awslambdaric.bootstrap"].startswith(str(runtime))
    assert origins["lambda_function"].startswith(str(task))
    leaked = {n: o for n, o in origins.items() if not o.startswith((str(workdir), *stdlib))}
    assert leaked == {}
    env = seen["env"]
    assert {k: env[k] for k in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE")} == {
        "AWS_LAMBDA_FUNCTION_NAME": "probe",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    }
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "lambda_function.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/probe"
    assert env["TZ"] == ":UTC"
    assert env["STAGE"] == "test"
    assert env["LAMBDA_TASK_ROOT"] == seen["cwd"] == str(task)
    assert "_X_AMZN_TRACE_ID" in env
    assert 0 < seen["remaining_ms"] <= 7000
    assert seen["arn"] == "arn:aws:lambda:eu-west-1:000000000000:function:probe"
    assert not [k for k in env if k.startswith(("PYTHON", "PEX", "VIRTUAL_ENV"))]
    # Only Lambda's /tmp is writable (read-only for real where user namespaces allow it).
    assert seen["written"]["TMPDIR"] is True
    if seen["written"]["LAMBDA_TASK_ROOT"]:
        pytest.skip("Running as root without user namespaces: nothing can be made read-only.")
    assert seen["written"] == {"LAMBDA_TASK_ROOT": False, "LAMBDA_RUNTIME_DIR": False, "TMPDIR": True}


def test_layers_are_unpacked_once_and_reused_while_their_bytes_stay_the_same(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    layers = [BUILT_FRAMEWORK]

    first = cached_layers(cache, layers)
    marker = first.stat().st_ino
    again = cached_layers(cache, layers)

    assert again == first and again.stat().st_ino == marker
    assert (first / "python/framework-source.json").is_file()

    other = cached_layers(cache, [BUILT_FRAMEWORK, BUILT_FRAMEWORK], keep=1)

    assert other != first
    # Only the most recently used entry stays with keep=1.
    assert [p for p in cache.iterdir() if not p.name.startswith(".")] == [other.parent]
