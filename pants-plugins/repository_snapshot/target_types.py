"""`repository_snapshot`: the repository's files, under a prefix, for its dependents' sandboxes."""

from __future__ import annotations

import os

from pants.engine.addresses import Address
from pants.engine.target import (
    COMMON_TARGET_FIELDS,
    InvalidFieldException,
    MultipleSourcesField,
    StringField,
    StringSequenceField,
    Target,
)
from pants.util.strutil import help_text

CODEGEN_DOCS = "https://www.pantsbuild.org/2.17/docs/plugins-codegen"
TAILOR_DOCS = "https://www.pantsbuild.org/2.17/docs/create-initial-build-files"


class RepositorySnapshotSourcesField(MultipleSourcesField):
    # Registered only so that codegen can turn this target into files (as `relocated_files`
    # does): it matches no file, so the target owns none. Owning them would hide every new file
    # from `tailor` and mark this target's dependents changed by any edit anywhere.
    alias = "_sources"
    expected_num_files = 0


class RepositorySnapshotGlobsField(StringSequenceField):
    alias = "globs"
    default = ("**/*", "!**/__pycache__/**", "!**/node_modules/**")
    help = help_text(f"""
        The files to put in the snapshot, as globs relative to this BUILD file's folder, with
        `!` before those to leave out (gitignore-style, like a `files` target's `sources`).

        Files Pants ignores (`[GLOBAL].pants_ignore`, which by default includes `.gitignore`)
        are never matched, nor is git's metadata (`.git`, a folder or, in a git worktree, a
        file). Unlike `sources`, these globs do not make the target own the files:
        `tailor` still sees them as unowned, and `--changed-since` does not mark this target
        changed when they change. Dependents still see every change, because the snapshot's
        digest changes. See {TAILOR_DOCS}.
        """)


class RepositorySnapshotPrefixField(StringField):
    alias = "prefix"
    default = "repository"
    help = help_text(f"""
        The folder, relative to the sandbox root, under which dependents find the snapshot: with
        the default, `BUILD` at the root of the repository is at `repository/BUILD`. With `""`,
        files keep their own paths. See {CODEGEN_DOCS}.
        """)

    @classmethod
    def compute_value(cls, raw_value: str | None, address: Address) -> str:
        value = super().compute_value(raw_value, address)
        assert value is not None  # the field has a default
        if os.path.isabs(value) or os.path.normpath(value or ".").split(os.sep)[0] == "..":
            raise InvalidFieldException(
                f"The `{cls.alias}` field of the `{RepositorySnapshot.alias}` target {address} "
                f"must be a folder inside the sandbox, such as `{cls.default}`, not {value!r}. "
                f'Use `{cls.alias}=""` to put the files at their own paths.'
            )
        normalized = os.path.normpath(value or ".")
        return "" if normalized == "." else normalized


class RepositorySnapshot(Target):
    alias = "repository_snapshot"
    core_fields = (
        *COMMON_TARGET_FIELDS,
        RepositorySnapshotSourcesField,
        RepositorySnapshotGlobsField,
        RepositorySnapshotPrefixField,
    )
    help = help_text(f"""
        The repository's files, read from the workspace when a dependent needs them, under
        `prefix` in the dependent's sandbox.

        For tests that run Pants (or anything else) in a copy of the repository: depend on this
        target from `python_tests`, and the test finds the copy under `prefix/`. The target owns
        no files, so unlike a `files(sources=["**/*"])` target it hides nothing from `tailor`
        and does not make every edit select its dependents with `--changed-since`; test results
        still follow every change, because the snapshot's digest is part of the test's inputs.
        See {CODEGEN_DOCS}.
        """)
