"""`repository_snapshot` with Pants' engine: what dependents get, and that it owns nothing."""

from __future__ import annotations

import pytest
from pants.core.target_types import FileSourceField, FileTarget
from pants.core.target_types import rules as core_target_types_rules
from pants.engine.addresses import Address
from pants.engine.fs import DigestContents
from pants.engine.internals.graph import Owners, OwnersRequest
from pants.engine.target import (
    HydratedSources,
    HydrateSourcesRequest,
    InvalidTargetException,
    SourcesPaths,
    SourcesPathsRequest,
)
from pants.testutil.rule_runner import QueryRule, RuleRunner, engine_error
from repository_snapshot import register
from repository_snapshot.target_types import RepositorySnapshotSourcesField

FILES = {
    "BUILD": 'repository_snapshot(name="repository", globs=["**/*", "!/README.md", "!**/__pycache__/**"])',
    "README.md": "left out",
    "pants.toml": "[GLOBAL]\n",
    "src/python/newfn/handler.py": "def handler(event, context):\n    return {}\n",
    "src/python/newfn/__pycache__/handler.cpython-311.pyc": "compiled",
    "dist/old.zip": "built",
    # A git worktree's .git is a file, which pants_ignore's default `.*/` does not cover.
    ".git": "gitdir: /elsewhere/.git/worktrees/repo\n",
    "sub/.git/HEAD": "ref: refs/heads/main\n",
    "sub/BUILD": "",
}


@pytest.fixture
def rule_runner() -> RuleRunner:
    rule_runner = RuleRunner(
        rules=[
            *register.rules(),
            *core_target_types_rules(),
            QueryRule(HydratedSources, [HydrateSourcesRequest]),
            QueryRule(SourcesPaths, [SourcesPathsRequest]),
            QueryRule(Owners, [OwnersRequest]),
        ],
        target_types=[*register.target_types(), FileTarget],
    )
    rule_runner.write_files(FILES)
    return rule_runner


def snapshot(rule_runner: RuleRunner, address: Address) -> dict[str, bytes]:
    sources = rule_runner.get_target(address)[RepositorySnapshotSourcesField]
    hydrated = rule_runner.request(
        HydratedSources,
        [HydrateSourcesRequest(sources, for_sources_types=(FileSourceField,), enable_codegen=True)],
    )
    contents = rule_runner.request(DigestContents, [hydrated.snapshot.digest])
    return {entry.path: entry.content for entry in contents}


def test_dependents_get_the_matched_files_under_the_prefix(rule_runner: RuleRunner) -> None:
    files = snapshot(rule_runner, Address("", target_name="repository"))

    # Not the excluded README or bytecode, nor what pants_ignore ignores (.git/, dist/), nor a
    # worktree's .git file.
    assert set(files) == {
        "repository/BUILD",
        "repository/sub/BUILD",
        "repository/pants.toml",
        "repository/src/python/newfn/handler.py",
    }


def test_a_changed_file_changes_the_snapshot(rule_runner: RuleRunner) -> None:
    address = Address("", target_name="repository")
    before = snapshot(rule_runner, address)

    rule_runner.write_files({"src/python/newfn/handler.py": "def handler(event, context):\n    return 1\n"})

    assert snapshot(rule_runner, address) != before


def test_the_target_owns_no_file(rule_runner: RuleRunner) -> None:
    # tailor counts a file as owned if a target's sources match it; --changed-since marks a
    # file's owners changed. Neither may see this target.
    target = rule_runner.get_target(Address("", target_name="repository"))
    paths = rule_runner.request(SourcesPaths, [SourcesPathsRequest(target[RepositorySnapshotSourcesField])])
    owners = rule_runner.request(Owners, [OwnersRequest(("src/python/newfn/handler.py", "pants.toml"))])

    assert paths.files == ()
    assert owners == Owners()


def test_a_folder_target_snapshots_its_folder(rule_runner: RuleRunner) -> None:
    rule_runner.write_files({"src/python/BUILD": 'repository_snapshot(name="snap", prefix="copy/of")'})

    files = snapshot(rule_runner, Address("src/python", target_name="snap"))

    assert set(files) == {"copy/of/BUILD", "copy/of/newfn/handler.py"}


@pytest.mark.parametrize("prefix", ["/abs", "../outside"])
def test_a_prefix_outside_the_sandbox_is_refused(rule_runner: RuleRunner, prefix: str) -> None:
    rule_runner.write_files({"BUILD": f'repository_snapshot(name="repository", prefix="{prefix}")'})

    with engine_error(InvalidTargetException, contains="must be a folder inside the sandbox"):
        rule_runner.get_target(Address("", target_name="repository"))
