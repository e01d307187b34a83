"""The built zips, unpacked and run the way Lambda will load them."""

from __future__ import annotations

import base64
import importlib.util
import json
import sysconfig
import zipfile
from pathlib import Path

import pytest
from artifacts.conftest import FRAMEWORK_LAYER, FUNCTIONS, HANDLER, LAYERS, PLATFORM, PYPI_LAYER
from doubles.sample_events import api_event, png
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from lambda_artifacts.metadata import ArtifactMetadata, find_metadata
from lambda_artifacts.sandbox import LambdaSandbox, unzipped_size

# The runtime's CPython, as .pyc file names spell it: cpython-311.
CPYTHON_TAG = "cpython-{}{}".format(*PLATFORM.python_version)


def names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as zf:
        return zf.namelist()


@pytest.mark.handler_behaviour
def test_api_handler_prices_an_order(sandbox: LambdaSandbox, api_task: Path) -> None:
    order = {
        "customer": {"name": "Grace Hopper", "email": "grace@example.com"},
        "items": [{"sku": "COBOL-85", "quantity": 3, "unit_price": "19.99"}],
    }

    invocation = sandbox.invoke(api_task, api_event(order), HANDLER)

    assert invocation.result["statusCode"] == 200
    assert json.loads(invocation.result["body"]) == {
        "request_id": "test-request",
        "customer": "Grace Hopper",
        "item_count": 3,
        "total": "59.97",
        "currency": "EUR",
        "framework_version": "0.1.5+sample",
    }
    assert "Priced order test-request" in invocation.stderr


@pytest.mark.handler_behaviour
def test_api_handler_rejects_an_invalid_order(sandbox: LambdaSandbox, api_task: Path) -> None:
    invocation = sandbox.invoke(api_task, api_event({"customer": {"name": ""}, "items": []}), HANDLER)

    assert invocation.result["statusCode"] == 422
    details = json.loads(invocation.result["body"])["details"]
    assert {d["loc"] for d in details} == {"customer.name", "customer.email", "items"}


@pytest.mark.handler_behaviour
def test_thumbnail_shrinks_an_image_with_opencv_from_the_layer(
    sandbox: LambdaSandbox, thumbnail_task: Path
) -> None:
    event = api_event({"image_base64": base64.b64encode(png(320, 240)).decode(), "max_size": 64})

    invocation = sandbox.invoke(thumbnail_task, event, HANDLER)

    assert invocation.result["statusCode"] == 200, invocation.result
    body = json.loads(invocation.result["body"])
    assert body["original"] == {"width": 320, "height": 240}
    assert body["thumbnail"] == {"width": 64, "height": 48, "format": "png"}
    assert base64.b64decode(body["thumbnail_base64"]).startswith(b"\x89PNG")


def test_code_comes_from_task_and_requirements_from_the_layers(
    sandbox: LambdaSandbox, thumbnail_task: Path
) -> None:
    event = api_event({"image_base64": base64.b64encode(png(8, 8)).decode()})

    invocation = sandbox.invoke(thumbnail_task, event, HANDLER)

    assert invocation.sys_path[:3] == [
        str(thumbnail_task),
        str(sandbox.site_packages),
        str(sandbox.opt / "python"),
    ]
    origins = invocation.modules
    assert origins["thumbnail.handler"].startswith(str(thumbnail_task))
    assert origins["lambda_common.responses"].startswith(str(thumbnail_task))
    for third_party in ("cv2", "numpy", "test_common_framework"):
        assert origins[third_party].startswith(str(sandbox.opt / "python")), third_party
    # Nothing from the build machine's environment leaked in: every module is either from the
    # artifacts or from the interpreter's standard library.
    allowed = (str(sandbox.root), sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    leaked = {name: origin for name, origin in origins.items() if origin and not origin.startswith(allowed)}
    assert leaked == {}


def test_task_and_opt_are_read_only(sandbox: LambdaSandbox, api_task: Path) -> None:
    if not sandbox.read_only_enforced:
        pytest.skip("Running as root without user namespaces: nothing can be made read-only.")
    before = sandbox.files()

    invocation = sandbox.invoke(api_task, api_event({}), HANDLER, probe_writes=True)

    assert set(invocation.write_errors) == {"task", "opt"}
    # Not even Python's bytecode cache was written, as on Lambda.
    assert sandbox.files() == before


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_function_zips_hold_only_first_party_code(function: str) -> None:
    top_level = {name.split("/")[0] for name in names(FUNCTIONS[function])}

    assert top_level == {"lambda_function.py", function, "lambda_common"}


def test_layers_put_everything_under_python() -> None:
    for layer in LAYERS:
        assert all(name.startswith("python/") for name in names(layer)), layer


def test_framework_layer_says_it_was_built_from_the_sample() -> None:
    dist_infos = {name.split("/")[1] for name in names(FRAMEWORK_LAYER) if ".dist-info/" in name}

    assert dist_infos == {"test_common_framework-0.1.5+sample.dist-info"}
    with zipfile.ZipFile(FRAMEWORK_LAYER) as zf:
        recorded = json.loads(zf.read("python/framework-source.json"))
    assert recorded["source"] == "sample"
    assert recorded["tag"] == "v0.1.5"


def glibc_versions_needed(shared_object: Path) -> set[tuple[int, ...]]:
    with shared_object.open("rb") as f:
        elf = ELFFile(f)
        needed = set()
        for section in elf.iter_sections():
            if isinstance(section, GNUVerNeedSection):
                for _, auxiliaries in section.iter_versions():
                    for aux in auxiliaries:
                        if aux.name.startswith("GLIBC_") and aux.name[6:7].isdigit():
                            needed.add(tuple(int(x) for x in aux.name[6:].split(".")))
        return needed


def test_no_shared_object_needs_a_newer_glibc_than_lambdas(sandbox: LambdaSandbox) -> None:
    shared_objects = [
        path
        for path in sandbox.opt.rglob("*")
        if path.is_file() and not path.is_symlink() and path.open("rb").read(4) == b"\x7fELF"
    ]
    too_new = {
        str(path.relative_to(sandbox.opt)): max(versions)
        for path in shared_objects
        if (versions := glibc_versions_needed(path)) and max(versions) > PLATFORM.glibc
    }

    assert len(shared_objects) > 20  # numpy, OpenCV and pydantic-core ship dozens
    assert too_new == {}


@pytest.mark.parametrize("artifact", find_metadata(Path(".")), ids=lambda m: m.address)
def test_the_unzipped_size_packaging_recorded_is_what_unzipping_gives(artifact: ArtifactMetadata) -> None:
    # Packaging and the deploy preflight hold function + layers to Lambda's limit by these numbers.
    assert artifact.unzipped_bytes == unzipped_size(artifact.artifact) > 0


def pyc_header(data: bytes) -> tuple[bytes, int]:
    """(magic number, flags) of a .pyc. PEP 552: flags 0b01 = hash-based, 0b10 = check source."""
    return data[:4], int.from_bytes(data[4:8], "little")


def test_layers_ship_unchecked_hash_bytecode_for_the_runtime() -> None:
    with zipfile.ZipFile(PYPI_LAYER) as zf:
        names = set(zf.namelist())
        pyc = zf.read(f"python/pydantic/__pycache__/__init__.{CPYTHON_TAG}.pyc")
    assert f"python/numpy/__pycache__/__init__.{CPYTHON_TAG}.pyc" in names
    assert f"python/cv2/__pycache__/__init__.{CPYTHON_TAG}.pyc" in names
    assert not [n for n in names if n.endswith(".pyc") and f".{CPYTHON_TAG}." not in n]
    magic, flags = pyc_header(pyc)
    # This test runs on the runtime's CPython (the dev resolve follows the runtime).
    assert magic == importlib.util.MAGIC_NUMBER
    assert flags == 0b01


def test_the_layers_bytecode_is_what_python_runs(
    sandbox: LambdaSandbox, api_task: Path, thumbnail_task: Path
) -> None:
    image = {"image_base64": base64.b64encode(png(8, 8)).decode()}
    for task, event in ((api_task, api_event({})), (thumbnail_task, api_event(image))):
        invocation = sandbox.invoke(task, event, HANDLER)

        # Nothing imported from /opt was compiled from source: it all came from the .pyc.
        from_layers = [path for path in invocation.compiled_from_source if path.startswith(str(sandbox.opt))]
        assert from_layers == []
        # The function's own code ships as source (compile_bytecode defaults to False for functions).
        assert any(path.startswith(str(task)) for path in invocation.compiled_from_source)
        assert "pydantic" in invocation.modules or "cv2" in invocation.modules


def test_the_excluded_files_are_gone() -> None:
    names = zipfile.ZipFile(PYPI_LAYER).namelist()

    assert not [n for n in names if n.startswith("python/bin/")]
    assert not [n for n in names if "/tests/" in n]
    assert not [n for n in names if n.endswith(".pyi")]
    assert "python/numpy-2.2.6.dist-info/METADATA" in names  # dist-info stays: importlib.metadata reads it
