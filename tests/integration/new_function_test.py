"""A function added exactly as the README says, in a copy of the repository: no test list,
deploy configuration or CI file is edited, yet it is packaged, checked and deployed."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.repo_copy import FUNCTIONS, RepoCopy

GOOD_HANDLER = """from lambda_common.responses import json_response


def handler(event, context):
    return json_response(200, {"hello": "world"})
"""

# Fine on a laptop; on Lambda, where /var/task is read-only, every cold start fails.
WRITES_AT_IMPORT = """import os

with open(os.path.join(os.path.dirname(__file__), "cache.json"), "w") as cache:
    cache.write("{}")


def handler(event, context):
    return {"statusCode": 200}
"""

FUNCTION_TARGET = '\npython_aws_lambda_function(name="lambda", handler="handler.py:handler")\n'


@pytest.fixture(scope="module")
def module_copy(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    return RepoCopy(tmp_path_factory.mktemp("new-function") / "repo")


@pytest.fixture
def repo(module_copy: RepoCopy) -> Iterator[RepoCopy]:
    """The module's copy of the repository (one pantsd for both tests), and after each test,
    without the functions it added, so that neither sees the other's."""
    functions = module_copy.path(FUNCTIONS)
    before = set(functions.iterdir())
    yield module_copy
    for added in set(functions.iterdir()) - before:
        shutil.rmtree(added)


def add_function(repo: RepoCopy, name: str, handler_source: str) -> Path:
    """README step 1: a folder with a handler.py (no __init__.py)."""
    folder = repo.path(FUNCTIONS) / name
    folder.mkdir(parents=True)
    (folder / "handler.py").write_text(handler_source)
    return folder


def test_a_function_added_as_the_readme_says_is_packaged_checked_and_deployed(repo: RepoCopy) -> None:
    good = add_function(repo, "greeter", GOOD_HANDLER)
    bad = add_function(repo, "cache_writer", WRITES_AT_IMPORT)

    # Step 2: tailor writes the source targets (nothing owns the new files, so it sees them).
    repo.pants("tailor", "::").check()
    for folder in (good, bad):
        assert (folder / "BUILD").read_text() == "python_sources()\n"
        # Step 3: one function target.
        with (folder / "BUILD").open("a") as build:
            build.write(FUNCTION_TARGET)

    # Both package: writing beside the code at import is only found by running it.
    package = repo.pants("package", "::").check()
    metadata = json.loads(repo.path("dist/src.python.greeter/lambda.metadata.json").read_text())
    assert metadata["layers"] == ["3rdparty/python:pypi", "3rdparty/python:framework"]
    assert "Wrote dist/src.python.cache_writer/lambda.zip" in package.output
    with zipfile.ZipFile(repo.path("dist/src.python.greeter/lambda.zip")) as zf:
        files = {name for name in zf.namelist() if not name.endswith("/")}
    # No __init__.py: src/python is the source root, so the module is greeter.handler.
    assert "greeter/handler.py" in files and "lambda_common/responses.py" in files
    assert {name.split("/")[0] for name in files} == {"lambda_function.py", "greeter", "lambda_common"}

    # The Lambda-sandbox check finds both by type: the good one passes, the other fails as on Lambda.
    test = repo.pants("test", "src/python/greeter:lambda", "src/python/cache_writer:lambda")
    assert test.returncode != 0
    assert "✓ src/python/greeter:lambda succeeded" in test.output
    assert "✕ src/python/cache_writer:lambda failed" in test.output
    assert "Read-only file system" in test.output

    # The deploy finds it from what package recorded, and names it by the convention.
    deploy = repo.pants("run", "deploy", "--", "apply", "--json").check()
    functions = {f["name"]: f for f in json.loads(deploy.stdout)["functions"]}
    assert functions["greeter"]["code"] == "create"
    assert [arn.rsplit(":", 2)[1] for arn in functions["greeter"]["layer_arns"]] == [
        "monorepo-pypi",
        "monorepo-framework",
    ]

    # Step 4: the deploy role's policy, regenerated, names the new functions.
    policy = repo.pants("run", "deploy", "--", "iam-policy").check()
    functions = json.loads(policy.stdout)["Statement"][0]["Resource"]
    assert "arn:aws:lambda:eu-west-1:*:function:greeter" in functions
    assert len(functions) == len(metadata["repository_functions"])


UNLISTED_IMPORT = """import yaml


def handler(event, context):
    return yaml.safe_dump(event)
"""


def test_a_typo_or_an_unlisted_import_stops_package_with_the_fix(repo: RepoCopy) -> None:
    folder = add_function(repo, "typo", GOOD_HANDLER)
    (folder / "BUILD").write_text(
        'python_sources()\n\npython_aws_lambda_function(name="lambda", handler="handler.py:handlr")\n'
    )

    run = repo.pants("package", "src/python/typo:lambda")

    assert run.returncode != 0
    assert "The `handler` field of src/python/typo:lambda is `handler.py:handlr`" in run.output
    assert (
        "typo/handler.py defines no `handlr` at its top level (it defines: handler, json_response)"
        in run.output
    )
    assert not repo.path("dist/src.python.typo/lambda.zip").exists()

    # A package no requirements file lists: Pants' own error, plus which file and which command.
    folder = add_function(repo, "unlisted", UNLISTED_IMPORT)
    (folder / "BUILD").write_text("python_sources()\n" + FUNCTION_TARGET)

    run = repo.pants("package", "src/python/unlisted:lambda")

    assert run.returncode != 0
    assert "Pants cannot infer owners for the following imports" in run.output
    assert "yaml (line: 1)" in run.output
    assert (
        "add the distribution that provides it to 3rdparty/python/pypi-requirements.txt or "
        "3rdparty/python/framework-requirements.txt (the resolve `python-default`)"
    ) in run.output
    assert "then relock: `./pants run 3rdparty/python/lock.py -- --resolve python-default`" in run.output
    assert "`# pants: no-infer-dep` only hides the import" in run.output
    assert not repo.path("dist/src.python.unlisted/lambda.zip").exists()
