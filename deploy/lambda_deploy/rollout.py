"""Gradual rollout: how an alias moves to a new version, and the alarms that stop it.

`rollout` in deploy.toml (top level, per environment, or per function):

- `"all-at-once"` (the default): the alias moves in one step;
- `"canary 10% 5m"`: 10% of the alias' traffic goes to the new version for 5 minutes, then all;
- `"linear 10% every 1m"`: 10% more every minute (10%, 20%, ... 90%), then all.

Durations are in `s` or `m`. Traffic shifts through the alias' routing configuration
(`AdditionalVersionWeights`), which is what Lambda offers without CodeDeploy. While traffic is
split, apply polls the CloudWatch alarms named in `alarms`; as soon as one is in ALARM it moves
the alias back to the old version, with all its traffic, and stops naming the alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALL_AT_ONCE = "all-at-once"
_DURATION = r"(?P<{name}>[0-9]+)(?P<{name}_unit>[sm])"
_CANARY = re.compile(r"canary\s+(?P<percent>[0-9]+)%\s+" + _DURATION.format(name="bake"))
_LINEAR = re.compile(r"linear\s+(?P<percent>[0-9]+)%\s+every\s+" + _DURATION.format(name="interval"))
# How often apply asks CloudWatch about the alarms while traffic is split.
ALARM_POLL_SECONDS = 10.0


class RolloutSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Rollout:
    text: str  # as written in deploy.toml
    steps: tuple[tuple[float, float], ...] = ()  # (weight of the new version, seconds to bake)

    @property
    def gradual(self) -> bool:
        return bool(self.steps)

    def describe(self) -> str:
        return self.text


def _seconds(match: re.Match[str], name: str) -> float:
    return float(match[name]) * (60 if match[f"{name}_unit"] == "m" else 1)


def parse_rollout(text: str) -> Rollout:
    """`canary 10% 5m`, `linear 10% every 1m` or `all-at-once`; anything else is an error."""
    spelled = " ".join(text.split())
    if spelled == ALL_AT_ONCE:
        return Rollout(spelled)
    canary, linear = _CANARY.fullmatch(spelled), _LINEAR.fullmatch(spelled)
    found = canary or linear
    if found is None or not 0 < int(found["percent"]) < 100:
        raise RolloutSyntaxError(
            f'rollout {text!r} is not one this tool knows: write "canary 10% 5m", "linear 10% every '
            f'1m" (a percentage between 1 and 99, a duration in s or m) or "{ALL_AT_ONCE}"'
        )
    percent = int(found["percent"]) / 100
    if canary:
        return Rollout(spelled, ((percent, _seconds(canary, "bake")),))
    assert linear is not None
    interval = _seconds(linear, "interval")
    weights = [round(percent * n, 4) for n in range(1, int(1 / percent) + 1) if percent * n < 1]
    return Rollout(spelled, tuple((weight, interval) for weight in weights))
