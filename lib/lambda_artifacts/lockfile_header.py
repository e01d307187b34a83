"""The JSON metadata block at the top of a Pants lockfile: the one reader, for the plugin, the
lock command and ./pants' check, and CI's lockfile-line selection (which runs on a bare python3).
"""

from __future__ import annotations

import json

BEGIN = "BEGIN PANTS LOCKFILE METADATA"
END = "END PANTS LOCKFILE METADATA"


def lockfile_header(lockfile_text: str | None) -> dict | None:
    """The header as a dict; None if the text has none, or an unreadable one."""
    lines, inside = [], False
    for line in (lockfile_text or "").splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            break
        elif inside:
            lines.append(line[2:])  # each line is commented: "# {...}"
    try:
        header = json.loads("\n".join(lines)) if lines else None
    except ValueError:
        return None
    return header if isinstance(header, dict) else None
