"""The deploy tool against moto's server over real HTTP, with the artifacts Pants built."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import zipfile
from pathlib import Path

import pytest
from botocore.config import Config
from doubles.lambda_front import LambdaFront
from lambda_deploy import aws as aws_module
from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import Aws
from lambda_deploy.conftest import (
    BUCKET,
    FUNCTIONS,
    FrontedEmulator,
    Workspace,
    add_comment,
    built_platform,
    code_sha256,
    create_infrastructure,
    function_layers,
    layer_versions,
    real_pypi_layer,
    with_infrastructure,
)


@with_infrastructure
def test_first_deploy_publishes_both_layers_and_sets_every_functions_layers(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert run.summary["summary"] == {
        "published": ["test-pypi", "test-framework"],
        "updated": ["api-handler", "thumbnail"],
        "unchanged": [],
    }
    uploads = {layer["name"]: layer["upload"] for layer in run.summary["layers"]}
    assert uploads == {"test-pypi": "s3", "test-framework": "direct"}  # the largest, as the real one
    for name in FUNCTIONS:
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:1"]
        assert code_sha256(aws, name) == Artifact(workspace.artifacts[name], name).code_sha256
    assert "arn:aws:lambda:eu-west-1:123456789012:layer:test-pypi:1" in run.output
    assert run.summary["uploaded_bytes"] == sum(
        workspace.artifacts[key].stat().st_size for key in ("pypi", "framework", *FUNCTIONS)
    )


@with_infrastructure
def test_an_identical_second_deploy_publishes_and_updates_nothing(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    modified = {name: aws.function(name).last_modified for name in FUNCTIONS}

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert run.summary["summary"]["published"] == []
    assert run.summary["summary"]["updated"] == []
    assert sorted(run.summary["summary"]["unchanged"]) == [
        "api-handler",
        "test-framework",
        "test-pypi",
        "thumbnail",
    ]
    assert layer_versions(aws, "pypi") == [1] and layer_versions(aws, "framework") == [1]
    assert {name: aws.function(name).last_modified for name in FUNCTIONS} == modified
    assert run.summary["uploaded_bytes"] == 0


@with_infrastructure
def test_changing_one_functions_code_updates_only_that_function(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    thumbnail_before = aws.function("thumbnail")
    workspace.edit("api-handler", "api_handler/handler.py", add_comment)

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert run.summary["summary"]["published"] == []
    assert run.summary["summary"]["updated"] == ["api-handler"]
    assert code_sha256(aws, "api-handler") == Artifact(workspace.artifacts["api-handler"], "").code_sha256
    assert aws.function("thumbnail") == thumbnail_before
    assert function_layers(aws, "api-handler") == ["test-pypi:1", "test-framework:1"]


@with_infrastructure
def test_changing_only_the_framework_layer_publishes_it_and_repoints_both_functions(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert run.summary["summary"]["published"] == ["test-framework"]
    assert run.summary["summary"]["updated"] == ["api-handler", "thumbnail"]
    assert [f["code"] for f in run.summary["functions"]] == ["unchanged", "unchanged"]
    assert layer_versions(aws, "framework") == [2, 1]
    assert layer_versions(aws, "pypi") == [1]  # untouched
    for name in FUNCTIONS:
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:2"]


@with_infrastructure
def test_bytes_equal_to_an_older_layer_version_reuse_it_and_publish_nothing(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    # A rollback of the framework to its previous zip: version 1 holds those bytes, though it is
    # not the latest version any more.
    original = workspace.artifacts["framework"].read_bytes(), workspace.metadata_path("framework").read_text()
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    assert layer_versions(aws, "framework") == [2, 1]
    workspace.artifacts["framework"].write_bytes(original[0])
    workspace.metadata_path("framework").write_text(original[1])

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert run.summary["summary"]["published"] == []
    assert layer_versions(aws, "framework") == [2, 1]
    for name in FUNCTIONS:
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:1"]


@with_infrastructure
def test_plan_reports_changes_and_makes_none(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    before = {name: aws.function(name) for name in FUNCTIONS}
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
    workspace.edit("thumbnail", "thumbnail/handler.py", add_comment)

    run = workspace.deploy("plan", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 0, run.output
    assert run.summary["command"] == "plan"
    assert run.summary["summary"]["published"] == ["test-framework"]
    assert run.summary["summary"]["updated"] == ["api-handler", "thumbnail"]
    assert "test-framework:(new)" in run.output
    assert {name: aws.function(name) for name in FUNCTIONS} == before
    assert layer_versions(aws, "framework") == [1]


def test_apply_local_starts_its_own_emulator_and_creates_the_functions(workspace: Workspace) -> None:
    run = workspace.deploy("apply", "--local")

    assert run.exit_code == 0, run.output
    assert run.summary["target"].startswith("the local emulator (moto ")
    assert [(f["name"], f["code"]) for f in run.summary["functions"]] == [
        ("api-handler", "create"),
        ("thumbnail", "create"),
    ]
    assert all(len(f["layer_arns"]) == 2 for f in run.summary["functions"])


def big_layer(path: Path, unzipped_bytes: int) -> Path:
    """A layer that is small zipped but huge unzipped, with a real dist-info."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("python/hugepkg-1.0.dist-info/METADATA", "Name: hugepkg\nVersion: 1.0\n")
        zf.writestr("python/hugepkg-1.0.dist-info/RECORD", "hugepkg/blob.bin,,\n")
        zf.writestr("python/hugepkg/blob.bin", b"\0" * unzipped_bytes)
    return path


@real_pypi_layer
def test_function_over_the_unzipped_limit_is_refused_before_any_aws_call(workspace: Workspace) -> None:
    huge = workspace.add_layer("huge", big_layer(workspace.root / "huge.zip", 30_000_000))
    workspace.set_function_layers(["3rdparty/python:pypi", "3rdparty/python:framework", huge])

    # Port 9 on loopback has nothing listening: any AWS call would fail to connect.
    run = workspace.deploy("apply", "--endpoint-url", "http://127.0.0.1:9")

    assert run.exit_code == 1
    assert "Function 'api-handler' and its layers unzip to" in run.output
    assert "of Lambda's 262,144,000-byte limit for a function and all its layers, over by" in run.output
    assert re.search(r"opencv-python-headless 5\.0\.0\.93 1\d\d\.\d MB", run.output)

    assert "hugepkg 1.0 30.0 MB" in run.output
    assert "cannot reach" not in run.output


def test_more_than_five_layers_is_refused(workspace: Workspace) -> None:
    extra = [workspace.add_layer(f"extra{index}", workspace.artifacts["framework"]) for index in range(4)]
    workspace.set_function_layers(["3rdparty/python:pypi", "3rdparty/python:framework", *extra])

    run = workspace.deploy("plan", "--endpoint-url", "http://127.0.0.1:9")

    assert run.exit_code == 1
    assert "lists 6 layers" in run.output and "at most 5" in run.output


@pytest.mark.parametrize("target", [["--aws"], ["--endpoint-url", "https://lambda.eu-west-1.amazonaws.com"]])
def test_a_sample_built_framework_goes_only_to_a_local_emulator(
    workspace: Workspace, target: list[str]
) -> None:
    run = workspace.deploy("apply", *target)

    assert run.exit_code == 1
    assert "Refusing to publish layer test-framework" in run.output
    assert "bundled framework sample (" in run.output
    assert (
        "python/framework-source.json says source: sample, test-common-framework 0.1.5+sample)" in run.output
    )
    assert "--local, or an --endpoint-url on loopback" in run.output
    assert "Build it from the real framework repository" in run.output


@with_infrastructure
def test_a_missing_artifact_is_named_with_how_to_build_it(
    workspace: Workspace, emulator: FrontedEmulator
) -> None:
    workspace.artifacts["framework"].unlink()

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert (
        "The artifact for layer test-framework (3rdparty/python:framework) is missing: "
        f"{workspace.artifacts['framework']}" in run.output
    )
    assert "./pants package ::" in run.output


@with_infrastructure
def test_an_unknown_function_outside_the_local_emulator_is_an_error_and_nothing_changes(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    aws.lambda_client.delete_function(FunctionName="thumbnail")

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert "Function 'thumbnail' (src/python/thumbnail:lambda) does not exist in eu-west-1" in run.output
    assert "create it with your infrastructure code" in run.output
    assert aws.function("thumbnail") is None
    assert layer_versions(aws, "pypi") == [] and layer_versions(aws, "framework") == []


def test_a_function_running_another_platform_than_its_artifacts_is_refused(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    # Infrastructure code still on python3.12 arm64; the artifacts were built for the root
    # BUILD's runtime. Updating the code alone would fail at the first import.
    built = built_platform()
    other = ("python3.12", "arm64") if built != ("python3.12", "arm64") else ("python3.11", "x86_64")
    create_infrastructure(aws, BUCKET, FUNCTIONS, other)

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert (
        f"Function 'api-handler' (src/python/api_handler:lambda) runs {' '.join(other)} in eu-west-1, "
        f"but its zip and layers were built for {' '.join(built)}"
    ) in run.output
    assert "change the function's runtime and architecture in your infrastructure code" in run.output
    assert "Nothing was changed." in run.output
    assert layer_versions(aws, "pypi") == [] and layer_versions(aws, "framework") == []


def test_artifacts_whose_contents_are_for_another_runtime_than_their_metadata_are_refused(
    workspace: Workspace,
) -> None:
    # Every metadata file says python3.12 (edited, or copied from another build); the zips hold
    # the root BUILD's runtime's bytecode and wheels.
    built_runtime, _ = built_platform()
    other = "python3.12" if built_runtime != "python3.12" else "python3.11"
    for key in ("pypi", "framework", *FUNCTIONS):
        workspace.write_metadata(key, lambda recorded: recorded.update(runtime=other))

    run = workspace.deploy("apply")

    assert run.exit_code == 1
    assert f"is recorded as built for {other}, but holds code for CPython" in run.output
    assert built_runtime.removeprefix("python") in run.output
    assert "Nothing was changed." in run.output and "Traceback" not in run.output


@with_infrastructure
def test_skip_missing_deploys_what_ci_built_and_keeps_the_rest(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws, tmp_path: Path
) -> None:
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    code_before = {name: code_sha256(aws, name) for name in FUNCTIONS}
    # CI rebuilt only what changed: the framework layer.
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
    for key in ("pypi", *FUNCTIONS):
        workspace.unbuild(key)
    job_summary = tmp_path / "summary.md"

    run = workspace.deploy(
        "apply",
        "--endpoint-url",
        emulator.endpoint_url,
        "--skip-missing",
        "--summary-markdown",
        str(job_summary),
    )

    assert run.exit_code == 0, run.output
    assert run.summary["summary"]["published"] == ["test-framework"]
    assert run.summary["summary"]["updated"] == ["api-handler", "thumbnail"]
    assert "test-pypi: not built this time; keeping version 1" in run.output
    for name in FUNCTIONS:
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:2"]
        assert code_sha256(aws, name) == code_before[name]
    markdown = job_summary.read_text()
    assert "| test-framework | publish | 2 |" in markdown
    assert "Published: test-framework. Updated: api-handler, thumbnail." in markdown


@with_infrastructure
def test_skip_missing_still_needs_a_first_version_of_every_layer(
    workspace: Workspace, emulator: FrontedEmulator
) -> None:
    workspace.unbuild("pypi")

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url, "--skip-missing")

    assert run.exit_code == 1
    assert "Layer test-pypi has no published version yet, and its artifact" in run.output


def test_a_new_function_is_deployed_by_convention_with_no_configuration(workspace: Workspace) -> None:
    workspace.add_function("src/python/order_history:lambda", workspace.artifacts["api-handler"])

    run = workspace.deploy("apply", "--local")

    assert run.exit_code == 0, run.output
    created = {f["name"]: f for f in run.summary["functions"]}
    assert created["order-history"]["code"] == "create"
    assert [arn.rsplit(":", 2)[1] for arn in created["order-history"]["layer_arns"]] == [
        "test-pypi",
        "test-framework",
    ]


def test_a_function_in_build_that_was_not_built_is_named_unless_skip_missing(
    workspace: Workspace, emulator: FrontedEmulator
) -> None:
    workspace.unbuild("thumbnail")

    run = workspace.deploy("plan", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert "The function src/python/thumbnail:lambda is in the BUILD files but was not built" in run.output
    assert "`./pants package src/python/thumbnail:lambda`" in run.output
    assert "--skip-missing" in run.output
    # Removed from the BUILD files but not rebuilt since: the message says which build lists it.
    assert "If you removed it from the BUILD files, run `./pants package ::` first" in run.output
    assert ".metadata.json) still lists it" in run.output


def test_a_zip_changed_after_packaging_is_refused(workspace: Workspace) -> None:
    workspace.artifacts["api-handler"].write_bytes(workspace.artifacts["thumbnail"].read_bytes())

    run = workspace.deploy("plan", "--endpoint-url", "http://127.0.0.1:9")

    assert run.exit_code == 1
    assert "is not the zip its metadata describes" in run.output
    assert "Rebuild it with `./pants package ::`" in run.output


def test_an_override_for_an_unknown_target_names_it(workspace: Workspace) -> None:
    workspace.write_config('[functions."src/python/api_handlr:lambda"]\nmemory_mb = 256\n')

    run = workspace.deploy("plan", "--endpoint-url", "http://127.0.0.1:9")

    assert run.exit_code == 1
    assert '[functions."src/python/api_handlr:lambda"] names no function this deploy knows' in run.output
    assert "src/python/api_handler:lambda" in run.output


def test_a_function_sets_its_own_memory_without_a_default(workspace: Workspace) -> None:
    workspace.config.write_text(
        workspace.config.read_text().replace("memory_mb = 512\n", "")
        + '[functions."src/python/api_handler:lambda"]\nmemory_mb = 256\n'
        + '[functions."src/python/thumbnail:lambda"]\nmemory_mb = 1024\n'
    )

    run = workspace.deploy("plan", "--local")

    assert run.exit_code == 0, run.output


@with_infrastructure
def test_the_plan_is_an_ordered_list_of_instructions_that_apply_carries_out(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    first = workspace.deploy("plan", "--endpoint-url", emulator.endpoint_url)
    assert [(i["action"], i["subject"]) for i in first.summary["instructions"]] == [
        ("upload_to_s3", str(workspace.artifacts["pypi"])),  # over the direct-upload limit: via S3
        ("publish_layer", "test-pypi"),
        ("publish_layer", "test-framework"),
        ("update_code", "api-handler"),
        ("set_layers", "api-handler"),
        ("publish_version", "api-handler"),
        ("point_alias", "api-handler"),
        ("update_code", "thumbnail"),
        ("set_layers", "thumbnail"),
        ("publish_version", "thumbnail"),
        ("point_alias", "thumbnail"),
        ("record_deploy", first.summary["deploy_id"]),
    ]
    workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)
    workspace.edit("framework", "python/test_common_framework/utils.py", add_comment)
    workspace.edit("thumbnail", "thumbnail/handler.py", add_comment)

    plan = workspace.deploy("plan", "--endpoint-url", emulator.endpoint_url)
    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    def expected(deploy_id: str) -> list[tuple[str, str]]:
        return [
            ("publish_layer", "test-framework"),
            ("set_layers", "api-handler"),
            ("publish_version", "api-handler"),
            ("point_alias", "api-handler"),
            ("update_code", "thumbnail"),
            ("set_layers", "thumbnail"),
            ("publish_version", "thumbnail"),
            ("point_alias", "thumbnail"),
            ("record_deploy", deploy_id),
        ]

    assert [(i["action"], i["subject"]) for i in plan.summary["instructions"]] == expected(
        plan.summary["deploy_id"]
    )
    assert "1. publish layer test-framework (" in plan.output
    assert "2. set the layers of api-handler to [test-pypi:1, test-framework:(new)]" in plan.output
    assert "4. point api-handler:live at the new version (now version 1)" in plan.output
    assert "5. update the code of thumbnail from " in plan.output
    assert [(i["action"], i["subject"]) for i in run.summary["instructions"]] == expected(
        run.summary["deploy_id"]
    )
    deploy_id = run.summary["deploy_id"]
    assert [i["did"] for i in run.summary["instructions"]] == [
        "published test-framework version 2",
        "set the layers of api-handler to [test-pypi:1, test-framework:2]",
        "published version 2 of api-handler",
        "pointed api-handler:live at version 2",
        "updated the code of thumbnail",
        "set the layers of thumbnail to [test-pypi:1, test-framework:2]",
        "published version 2 of thumbnail",
        "pointed thumbnail:live at version 2",
        f"recorded deploy {deploy_id} in s3://{BUCKET}/deploy-history/default/{deploy_id}.json",
    ]
    assert (
        "Applied:\n  1. published test-framework version 2\n  2. set the layers of api-handler" in run.output
    )
    assert "did" not in plan.summary["instructions"][0]


@real_pypi_layer
@with_infrastructure
def test_one_byte_flipped_inside_a_shared_object_no_one_reads_is_refused_before_upload(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    # One byte in the middle of the largest .so's compressed data: every header, local and
    # central, stays intact, and the deploy tool never reads that member for anything else.
    path = workspace.artifacts["pypi"]
    with zipfile.ZipFile(path) as zf:
        largest = max((i for i in zf.infolist() if ".so" in i.filename), key=lambda i: i.compress_size)
    damaged = bytearray(path.read_bytes())
    name_length, extra_length = struct.unpack(
        "<HH", damaged[largest.header_offset + 26 : largest.header_offset + 30]
    )
    data_start = largest.header_offset + 30 + name_length + extra_length
    damaged[data_start + largest.compress_size // 2] ^= 0xFF
    path.write_bytes(damaged)
    workspace.write_metadata("pypi", lambda m: m.update(sha256=hashlib.sha256(damaged).hexdigest()))
    with zipfile.ZipFile(path) as zf:  # still a zip whose names and sizes read fine
        assert zf.getinfo(largest.filename).file_size == largest.file_size

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert f"is damaged: its member {largest.filename} fails its check" in run.output
    assert layer_versions(aws, "pypi") == [] and layer_versions(aws, "framework") == []
    assert aws.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


@real_pypi_layer
@with_infrastructure
def test_a_zip_damaged_inside_is_refused_before_anything_is_sent(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    # 1 MiB of zeros in the middle of the file: the zip still opens (its central directory, at the
    # end, is intact), and `package` recorded these bytes, so only the members' CRCs tell.
    damaged = bytearray(workspace.artifacts["pypi"].read_bytes())
    middle = len(damaged) // 2
    damaged[middle : middle + 2**20] = bytes(2**20)
    workspace.artifacts["pypi"].write_bytes(damaged)
    workspace.write_metadata("pypi", lambda m: m.update(sha256=hashlib.sha256(damaged).hexdigest()))

    run = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert run.exit_code == 1
    assert (
        f"The artifact for layer test-pypi (3rdparty/python:pypi), {workspace.artifacts['pypi']}, is damaged"
        in run.output
    )
    assert "fails its check" in run.output
    assert (
        "Rebuild it with `./pants package 3rdparty/python:pypi`, then rerun. Nothing was changed."
        in run.output
    )
    assert layer_versions(aws, "pypi") == [] and layer_versions(aws, "framework") == []
    assert aws.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert all(function_layers(aws, name) == [] for name in FUNCTIONS)


@with_infrastructure
def test_bytes_changed_on_the_way_are_caught_by_lambdas_code_sha256(
    workspace: Workspace, emulator: FrontedEmulator, aws: Aws
) -> None:
    def flip_a_byte_of_the_framework_layer(operation: str, name: str | None, body: bytes) -> bytes:
        if operation != "PublishLayerVersion" or name != "test-framework":
            return body
        request = json.loads(body)
        zip_bytes = bytearray(base64.b64decode(request["Content"]["ZipFile"]))
        zip_bytes[len(zip_bytes) // 2] ^= 0xFF
        request["Content"]["ZipFile"] = base64.b64encode(zip_bytes).decode()
        return json.dumps(request).encode()

    with LambdaFront(emulator.endpoint_url, rewrite=flip_a_byte_of_the_framework_layer) as front:
        failed = workspace.deploy("apply", "--endpoint-url", front.url)

    assert failed.exit_code == 1
    assert (
        f"Lambda received other bytes than {workspace.artifacts['framework']} (layer test-framework "
        "(3rdparty/python:framework)) for layer test-framework version 1: it reports CodeSha256 "
        in failed.output
    )
    assert "No function was pointed at that version." in failed.output
    assert "Rebuild it with `./pants package 3rdparty/python:framework`, then rerun." in failed.output
    assert all(function_layers(aws, name) == [] for name in FUNCTIONS)

    rerun = workspace.deploy("apply", "--endpoint-url", emulator.endpoint_url)

    assert rerun.exit_code == 0, rerun.output
    for name in FUNCTIONS:
        assert function_layers(aws, name) == ["test-pypi:1", "test-framework:2"]


def test_an_error_before_any_change_says_nothing_was_changed(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 on loopback has nothing listening: the plan's first read fails. Two attempts, not
    # the tool's ten with backoff (half a minute): the retries are recovery_test.py's subject.
    monkeypatch.setattr(
        aws_module,
        "RETRYING",
        aws_module.RETRYING.merge(Config(retries={"mode": "standard", "max_attempts": 2})),
    )
    run = workspace.deploy("apply", "--endpoint-url", "http://127.0.0.1:9")

    assert run.exit_code == 1
    assert run.output.startswith("error: cannot reach http://127.0.0.1:9")
    assert run.output.rstrip().endswith("Nothing was changed.")
    assert "rerun apply" not in run.output and "completed" not in run.output


def test_a_bad_region_names_deploy_toml_and_the_key(workspace: Workspace) -> None:
    workspace.config.write_text(
        workspace.config.read_text().replace('region = "eu-west-1"', 'region = "eu west 1"')
    )

    run = workspace.deploy("plan", "--endpoint-url", "http://127.0.0.1:9")

    assert run.exit_code == 1
    assert f"{workspace.config}: `region` is 'eu west 1', which is not an AWS region name." in run.output
    assert 'e.g. region = "eu-west-1". Nothing was changed.' in run.output


def test_a_region_lambda_does_not_run_in_is_refused_before_any_call(workspace: Workspace) -> None:
    workspace.config.write_text(
        workspace.config.read_text().replace('region = "eu-west-1"', 'region = "eu-west-9"')
    )

    run = workspace.deploy("plan")

    assert run.exit_code == 1
    assert f"{workspace.config}: `region` is 'eu-west-9', which is not a region Lambda runs in" in run.output
    assert "eu-west-1" in run.output and "Nothing was changed." in run.output
    assert "Traceback" not in run.output and "KeyError" not in run.output


@with_infrastructure
def test_function_defaults_are_needed_only_to_create_a_function(
    workspace: Workspace, emulator: FrontedEmulator
) -> None:
    without_defaults = re.sub(r"\[function_defaults\][^\[]*", "", workspace.config.read_text())
    workspace.config.write_text(
        without_defaults + '[functions."src/python/api_handler:lambda"]\nmemory_mb = 256\n'
    )

    existing = workspace.deploy("plan", "--endpoint-url", emulator.endpoint_url)
    created = workspace.deploy("plan", "--local")

    assert existing.exit_code == 0, existing.output
    assert created.exit_code == 1
    assert (
        f"{workspace.config}: the local emulator creates the function api-handler "
        "(src/python/api_handler:lambda), which needs `timeout_seconds`, and neither [function_defaults] "
        'nor [functions."src/python/api_handler:lambda"] sets it.' in created.output
    )
