"""Lambda's unzipped size limit, and the one judgement of a function and its layers against it.

Packaging (pants-plugins/lambda_targets/checks.py), the Lambda-sandbox check (lambda_check.py)
and the deploy tool's preflight all ask `UnzippedSize(...).status` and word the facts with
`describe()`; each adds only the fix that fits where it runs. Standard library only: it ships
into the Lambda-sandbox check's sandbox beside lambda_check.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Lambda's limit for a function plus all its layers, unzipped.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
UNZIPPED_LIMIT_BYTES = 262_144_000
# Above this share of the limit, packaging warns: one dependency bump can then take a function
# past the limit, and Lambda would refuse it only at deploy time.
WARN_SHARE_OF_LIMIT = 0.9
# This repository's size budget: above this share of the limit, every function's Lambda-sandbox
# check (`./pants test`) fails, so that a bump that fills the last few percent is a decision in
# review, not a surprise at the next deploy. Raise it here, knowingly, if the headroom is not
# worth keeping.
BUDGET_SHARE_OF_LIMIT = 0.95

# What UnzippedSize.status says, from worst to best.
OVER, OVER_BUDGET, WARN, OK = "over", "over budget", "warn", "ok"


def human_size(size: int) -> str:
    """1234567 -> `1.2 MB`, -2500000 -> `-2.5 MB`, in decimal units as AWS quotes its limits."""
    sign, size = ("-", -size) if size < 0 else ("", size)
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if size >= scale:
            return f"{sign}{size / scale:.1f} {unit}"
    return f"{sign}{size} B"


def headroom(total: int, limit: int | None = None) -> str:
    """`15.5 MB headroom` below the limit; `over by 2.0 MB` past it (never a negative size)."""
    spare = (limit or UNZIPPED_LIMIT_BYTES) - total
    return f"{human_size(spare)} headroom" if spare >= 0 else f"over by {human_size(-spare)}"


def share_of_limit(total: int, limit: int | None = None) -> str:
    """`94.1%`; `<0.1%` for a small artifact, so that it never reads as nothing at all."""
    share = 100 * total / (limit or UNZIPPED_LIMIT_BYTES)
    return f"{share:.1f}%" if share >= 0.1 or total == 0 else "<0.1%"


def largest_distributions(distributions: Iterable[Mapping], count: int = 5) -> list[str]:
    """`numpy 2.2.6 58.6 MB`, ... for the `count` largest of the zip step's distribution entries
    (`name`, `version` or None, `unzipped_bytes`)."""
    ranked = sorted(distributions, key=lambda d: (-d["unzipped_bytes"], d["name"]))[:count]
    return [
        " ".join(filter(None, (d["name"], d["version"], human_size(d["unzipped_bytes"])))) for d in ranked
    ]


@dataclass(frozen=True)
class UnzippedSize:
    """A function with its layers, or a layer alone: the unzipped bytes of each part (the
    function's first), and the distributions inside them. `limit` and `budget` default to
    Lambda's limit and this repository's budget, read when asked (tests lower them)."""

    parts: Mapping[str, int]
    distributions: tuple[Mapping, ...] = field(default=())
    limit: int | None = None
    budget: float | None = None

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    @property
    def limit_bytes(self) -> int:
        return self.limit or UNZIPPED_LIMIT_BYTES

    @property
    def budget_share(self) -> float:
        return self.budget or BUDGET_SHARE_OF_LIMIT

    @property
    def status(self) -> str:
        """OVER past Lambda's limit, OVER_BUDGET past the budget, WARN above WARN_SHARE_OF_LIMIT."""
        if self.total > self.limit_bytes:
            return OVER
        if self.total > self.budget_share * self.limit_bytes:
            return OVER_BUDGET
        return WARN if self.total > WARN_SHARE_OF_LIMIT * self.limit_bytes else OK

    def share(self) -> str:
        return share_of_limit(self.total, self.limit_bytes)

    def describe(self) -> str:
        """`263,144,000 bytes (fn 1.0 MB, pypi 262.1 MB), 100.4% of Lambda's 262,144,000-byte
        limit for a function and all its layers, over by 1.0 MB`."""
        parts = ", ".join(f"{name} {human_size(size)}" for name, size in self.parts.items())
        return (
            f"{self.total:,} bytes"
            + (f" ({parts})" if len(self.parts) > 1 else "")
            + f", {self.against_limit()}"
        )

    def against_limit(self) -> str:
        """`93.9% of Lambda's 262,144,000-byte limit for a function and all its layers, 16.0 MB headroom`."""
        return (
            f"{self.share()} of Lambda's {self.limit_bytes:,}-byte limit for a function and all its "
            f"layers, {headroom(self.total, self.limit_bytes)}"
        )

    def over_budget_reason(self) -> str:
        return (
            f"over this repository's budget of {self.budget_share:.0%} by "
            f"{self.total - int(self.budget_share * self.limit_bytes):,} bytes "
            f"(BUDGET_SHARE_OF_LIMIT in lib/lambda_artifacts/size_limit.py)"
        )

    def largest(self, count: int = 5) -> list[str]:
        return largest_distributions(self.distributions, count)
