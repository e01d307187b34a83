"""Shared helpers for the team's Lambda functions (sample stand-in)."""

import re
from typing import Tuple

__version__ = "@SAMPLE_VERSION@"


def get_version() -> str:
    """The installed framework version, e.g. ``0.1.5+sample``."""
    return __version__


def get_version_tuple() -> Tuple[int, ...]:
    """The numeric release part of the version, e.g. ``(0, 1, 5)``."""
    release = re.match(r"\d+(?:\.\d+)*", __version__)
    return tuple(int(part) for part in release.group(0).split(".")) if release else ()
