import copy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.fixture(scope="session")
def paper_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())


@pytest.fixture
def cfg(tiny_config):
    """A fresh, mutable copy of the tiny config."""
    return copy.deepcopy(tiny_config)


@pytest.fixture(scope="session")
def slurm():
    """A Slurm to submit to: the one that answers, or a one-node Slurm started here by
    tools/local-slurm.sh (root: it installs Debian's packages when missing) and stopped after."""
    import os
    import subprocess

    from mergelimits import slurm

    if slurm.slurm_problem(timeout=10) is None:
        yield
        return
    if os.geteuid() != 0:
        why = "no Slurm answers, and tools/local-slurm.sh needs root to start one"
        if os.environ.get("MERGELIMITS_REQUIRE_SLURM"):
            pytest.fail(why)
        pytest.skip(why)
    subprocess.run([str(ROOT / "tools/local-slurm.sh"), "start"], check=True)
    yield
    subprocess.run([str(ROOT / "tools/local-slurm.sh"), "stop"], check=False)
