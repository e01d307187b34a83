"""Which lines of a requirements-style lockfile an artifact installs.

A resolve's lockfile pins everything every target of that resolve may need (the Lambda resolve
pins the PyPI layer's packages and the framework). An artifact gets the pins its own requirements
need and nothing else: the lock command records, in the lockfile's header, which top-level
requirements need each pin (`required_by`, 3rdparty/python/lock.py). uv then installs exactly
those lines with `--no-deps`: there is no second resolve that could pick other versions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lambda_artifacts.artifact_zip import canonical_name
from lambda_targets.repository_platform import lockfile_header

# The command that writes every lockfile (3rdparty/python/lockfiles.py names it too).
LOCK_COMMAND = "./pants run 3rdparty/python/lock.py"

# The header key that maps each pin to the top-level requirements whose closure holds it.
REQUIRED_BY_KEY = "required_by"

# A pinned line: `name==version` or `name @ url`, with optional extras and a marker.
_PIN_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(==|@)")


@dataclass(frozen=True)
class LockedPin:
    name: str  # canonical
    line: str  # as the lockfile writes it

    @property
    def is_direct_reference(self) -> bool:
        """`name @ git+https://...`: built from source, so it is the one kind of pin that may
        build; every `name==version` pin must come as a wheel."""
        match = _PIN_LINE.match(self.line)
        return bool(match and match.group(2) == "@")


def relock_command(resolve: str) -> str:
    return f"{LOCK_COMMAND} -- --resolve {resolve}"


class PinsNotRecorded(Exception):
    """The lockfile cannot say which pins an artifact needs; the message says how to relock."""


def locked_pins(lockfile_text: str) -> dict[str, LockedPin]:
    """Every pin of a lockfile, by canonical name."""
    pins = {}
    for raw in lockfile_text.splitlines():
        line = raw.strip()
        match = _PIN_LINE.match(line)
        if match:
            pins[canonical_name(match.group(1))] = LockedPin(canonical_name(match.group(1)), line)
    return pins


def pins_for(
    lockfile_text: str, requirement_names: Iterable[str], *, lockfile: str, relock_command: str
) -> tuple[LockedPin, ...]:
    """The pins that the given top-level requirements need, in the lockfile's order."""
    wanted = {canonical_name(name) for name in requirement_names}
    header = lockfile_header(lockfile_text) or {}
    required_by = header.get(REQUIRED_BY_KEY)
    if not isinstance(required_by, dict):
        raise PinsNotRecorded(
            f"{lockfile} does not record which requirements need each pin (its header has no "
            f"`{REQUIRED_BY_KEY}`), so the artifact's share of it is unknown. Relock: "
            f"`{relock_command}`."
        )
    needers = {canonical_name(pin): {canonical_name(n) for n in names} for pin, names in required_by.items()}
    unrecorded = sorted(name for name in wanted if not any(name in names for names in needers.values()))
    if unrecorded:
        raise PinsNotRecorded(
            f"{lockfile} was locked without {', '.join(unrecorded)}: its header does not say what "
            f"{'they need' if len(unrecorded) > 1 else 'it needs'}. Relock: `{relock_command}`."
        )
    return tuple(pin for name, pin in locked_pins(lockfile_text).items() if needers.get(name, set()) & wanted)
