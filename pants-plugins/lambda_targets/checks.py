"""The package-time checks: what would otherwise fail only on Lambda, at the first cold start.

A function's third-party code must be in its layers; it and its layers must fit Lambda's unzipped
limit (a layer alone, too); and every artifact's size is reported against that limit, with a
warning above WARN_SHARE_OF_LIMIT of it. Each message names the target and the fix.
"""

from __future__ import annotations

from lambda_artifacts.artifact_zip import canonical_name
from lambda_artifacts.size_limit import (
    OK,
    OVER,
    OVER_BUDGET,
    WARN_SHARE_OF_LIMIT,
    UnzippedSize,
    human_size,
    largest_distributions,
)
from lambda_targets.target_types import PythonAWSLambdaLayer
from pants.backend.python.target_types import PythonRequirementsField
from pants.engine.addresses import Address
from pants.engine.target import TransitiveTargets

# A container image may be up to 10 GB: the way out for dependencies no zip can hold.
# https://docs.aws.amazon.com/lambda/latest/dg/images-create.html
CONTAINER_IMAGE_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/python-image.html"


class LambdaCheckFailed(Exception):
    """A function that would fail on Lambda: the message names the target, the field and the fix."""


def required_distributions(transitive: TransitiveTargets) -> dict[str, str]:
    """Each third-party distribution the closure's requirement targets name, with the first
    target that names it: what check_third_party_is_provided checks."""
    required: dict[str, str] = {}
    for target in transitive.closure:
        if target.has_field(PythonRequirementsField):
            for requirement in target[PythonRequirementsField].value:
                required.setdefault(canonical_name(requirement.project_name), str(target.address))
    return required


def check_third_party_is_provided(
    address: str, layers: tuple[str, ...], required: dict[str, str], reports: list[dict]
) -> None:
    """Every distribution the function's code depends on (`required`, name to the target that
    names it) must ship in the zip or a layer (`reports`: the zip step's, the function's first)."""
    provided = {
        dist["name"] for report in reports for dist in report["distributions"] if dist["version"] is not None
    }
    missing = {name: owner for name, owner in required.items() if name not in provided}
    if not missing:
        return
    listing = "\n".join(f"    {name} (from {owner})" for name, owner in sorted(missing.items()))
    raise LambdaCheckFailed(
        f"{address} depends on third-party code that none of its layers provides, so "
        f"its imports would fail on Lambda:\n{listing}\nIts `layers` are: {', '.join(layers) or 'none'}. "
        f"Add each requirement to a layer's requirements (e.g. 3rdparty/python/pypi-requirements.txt, "
        f"then relock), name a layer that has it in the function's `layers`, or set "
        f"`include_requirements=True` on the function to ship it in the function's own zip."
    )


def check_size(address: str, reports: dict[str, dict]) -> None:
    """A function and its layers (`reports`: address to the zip step's report, the function's
    first) over the limit is an error; near it, the build warns (size_warning)."""
    size = UnzippedSize(
        {name: report["unzipped_bytes"] for name, report in reports.items()},
        tuple(d for report in reports.values() for d in report["distributions"]),
    )
    if size.status != OVER:
        return
    raise LambdaCheckFailed(
        f"{address} and its `layers` unzip to {size.describe()}.\n"
        f"Largest: {', '.join(size.largest())}.\nDrop or slim a requirement, add to the layers' "
        f"`exclude`, or split the layers between functions; or ship this function as a container "
        f"image ({CONTAINER_IMAGE_DOCS})."
    )


def check_layer_size(address: Address, report: dict) -> None:
    """A layer over the limit on its own fits no function: refuse it, naming what takes the room."""
    size = UnzippedSize({str(address): report["unzipped_bytes"]}, tuple(report["distributions"]))
    if size.status != OVER:
        return
    biggest = report["distributions"][0]["name"] if report["distributions"] else "the largest dependency"
    listing = "\n".join(f"    {line}" for line in size.largest(8))
    raise LambdaCheckFailed(
        f"The {PythonAWSLambdaLayer.alias} {address} unzips to {size.describe()}, on its own, "
        f"so no function could use it. Its largest distributions:\n{listing}\n"
        f"What to do, from least to most work:\n"
        f"  - leave out files nothing imports at run time, with the layer's `exclude` (e.g. "
        f'`"**/tests/**"`, `"**/*.pyi"`, `"**/include/**"`);\n'
        f"  - split its requirements into two layers, if no function needs both halves (a "
        f"function and all its layers share the one limit);\n"
        f"  - drop {biggest} or move to a slimmer alternative, or ship the functions that need "
        f"it as container images, which may be up to 10 GB ({CONTAINER_IMAGE_DOCS})."
    )


def size_warning(subject: str, total: int) -> str | None:
    """Why the artifact is close to the limit, above WARN_SHARE_OF_LIMIT of it; else None.
    `subject` starts the sentence: "//:layer unzips to"."""
    size = UnzippedSize({subject: total})
    if size.status in (OK, OVER):
        return None
    return (
        f"{subject} {size.describe()}. Above {100 * WARN_SHARE_OF_LIMIT:.0f}%, one more dependency "
        f"or version bump may not fit: the artifact's report lists its largest distributions, and "
        f"`exclude` drops what is never imported."
        + (
            f" That is {size.over_budget_reason()}: `./pants test` fails the Lambda-sandbox check "
            f"of every function this large."
            if size.status == OVER_BUDGET
            else ""
        )
    )


def size_log_lines(report: dict, layers_unzipped: int | None = None, largest: int = 5) -> list[str]:
    """The artifact's sizes; for a function with layers, also their total against Lambda's limit."""
    unzipped = report["unzipped_bytes"]
    size = UnzippedSize({"total": unzipped + (layers_unzipped or 0)})
    lines = [
        f"    Size: {human_size(report['zipped_bytes'])} zipped, {human_size(unzipped)} unzipped"
        + (f", {human_size(size.total)} with its layers" if layers_unzipped is not None else "")
        + f" ({size.against_limit()})"
    ]
    if report.get("bytecode_python"):
        failures = report["bytecode_failures"]
        lines.append(
            f"    Bytecode: +{human_size(report['bytecode_bytes'])} unzipped, {report['bytecode_files']:,} "
            f".pyc for CPython {report['bytecode_python']} (unchecked-hash)"
            + (f"; {len(failures)} sources did not compile, e.g. {failures[0]}" if failures else "")
        )
    if report.get("excluded_files"):
        lines.append(
            f"    Excluded: {human_size(report['excluded_bytes'])} in {report['excluded_files']:,} files "
            f"(`exclude`)"
        )

    top = largest_distributions(report["distributions"], largest)
    if top:
        lines.append(f"    Largest: {', '.join(top)}")
    return lines
