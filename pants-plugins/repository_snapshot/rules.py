"""Reads a `repository_snapshot` target's files from the workspace, as codegen for its dependents."""

from __future__ import annotations

from pants.core.target_types import FileSourceField
from pants.engine.fs import AddPrefix, PathGlobs, RemovePrefix, Snapshot
from pants.engine.rules import Get, collect_rules, rule
from pants.engine.target import GeneratedSources, GenerateSourcesRequest, SourcesField
from pants.engine.unions import UnionRule
from pants.option.global_options import GlobMatchErrorBehavior
from pants.util.logging import LogLevel
from repository_snapshot.target_types import (
    RepositorySnapshotGlobsField,
    RepositorySnapshotPrefixField,
    RepositorySnapshotSourcesField,
)


class GenerateRepositorySnapshotRequest(GenerateSourcesRequest):
    input = RepositorySnapshotSourcesField
    output = FileSourceField
    # Nothing to export to an IDE: these are the repository's own files.
    exportable = False


@rule(desc="Snapshotting the repository for `repository_snapshot` targets", level=LogLevel.DEBUG)
async def generate_repository_snapshot(request: GenerateRepositorySnapshotRequest) -> GeneratedSources:
    target = request.protocol_target
    folder = target.address.spec_path
    # Never git's metadata. pants_ignore's default `.*/` leaves out a .git folder, but in a git
    # worktree or submodule .git is a file naming the real repository's git folder: in a copy,
    # git commands would then change the real repository (its branches and the worktree's HEAD).
    globs = (*(target[RepositorySnapshotGlobsField].value or ()), "!**/.git")
    # The engine's globbing skips what pants_ignore ignores (.git, dist/, .pants.d, ...), and is
    # invalidated when a file changes: any change to a matched file changes this digest, and so
    # the cache key of every test that depends on the target.
    snapshot = await Get(
        Snapshot,
        PathGlobs(
            [SourcesField.prefix_glob_with_dirpath(folder, glob) for glob in globs],
            glob_match_error_behavior=GlobMatchErrorBehavior.error,
            description_of_origin=f"the `{RepositorySnapshotGlobsField.alias}` field of {target.address}",
        ),
    )
    if folder:
        # Paths relative to the target's folder, as `prefix` documents.
        snapshot = await Get(Snapshot, RemovePrefix(snapshot.digest, folder))
    prefix = target[RepositorySnapshotPrefixField].value
    if prefix:
        snapshot = await Get(Snapshot, AddPrefix(snapshot.digest, prefix))
    return GeneratedSources(snapshot)


def rules():
    return [
        *collect_rules(),
        UnionRule(GenerateSourcesRequest, GenerateRepositorySnapshotRequest),
    ]
