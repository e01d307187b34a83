"""A snapshot of the repository's files, for tests that run Pants in a copy of the repository.

Registers `repository_snapshot`: a target that owns no files, so `tailor` still adds targets for
new code and `--changed-since` does not mark its dependents changed by every edit, but whose
dependents (e.g. `python_tests`) get the files its `globs` match, read from the workspace at
build time, under a prefix in their sandbox. It works like `relocated_files`, through codegen.
See https://www.pantsbuild.org/2.17/docs/plugins-codegen.
"""

from repository_snapshot import rules as snapshot_rules
from repository_snapshot.target_types import RepositorySnapshot


def rules():
    return [*snapshot_rules.rules()]


def target_types():
    return [RepositorySnapshot]
