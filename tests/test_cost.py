"""The cost model behind the Slurm limits (mergelimits.cost) and the retry policy it sets."""

import json
from pathlib import Path

import pytest
import yaml

from mergelimits import cost
from mergelimits.megatron import train_gpt
from mergelimits.megatron.memory import param_count

from .conftest import ROOT


@pytest.mark.parametrize("tie", [True, False])
def test_parameter_count_is_the_models_own(tie):
    """The count the FLOP estimate uses equals what transformers builds for the same shape."""
    from transformers import LlamaConfig, LlamaForCausalLM

    arch = {"layers": 2, "hidden": 64, "ffn": 160, "heads": 4, "kv_heads": 2, "tie_embeddings": tie}
    model = LlamaForCausalLM(LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tie))
    assert param_count(arch, 300) == sum(p.numel() for p in model.parameters())


def test_the_paper_models_are_hplts_2_15b_and_mixed10_fits_one_48h_job_at_the_assumed_mfu():
    pre = yaml.safe_load((ROOT / "config/paper.yaml").read_text())["pretrain"]
    assert round(param_count(pre["arch"], cost.PAPER_VOCAB) / 1e9, 2) == 2.15
    # 6 × 2.15e9 × 100e9 tokens over 128 GCDs at 35% of 191.5 TFLOP/s
    assert cost.pretrain_hours(pre) == pytest.approx(6 * 2.147584e9 * 47684 * 1024 * 2048
                                                     / (128 * 191.5e12 * 0.35) / 3600)
    assert cost.pretrain_jobs(pre) == 1 and cost.pretrain_retries(pre) == cost.SPARE_ATTEMPTS


def test_retries_grow_with_the_jobs_the_wall_limit_cuts_a_run_into():
    pre = yaml.safe_load((ROOT / "config/paper.yaml").read_text())["pretrain"]
    hours = cost.pretrain_hours(pre)
    pre["megatron"].update(wall_min=int(hours * 60 / 2.5) + 30, exit_margin_min=30)  # 2.5 jobs' worth
    assert cost.pretrain_jobs(pre) == 3
    assert cost.pretrain_retries(pre) == 2 + cost.SPARE_ATTEMPTS


def _ledger(tmp_path, *events):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / train_gpt.ATTEMPTS).write_text("".join(json.dumps(e) + "\n" for e in events))
    return tmp_path


def test_a_crash_without_progress_is_not_resubmitted(tmp_path):
    """A job that crashed at the step it started from (a bug) stops the next attempt at once;
    a wall-limit stop, a finished run or a crash after a checkpoint does not."""
    ok = [
        _ledger(tmp_path / "a", {"start": 0}, {"end": "stopped"}),           # stopped at the wall: resume
        _ledger(tmp_path / "b", {"start": 0}),                              # crashed at 0, now at 1000
        _ledger(tmp_path / "c", {"start": 1000}, {"end": "stopped"}, {"start": 2000}),  # crashed at 2000
    ]
    for d, step, allowed in zip(ok, (1000, 1000, 2000), (1, 1, 2)):
        train_gpt.check_progress(d, step, max_stalled=allowed)
    d = _ledger(tmp_path / "d", {"start": 1000}, {"end": "stopped"}, {"start": 2000})
    with pytest.raises(train_gpt.RunError, match="1 attempt.*step 2000 without saving progress"):
        train_gpt.check_progress(d, 2000)
    d = _ledger(tmp_path / "e", {"start": 2000}, {"start": 2000})
    with pytest.raises(train_gpt.RunError, match="2 attempt"):
        train_gpt.check_progress(d, 2000, max_stalled=2)
    train_gpt.check_progress(tmp_path / "fresh", 0)  # no ledger: a first attempt


def test_the_ledger_reads_back_each_attempts_start_and_end(tmp_path):
    d = _ledger(tmp_path, {"start": 0}, {"end": "stopped"}, {"start": 500}, {"end": "done"}, {"start": 500})
    assert train_gpt.attempts(d) == [{"start": 0, "end": "stopped"}, {"start": 500, "end": "done"},
                                     {"start": 500, "end": None}]


#: HPLT's 2.15B with the Gemma-3 vocabulary, as its config.json names the fields
HPLT_CFG = {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 24, "num_attention_heads": 32,
            "num_key_value_heads": 32, "vocab_size": 262144, "tie_word_embeddings": True,
            "max_position_embeddings": 2048}
GCD = 64 * 2**30  # one MI250X GCD's HBM


@pytest.mark.parametrize("dtype_bytes,seq", [(2, 2048), (4, 2048), (2, 4096), (4, 4096)])
def test_the_batch_chosen_for_the_longest_input_fits_a_64gb_gcd(dtype_bytes, seq):
    """Belebele's 5-shot prompts reach 2,048 tokens: at batch 16, fp32, the logits and their
    log-softmax alone need 2 × 16 × 2048 × 262144 × 4 B = 68.7 GB (all of the GCD's 64 GiB),
    the weights and activations come on top. The batch chosen fits the
    estimate, and one more would not (unless it is the configured one)."""
    b = cost.eval_batch(HPLT_CFG, seq, 16, GCD, dtype_bytes)
    assert b >= 1
    assert cost.eval_peak_bytes(HPLT_CFG, seq, b, dtype_bytes) <= cost.DEVICE_HEADROOM * GCD
    assert b == 16 or cost.eval_peak_bytes(HPLT_CFG, seq, b + 1, dtype_bytes) > cost.DEVICE_HEADROOM * GCD
    if (dtype_bytes, seq) == (4, 2048):
        assert cost.eval_peak_bytes(HPLT_CFG, seq, 16, 4) > GCD and b < 16  # cut, not crashed


def test_the_estimate_counts_the_logits_lm_eval_materialises():
    """Doubling the batch adds exactly one more batch's logits, log-softmax and layer state."""
    one = cost.eval_peak_bytes(HPLT_CFG, 2048, 1, 2)
    two = cost.eval_peak_bytes(HPLT_CFG, 2048, 2, 2)
    weights = param_count({"hidden": 2048, "ffn": 8192, "layers": 24, "heads": 32}, 262144) * 2
    assert two - one == one - weights
    assert two - one >= 2 * 2048 * 262144 * 2  # logits and log-softmax of one more sequence


def test_harness_settings_cut_the_batch_on_a_gpu_and_keep_cpu_runs_as_they_were(tmp_path, monkeypatch):
    """On a GPU: bf16 and the batch the estimate allows; on the CPU: fp32 and the configured
    batch (the tiny study's numbers unchanged); an input cap only past the model's context."""
    from types import SimpleNamespace

    import torch

    from mergelimits import evaluate

    (tmp_path / "config.json").write_text(json.dumps({**HPLT_CFG, "model_type": "llama"}))
    assert evaluate.harness_settings(tmp_path, 16, "cpu") == ("float32", 16, None)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: SimpleNamespace(total_memory=GCD))
    dtype, batch, max_length = evaluate.harness_settings(tmp_path, 64, "cuda")
    assert dtype == "bfloat16" and batch == cost.eval_batch(HPLT_CFG, 2048, 64, GCD, 2) < 64 and max_length is None
    (tmp_path / "config.json").write_text(json.dumps({**HPLT_CFG, "model_type": "llama",
                                                      "max_position_embeddings": 32768}))
    assert evaluate.harness_settings(tmp_path, 16, "cpu")[2] == cost.EVAL_MAX_TOKENS


def test_harness_settings_read_a_nested_text_config_name_the_cut_and_refuse_what_cannot_fit(tmp_path, monkeypatch,
                                                                                             caplog):
    """A Gemma-3-style checkpoint keeps its language model's shape under `text_config`: the
    batch is the flat config's. The visible device (index 0, as Slurm's binding leaves one) is
    asked for its memory; a cut batch is logged, a kept one is not; a model that fits no
    sequence stops with the estimate named."""
    import logging
    from types import SimpleNamespace

    import torch

    from mergelimits import evaluate

    def props(index):
        assert index == 0, "a job sees its one device as device 0"
        return SimpleNamespace(total_memory=GCD)

    monkeypatch.setattr(torch.cuda, "get_device_properties", props)
    flat, nested = tmp_path / "flat", tmp_path / "nested"
    for d in (flat, nested):
        d.mkdir()
    (flat / "config.json").write_text(json.dumps({**HPLT_CFG, "model_type": "gemma3_text"}))
    (nested / "config.json").write_text(json.dumps({"model_type": "gemma3",
                                                    "text_config": {**HPLT_CFG, "model_type": "gemma3_text"}}))
    with caplog.at_level(logging.INFO, logger="mergelimits.evaluate"):
        want = evaluate.harness_settings(flat, 64, "cuda")
        assert want[1] < 64 and evaluate.harness_settings(nested, 64, "cuda")[1] == want[1]
        assert caplog.messages == [f"batch 64 → {want[1]}: the longest input's logits would not fit the device "
                                   "(cost.eval_batch)"] * 2
        caplog.clear()
        assert evaluate.harness_settings(flat, want[1], "cuda")[1] == want[1] and caplog.messages == []
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: SimpleNamespace(total_memory=2**30))
    with pytest.raises(RuntimeError, match=rf"^{flat}: one sequence of 2048 tokens does not fit the device by the "
                                           r"memory estimate \(mergelimits.cost.eval_peak_bytes\)$"):
        evaluate.harness_settings(flat, 8, "cuda")


def test_the_vllm_backend_gets_the_studys_settings_under_vllms_own_parameter_names(tmp_path, monkeypatch):
    """What the harness hands lm-eval's vLLM model (which needs a GPU and vLLM, absent here):
    the model's path, bf16, the batch, the seed, the memory share the estimate leaves and,
    past the input cap, the cap as vLLM's context length. Each keyword is a parameter of the
    installed lm-eval's VLLM class, read from its source, or one it hands vLLM's engine."""
    import ast
    import sys
    import types

    import lm_eval.models

    from mergelimits import evaluate

    source = Path(lm_eval.models.__file__).parent / "vllm_causallms.py"
    cls = next(n for n in ast.walk(ast.parse(source.read_text())) if isinstance(n, ast.ClassDef) and n.name == "VLLM")
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    params = {a.arg for a in init.args.args + init.args.kwonlyargs}
    seen = []

    class Stop(Exception):
        pass

    class VLLM:
        def __init__(self, **kwargs):
            seen.append(kwargs)
            raise Stop

    monkeypatch.setitem(sys.modules, "lm_eval.models.vllm_causallms", types.SimpleNamespace(VLLM=VLLM))
    (tmp_path / "model.safetensors").touch()
    (tmp_path / "tokenizer_config.json").touch()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "t.yaml").touch()
    for context, cap in ((2048, {}), (32768, {"max_model_len": cost.EVAL_MAX_TOKENS})):
        (tmp_path / "config.json").write_text(json.dumps({**HPLT_CFG, "model_type": "llama",
                                                          "max_position_embeddings": context}))
        with pytest.raises(Stop):
            evaluate.run_harness(tmp_path, ["t"], tmp_path / "tasks", 24, 7, backend="vllm")
        assert seen.pop() == {"pretrained": str(tmp_path), "dtype": "bfloat16", "batch_size": 24, "seed": 7,
                              "gpu_memory_utilization": cost.DEVICE_HEADROOM, **cap}
    assert {"pretrained", "dtype", "batch_size", "seed", "max_model_len"} <= params
    # not lm-eval's own: its **kwargs go on to vLLM's engine arguments, which name it
    assert "gpu_memory_utilization" not in params and init.args.kwarg.arg == "kwargs"
    assert "self.model_args.update(kwargs)" in source.read_text()


# --- the LUMI profile's limits against the estimates -----------------------------------------

LIMITS = yaml.safe_load((ROOT / "profiles/lumi/limits.yaml").read_text())
MARGIN = 1.5


@pytest.fixture(scope="module")
def lumi_jobs():
    """Every job of the paper config's LUMI dry run, its resources as Snakemake resolves them."""
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    import sbatch_lines

    return sbatch_lines.dry_run_jobs(str(ROOT / "config/paper.yaml"), str(ROOT / "profiles/lumi"), ["all"])


def test_every_slurm_limit_is_the_estimate_with_margin_and_within_its_partition(lumi_jobs, paper_config):
    """A Slurm limit is a claim about a job's cost: each GPU or heavy CPU rule asks for at least
    1.5 × the estimate of its largest job (time and host memory) and no more than its
    partition allows; the pre-training, which stops itself before its wall limit, fits its
    estimated share in one wall-limited job."""
    estimates = cost.rule_estimates(paper_config)
    seen = set()
    for job in lumi_jobs:
        est, res = estimates.get(job["rule"]), job["resources"]
        if est is None or job["local"]:
            continue
        seen.add(job["rule"])
        part = LIMITS["partitions"][res["slurm_partition"]]
        assert res["runtime"] <= part["max_minutes"], job["rule"]
        assert res.get("nodes", 1) <= part["max_nodes"], job["rule"]
        assert res["mem_mb"] <= part["node_mem_mb"], job["rule"]
        if job["rule"] == "pretrain_megatron":
            margin = paper_config["pretrain"]["megatron"]["exit_margin_min"]
            assert est.minutes <= res["runtime"] - margin and part.get("whole_nodes")
            continue
        assert res["runtime"] >= MARGIN * est.minutes, (job["rule"], res["runtime"], est.minutes)
        assert res["mem_mb"] >= MARGIN * est.mem_mb, (job["rule"], res["mem_mb"], est.mem_mb)
        if res.get("gpu"):
            assert res["cpus_per_task"] * res["gpu"] <= LIMITS["lumi_g_usable_cores"]
    assert seen == {r for r, e in estimates.items() if r != "fetch_hplt_checkpoint"}


def test_the_login_node_runs_at_most_a_few_model_loads_at_once(lumi_jobs, paper_config):
    """80 HPLT checkpoints become ready at once as local jobs: each states its share of the
    login node's memory (1.5 × the estimate or more), and the profile's cap and local cores
    bound how many run together."""
    profile = yaml.safe_load((ROOT / "profiles/lumi/config.yaml").read_text())
    cap = int(dict(r.split("=") for r in profile["resources"])["login_mem_mb"])
    assert 1 <= profile["local-cores"] <= 16
    est = cost.rule_estimates(paper_config)["fetch_hplt_checkpoint"]
    fetches = [j for j in lumi_jobs if j["rule"] == "fetch_hplt_checkpoint"]
    assert len(fetches) == est.jobs == 80 and all(j["local"] for j in fetches)
    for job in fetches:
        share = job["resources"]["login_mem_mb"]
        assert share >= MARGIN * est.mem_mb
        assert 1 <= cap // share <= 4  # at most four 2.15B models in the login node's memory at once
    loaders = {"fetch_hplt_checkpoint", "fetch_init", "fetch_baseline", "fetch_published_merge", "fetch_corpus",
               "fetch_mixed_checkpoint"}
    assert all("login_mem_mb" in j["resources"] for j in lumi_jobs if j["rule"] in loaders)


def test_the_cost_table_in_the_docs_is_the_one_the_code_writes():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(ROOT / "tools/cost_table.py"), "--check"], capture_output=True,
                          text=True, env={**__import__("os").environ, "SBATCH_ACCOUNT": "project_0"})
    assert proc.returncode == 0, proc.stderr


def test_the_vllm_backend_without_vllm_stops_in_one_line_naming_the_key(tmp_path):
    """`evaluate.backend: vllm` where the environment has no vLLM (this machine): one line
    naming the key and the way out, before any model is loaded; an unknown backend likewise."""
    from mergelimits import evaluate

    (tmp_path / "config.json").write_text(json.dumps({**HPLT_CFG, "model_type": "llama"}))
    (tmp_path / "model.safetensors").touch()
    (tmp_path / "tokenizer_config.json").touch()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "t.yaml").touch()
    with pytest.raises(RuntimeError, match=r"^evaluate.backend is vllm, but vLLM cannot be imported here .*"
                                           r"evaluate.backend: hf$"):
        evaluate.run_harness(tmp_path, ["t"], tmp_path / "tasks", 8, 0, backend="vllm")
    with pytest.raises(ValueError, match=r"evaluate.backend: 'onnx' is not one of hf, vllm"):
        evaluate.run_harness(tmp_path, ["t"], tmp_path / "tasks", 8, 0, backend="onnx")
