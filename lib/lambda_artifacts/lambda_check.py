"""Checks a built function with its layers the way Lambda will load them, without calling it.

    python -m lambda_artifacts.lambda_check FUNCTION.zip [--layer LAYER.zip]... --runtime python3.11
        --glibc 2.26 --machine x86_64 --handler lambda_function.handler

Run by `./pants test` for every `python_aws_lambda_function` (pants-plugins/lambda_sandbox), with
the runtime's CPython. It unpacks the layers, in order, into a read-only `opt/` and the function
into a read-only `task/` (sandbox.py, the one Lambda sandbox), then, in a fresh interpreter that
sees only Lambda's `sys.path`:

- imports the handler's module and finds the handler in it: what Lambda's init phase does;
- checks that every module came from the artifacts or the standard library, and that nothing
  imported from the layers was compiled from source (their `.pyc` are what runs);

and, on the files:

- no shared object needs a newer glibc than the runtime has, or is for another CPU;
- the function and its layers fit Lambda's unzipped size limit, and the repository's budget, a
  share of it (size_limit.py, the one size check).

It prints one line per check and exits 1 if any failed. Standard library only, with sandbox.py
and size_limit.py beside it.
"""

from __future__ import annotations

import argparse
import json
import platform
import struct
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from lambda_artifacts.sandbox import RECORD_COMPILED, LambdaSandbox, remove
from lambda_artifacts.size_limit import OK, OVER, WARN, UnzippedSize

# ELF e_machine values, by the machine name in wheel tags.
ELF_MACHINES = {"x86_64": 62, "aarch64": 183}

# Runs in the Lambda sandbox (LambdaSandbox.command): imports the handler, as Lambda's init does.
IMPORT_PROBE = RECORD_COMPILED + textwrap.dedent("""
    import importlib, json, sys
    handler_spec, stdlib_from = sys.argv[1], int(sys.argv[2])
    module_name, _, function_name = handler_spec.rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    json.dump({
        "callable": callable(handler),
        "compiled_from_source": compiled_from_source,
        "modules": {n: getattr(m, "__file__", None) for n, m in sorted(sys.modules.items())},
        "stdlib": [p for p in sys.path[stdlib_from:]],
    }, sys.stdout)
    """)


def elf_facts(path: Path) -> tuple[int, set[tuple[int, ...]]] | None:
    """(e_machine, GLIBC_x.y versions needed) of a 64-bit little-endian ELF file; None if the
    file is not one. Reads the GNU version-needs section (SHT_GNU_verneed) like `readelf -V`."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    machine = struct.unpack_from("<H", data, 18)[0]
    (shoff,) = struct.unpack_from("<Q", data, 40)
    shentsize, shnum = struct.unpack_from("<HH", data, 58)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    needed: set[tuple[int, ...]] = set()
    for _, kind, _, _, offset, _, link, info, _, _ in sections:
        if kind != 0x6FFFFFFE:  # SHT_GNU_verneed
            continue
        strings = sections[link][4]
        entry = offset
        for _ in range(info):
            _, count, _, aux_offset, next_offset = struct.unpack_from("<HHIII", data, entry)
            aux = entry + aux_offset
            for _ in range(count):
                _, _, _, name, next_aux = struct.unpack_from("<IHHII", data, aux)
                label = data[strings + name : data.index(b"\0", strings + name)].decode()
                if label.startswith("GLIBC_") and label[6:7].isdigit():
                    needed.add(tuple(int(x) for x in label[6:].split(".")))
                aux += next_aux
            entry += next_offset
    return machine, needed


def check_shared_objects(roots: list[Path], glibc: tuple[int, ...], machine: str) -> list[str]:
    problems = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            with path.open("rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue
            facts = elf_facts(path)
            relative = path.relative_to(root.parent)
            if facts is None:
                problems.append(f"{relative} is not a 64-bit little-endian ELF file, as Lambda needs")
                continue
            found_machine, needed = facts
            if found_machine != ELF_MACHINES[machine]:
                problems.append(f"{relative} is for ELF machine {found_machine}, not {machine}")
            if needed and max(needed) > glibc:
                newest = ".".join(map(str, max(needed)))
                problems.append(
                    f"{relative} needs glibc {newest}; the runtime has {'.'.join(map(str, glibc))}"
                )
    return problems


def check_size(
    sizes: dict[Path, int], limit: int | None = None, budget: float | None = None
) -> tuple[str, list[str]]:
    """The function and its layers (unzipped bytes by zip) against Lambda's limit and the budget
    (size_limit.py's, unless a test lowers them)."""
    size = UnzippedSize({str(path): bytes_ for path, bytes_ in sizes.items()}, limit=limit, budget=budget)
    description = f"fits Lambda's unzipped limit, {size.share()} of it (budget {size.budget_share:.0%})"
    if size.status in (OK, WARN):
        return description, []
    why = "Lambda would refuse it" if size.status == OVER else size.over_budget_reason()
    return description, [
        f"{size.describe()}: {why}. "
        f"`./pants package` lists each layer's largest distributions: leave out what is never "
        f'imported with the layer\'s `exclude` (docs/building.md, "Cold starts"), or '
        f"move what only some functions use into a layer of its own."
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function", type=Path)
    parser.add_argument("--layer", type=Path, action="append", default=[])
    parser.add_argument("--runtime", required=True, help="e.g. python3.11")
    parser.add_argument("--glibc", required=True, help="the runtime's glibc, e.g. 2.26")
    parser.add_argument("--machine", required=True, choices=sorted(ELF_MACHINES))
    parser.add_argument("--handler", required=True, help="as configured in AWS, from the metadata")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="lambda-check-"))
    try:
        results = run_checks(args, root)
    finally:
        remove(root)

    failed = skipped = 0
    for description, problems in results:
        if problems is None:
            print(f"skip {description}")
            skipped += 1
            continue
        print(f"{'ok  ' if not problems else 'FAIL'} {description}")
        for problem in problems:
            print(textwrap.indent(problem, "       "))
        failed += bool(problems)
    ran = len(results) - skipped
    print(f"{ran - failed} of {ran} checks passed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


def run_checks(args: argparse.Namespace, root: Path) -> list[tuple[str, list[str] | None]]:
    """(what was checked, problems found, or None if it could not run here) for each check."""
    results: list[tuple[str, list[str] | None]] = []
    sandbox = LambdaSandbox(root, args.layer, args.runtime)
    task = sandbox.task(args.function, name="function")
    opt = sandbox.opt
    sizes = {**sandbox.layer_sizes, args.function: sandbox.task_sizes[task]}
    results.append(check_size(sizes))

    glibc = tuple(int(x) for x in args.glibc.split("."))
    results.append(
        (
            f"shared objects are {args.machine} and need glibc <= {args.glibc}",
            check_shared_objects([opt, task], glibc, args.machine),
        )
    )

    # macOS calls aarch64 `arm64`.
    host = {"arm64": "aarch64"}.get(platform.machine(), platform.machine())
    if host != args.machine:
        # Compiled extensions for another CPU do not load here (arm64 layers on an x86_64 build
        # machine): the files were checked above; importing the handler needs Lambda itself.
        results.append((f"imports {args.handler}: not here, on {host}, with {args.machine} code", None))
        return results

    scratch = root / "tmp"
    scratch.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TMPDIR": str(scratch),
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "lambda-check",
        "LAMBDA_TASK_ROOT": str(task),
    }
    stdlib_from = len(sandbox.sys_path(task))
    argv_probe = sandbox.command(sys.executable, task, IMPORT_PROBE, args.handler, str(stdlib_from))
    probe = subprocess.run(argv_probe, capture_output=True, text=True, env=env, cwd=task)
    if probe.returncode != 0:
        results.append((f"imports {args.handler} the way Lambda's init does", [probe.stderr.strip()]))
    else:
        report = json.loads(probe.stdout)
        init_problems = [] if report["callable"] else [f"{args.handler} is not callable"]
        results.append((f"imports {args.handler} the way Lambda's init does", init_problems))
        allowed = (str(root), *report["stdlib"])
        leaked = [f"{n} from {o}" for n, o in report["modules"].items() if o and not o.startswith(allowed)]
        results.append(("every module comes from the artifacts or the standard library", leaked))
        if any(opt.rglob("*.pyc")):  # layers built with compile_bytecode (the default)
            compiled = [p for p in report["compiled_from_source"] if p.startswith(str(opt))]
            results.append(
                (
                    "modules from the layers run from their .pyc",
                    [f"compiled from source: {p}" for p in compiled],
                )
            )
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
