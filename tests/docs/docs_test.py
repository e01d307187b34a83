"""The README and docs/: every command a reader may paste names targets, files and flags that exist.

Found, not listed: every Markdown file at the top and under docs/, every fenced code block in
them, every `./pants` command there, and every path in backticks that starts with one of the
repository's top-level folders. The deploy tool's flags are checked by its own argument parser;
the flags of the scripts `./pants run` runs (the lock command, the benchmark) and of the
build-support scripts, by their sources. Pants' own flags are Pants' to document.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

REPO = Path("repository")  # the repository, from //:documented
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
SHELL_SEPARATORS = {"&&", "||", ";", "|", "&"}


def relative(doc: Path) -> str:
    return str(doc.relative_to(REPO))


def commands(doc: Path) -> list[list[str]]:
    """Each shell command in the doc's bash blocks, as words, without redirections or comments."""
    found = []
    for language, block in FENCE.findall(doc.read_text()):
        if language not in ("bash", "sh", "shell"):
            continue
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            command: list[str] = []
            skip_next = False
            for word in [*words, ";"]:
                if skip_next:
                    skip_next = False
                elif word in SHELL_SEPARATORS:
                    if command:
                        found.append(command)
                    command = []
                elif word in ("<", ">", ">>", "2>"):
                    skip_next = True
                else:
                    command.append(word)
    return found


def pants_commands() -> list[tuple[str, list[str]]]:
    found = []
    for doc in DOCS:
        for command in commands(doc):
            # `VAR=value ./pants ...`: the environment is the reader's.
            while command and re.fullmatch(r"[A-Z_]+=.*", command[0]):
                command = command[1:]
            if command and command[0] == "./pants":
                found.append((relative(doc), command[1:]))
    return found


def declared_names(folder: Path) -> set[str]:
    names = set()
    for build in folder.glob("BUILD*"):
        names.update(re.findall(r"""\bname\s*=\s*["']([^"']+)["']""", build.read_text()))
    return names


def address_problem(spec: str) -> str | None:
    folder, _, name = spec.partition(":")
    if not (REPO / folder).is_dir():
        return f"{spec}: there is no folder {folder or '.'}"
    if name in ("", ":") or name.startswith(":"):
        return None
    if name not in declared_names(REPO / folder):
        return f"{spec}: no BUILD file in {folder or '.'} declares a target named {name!r}"
    return None


def test_the_docs_are_found() -> None:
    assert REPO / "README.md" in DOCS and len(DOCS) > 5, DOCS
    assert pants_commands(), "no ./pants command in any bash block"


def test_every_target_a_pants_command_names_exists() -> None:
    problems = [
        f"{doc}: ./pants {' '.join(argv)}: {problem}"
        for doc, argv in pants_commands()
        for word in (argv[: argv.index("--")] if "--" in argv else argv)
        if ":" in word and not word.startswith("-") and "://" not in word
        for problem in [address_problem(word)]
        if problem
    ]
    assert problems == []


def test_every_script_pants_runs_exists_and_takes_the_flags_given() -> None:
    problems = []
    for doc, argv in pants_commands():
        if "run" not in argv:
            continue
        script = argv[argv.index("run") + 1]
        args = argv[argv.index("--") + 1 :] if "--" in argv else []
        if ":" in script or not script.endswith(".py"):
            continue  # a target (the deploy tool), checked below
        path = REPO / script
        if not path.is_file():
            problems.append(f"{doc}: ./pants run {script}: no such file")
            continue
        source = path.read_text()
        problems += [
            f"{doc}: ./pants run {script} -- {' '.join(args)}: {script} has no {flag.split('=')[0]}"
            for flag in args
            if flag.startswith("--") and f'"{flag.split("=")[0]}"' not in source
        ]
    assert problems == []


def test_every_deploy_command_parses() -> None:
    sys.path.insert(0, str(REPO / "deploy"))
    from lambda_deploy.cli import parse_args

    problems = []
    checked = 0
    for doc, argv in pants_commands():
        if argv[:2] != ["run", "deploy"] or "--" not in argv:
            continue
        args = argv[argv.index("--") + 1 :]
        checked += 1
        try:
            parsed = parse_args(args)
        except SystemExit:
            problems.append(f"{doc}: ./pants run deploy -- {' '.join(args)}")
            continue
        # Event files are the repository's own (each function's events/), or stdin.
        event = getattr(parsed, "event", None)
        if event is not None and str(event) != "-" and not (REPO / str(event)).is_file():
            problems.append(f"{doc}: ./pants run deploy -- {' '.join(args)}: no event file {event}")
    assert checked and problems == [], "the deploy tool refuses these commands (see its output above)"


def test_every_build_support_command_exists_with_its_arguments() -> None:
    problems = []
    checked = 0
    for doc in DOCS:
        for command in commands(doc):
            if not command[0].startswith("build-support/"):
                continue
            checked += 1
            script = REPO / command[0]
            if not script.is_file():
                problems.append(f"{relative(doc)}: {command[0]}: no such file")
                continue
            source = script.read_text()
            for word in command[1:]:
                option = word.split("=")[0]
                if (option.startswith("--") or re.fullmatch(r"[a-z][a-z-]+", word)) and option not in source:
                    problems.append(
                        f"{relative(doc)}: {' '.join(command)}: {command[0]} never mentions {option}"
                    )
    assert checked and problems == []


def test_every_path_in_the_docs_exists() -> None:
    top_level = {path.name for path in REPO.iterdir()}
    problems = []
    for doc in DOCS:
        text = doc.read_text()
        for target in LINK.findall(text):
            if "://" in target:
                continue
            if not (doc.parent / target).exists():
                problems.append(f"{relative(doc)}: link to {target}, which does not exist")
        for code in INLINE_CODE.findall(text):
            for word in code.split():
                word = word.rstrip(".,;:)")
                if "/" not in word or re.search(r"[<>*{}$~]|\.\.\.", word):
                    continue
                if word.split("/")[0] not in top_level or "://" in word:
                    continue
                if ":" in word:
                    problem = address_problem(word)
                    if problem:
                        problems.append(f"{relative(doc)}: `{problem}`")
                elif not (REPO / word.rstrip("/")).exists():
                    problems.append(f"{relative(doc)}: `{word}` does not exist")
    assert problems == []


def test_the_runtime_snippet_is_the_root_builds_own() -> None:
    doc = (REPO / "docs/changing-the-runtime.md").read_text()
    python_blocks = [block for language, block in FENCE.findall(doc) if language == "python"]
    assert python_blocks, "docs/changing-the-runtime.md shows no python block"
    assert python_blocks[0].strip() in (REPO / "BUILD").read_text(), (
        "docs/changing-the-runtime.md quotes the root BUILD's runtime line, which has changed: "
        "copy it from BUILD again"
    )


@pytest.mark.parametrize("doc", DOCS, ids=relative)
def test_each_doc_has_one_title(doc: Path) -> None:
    assert doc.read_text().startswith("# ") and len(re.findall(r"^# ", doc.read_text(), re.M)) == 1


def test_the_fresh_machine_test_runs_the_quick_starts_main_job() -> None:
    readme = (REPO / "README.md").read_text()
    quick_start = readme[readme.index("## Quick start") :]
    first_command = next(block for language, block in FENCE.findall(quick_start) if language == "bash")
    main_job = first_command.splitlines()[0].split("#")[0].strip()
    fresh_machine = (REPO / "tests/integration/fresh_machine_test.py").read_text()
    assert f'MAIN_JOB = "{main_job}"' in fresh_machine, (
        f"README's quick start runs `{main_job}`: make MAIN_JOB in "
        "tests/integration/fresh_machine_test.py the same"
    )
