import copy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def unavailable(why: str, required_by: str):
    """Skip a test whose tool this machine lacks, or fail it where the environment variable
    `required_by` says the tool must be there (CI sets MERGELIMITS_REQUIRE_SLURM and
    MERGELIMITS_REQUIRE_BROWSER)."""
    import os

    if os.environ.get(required_by):
        pytest.fail(why)
    pytest.skip(why)

#: the fixtures that run a study (minutes each): every test that uses one goes to the worker
#: that makes it, so that `pytest -n 2 --dist loadgroup` (make test) makes each run once
STUDY_RUNS = {"mini_started": "mini", "mini_runs": "mini", "session": "mini", "slurm_client": "mini", "smoke": "smoke",
              "published": "smoke", "smoke_hub": "smoke"}


#: the modules that take longest after the two study runs, longest first (perf/README.md,
#: session 22: 104, 72, 38, 35 and 19 s of a 10-minute run); the rest take under 10 s each
LONGEST_MODULES = ("test_train_gpt", "test_known_bugs", "test_pretrain", "test_workflow", "test_extending")


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the marks into the test ids
def pytest_collection_modifyitems(config, items):
    """Group the tests for pytest-xdist's `loadgroup`: by the study run they share, else by
    module (module-scoped fixtures, such as test_train_gpt's trainings, are made once too).

    xdist 3.8.0 puts the group into `item._nodeid`, which pytest 9 no longer reads (its node
    id is `item._id`), so every test would be scheduled alone: the group is appended to the
    id here as xdist means to, where it has not been."""
    groups = {}
    for item in items:
        group = groups[item] = next((g for f, g in STUDY_RUNS.items() if f in item.fixturenames),
                                    item.module.__name__)
        item.add_marker(pytest.mark.xdist_group(group))
        if getattr(config.option, "loadgroup", False) and "@" not in item.nodeid and hasattr(item, "_id"):
            from _pytest.nodeid import coerce_node_id

            item._id = coerce_node_id(f"{item.nodeid}@{group}")
    # The two study runs first, one to each worker (make test: --no-loadscope-reorder keeps
    # this order), and in the mini group the Slurm session first, so that it runs beside the
    # mini run rather than after a test that waits for it: together they are the longest chain.
    # Then the longest modules, so that the short ones come last and both workers end together.
    order = {"mini": 0, "smoke": 1, **{f"tests.{m}": 2 + i for i, m in enumerate(LONGEST_MODULES)}}
    items.sort(key=lambda item: (order.get(groups[item], len(order) + 2), "session" not in item.fixturenames))


@pytest.fixture(scope="session")
def slurm_client():
    """Slurm's client commands, installed when missing and this runs as root
    (`tools/local-slurm.sh install`, Debian's packages), as the Slurm session installs them.
    In the Slurm session's group (STUDY_RUNS), so that the two never run apt at once."""
    import os
    import shutil
    import subprocess

    if shutil.which("sinfo") is None and os.geteuid() == 0:
        subprocess.run([str(ROOT / "tools/local-slurm.sh"), "install"], check=True)
    if shutil.which("sinfo") is None:
        unavailable("Slurm's client commands are not installed, and tools/local-slurm.sh needs root to install them",
                    "MERGELIMITS_REQUIRE_SLURM")


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
        unavailable("no Slurm answers, and tools/local-slurm.sh needs root to start one", "MERGELIMITS_REQUIRE_SLURM")
    subprocess.run([str(ROOT / "tools/local-slurm.sh"), "start"], check=True)
    yield
    subprocess.run([str(ROOT / "tools/local-slurm.sh"), "stop"], check=False)


# --- shared factories ------------------------------------------------------------------

#: a Llama small enough to build, merge and evaluate in well under a second
TINY_ARCH = {"layers": 2, "hidden": 32, "ffn": 64, "heads": 4, "kv_heads": 4, "seq_len": 32, "tie_embeddings": True}


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """The shared init and three 'trained' models: the init moved by different task vectors
    (N(0, 0.02) noise, seeded), each a full checkpoint with the init's tokenizer."""
    import torch

    from mergelimits import benchfiles, model, tokenizer
    from mergelimits.synthetic import writers

    root = tmp_path_factory.mktemp("merge")
    corpus = root / "c.jsonl"
    benchfiles.write_jsonl([{"text": t} for t in writers.corpus_docs("deu", 1, 30, 3)], corpus)
    tok = tokenizer.train([corpus], 350, root / "tok")
    model.make_init(TINY_ARCH, tok, 0, root / "init")
    out = []
    for i in range(3):
        m = model.load_model(root / "init")
        g = torch.Generator().manual_seed(i)
        with torch.no_grad():
            for p in m.parameters():
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
        m.save_pretrained(root / f"m{i}")
        tokenizer.load(root / "init").save_pretrained(root / f"m{i}")
        out.append(root / f"m{i}")
    return root / "init", out


MINI_STEPS = 200  # long enough (a few seconds) for the Slurm test's scancel to land mid-training


def mini_config(tiny_config: dict, steps: int = MINI_STEPS) -> dict:
    """The tiny study cut to what runs in a minute: three languages (three pairs for Table 8;
    fra is the source of English FLORES), a log-likelihood and a generation benchmark (the
    other three go through lm-eval in test_evaluate), Merged3 by linear, TIES and
    DARE-TIES (which draws seeded randomness), two checkpoints; one branch family (experts
    branched from Mixed half-way), its Merged3 (linear, and DARE-TIES: task vectors against
    that Mixed) and its three pairs. Two merged models a
    job (merge.per_job), so that a job makes a model after another (pairs: deu+eng with
    deu+fra, then eng+fra alone); the experts' evaluations a job per family, as the tiny
    study's (evaluate.per_job); a training job per model (pretrain.per_job 1: the Slurm test
    cancels one expert's training and times another out)."""
    cfg = copy.deepcopy(tiny_config)
    cfg["languages"] = ["deu", "eng", "fra"]
    cfg["benchmarks"] = ["multiblimp", "flores"]
    cfg["data"]["generated"].update(pretrain_docs=60, sentences_per_doc=4, flores={"dev": 2, "devtest": 4},
                                    items={"multiblimp": 12, "belebele": 4, "hellaswag": 4, "xcsqa": 4})
    cfg["data"]["tokenizer"]["vocab_size"] = 400
    cfg["pretrain"].update(steps=steps, batch_size=2, checkpoints=[steps // 2, steps], per_job=1)
    cfg["pretrain"]["arch"].update(hidden=32, ffn=64)
    cfg["merge"].update(all={"methods": ["linear", "ties", "dare_ties"], "steps": [steps]},
                        pair_methods=["linear"], successive={"methods": ["linear"]},
                        branch={"methods": ["linear", "dare_ties"], "pairs": "all", "successive": False},
                        per_job=2)
    cfg["pretrain"]["branch"] = {"steps": [steps // 2]}
    cfg["evaluate"].update(bootstrap=50, flores_examples={"lang": "fra", "n": 2})
    cfg["baselines"] = [MINI_BASELINE]
    return cfg


#: An external baseline of another architecture (GPT-2) with its own tokenizer, served by the
#: `baseline_hub` cache as the hub serves a model repository.
MINI_BASELINE = {"name": "tiny_gpt", "label": "Tiny-GPT", "repo": "someorg/tiny-gpt", "revision": "main",
                 "tokens_b": 0.5}


@pytest.fixture(scope="session")
def baseline_hub(tmp_path_factory) -> Path:
    from mergelimits.synthetic.hub_cache import publish_baseline

    cache = tmp_path_factory.mktemp("baseline_hub")
    publish_baseline(cache, MINI_BASELINE["repo"])
    return cache


def jobs_run(out: str) -> dict[str, int]:
    """The job counts of a Snakemake run's 'Job stats' table, by rule."""
    import re

    stats = out.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def snakemake_cmd(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), *args]


@pytest.fixture(scope="session")
def mini_started(tiny_config, baseline_hub, tmp_path_factory):
    """A cold run of the mini study, `--cores 2`, in directory `a`, started and not awaited:
    `wait()` returns it finished. The tests of the workflow read it (`mini_runs`), and the
    Slurm session runs the same study on Slurm meanwhile, from its own data and init, and
    compares every file with it: the determinism test."""
    import os
    import subprocess
    from types import SimpleNamespace

    root = tmp_path_factory.mktemp("mini")
    config = root / "mini.yaml"
    config.write_text(yaml.safe_dump(mini_config(tiny_config)))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HUB_CACHE": str(baseline_hub)}
    runs = SimpleNamespace(config=config, steps=MINI_STEPS, out={}, env=env, a=root / "a")
    runs.a.mkdir()
    proc = subprocess.Popen(
        snakemake_cmd("--configfile", str(config), "--directory", str(runs.a), "--profile",
                      str(ROOT / "profiles/local"), "--cores", "2"),
        stdout=open(runs.a / "run.out", "w"), stderr=subprocess.STDOUT, env=env)

    def wait():
        if "a" not in runs.out:
            rc = proc.wait(1200)
            runs.out["a"] = (runs.a / "run.out").read_text()
            assert rc == 0, f"mini study run a failed:\n{runs.out['a'][-3000:]}"
        return runs

    runs.wait = wait
    yield runs
    if proc.poll() is None:  # a session that failed before anything waited for it
        proc.kill()


@pytest.fixture(scope="session")
def mini_runs(mini_started):
    """The mini study's cold run, finished."""
    return mini_started.wait()


#: the paper config at toy size, and over it the rebuild from published weights
SMOKE_CONFIGS = [str(ROOT / "config" / name) for name in ("paper.yaml", "paper-smoke.yaml")]
PUBLISHED_CONFIGS = [*SMOKE_CONFIGS, str(ROOT / "config" / "paper-published.yaml")]


@pytest.fixture(scope="session")
def smoke_hub(tmp_path_factory) -> Path:
    """A hub cache serving every source of both (mergelimits.synthetic.hub_cache), built in its own
    process as `make smoke` builds it."""
    import subprocess
    import sys

    cache = tmp_path_factory.mktemp("smoke_hub")
    built = subprocess.run([sys.executable, "-m", "mergelimits.synthetic.hub_cache", "--configfile", *PUBLISHED_CONFIGS,
                            "--cache", str(cache)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    return cache


@pytest.fixture(scope="session")
def smoke(smoke_hub, tmp_path_factory):
    """The paper-smoke run: config/paper-smoke.yaml over config/paper.yaml, `--cores 2` with
    profiles/local, offline against `smoke_hub` (tests/test_smoke.py reads it). Every job in
    a container as on LUMI (`--sdm apptainer`), through a stand-in `singularity` that
    records each exec line and runs its command on this machine."""
    import os
    import subprocess
    import sys
    from types import SimpleNamespace

    from mergelimits.synthetic import hub_cache as fixture_hub

    cache, work = smoke_hub, tmp_path_factory.mktemp("smoke")
    image = work / "image.sif"
    image.touch()
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "PYTHONWARNINGS": "ignore", "FAKE_LUMI_LOG": str(work / "singularity.log"),
           # the stand-in singularity; the shell rule's `torchrun` and `python`: the
           # environment's, as on LUMI the image's
           "PATH": os.pathsep.join([str(ROOT / "tests/fixtures/fake-lumi"), str(Path(sys.executable).parent),
                                    os.environ["PATH"]])}
    proc = subprocess.run(snakemake_cmd("--configfile", *SMOKE_CONFIGS, "--directory", str(work), "--profile",
                                        str(ROOT / "profiles/local"), "--cores", "2", "--sdm", "apptainer",
                                        "--config", f"container={image}"),
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return SimpleNamespace(work=work, out=proc.stdout + proc.stderr, cache=cache, image=image, env=env,
                           config=fixture_hub.load_config(SMOKE_CONFIGS))


def catalog_of(langs, pairs=(), methods=("linear",), successive=None, families=(0,)):
    """A study's model catalog (models.tsv) for tests that give analyses hand-made scores:
    the experts, Merged-N and the pairs of each family, and the successive merges in
    `successive`'s order."""
    from mergelimits import catalog, modelid

    rows = []

    def add(model, kind, family, members, method="", scope="", k=1):
        rows.append({"model": model, "kind": kind, "family": family, "method": method, "scope": scope, "k": k,
                     "members": "+".join(members), "steps": "", "row": ""})

    for f in families:
        for lang in langs:
            add(modelid.mono(lang, f), "expert", f, [lang])
        for m in methods:
            add(modelid.merged_all(m, len(langs), f), "merged", f, langs, m, "all", len(langs))
            for a, b in pairs:
                add(modelid.merged_pair(m, a, b, f), "merged", f, [a, b], m, "pair", 2)
    for m in methods if successive else ():
        for k in range(2, len(successive) + 1):
            add(modelid.merged_succ(m, k), "merged", 0, successive[:k], m, "succ", k)
    return catalog.frame(rows)


def adding_bos(tok):
    """`tok` made to add BOS itself unless told not to, as Gemma's tokenizer does: a test of
    code that puts BOS first then sees whether it comes out twice."""
    from tokenizers import processors

    tok._tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{tok.bos_token} $A", special_tokens=[(tok.bos_token, tok.bos_token_id)])
    assert tok("ja")["input_ids"][0] == tok.bos_token_id
    return tok
