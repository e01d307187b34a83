"""A new function, from an empty folder to its zip, the way the README says to add one.

`./pants tailor` only adds targets for files no target owns. The repository reaches these tests
through a target that owns nothing (the root BUILD's `repository_snapshot`), so a new function's
code gets its `python_sources` and ends up in its zip.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from integration.repo_copy import RepoCopy

HANDLER = 'def handler(event, context):\n    return {"ok": True}\n'
FUNCTION = """
python_aws_lambda_function(
    name="lambda",
    handler="handler.py:handler",
    include_requirements=False,
)
"""


def build_files(repo: RepoCopy) -> set[Path]:
    return {path.relative_to(repo.root) for path in repo.root.rglob("BUILD")}


def test_tailor_adds_a_new_functions_sources_and_its_zip_holds_them(tmp_path: Path) -> None:
    repo = RepoCopy(tmp_path / "repo")
    handler = repo.path("src/python/newfn/handler.py")
    handler.parent.mkdir()
    handler.write_text(HANDLER)  # no __init__.py: src/python is the source root, so newfn.handler
    before = build_files(repo)

    repo.pants("tailor", "::").check()

    assert build_files(repo) - before == {Path("src/python/newfn/BUILD")}
    assert repo.path("src/python/newfn/BUILD").read_text() == "python_sources()\n"

    with repo.path("src/python/newfn/BUILD").open("a") as build:
        build.write(FUNCTION)
    repo.pants("package", "src/python/newfn:lambda").check()

    with zipfile.ZipFile(repo.path("dist/src.python.newfn/lambda.zip")) as zf:
        files = {name for name in zf.namelist() if not name.endswith("/")}
        assert files == {"lambda_function.py", "newfn/handler.py"}
        assert zf.read("newfn/handler.py").decode() == HANDLER
        assert zf.read("lambda_function.py") == b"from newfn.handler import handler as handler\n"
