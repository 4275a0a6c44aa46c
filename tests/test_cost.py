"""The cost model behind the Slurm limits (mergelimits.cost) and the retry policy it sets."""

import json

import pytest
import yaml

from mergelimits import cost
from mergelimits.megatron import train_gpt

from .conftest import ROOT


@pytest.mark.parametrize("tie", [True, False])
def test_parameter_count_is_the_models_own(tie):
    """The count the FLOP estimate uses equals what transformers builds for the same shape."""
    from transformers import LlamaConfig, LlamaForCausalLM

    arch = {"layers": 2, "hidden": 64, "ffn": 160, "heads": 4, "kv_heads": 2, "tie_embeddings": tie}
    model = LlamaForCausalLM(LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tie))
    assert cost.llama_params(arch, vocab=300) == sum(p.numel() for p in model.parameters())


def test_the_paper_models_are_hplts_2_15b_and_mixed10_fits_one_48h_job_at_the_assumed_mfu():
    pre = yaml.safe_load((ROOT / "config/paper.yaml").read_text())["pretrain"]
    assert round(cost.llama_params(pre["arch"]) / 1e9, 2) == 2.15
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
