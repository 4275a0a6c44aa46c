"""The Megatron training loop (`mergelimits.megatron.train_gpt`) run as on LUMI, at toy size:
torchrun starts 2 CPU ranks with gloo where srun starts one rank per GCD with RCCL. The
same DistributedDataParallel, distributed optimizer, schedule and dist checkpoints run
(cpu_compat points megatron-core's CUDA tensors at the CPU)."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import megatron.core  # noqa: F401 - pinned: a broken install fails here rather than skipping
import pytest
import torch
from safetensors.torch import load_file

from mergelimits import benchfiles, tokenizer
from mergelimits import model as hf_model
from mergelimits.megatron import data, train_gpt
from mergelimits.synthetic import writers

ARCH = {"layers": 2, "hidden": 64, "ffn": 128, "heads": 4, "kv_heads": 2, "seq_len": 32,
        "rope_theta": 10000.0, "init_std": 0.02, "tie_embeddings": True}
STEPS = 30
STEP_LINE = re.compile(r"step (\d+)/\d+ loss ([0-9.]+)")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Tokenizer, shared init and two indexed corpora: what `megatron_run_config` names."""
    root = tmp_path_factory.mktemp("train_gpt")
    corpora = []
    for code in ("deu", "ita"):
        corpus = root / f"{code}.jsonl"
        benchfiles.write_jsonl([{"text": d} for d in writers.corpus_docs(code, 2, 200, 4)], corpus)
        corpora.append(corpus)
    tokenizer.train(corpora, 400, root / "tok")
    hf_model.make_init(ARCH, root / "tok", 3, root / "init")
    prefixes = []
    for code, corpus in zip(("deu", "ita"), corpora):
        data.build_indexed(corpus, root / "tok", root / "idx" / code)
        prefixes.append(str(root / "idx" / code))
    return root, prefixes


def run_file(inputs, where: Path, **recipe) -> Path:
    root, prefixes = inputs
    where.mkdir(parents=True, exist_ok=True)
    run = {
        "arch": ARCH,
        "recipe": {"global_batch": 8, "micro_batch": 2, "lr": 3e-3, "weight_decay": 0.05, "warmup_frac": 0.1,
                   "decay_frac": 0.2, "save_interval": 3, "wall_min": 600, "exit_margin_min": 0, "bf16": False,
                   "log_interval": 1, **recipe},
        "steps": STEPS, "checkpoints": [6, STEPS], "seed": 7, "init": str(root / "init"),
        "tokenizer": str(root / "tok"),
        # a dataset cache per run: runs side by side would otherwise write the same index files
        "data": {"prefixes": prefixes, "weights": [1.0, 1.0], "cache": str(where / "cache")},
        "save_dir": str(where / "state"),
        "outputs": {str(s): str(where / f"step~{s}") for s in (6, STEPS)},
        "env": {"OMP_NUM_THREADS": 1},
    }
    path = where / "run.json"
    path.write_text(json.dumps(run))
    return path


class Torchrun:
    """`torchrun --standalone` over the training module, its output in a file (a pipe
    nobody reads would stall the ranks once full)."""

    def __init__(self, run: Path, ranks: int):
        self.log_path = run.parent / f"torchrun-{time.monotonic_ns()}.log"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={ranks}",
               "-m", "mergelimits.megatron.train_gpt", str(run)]
        with open(self.log_path, "w") as fh:
            self.proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONWARNINGS": "ignore"}, stdout=fh,
                                         stderr=subprocess.STDOUT)

    def finish(self) -> tuple[int, str]:
        self.proc.wait(timeout=300)
        return self.proc.returncode, self.log_path.read_text()

    def kill_ranks(self) -> None:
        """SIGKILL to the ranks and the processes they started, as a node failure (or Slurm
        ending the job) would: torchrun's agent starts each rank in a session of its own, so
        each is found as its child and killed with its process group."""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:  # ppid
                pid = int(stat.parent.name)
                group = os.getpgid(pid)
                if group != os.getpgid(0):
                    os.killpg(group, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)


def losses(log: str) -> dict[int, float]:
    return {int(s): float(v) for s, v in STEP_LINE.findall(log)}


def digests(log: str) -> list[str]:
    return re.findall(r"weights sha1 ([0-9a-f]+); identical across data-parallel replicas: True", log)


def state_of(save_dir: Path, step: int, scratch: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a dist checkpoint (torch DCP format): weights and the distributed
    optimizer's main weights and moments."""
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    out = scratch / f"{save_dir.parent.name}-{step}.pt"
    dcp_to_torch_save(train_gpt.iter_dir(save_dir, step), out)
    return {k: v for k, v in torch.load(out, weights_only=False).items() if torch.is_tensor(v)}


@pytest.fixture(scope="module")
def runs(inputs, tmp_path_factory):
    """Uninterrupted runs, side by side: 2 ranks and 1 rank with the same global batch in
    fp32 (to compare loss curves tightly), and 2 ranks in bf16, the paper's precision (bf16
    weights, fp32 main weights in the distributed optimizer), the reference of the resume."""
    base = tmp_path_factory.mktemp("runs")
    # saved at the configured steps (6, 30) only: what these runs are compared on
    runs = {"two": (run_file(inputs, base / "two", save_interval=STEPS), 2),
            "one": (run_file(inputs, base / "one", save_interval=STEPS), 1),
            "two_bf16": (run_file(inputs, base / "two_bf16", bf16=True, save_interval=STEPS), 2)}
    jobs = {name: Torchrun(run, ranks) for name, (run, ranks) in runs.items()}
    out = {}
    for name, job in jobs.items():
        rc, log = job.finish()
        assert rc == 0, log[-4000:]
        out[name] = (runs[name][0].parent, log)
    return out


def test_gradients_are_reduced_across_ranks(runs):
    """Both ranks end with the same weights, and the loss curve is that of one rank taking
    the whole global batch: had each rank stepped on its own half, the curves would part."""
    (_, log2), (_, log1) = runs["two"], runs["one"]
    d = digests(log2)
    assert len(d) == 2 and d[0] == d[1], log2[-3000:]
    l2, l1 = losses(log2), losses(log1)
    assert sorted(l2) == sorted(l1) == list(range(1, STEPS + 1))
    assert l2[STEPS] < l2[1] - 0.5  # it learns
    for s in l1:
        assert l2[s] == pytest.approx(l1[s], rel=1e-5, abs=1e-5), (s, l2[s], l1[s])


def test_configured_steps_are_published_and_export_with_the_models_logits(runs, inputs, tmp_path):
    from megatron.core import dist_checkpointing

    from mergelimits.megatron import convert, cpu_compat
    from mergelimits.megatron import model as mmodel

    root, _ = inputs
    where = runs["two"][0]
    assert (where / "step~6" / "metadata.json").exists() and (where / f"step~{STEPS}" / "metadata.json").exists()
    cpu_compat.init_single_process()
    vocab = hf_model.load_model(root / "init").config.vocab_size
    meg = mmodel.gpt_model(ARCH, vocab, use_cpu_initialization=True).eval()
    meg.load_state_dict(dist_checkpointing.load({"model": meg.sharded_state_dict()}, str(where / "step~6"))["model"])
    convert.export_dist_checkpoint(where / "step~6", ARCH, vocab, root / "tok", tmp_path / "hf")
    hf = hf_model.load_model(tmp_path / "hf").eval()
    init = load_file(root / "init" / "model.safetensors")
    assert not torch.equal(load_file(tmp_path / "hf" / "model.safetensors")["model.norm.weight"],
                           init["model.norm.weight"])  # trained, not the init
    ids = torch.randint(0, vocab, (2, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(hf(ids).logits, mmodel.logits(meg, ids), atol=1e-4, rtol=0)


def test_killed_and_wall_limited_runs_end_as_the_uninterrupted_one(runs, inputs, tmp_path):
    """A bf16 run stopped by its wall limit (every rank at the same step, status 75), resumed,
    killed with SIGKILL after its next checkpoint, and resumed again ends with the very
    weights and optimizer state (fp32 main weights, both moments) of the run that was never
    interrupted."""
    run = run_file(inputs, tmp_path / "r", wall_min=0.0, bf16=True)  # the limit has passed by the first step
    rc, log = Torchrun(run, 2).finish()
    # srun passes the ranks' status 75 on; torchrun's agent reports it and exits 1.
    assert rc != 0 and f"exitcode: {train_gpt.EX_TEMPFAIL}" in log, log[-4000:]
    stops = re.findall(r"rank (\d) stopping at step (\d+)", log)
    assert sorted(r for r, _ in stops) == ["0", "1"] and len({s for _, s in stops}) == 1, stops
    assert train_gpt.latest_iteration(tmp_path / "r" / "state") == int(stops[0][1]) == 1

    run = run_file(inputs, tmp_path / "r", bf16=True)
    job = Torchrun(run, 2)
    tracker = tmp_path / "r" / "state" / train_gpt.TRACKER
    deadline = time.time() + 120
    while int(tracker.read_text()) < 3 and time.time() < deadline and job.proc.poll() is None:
        time.sleep(0.01)
    job.kill_ranks()
    job.finish()
    killed_at = train_gpt.latest_iteration(tmp_path / "r" / "state")
    assert 3 <= killed_at < STEPS, f"the kill landed at step {killed_at}"

    rc, log = Torchrun(run, 2).finish()
    assert rc == 0, log[-4000:]
    assert f"resumed at step {killed_at}" in log
    # saved every 3 steps, yet only the configured steps (6, 30) are left: the rest were pruned
    assert sorted(d.name for d in (tmp_path / "r" / "state").glob("iter_*")) == ["iter_0000006", f"iter_{STEPS:07d}"]
    # the attempts ledger tells the wall-limit stop, the kill and the finish apart
    assert train_gpt.attempts(tmp_path / "r" / "state") == [
        {"start": 0, "end": "stopped"}, {"start": 1, "end": None}, {"start": killed_at, "end": "done"}]
    ours = state_of(tmp_path / "r" / "state", STEPS, tmp_path)
    ref = state_of(runs["two_bf16"][0] / "state", STEPS, tmp_path)
    assert ours.keys() == ref.keys() and any("exp_avg_sq" in k for k in ours)
    assert {v.dtype for v in ours.values()} >= {torch.bfloat16, torch.float32}  # bf16 weights, fp32 state
    for k in ref:
        assert torch.equal(ours[k], ref[k]), k
    assert digests(log) == digests(runs["two_bf16"][1])


@pytest.fixture
def in_process():
    """One gloo rank in the test process: the refusals happen before any model is built."""
    from mergelimits.megatron import cpu_compat

    cpu_compat.init_single_process()
    yield
    cpu_compat.disable()


def test_a_global_batch_that_does_not_split_is_refused(inputs, tmp_path, in_process):
    with pytest.raises(train_gpt.RunError, match=r"^pretrain.megatron.global_batch: 6 is not a multiple of "
                                                 r"micro_batch 4 × data-parallel size 1$"):
        train_gpt.train(json.loads(run_file(inputs, tmp_path, global_batch=6, micro_batch=4).read_text()),
                        time.time())
    assert not (tmp_path / "state").exists()


def test_checkpoints_of_another_architecture_are_refused(runs, inputs, tmp_path, in_process):
    import shutil

    shutil.copytree(runs["two"][0] / "state", tmp_path / "state")
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "state").rglob("*")}
    run = json.loads(run_file(inputs, tmp_path).read_text())
    run["arch"] = {**ARCH, "ffn": 96}
    with pytest.raises(train_gpt.RunError, match=r"run_arch.json: the checkpoints in .* are of another run "
                                                 r"\(differs in arch\)"):
        train_gpt.train(run, time.time())
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "state").rglob("*")} == before


def test_a_tracker_naming_a_half_written_iteration_names_it(tmp_path):
    (tmp_path / train_gpt.TRACKER).write_text("9")
    (tmp_path / "iter_0000009").mkdir()
    with pytest.raises(train_gpt.RunError, match=r"names step 9 but .*iter_0000009 holds no complete checkpoint"):
        train_gpt.latest_iteration(tmp_path)


def test_first_host_of_a_slurm_nodelist():
    assert train_gpt.first_host("nid[005000-005003,005010],nid006000") == "nid005000"
    assert train_gpt.first_host("nid005123") == "nid005123"
    assert train_gpt.first_host("a1,b[2-3]") == "a1"
    assert train_gpt.first_host("gpu[07,09]") == "gpu07"


def test_a_corpus_read_more_often_than_allowed_is_refused():
    from mergelimits.megatron import data

    assert data.check_budget("deu.jsonl", 1000, 500, 1) == 0.5
    with pytest.raises(ValueError, match=r"^deu.jsonl: 1,000 tokens, but training reads 2,500 from it \(2.50 epochs, "
                                         r"more than pretrain.megatron.max_epochs = 1\)"):
        data.check_budget("deu.jsonl", 1000, 2500, 1)


def test_the_paper_recipe_fits_a_gcd_only_with_selective_recomputation(paper_config):
    """The HPLT shape at micro-batch 4 × 2,048 with Gemma-3's vocabulary on 128 GCDs: with
    core attention recomputed it fits a 64 GB MI250X GCD; kept, its scores and fp32
    softmax (≈ 3 GiB a layer) do not, and the refusal names the keys to change."""
    from mergelimits.megatron import memory

    pre = paper_config["pretrain"]
    arch, recipe = pre["arch"], pre["megatron"]
    dp = recipe["nodes"] * recipe["gpus_per_node"]
    gcd = 64 * memory.GIB
    fits = memory.check(arch, recipe, 262_144, dp, gcd)
    assert 20 * memory.GIB < fits["total"] < 0.9 * gcd
    assert fits["weights"] == 2 * memory.param_count(arch, 262_144)
    with pytest.raises(memory.DoesNotFit, match="pretrain.megatron.micro_batch.*pretrain.megatron.recompute"):
        memory.check(arch, {**recipe, "recompute": "none"}, 262_144, dp, gcd)
    core = memory.estimate(arch, {**recipe, "recompute": "none"}, 262_144, dp)["activations"] - fits["activations"]
    s, b, a = arch["seq_len"], recipe["micro_batch"], arch["heads"]
    assert core == arch["layers"] * a * s * s * b * (2 + 4)  # bf16 scores + fp32 softmax, every layer


def test_param_count_is_the_megatron_models(in_process):
    from mergelimits.megatron import memory
    from mergelimits.megatron import model as mmodel

    for arch in (ARCH, {**ARCH, "kv_heads": 4, "tie_embeddings": False}):
        meg = mmodel.gpt_model(arch, 384, use_cpu_initialization=True)
        assert memory.param_count(arch, 384) == sum(p.numel() for p in meg.parameters())


def test_a_branch_on_the_same_data_ends_as_the_run_it_left(runs, inputs, tmp_path):
    """A run that continues another's saved iteration (`branch_from`: how a branched expert
    continues Mixed) takes its weights, optimizer moments, schedule and data position: on the
    same data it ends with the very state of the run it left, which was never interrupted."""
    run = run_file(inputs, tmp_path / "b")
    cfg = json.loads(run.read_text())
    cfg.update(branch_from={"dir": str(runs["two"][0] / "step~6"), "step": 6}, checkpoints=[STEPS],
               outputs={str(STEPS): str(tmp_path / "b" / f"step~{STEPS}")})
    run.write_text(json.dumps(cfg))
    rc, log = Torchrun(run, 2).finish()
    assert rc == 0, log[-4000:]
    assert "branched from" in log and sorted(losses(log)) == list(range(7, STEPS + 1))
    ours = state_of(tmp_path / "b" / "state", STEPS, tmp_path)
    ref = state_of(runs["two"][0] / "state", STEPS, tmp_path)
    assert ours.keys() == ref.keys() and any("exp_avg" in k for k in ours)
    for k in ref:
        assert torch.equal(ours[k], ref[k]), k
    assert (tmp_path / "b" / f"step~{STEPS}" / "metadata.json").exists()


def test_a_branch_from_an_incomplete_checkpoint_names_it(inputs, tmp_path, in_process):
    run = run_file(inputs, tmp_path / "b")
    cfg = json.loads(run.read_text())
    cfg["branch_from"] = {"dir": str(tmp_path / "nowhere" / "step~6"), "step": 6}
    with pytest.raises(train_gpt.RunError, match=r"nowhere/step~6: no complete checkpoint \(metadata.json missing\)"):
        train_gpt.train(cfg, time.time())


def test_pruning_keeps_the_configured_and_the_latest_iteration_only(tmp_path):
    for step in (3, 6, 9, 12):
        (tmp_path / f"iter_{step:07d}").mkdir()
        (tmp_path / f"iter_{step:07d}" / "metadata.json").write_text("{}")
    assert train_gpt.prune(tmp_path, {6}, 12) == [3, 9]
    assert sorted(p.name for p in tmp_path.glob("iter_*")) == ["iter_0000006", "iter_0000012"]
