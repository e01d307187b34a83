"""Ctrl-C means stop: `./pants run` interrupted at random moments never runs its command again.

Found by hand: a SIGINT to `./pants run ...` sometimes made the command run a second time, to
the end, with exit code 0 (an interrupted `run deploy -- apply` deployed everything). Pants'
native client falls back to the Python client when its session with pantsd fails, and an
interrupted session fails too. This interrupts a real `./pants run` (pantsd on, as on a
developer's machine) at random times, the way it was found.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

from integration.repo_copy import RepoCopy

# Writes when it starts and when it ends, with the time; between them, it sleeps.
PROBE = """\
import sys, time

with open(sys.argv[1], "a") as marks:
    marks.write(f"start {time.time()}\\n")
time.sleep(3)
with open(sys.argv[1], "a") as marks:
    marks.write(f"end {time.time()}\\n")
"""
PROBE_BUILD = 'python_sources(resolve="dev", overrides={"probe.py": {"run_goal_use_sandbox": False}})\n'
TRIES = 12
# A rerun starts the Python client and Pants from scratch: seconds after the signal, never less.
RERUN_AFTER_SIGNAL = 0.5


def marks(path: Path) -> list[tuple[str, float]]:
    if not path.exists():
        return []
    return [(kind, float(when)) for kind, when in (line.split() for line in path.read_text().splitlines())]


def test_an_interrupted_run_never_runs_again_and_exits_130(tmp_path: Path) -> None:
    repo = RepoCopy(tmp_path / "repo")
    repo.path("interrupt_probe").mkdir()
    repo.path("interrupt_probe/probe.py").write_text(PROBE)
    repo.path("interrupt_probe/BUILD").write_text(PROBE_BUILD)
    probe = ["./pants", "run", "interrupt_probe/probe.py", "--"]
    warm = tmp_path / "warm-marks"
    repo.run(*probe, str(warm)).check()  # builds the probe once, starts pantsd
    assert [kind for kind, _ in marks(warm)] == ["start", "end"]

    seed = random.randrange(1 << 30)
    outcomes = []
    for attempt in range(TRIES):
        marks_file = tmp_path / f"marks-{attempt}"
        after = random.Random(seed + attempt).uniform(0.8, 4.2)
        process = subprocess.Popen(
            [*probe, str(marks_file)],
            cwd=repo.root,
            env=repo.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(after)
        signalled = time.time()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        time.sleep(0.5)  # anything the run left behind has written its marks
        written = marks(marks_file)
        outcome = f"try {attempt} (seed {seed}): SIGINT after {after:.2f} s, rc {process.returncode}, marks {written}"
        outcomes.append(outcome)

        starts = [when for kind, when in written if kind == "start"]
        assert len(starts) <= 1, f"the command ran twice: {outcome}\n{stderr[-2000:]}"
        assert not [
            when for when in starts if when > signalled + RERUN_AFTER_SIGNAL
        ], f"the command started again after the interrupt: {outcome}\n{stderr[-2000:]}"
        finished = any(kind == "end" for kind, _ in written)
        if not (finished and process.returncode == 0):
            assert process.returncode == 130, f"{outcome}\n{stderr[-2000:]}"
    repo.stop_pantsd()
    print("\n".join(outcomes))
