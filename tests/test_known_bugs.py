"""The plausible bugs that once passed the suite (issue 19; tools/hand_mutants.py), each applied
again to a copy of the project: the test recorded as catching it must fail on it. Run here so
that a change that lets one through fails `make test`, not only `make known-bugs`."""

import os
import subprocess
import sys

from .conftest import ROOT


def test_every_known_bug_fails_the_test_that_guards_it():
    # the forks run pytest themselves: none of this run's xdist or pytest state goes with them
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    proc = subprocess.run([sys.executable, str(ROOT / "tools/hand_mutants.py"), "--fast"], capture_output=True,
                          text=True, env={**env, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "SURVIVED" not in proc.stdout
