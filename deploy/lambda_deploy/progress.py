"""Which of a plan's instructions are done, under way or not started: what apply prints as it goes,
and the one line it says when it is interrupted or fails midway."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from lambda_deploy.instructions import Instruction, UploadToS3, action


@dataclass(frozen=True)
class Outcome:
    instruction: Instruction
    did: str  # what it did, for people


def label(instruction: Instruction) -> str:
    """A few words for one instruction: `publish_layer test-pypi`, `upload_to_s3 pypi.zip`."""
    subject = instruction.artifact.path.name if isinstance(instruction, UploadToS3) else instruction.subject
    return f"{action(instruction).replace('_', ' ')} {subject}"


class Progress:
    def __init__(self, instructions: tuple[Instruction, ...], report: Callable[[str], None]) -> None:
        self.instructions = instructions
        self.report = report
        self.outcomes: dict[int, Outcome] = {}
        self.running: set[int] = set()
        self._lock = threading.Lock()
        self._next_report = 0

    def start(self, index: int) -> None:
        with self._lock:
            self.running.add(index)

    def finish(self, index: int, did: str) -> None:
        """Records what an instruction did; reports, in the plan's order, every outcome whose
        predecessors are all done, so that parallel work prints the same lines in the same order
        whatever finished first."""
        with self._lock:
            self.running.discard(index)
            self.outcomes[index] = Outcome(self.instructions[index], did)
            while self._next_report in self.outcomes:
                self.report(f"  {self._next_report + 1}. {self.outcomes[self._next_report].did}")
                self._next_report += 1

    def stop(self, index: int) -> None:
        """An instruction that raised: it may or may not have taken effect."""
        with self._lock:
            self.running.discard(index)

    @property
    def changed_anything(self) -> bool:
        return bool(self.outcomes or self.running)

    def sentence(self) -> str:
        """What was done and what was not, in one line, e.g. after an error or Ctrl-C."""
        with self._lock:
            done = [label(self.outcomes[i].instruction) for i in sorted(self.outcomes)]
            cut_off = [label(self.instructions[i]) for i in sorted(self.running)]
            not_done = [
                label(step)
                for i, step in enumerate(self.instructions)
                if i not in self.outcomes and i not in self.running
            ]
        parts = [f"done: {', '.join(done) or 'nothing'}"]
        if cut_off:
            parts.append(f"cut off midway: {', '.join(cut_off)}")
        parts.append(f"not done: {', '.join(not_done) or 'nothing'}")
        return "; ".join(parts)
