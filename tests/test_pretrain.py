"""Shared init, the CPU trainer and its resume, the HPLT checkpoint fetch."""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types

import pytest
import torch
from safetensors.torch import load_file
from transformers import LlamaConfig

from mergelimits import benchfiles, model, tokenizer, train
from mergelimits.synthetic import writers

ARCH = {"layers": 2, "hidden": 32, "ffn": 64, "heads": 4, "kv_heads": 4, "seq_len": 32,
        "rope_theta": 10000.0, "init_std": 0.02, "tie_embeddings": True}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("pre")
    corpus = root / "deu.jsonl"
    benchfiles.write_jsonl([{"text": d} for d in writers.corpus_docs("deu", 3, 200, 4)], corpus)
    tok_dir = tokenizer.train([corpus], 400, root / "tok")
    init = root / "init"
    model.make_init(ARCH, tok_dir, 5, init)
    return root, corpus, init


def test_init_record_matches_its_weights(setup, tmp_path):
    root, _, init = setup
    record = json.loads((init / model.RECORD).read_text())
    assert record["seed"] == 5 and record["arch"] == ARCH
    assert record["sha256"] == model.weights_sha256(init / model.WEIGHTS)
    again = model.make_init(ARCH, root / "tok", 5, tmp_path / "a")
    other = model.make_init(ARCH, root / "tok", 6, tmp_path / "b")
    assert again["sha256"] == record["sha256"] and other["sha256"] != record["sha256"]


def test_init_is_the_configured_llama(setup):
    _, _, init = setup
    m = model.load_model(init)
    cfg = m.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.intermediate_size) == (2, 32, 64)
    assert cfg.tie_word_embeddings and cfg.hidden_act == "silu" and not cfg.attention_bias
    assert m.lm_head.weight.data_ptr() == m.model.embed_tokens.weight.data_ptr()
    tok = tokenizer.load(init)  # generation stops at the config's EOS: the tokenizer's, not Llama's default
    assert (cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id) == (tok.bos_token_id, tok.eos_token_id,
                                                                      tok.pad_token_id)
    assert cfg.vocab_size == len(tok)
    std = m.model.embed_tokens.weight.std().item()
    assert abs(std - 0.02) < 0.002


def test_the_llama_config_is_the_configured_architecture_and_the_recipes(setup):
    """Every arch key lands in its LlamaConfig field; what the config may leave out takes the
    recipe's value (kv_heads: heads, rope_theta: 10,000, no padding); RMSNorm's epsilon is the
    HPLT recipe's 1e-5 (megatron/model.py's layernorm_epsilon; transformers' default is 1e-6),
    and the special tokens are the tokenizer's."""
    root, _, _ = setup
    tok = tokenizer.load(root / "tok")
    arch = {"layers": 3, "hidden": 48, "ffn": 96, "heads": 6, "kv_heads": 2, "seq_len": 64, "init_std": 0.01,
            "tie_embeddings": False, "rope_theta": 500000.0, "vocab_multiple": 128}
    cfg = model.llama_config(arch, 400, tok)
    assert {key: getattr(cfg, field) for key, field in model.ARCH_FIELDS.items()} == {
        k: v for k, v in arch.items() if k in model.ARCH_FIELDS}
    assert cfg.rope_parameters == {"rope_type": "default", "rope_theta": 500000.0}
    assert cfg.vocab_size == 512 and cfg.rms_norm_eps == 1e-5
    assert (cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id) == (tok.bos_token_id, tok.eos_token_id,
                                                                      tok.pad_token_id)
    assert len({tok.bos_token_id, tok.eos_token_id, tok.pad_token_id}) == 3
    bare = model.llama_config({k: v for k, v in arch.items() if k not in ("kv_heads", "rope_theta", "vocab_multiple")},
                              400)
    assert bare.num_key_value_heads == 6 and bare.vocab_size == 400
    unpadded = {k: v for k, v in arch.items() if k != "vocab_multiple"}
    assert model.llama_config(arch, 401).vocab_size == 512 and model.llama_config(unpadded, 401).vocab_size == 401
    # ids unlike LlamaConfig's defaults (1, 2, None), which a small tokenizer's may equal
    other = model.llama_config(arch, 400, types.SimpleNamespace(bos_token_id=7, eos_token_id=8, pad_token_id=9))
    assert (other.bos_token_id, other.eos_token_id, other.pad_token_id) == (7, 8, 9)
    assert bare.rope_parameters == {"rope_type": "default", "rope_theta": 10000.0}
    assert (bare.bos_token_id, bare.eos_token_id) == (LlamaConfig().bos_token_id, LlamaConfig().eos_token_id)


def test_a_published_init_is_recorded_as_a_built_one_with_its_source(setup, tmp_path):
    """A fetched step 0 gets the record verify_init checks: its SHA-256, its size and vocabulary
    read from its files, and where it came from in place of a seed."""
    _, _, init = setup
    fetched = tmp_path / "init"
    shutil.copytree(init, fetched, ignore=shutil.ignore_patterns(model.RECORD))
    source = {"repo": "HPLT/hplt2c_deu_checkpoints", "revision": "step0", "commit": "c" * 40}
    record = model.record_published_init(fetched, ARCH, source)
    built = json.loads((init / model.RECORD).read_text())
    assert record == {"engine": "hub", **source, "seed": None, "arch": ARCH, "vocab_size": built["vocab_size"],
                      "sha256": built["sha256"], "params": built["params"]}
    assert json.loads((fetched / model.RECORD).read_text()) == record
    assert (fetched / model.RECORD).read_text().endswith("}\n")
    assert model.verify_init(fetched, ARCH) == record


def test_vocab_padding():
    assert model.padded_vocab(262145, 128) == 262272 and model.padded_vocab(1024, 1) == 1024


def test_an_init_of_another_architecture_is_refused(setup, tmp_path):
    _, _, init = setup
    with pytest.raises(ValueError, match=r"pretrain.arch.hidden: config 64, checkpoint 32"):
        model.check_arch(init, {**ARCH, "hidden": 64})
    with pytest.raises(ValueError) as err:
        model.check_arch(init, {**ARCH, "heads": 2, "rope_theta": 500000.0})
    assert str(err.value) == (f"{init} does not match the configured architecture:\n"
                              "  pretrain.arch.heads: config 2, checkpoint 4\n"
                              "  pretrain.arch.rope_theta: config 500000.0, checkpoint 10000.0")
    with pytest.raises(FileNotFoundError, match=rf"no checkpoint in {tmp_path} \(config.json missing\)"):
        model.check_arch(tmp_path, ARCH)


def test_an_init_without_its_record_or_weights_names_the_file(setup, tmp_path):
    _, _, init = setup
    for missing in (model.RECORD, model.WEIGHTS):
        copy = tmp_path / missing
        shutil.copytree(init, copy, ignore=shutil.ignore_patterns(missing))
        what = "init record" if missing == model.RECORD else "checkpoint weights"
        with pytest.raises(FileNotFoundError, match=f"{what} missing: {copy / missing}"):
            model.verify_init(copy, ARCH)


def test_a_changed_init_is_refused(setup, tmp_path):
    _, _, init = setup
    assert model.verify_init(init, ARCH)["seed"] == 5
    copy = tmp_path / "init"
    shutil.copytree(init, copy)
    from safetensors.torch import load_file, save_file

    sd = load_file(copy / model.WEIGHTS)
    sd["model.norm.weight"] += 1
    save_file(sd, copy / model.WEIGHTS, metadata={"format": "pt"})
    with pytest.raises(ValueError, match="does not match the SHA-256"):
        model.verify_init(copy, ARCH)


def test_missing_and_corrupt_checkpoints_name_the_file(setup, tmp_path):
    _, _, init = setup
    broken = tmp_path / "broken"
    shutil.copytree(init, broken)
    with open(broken / model.WEIGHTS, "r+b") as fh:
        fh.truncate(100)
    with pytest.raises(ValueError, match=f"corrupt checkpoint {broken / model.WEIGHTS}"):
        model.load_model(broken)
    (broken / model.WEIGHTS).unlink()
    with pytest.raises(FileNotFoundError, match=f"checkpoint weights missing: {broken / model.WEIGHTS}"):
        model.load_model(broken)


def test_a_checkpoint_stored_in_bf16_loads_in_float32(setup, tmp_path, monkeypatch):
    """Published checkpoints may be stored in bf16. Training and the activations read them in
    float32, which transformers 5 no longer does by default (it keeps the stored dtype). A job
    with a GPU (LUMI's small-g: a GCD shows as cuda) runs there, else on the CPU."""
    _, _, init = setup
    m = model.load_model(init)
    m.to(torch.bfloat16).save_pretrained(tmp_path / "bf16")
    assert {p.dtype for p in model.load_model(tmp_path / "bf16").parameters()} == {torch.float32}
    assert {p.dtype for p in model.load_model(tmp_path / "bf16", dtype=torch.bfloat16).parameters()} == {torch.bfloat16}
    for gpu, dev in ((True, "cuda"), (False, "cpu")):
        monkeypatch.setattr(torch.cuda, "is_available", lambda gpu=gpu: gpu)
        assert model.device() == dev


def test_wsd_schedule():
    cfg = train.TrainConfig(steps=100, batch_size=1, seq_len=8, lr=1.0, seed=0, checkpoints=(100,))
    f = train.wsd_lambda(cfg)
    assert f(0) == pytest.approx(0.1) and f(9) == 1.0  # warm-up over the first tenth
    assert f(50) == 1.0 and f(79) == 1.0               # stable
    assert f(80) == 1.0 and f(90) == pytest.approx(0.5) and f(99) == pytest.approx(0.05)  # linear decay


def test_wsd_schedule_at_its_boundaries():
    """Ten steps: one warm-up step (a warm-up never rounds to none), at full rate from its
    end; a decay of one step leaves the last step at full rate, one of two halves it."""
    cfg = train.TrainConfig(steps=10, batch_size=1, seq_len=8, lr=1.0, seed=0, checkpoints=(10,))
    assert [train.wsd_lambda(cfg)(s) for s in range(10)] == [1.0] * 9 + [0.5]
    cfg = train.TrainConfig(steps=10, batch_size=1, seq_len=8, lr=1.0, seed=0, checkpoints=(10,), decay_frac=0.1)
    assert [train.wsd_lambda(cfg)(s) for s in range(10)] == [1.0] * 10
    cfg = train.TrainConfig(steps=100, batch_size=1, seq_len=8, lr=1.0, seed=0, checkpoints=(100,))
    assert train.wsd_lambda(cfg)(10) == 1.0  # the first step after the warm-up


def test_token_blocks_are_the_documents_between_bos_and_eos(setup, tmp_path):
    """The corpus as one stream, each document once between BOS and EOS, even with a
    tokenizer that adds BOS itself (as Gemma's does), cut into whole blocks; a corpus
    shorter than one block is refused, naming it."""
    from .conftest import adding_bos

    root, corpus, _ = setup
    tok = tokenizer.load(root / "tok")
    texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()]
    stream = [i for t in texts for i in (tok.bos_token_id, *tok(t, add_special_tokens=False)["input_ids"],
                                         tok.eos_token_id)]
    blocks = train.token_blocks(corpus, tok, 16)
    assert blocks.dtype == torch.long
    assert blocks.tolist() == [stream[i:i + 16] for i in range(0, len(stream) - 15, 16)]
    assert torch.equal(train.token_blocks(corpus, adding_bos(tok), 16), blocks)
    with pytest.raises(ValueError, match=rf"^{corpus}: {len(stream)} tokens, fewer than one sequence of 1000000$"):
        train.token_blocks(corpus, tok, 1_000_000)
    short = tmp_path / "short.jsonl"
    benchfiles.write_jsonl([{"text": texts[0]}], short)
    one = len(tok(texts[0], add_special_tokens=False)["input_ids"]) + 2
    assert train.token_blocks(short, tok, one).shape == (1, one)  # exactly one block


def test_a_changed_config_names_every_key_that_differs():
    assert train._config_diff({"lr": 1.0, "steps": 10}, {"lr": 2.0, "steps": 10, "seed": 3}) == [
        "lr: was 1.0, now 2.0", "seed: was None, now 3"]


def test_each_epoch_sees_every_block_once():
    seen = torch.cat([train.batch_indices(10, s, 5, seed=3) for s in range(4)])
    assert sorted(seen[:10].tolist()) == list(range(10)) and sorted(seen[10:].tolist()) == list(range(10))
    assert not torch.equal(seen[:10], seen[10:])  # a new order each epoch
    assert torch.equal(train.batch_indices(10, 2, 5, 3), train.batch_indices(10, 2, 5, 3))


def test_the_recipe_a_branch_shares_leaves_out_where_it_saves_and_its_threads():
    cfg = train.TrainConfig(steps=8, batch_size=2, seq_len=16, lr=1e-3, seed=3, checkpoints=(4, 8), keep_state=(4,),
                            threads=1)
    other = train.TrainConfig(steps=8, batch_size=2, seq_len=16, lr=1e-3, seed=3, checkpoints=(8,), threads=2)
    assert cfg.recipe() == other.recipe() and not {"checkpoints", "keep_state", "threads"} & set(cfg.recipe())
    assert cfg.recipe()["betas"] == [0.9, 0.95]  # as the JSON record holds it


def test_a_checkpoint_saved_again_replaces_the_old_one_and_leaves_no_partial_copy(setup, tmp_path):
    """A rerun, or a resumed run, saves over what a killed one left: the old checkpoint and a
    half-written `.tmp` beside it."""
    root, _, init = setup
    m, tok = model.load_model(init), tokenizer.load(root / "tok")
    out = tmp_path / "step~4"
    out.mkdir()
    (out / "stale.bin").write_text("old")
    (tmp_path / "step~4.tmp").mkdir()
    (tmp_path / "step~4.tmp" / "half.bin").write_text("half")
    train._save_checkpoint(m, tok, out, {"step": 4})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step~4"]
    assert not (out / "stale.bin").exists() and (out / model.WEIGHTS).exists()
    assert json.loads((out / "train.json").read_text()) == {"step": 4}


def test_a_run_decays_the_matrices_only_and_publishes_its_checkpoints_as_links(setup, tmp_path):
    """The recipe's AdamW: weight decay on the matrices, none on the norms (every vector), the
    configured betas and eps, one update a step from step 0. The finished run's checkpoints
    are hard links into its state directory, not second copies of the weights."""
    _, corpus, init = setup
    cfg = train.TrainConfig(steps=4, batch_size=2, seq_len=32, lr=1e-3, seed=1, checkpoints=(2, 4), keep_state=(4,),
                            betas=(0.8, 0.9), eps=1e-6, weight_decay=0.3)
    outs = {step: tmp_path / "models" / "deu" / f"step~{step}" for step in (2, 4)}
    with pytest.raises(ValueError, match=r"checkpoint outputs \[2\] differ from pretrain.checkpoints \[2, 4\]"):
        train.train(init, corpus, cfg, {2: outs[2]}, tmp_path / "none")
    state_dir = tmp_path / "state" / "deu"
    train.train(init, corpus, cfg, outs, state_dir)
    kept = train.load_state(state_dir / "checkpoints" / "step~4" / train.STATE)
    groups, moments = kept["optimizer"]["param_groups"], kept["optimizer"]["state"]
    assert [g["weight_decay"] for g in groups] == [0.3, 0.0]
    assert all(tuple(g["betas"]) == (0.8, 0.9) and g["eps"] == 1e-6 for g in groups)
    ndims = [{moments[i]["exp_avg"].ndim for i in g["params"]} for g in groups]
    assert ndims[0] == {2} and ndims[1] == {1}
    assert {int(moments[i]["step"]) for g in groups for i in g["params"]} == {4} and kept["step"] == 4
    for step, out in outs.items():
        saved = state_dir / "checkpoints" / f"step~{step}" / model.WEIGHTS
        assert (out / model.WEIGHTS).stat().st_ino == saved.stat().st_ino
        assert json.loads((out / "train.json").read_text())["tokens"] == step * 2 * 32


def test_the_progress_line_is_each_steps_loss_the_schedules_lr_and_the_throughput(setup, tmp_path, monkeypatch,
                                                                                    caplog):
    """What a person watching a run reads, every `log_every` steps and at the last: the step,
    the loss that step computed (its checkpoint's train.json has the same), the learning rate
    the schedule gives after it, and the tokens a second since the line before, here on a
    clock that reads 0.25 s later each time it is read. The run's result and each
    checkpoint's train.json hold the same loss and the whole config."""
    _, corpus, init = setup
    cfg = train.TrainConfig(steps=5, batch_size=2, seq_len=32, lr=1e-3, seed=1, checkpoints=(2, 4, 5), log_every=2,
                            warmup_frac=0.4)
    outs = {step: tmp_path / f"step~{step}" for step in cfg.checkpoints}
    clock = iter(range(10**6))
    monkeypatch.setattr(train, "time", types.SimpleNamespace(perf_counter=lambda: next(clock) / 4))
    with caplog.at_level("INFO", logger=train.log.name):
        result = train.train(init, corpus, cfg, outs, tmp_path / "state")
    meta = {step: json.loads((out / "train.json").read_text()) for step, out in outs.items()}
    config = json.loads(json.dumps(dataclasses.asdict(cfg)))
    assert all(meta[step] == {"step": step, "tokens": step * 64, "loss": meta[step]["loss"], "config": config}
               for step in outs)
    lr = train.wsd_lambda(cfg)
    # 64 tokens a step; two clock readings (0.25 s) between lines
    expected = [f"step {step}/5 loss {meta[step]['loss']:.4f} lr {1e-3 * lr(step):.2e} tokens/s {rate}"
                for step, rate in ((2, 512), (4, 512), (5, 256))]
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("step ")] == expected
    blocks = train.token_blocks(corpus, tokenizer.load(init), 32)
    assert result == {"step": 5, "final_loss": meta[5]["loss"], "blocks": len(blocks)}


def test_a_run_stopped_early_resumes_where_it_stopped_and_says_so(setup, tmp_path, caplog):
    """`stop_after` ends a run once that step is done (the tests' stand-in for a kill after a
    save); the same call again resumes from the state saved there, logs it, and ends as the
    uninterrupted run."""
    _, corpus, init = setup
    cfg = train.TrainConfig(steps=6, batch_size=2, seq_len=32, lr=3e-3, seed=2, checkpoints=(6,), save_every=1)
    state = tmp_path / "state"
    stopped = train.train(init, corpus, cfg, {6: tmp_path / "m"}, state, stop_after=3)
    assert stopped["step"] == 3 and train.load_state(state / train.STATE)["step"] == 3
    assert not (tmp_path / "m").exists()
    with caplog.at_level("INFO", logger=train.log.name):
        train.train(init, corpus, cfg, {6: tmp_path / "m"}, state)
    assert f"resumed from {state / train.STATE} at step 3" in caplog.messages
    train.train(init, corpus, cfg, {6: tmp_path / "u"}, tmp_path / "ustate")
    assert (tmp_path / "m" / model.WEIGHTS).read_bytes() == (tmp_path / "u" / model.WEIGHTS).read_bytes()
    # a finished run called again, its outputs lost: they are published again, nothing trained
    shutil.rmtree(tmp_path / "m")
    again = train.train(init, corpus, cfg, {6: tmp_path / "m"}, state)
    assert again["step"] == 6 and again["final_loss"] is None
    assert (tmp_path / "m" / model.WEIGHTS).read_bytes() == (tmp_path / "u" / model.WEIGHTS).read_bytes()


def test_checkpoint_steps_must_increase():
    with pytest.raises(ValueError, match="strictly increasing"):
        train.TrainConfig(steps=10, batch_size=1, seq_len=8, lr=1e-3, seed=0, checkpoints=(5, 3, 10))


def test_checkpoints_and_kept_states_may_be_any_steps_of_the_run():
    def cfg(checkpoints, keep=()):
        return train.TrainConfig(steps=10, batch_size=1, seq_len=8, lr=1e-3, seed=0, checkpoints=checkpoints,
                                 keep_state=keep)

    assert cfg((1, 10), keep=(1, 10)).keep_state == (1, 10)  # the first step, the last, every one kept
    for bad in ((0, 10), (1, 11), (0, 11)):
        with pytest.raises(ValueError, match=r"must lie in 1\.\.10"):
            cfg(bad)


TRAIN_SCRIPT = """
import sys, logging
from mergelimits import train
logging.basicConfig(level=logging.INFO)
init, corpus, out, state, delay = sys.argv[1:6]
cfg = train.TrainConfig(steps=40, batch_size=4, seq_len=32, lr=3e-3, seed=9, checkpoints=(20, 40),
                        save_every=3, log_every=1, threads=1)
import time, torch
orig = torch.optim.AdamW.step
def slow(self, *a, **k):
    time.sleep(float(delay))
    return orig(self, *a, **k)
torch.optim.AdamW.step = slow
train.train(init, corpus, cfg, {20: out + "/step~20", 40: out + "/step~40"}, state)
"""


def _run(setup, out, state, delay=0.0):
    _, corpus, init = setup
    return subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, str(init), str(corpus), str(out), str(state),
                             str(delay)], stderr=subprocess.PIPE, text=True)


def test_killed_training_resumes_bit_identical(setup, tmp_path):
    # The uninterrupted reference trains on the other core meanwhile.
    ref = _run(setup, tmp_path / "ref", tmp_path / "ref_state")
    # Kill a real training process (SIGKILL: no cleanup) once it has saved some state.
    proc = _run(setup, tmp_path / "out", tmp_path / "state", delay=0.15)
    state = tmp_path / "state" / train.STATE
    deadline = time.time() + 120
    while time.time() < deadline:
        if state.exists() and torch.load(state, weights_only=False)["step"] >= 24:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "out" / "step~40").exists()  # nothing that looks complete
    killed_at = torch.load(state, weights_only=False)["step"]
    assert 20 < killed_at < 40
    resumed = _run(setup, tmp_path / "out", tmp_path / "state")
    err = resumed.communicate()[1]
    assert resumed.returncode == 0, err
    assert f"resumed from {state} at step {killed_at}" in err
    assert ref.wait() == 0, ref.stderr.read()
    for step in (20, 40):
        a = load_file(tmp_path / "ref" / f"step~{step}" / model.WEIGHTS)
        b = load_file(tmp_path / "out" / f"step~{step}" / model.WEIGHTS)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_under_another_config_is_refused(setup, tmp_path):
    _, corpus, init = setup
    cfg = train.TrainConfig(steps=6, batch_size=2, seq_len=32, lr=1e-3, seed=1, checkpoints=(6,), save_every=2)
    train.train(init, corpus, cfg, {6: tmp_path / "o"}, tmp_path / "s", stop_after=4)
    changed = train.TrainConfig(steps=6, batch_size=2, seq_len=32, lr=2e-3, seed=1, checkpoints=(6,), save_every=2)
    with pytest.raises(ValueError, match=r"refusing to resume:\n  lr: was 0.001, now 0.002"):
        train.train(init, corpus, changed, {6: tmp_path / "o"}, tmp_path / "s")


GROUP_SCRIPT = """
import sys
from mergelimits import train
init, *runs = sys.argv[1:]
cfg = train.TrainConfig(steps=8, batch_size=2, seq_len=32, lr=3e-3, seed=4, checkpoints=(8,), threads=1)
for corpus, out in zip(runs[::2], runs[1::2]):
    train.train(init, corpus, cfg, {8: out + "/step~8"}, out + "/state")
"""


def test_a_model_trained_after_another_in_its_process_is_the_one_a_fresh_process_trains(setup, tmp_path):
    """pretrain.per_job: one process trains its experts in turn. The second, trained after
    another on another corpus, is byte for byte the one a process of its own trains."""
    root, corpus, init = setup
    other = root / "eng_group.jsonl"
    benchfiles.write_jsonl([{"text": d} for d in writers.corpus_docs("eng", 3, 200, 4)], other)
    after, alone = tmp_path / "after", tmp_path / "alone"
    for runs in ([other, tmp_path / "first", corpus, after], [corpus, alone]):
        proc = subprocess.run([sys.executable, "-c", GROUP_SCRIPT, str(init), *map(str, runs)], capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
    first = (tmp_path / "first/step~8" / model.WEIGHTS).read_bytes()
    assert first != (alone / "step~8" / model.WEIGHTS).read_bytes()  # another model came first
    assert (after / "step~8" / model.WEIGHTS).read_bytes() == (alone / "step~8" / model.WEIGHTS).read_bytes()


def test_a_branch_on_the_same_corpus_is_the_uninterrupted_run(setup, tmp_path, caplog):
    """A run branched from another's kept state at step 6 continues it exactly: on the same
    corpus it ends bit-identical to the run it left, and it starts from the kept step (its
    own checkpoints only after it)."""
    _, corpus, init = setup
    cfg = train.TrainConfig(steps=12, batch_size=2, seq_len=32, lr=3e-3, seed=3, checkpoints=(6, 12), keep_state=(6,))
    train.train(init, corpus, cfg, {6: tmp_path / "m6", 12: tmp_path / "m12"}, tmp_path / "ms")
    kept = tmp_path / "m6" / train.STATE
    assert torch.load(kept, weights_only=False)["step"] == 6 and not (tmp_path / "m12" / train.STATE).exists()
    branch = train.TrainConfig(steps=12, batch_size=2, seq_len=32, lr=3e-3, seed=3, checkpoints=(12,))
    with caplog.at_level("INFO", logger=train.log.name):
        result = train.train(init, corpus, branch, {12: tmp_path / "b12"}, tmp_path / "bs", branch_from=kept)
    assert f"branched from {kept} at step 6" in caplog.messages
    a, b = load_file(tmp_path / "m12" / model.WEIGHTS), load_file(tmp_path / "b12" / model.WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)
    meta = json.loads((tmp_path / "b12" / "train.json").read_text())
    assert meta["branched_from"] == str(kept) and meta["tokens"] == 12 * 2 * 32  # the same budget in all
    assert result["step"] == 12


def test_a_branch_leaves_the_run_it_continues(setup, tmp_path):
    """On another corpus the branch differs from the run it left, and it moves away from the
    kept weights only by the steps after the branch."""
    root, corpus, init = setup
    other = root / "eng.jsonl"
    benchfiles.write_jsonl([{"text": d} for d in writers.corpus_docs("eng", 3, 200, 4)], other)
    cfg = train.TrainConfig(steps=12, batch_size=2, seq_len=32, lr=3e-3, seed=3, checkpoints=(6, 12), keep_state=(6,))
    train.train(init, corpus, cfg, {6: tmp_path / "m6", 12: tmp_path / "m12"}, tmp_path / "ms")
    branch = train.TrainConfig(steps=12, batch_size=2, seq_len=32, lr=3e-3, seed=3, checkpoints=(12,))
    train.train(init, other, branch, {12: tmp_path / "b12"}, tmp_path / "bs", branch_from=tmp_path / "m6" / train.STATE)
    six, end, b = (load_file(tmp_path / d / model.WEIGHTS) for d in ("m6", "m12", "b12"))
    assert not all(torch.equal(end[k], b[k]) for k in end)
    dist = {k: ((b[k] - six[k]).norm() / (six[k].norm() + 1e-12)).item() for k in six}
    init_w = load_file(init / model.WEIGHTS)
    from_init = {k: ((b[k] - init_w[k]).norm() / (init_w[k].norm() + 1e-12)).item() for k in six}
    # nearer the kept step-6 weights than the init: it continued them
    assert sum(dist.values()) < sum(from_init.values())


def test_a_branch_refuses_another_recipe(setup, tmp_path):
    _, corpus, init = setup
    cfg = train.TrainConfig(steps=8, batch_size=2, seq_len=32, lr=3e-3, seed=3, checkpoints=(4, 8), keep_state=(4,))
    train.train(init, corpus, cfg, {4: tmp_path / "m4", 8: tmp_path / "m8"}, tmp_path / "ms")
    other = train.TrainConfig(steps=8, batch_size=2, seq_len=32, lr=1e-3, seed=3, checkpoints=(8,), clip=0.5)
    kept = tmp_path / "m4" / train.STATE
    with pytest.raises(ValueError) as err:
        train.train(init, corpus, other, {8: tmp_path / "b"}, tmp_path / "bs", branch_from=kept)
    assert str(err.value) == (f"{kept} was saved under another training recipe; a branch must continue the same "
                              "one:\n  clip: was 1.0, now 0.5\n  lr: was 0.003, now 0.001")
    with pytest.raises(FileNotFoundError):
        train.train(init, corpus, other, {8: tmp_path / "b"}, tmp_path / "bs2", branch_from=tmp_path / "none.pt")
    with pytest.raises(ValueError, match="among the checkpoints"):
        train.TrainConfig(steps=8, batch_size=2, seq_len=32, lr=1e-3, seed=3, checkpoints=(8,), keep_state=(4,))


def test_publishing_a_run_without_its_checkpoint_names_it(tmp_path):
    state_dir = tmp_path / "state"
    (state_dir / "checkpoints" / "step~4").mkdir(parents=True)
    with pytest.raises(FileNotFoundError) as err:
        train.publish(state_dir, {4: tmp_path / "out"})
    assert str(err.value) == (f"checkpoint of step 4 missing from {state_dir / 'checkpoints' / 'step~4'}; "
                              f"delete {state_dir} to retrain")
    assert not (tmp_path / "out").exists()


def test_training_lowers_the_loss(setup, tmp_path):
    _, corpus, init = setup
    cfg = train.TrainConfig(steps=30, batch_size=8, seq_len=32, lr=5e-3, seed=1, checkpoints=(30,))
    blocks = train.token_blocks(corpus, tokenizer.load(init), 32)
    before = model.load_model(init)(input_ids=blocks[:16], labels=blocks[:16]).loss.item()
    train.train(init, corpus, cfg, {30: tmp_path / "o"}, tmp_path / "s")
    after = model.load_model(tmp_path / "o")(input_ids=blocks[:16], labels=blocks[:16]).loss.item()
    assert after < before - 1.0, (before, after)
    meta = json.loads((tmp_path / "o" / "train.json").read_text())
    assert meta["step"] == 30 and meta["tokens"] == 30 * 8 * 32


def test_hplt_checkpoint_fetch(setup, tmp_path, monkeypatch):
    """HPLT's branches fetched from a local hub cache, written as one local checkpoint."""
    import huggingface_hub.constants as c

    from mergelimits import hub

    _, _, init = setup
    cache = tmp_path / "hub"
    commit = "a" * 40
    base = cache / "models--HPLT--hplt2c_deu_checkpoints"
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "checkpoint_0000020").write_text(commit)
    snap = base / "snapshots" / commit
    model.load_model(init).save_pretrained(snap, max_shard_size="20KB")  # sharded upstream
    tokenizer.load(init).save_pretrained(snap)
    assert len(list(snap.glob("*.safetensors"))) > 1
    monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    got = hub.fetch_checkpoint("HPLT/hplt2c_deu_checkpoints", "checkpoint_0000020", tmp_path / "out", ARCH)
    assert got.name == commit
    a, b = load_file(init / model.WEIGHTS), load_file(tmp_path / "out" / model.WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="pretrain.arch.layers"):
        hub.fetch_checkpoint("HPLT/hplt2c_deu_checkpoints", "checkpoint_0000020", tmp_path / "o2", {**ARCH, "layers": 3})


ACROSS_PROCESSES = """
import hashlib, sys
from pathlib import Path
from mergelimits import benchfiles, tokenizer, model
from mergelimits.synthetic import writers
out = Path(sys.argv[1])
benchfiles.write_jsonl([{"text": t} for c in ("deu", "tur") for t in writers.corpus_docs(c, 3, 40, 4)],
                       out / "corpus.jsonl")
tok = tokenizer.train([out / "corpus.jsonl"], 300, out / "tok")
record = model.make_init({"layers": 1, "hidden": 16, "ffn": 32, "heads": 2, "seq_len": 16}, tok, 11, out / "init")
print(hashlib.sha256((tok / "tokenizer.json").read_bytes()).hexdigest(), record["sha256"])
"""


def test_tokenizer_and_init_are_the_same_bytes_in_another_process(tmp_path):
    """The determinism test compares the Slurm run with the local one from pre-training on
    (the data, tokenizer and init are copied): here the two upstream steps that could
    depend on a process's state, run in two fresh processes."""
    import subprocess
    import sys

    procs = []
    for name in ("a", "b"):  # side by side
        (tmp_path / name).mkdir()
        procs.append(subprocess.Popen([sys.executable, "-c", ACROSS_PROCESSES, str(tmp_path / name)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        outs.append(out.split())
    assert outs[0] == outs[1] and len(outs[0]) == 2
