"""The lockfile check ./pants runs before Pants, on scratch repositories written here."""

from __future__ import annotations

from pathlib import Path

import pytest
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.repository_platform import PlatformNotConfigured, read_repository_platform
from lockfiles import (
    HERE,
    RESOLVES,
    Repository,
    check_lockfiles,
    follow_runtime,
    lockfile_text,
    main,
    may_resolve,
    read_requirements,
)

FRAMEWORK = "test-common-framework @ git+https://example.invalid/framework.git@v0.1.5"
REQUIREMENTS = {
    "pypi-requirements.txt": "boto3\nnumpy\n",
    "framework-requirements.txt": f"{FRAMEWORK}\n",
    "pants-plugins-requirements.txt": "pantsbuild.pants==2.17.1\n",
    "pytest-requirements.txt": "pytest==7.0.1\n",
    "lint-requirements.txt": "black\n",
    "dev-requirements.txt": "moto\n",
}
PANTS_TOML = """\
[python]
interpreter_constraints = ["CPython==3.11.*"]
resolves = { python-default = "3rdparty/python/default.lock", dev = "3rdparty/python/dev.lock", pytest = "3rdparty/python/pytest.lock", lint = "3rdparty/python/lint.lock", pants-plugins = "3rdparty/python/pants-plugins.lock" }
resolves_to_interpreter_constraints = { python-default = ["CPython==3.11.*"], pytest = ["CPython==3.9.*", "CPython==3.11.*"], pants-plugins = ["CPython==3.9.*"], lint = ["CPython==3.11.*"] }
"""
ROOT_BUILD = """\
__defaults__(
    {
        # The platform, once.
        (python_aws_lambda_function, python_aws_lambda_layer): dict(
            runtime="python3.11",
            architecture="x86_64",
        ),
        python_aws_lambda_function: dict(layers=["3rdparty/python:pypi"]),
    }
)
"""


def write_lockfiles(root: Path, *, keep: tuple[str, ...] = ()) -> None:
    """Writes every lockfile as the lock command would, from the scratch repository's inputs."""
    repository = Repository(root)
    for resolve in RESOLVES:
        if resolve.name in keep:
            continue
        platform = repository.lambda_platform() if resolve.for_lambda else None
        pins = ["boto3==1.44.8", "numpy==2.2.6", FRAMEWORK] if resolve.for_lambda else ["thing==1.0"]
        text = lockfile_text(
            resolve, repository.requirements(resolve), repository.pythons(resolve), pins, platform
        )
        (root / repository.lockfile(resolve)).write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "BUILD").write_text(ROOT_BUILD)
    (tmp_path / "pants.toml").write_text(PANTS_TOML)
    (tmp_path / HERE).mkdir(parents=True)
    for name, text in REQUIREMENTS.items():
        (tmp_path / HERE / name).write_text(text)
    write_lockfiles(tmp_path)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_lockfiles_written_by_the_lock_command_are_current(repo: Path) -> None:
    assert check_lockfiles(Repository(repo)) == []


def test_a_requirement_that_is_not_locked_is_named_with_the_lock_command(repo: Path) -> None:
    with (repo / HERE / "pypi-requirements.txt").open("a") as f:
        f.write("tenacity\n")

    (problem,) = check_lockfiles(Repository(repo))

    assert problem.startswith("3rdparty/python/default.lock was not locked from")
    assert "not locked: tenacity" in problem
    assert problem.endswith("Run `./pants run 3rdparty/python/lock.py -- --resolve python-default`.")


def test_a_framework_tag_bump_without_a_relock_says_how_to_move_the_framework(repo: Path) -> None:
    edit(repo / HERE / "framework-requirements.txt", "@v0.1.5", "@v0.1.6")

    (problem,) = check_lockfiles(Repository(repo))

    assert "`./pants run 3rdparty/python/lock.py -- --framework-tag v0.1.6`" in problem
    assert "ResolutionImpossible" not in problem


def test_a_hand_edited_pin_is_caught_before_pip_sees_it(repo: Path) -> None:
    edit(repo / HERE / "default.lock", "numpy==2.2.6", "numpy==2.3.0")

    (problem,) = check_lockfiles(Repository(repo))

    assert problem.startswith("3rdparty/python/default.lock was edited by hand")
    assert "`./pants run 3rdparty/python/lock.py -- --resolve python-default --keep-pins`" in problem


def test_a_removed_pin_is_a_hand_edit_too(repo: Path) -> None:
    edit(repo / HERE / "dev.lock", "thing==1.0\n", "")

    (problem,) = check_lockfiles(Repository(repo))

    assert problem.startswith("3rdparty/python/dev.lock was edited by hand")


def test_turning_the_runtime_knob_names_both_places_and_the_lock_command(repo: Path) -> None:
    edit(repo / "BUILD", 'runtime="python3.11"', 'runtime="python3.12"')

    problems = check_lockfiles(Repository(repo))

    assert len(problems) == 2
    constraints, platform = problems
    assert constraints.startswith("BUILD sets runtime='python3.12'")
    # Every resolve that follows the runtime, in one problem: one lock command sets them all.
    assert "pants.toml [python].resolves_to_interpreter_constraints.python-default is" in constraints
    assert "not ['CPython==3.12.*']" in constraints
    assert (
        "pytest is ['CPython==3.9.*', 'CPython==3.11.*'], not ['CPython==3.9.*', 'CPython==3.12.*']"
        in constraints
    )
    assert "[python].interpreter_constraints is ['CPython==3.11.*'], not ['CPython==3.12.*']" in constraints
    assert constraints.endswith(
        "Run `./pants run 3rdparty/python/lock.py`: it sets them and relocks every resolve."
    )
    assert platform.startswith("3rdparty/python/default.lock was locked for Lambda python3.11 x86_64")
    assert platform.endswith("Run `./pants run 3rdparty/python/lock.py -- --resolve python-default`.")


def test_the_knob_turned_everywhere_but_not_relocked(repo: Path) -> None:
    edit(repo / "BUILD", 'runtime="python3.11"', 'runtime="python3.12"')
    edit(repo / "pants.toml", 'python-default = ["CPython==3.11.*"]', 'python-default = ["CPython==3.12.*"]')
    edit(repo / "pants.toml", '"CPython==3.9.*", "CPython==3.11.*"', '"CPython==3.9.*", "CPython==3.12.*"')
    edit(
        repo / "pants.toml",
        'interpreter_constraints = ["CPython==3.11.*"]',
        'interpreter_constraints = ["CPython==3.12.*"]',
    )

    problems = check_lockfiles(Repository(repo))

    assert [p.split(" was ")[0] for p in problems] == [
        "3rdparty/python/default.lock",
        "3rdparty/python/default.lock",
        "3rdparty/python/pytest.lock",
        "3rdparty/python/dev.lock",
    ]
    assert "was locked for ['CPython==3.11.*']" in problems[0]

    write_lockfiles(repo)
    assert check_lockfiles(Repository(repo)) == []


def test_an_architecture_change_needs_a_relock(repo: Path) -> None:
    edit(repo / "BUILD", 'architecture="x86_64"', 'architecture="arm64"')

    (problem,) = check_lockfiles(Repository(repo))

    assert "locked for Lambda python3.11 x86_64" in problem
    assert "architecture='arm64'" in problem


def test_changed_interpreter_constraints_name_the_option(repo: Path) -> None:
    edit(repo / "pants.toml", 'lint = ["CPython==3.11.*"]', 'lint = ["CPython==3.12.*"]')

    (problem,) = check_lockfiles(Repository(repo))

    assert problem.startswith("3rdparty/python/lint.lock was locked for ['CPython==3.11.*']")
    assert (
        "pants.toml [python].resolves_to_interpreter_constraints.lint is now ['CPython==3.12.*']" in problem
    )
    assert "--resolve lint" in problem


def test_a_lockfile_without_a_header(repo: Path) -> None:
    (repo / HERE / "lint.lock").write_text("black==24.1.0\n")

    (problem,) = check_lockfiles(Repository(repo))

    assert problem == (
        f"{repo}/3rdparty/python/lint.lock has no readable Pants metadata header; it was not "
        "written by ./pants run 3rdparty/python/lock.py."
    )


@pytest.mark.parametrize(
    "args, resolves",
    [
        (["package", "::"], True),
        (["--changed-since=HEAD", "test"], True),
        (["run", "deploy", "--", "apply"], True),
        (["run", "deploy", "--", "help"], True),
        (["fmt", "src/python::"], True),
        (["list", "::"], False),
        (["help", "test"], False),
        (["tailor", "::"], False),
        (["--version"], False),
        ([], False),
    ],
)
def test_which_commands_need_current_lockfiles(args: list[str], resolves: bool) -> None:
    assert may_resolve(args) is resolves


def test_check_exits_1_with_the_problems_and_spares_the_lock_command(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (repo / HERE / "pypi-requirements.txt").open("a") as f:
        f.write("tenacity\n")

    assert main(["check", "--root", str(repo), "--", "package", "::"]) == 1
    error = capsys.readouterr().err
    assert "the lockfiles are not current" in error and "not locked: tenacity" in error
    assert "Nothing was built or resolved." in error

    assert main(["check", "--root", str(repo), "--", "run", "3rdparty/python/lock.py"]) == 0
    assert main(["check", "--root", str(repo), "--", "list", "::"]) == 0


def test_the_platform_is_read_from_the_root_build(repo: Path) -> None:
    assert read_repository_platform(repo) == LambdaPlatform("python3.11", "x86_64")


@pytest.mark.parametrize(
    "build, error",
    [
        ("__defaults__(all=dict(resolve='x'))\n", "sets no literal runtime or architecture"),
        (
            "__defaults__({python_aws_lambda_function: dict(runtime='python3.11', architecture='x86_64'),"
            " python_aws_lambda_layer: dict(runtime='python3.12', architecture='x86_64')})\n",
            "different platforms",
        ),
        (
            "__defaults__({(python_aws_lambda_function, python_aws_lambda_layer):"
            " dict(runtime='python2.7', architecture='x86_64')})\n",
            "Unknown Lambda runtime 'python2.7'",
        ),
        ("__defaults__(\n", "Cannot read the Lambda runtime"),
    ],
)
def test_an_unreadable_platform_says_how_to_set_it(tmp_path: Path, build: str, error: str) -> None:
    (tmp_path / "BUILD").write_text(build)

    with pytest.raises(PlatformNotConfigured, match=error):
        read_repository_platform(tmp_path)


def test_requirements_files_keep_comments_out(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("# heading\nboto3  # why\n\nnumpy\n")

    assert read_requirements(path) == ["boto3", "numpy"]


def test_the_lock_command_points_pants_toml_at_the_runtime(repo: Path) -> None:
    assert all(follow_runtime(Repository(repo), resolve) is None for resolve in RESOLVES)
    edit(repo / "BUILD", 'runtime="python3.11"', 'runtime="python3.13"')

    changed = [follow_runtime(Repository(repo), resolve) for resolve in RESOLVES]

    assert changed == [
        "pants.toml [python].resolves_to_interpreter_constraints.python-default = "
        "['CPython==3.13.*'], for python3.13 in BUILD",
        None,  # pants-plugins: Pants' CPython
        "pants.toml [python].resolves_to_interpreter_constraints.pytest = "
        "['CPython==3.9.*', 'CPython==3.13.*'], for python3.13 in BUILD",
        None,  # lint
        "pants.toml [python].interpreter_constraints = ['CPython==3.13.*'], for python3.13 in BUILD",
    ]
    text = (repo / "pants.toml").read_text()
    assert 'python-default = ["CPython==3.13.*"], pytest = ["CPython==3.9.*", "CPython==3.13.*"]' in text
    assert 'lint = ["CPython==3.11.*"]' in text
    assert text.startswith('[python]\ninterpreter_constraints = ["CPython==3.13.*"]\n')
    write_lockfiles(repo)
    assert check_lockfiles(Repository(repo)) == []


def test_a_resolve_pants_toml_declares_that_the_lock_command_does_not_know_is_named(repo: Path) -> None:
    pants_toml = repo / "pants.toml"
    pants_toml.write_text(
        pants_toml.read_text().replace(
            'lint = "3rdparty/python/lint.lock"',
            'lint = "3rdparty/python/lint.lock", docs = "3rdparty/python/docs.lock"',
        )
    )

    problems = check_lockfiles(Repository(repo))

    assert any(
        "[python].resolves declares `docs`, which the lock command does not know" in p for p in problems
    )


def test_a_resolve_the_lock_command_knows_that_pants_toml_lacks_is_named(repo: Path) -> None:
    pants_toml = repo / "pants.toml"
    pants_toml.write_text(pants_toml.read_text().replace(', lint = "3rdparty/python/lint.lock"', ""))

    problems = check_lockfiles(Repository(repo))

    assert any("[python].resolves has no `lint`" in p for p in problems)
