"""megatron-core at tiny size on CPU: the model, its conversion to and from Hugging Face
Llama (logits equal to 1e-4 in fp32), a training step, the indexed corpus and step 0. The
training loop, its dist checkpoints and their export: tests/test_train_gpt.py."""

import collections

import megatron.core  # noqa: F401 - pinned: a broken install fails here rather than skipping
import pytest
import torch

from mergelimits import benchfiles, tokenizer
from mergelimits import model as hf_model
from mergelimits.megatron import convert, cpu_compat
from mergelimits.megatron import model as mmodel
from mergelimits.synthetic import writers

ARCH = {"layers": 2, "hidden": 64, "ffn": 128, "heads": 4, "kv_heads": 4, "seq_len": 32,
        "rope_theta": 10000.0, "init_std": 0.02, "tie_embeddings": True}
GQA = {**ARCH, "kv_heads": 2}


@pytest.fixture(scope="module", autouse=True)
def megatron_cpu():
    cpu_compat.init_single_process()
    yield
    cpu_compat.disable()


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("mtok")
    corpus = root / "c.jsonl"
    benchfiles.write_jsonl([{"text": t} for t in writers.corpus_docs("eng", 1, 100, 4)], corpus)
    return tokenizer.train([corpus], 400, root / "tok")


def _ids(vocab, seed=0):
    return torch.randint(0, vocab, (2, 24), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("arch", [ARCH, GQA], ids=["mha", "gqa"])
def test_hf_init_into_megatron_keeps_the_logits(arch, tok_dir, tmp_path):
    hf_model.make_init(arch, tok_dir, 3, tmp_path / "init")
    hf = hf_model.load_model(tmp_path / "init").eval()
    vocab = hf.config.vocab_size
    meg = mmodel.gpt_model(arch, vocab, use_cpu_initialization=True).eval()
    convert.load_into_megatron(meg, hf.state_dict(), arch)
    ids = _ids(vocab)
    with torch.no_grad():
        a, b = hf(ids).logits, mmodel.logits(meg, ids)
    assert a.shape == b.shape
    assert torch.allclose(a, b, atol=1e-4, rtol=0), (a - b).abs().max()


@pytest.mark.parametrize("arch", [ARCH, GQA], ids=["mha", "gqa"])
def test_megatron_to_hf_checkpoint_keeps_the_logits(arch, tok_dir, tmp_path):
    torch.manual_seed(1)
    vocab = len(tokenizer.load(tok_dir))
    meg = mmodel.gpt_model(arch, vocab, use_cpu_initialization=True).eval()
    with torch.no_grad():  # move every weight off its init, norms included
        for p in meg.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    convert.save_hf(meg.state_dict(), arch, vocab, tok_dir, tmp_path / "hf")
    hf = hf_model.load_model(tmp_path / "hf").eval()
    ids = _ids(vocab, 1)
    with torch.no_grad():
        assert torch.allclose(hf(ids).logits, mmodel.logits(meg, ids), atol=1e-4, rtol=0)


def test_round_trip_is_exact(tok_dir, tmp_path):
    hf_model.make_init(GQA, tok_dir, 4, tmp_path / "init")
    sd = hf_model.load_model(tmp_path / "init").state_dict()
    back = convert.megatron_to_hf(convert.hf_to_megatron(sd, GQA), GQA)
    assert all(torch.equal(back[k], sd[k]) for k in back)


def test_a_training_step_lowers_the_loss(tok_dir):
    vocab = len(tokenizer.load(tok_dir))
    torch.manual_seed(0)
    meg = mmodel.gpt_model(ARCH, vocab, use_cpu_initialization=True).train()
    opt = torch.optim.AdamW(meg.parameters(), lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.05)
    ids = _ids(vocab, 2)
    pos = torch.arange(ids.shape[1])[None].expand_as(ids)
    losses = []
    for _ in range(5):
        # Megatron's GPTModel returns per-token losses when given labels.
        loss = meg(ids[:, :-1], pos[:, :-1], attention_mask=mmodel.causal_mask(ids.shape[1] - 1),
                   labels=ids[:, 1:]).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(meg.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.5, losses


def test_indexed_corpus_and_blended_dataset(tok_dir, tmp_path):
    """The Mixed10 path: per-language indexed files, blended with equal weights."""
    from mergelimits.megatron import data

    prefixes, counts = [], {}
    for code in ("deu", "ita", "tur"):
        corpus = tmp_path / f"{code}.jsonl"
        docs = writers.corpus_docs(code, 2, 60, 4)
        benchfiles.write_jsonl([{"text": d} for d in docs], corpus)
        counts[code] = data.build_indexed(corpus, tok_dir, tmp_path / "idx" / code)
        prefixes.append(str(tmp_path / "idx" / code))
        assert counts[code]["documents"] == 60
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    ds = IndexedDataset(prefixes[0])
    tok = tokenizer.load(tok_dir)
    first = ds[0].tolist()
    # BOS doc EOD, as the torch engine's stream (train.token_blocks) and evaluation's BOS
    assert first[0] == tok.bos_token_id and first[-1] == tok.eos_token_id
    assert tok.decode(first[1:-1]) == writers.corpus_docs("deu", 2, 60, 4)[0]
    assert sum(len(ds[i]) for i in range(len(ds))) == counts["deu"]["tokens"]
    train = data.gpt_train_dataset(prefixes, [1.0, 1.0, 1.0], 32, seed=5, num_samples=90, tokenizer_dir=tok_dir,
                                   cache_dir=tmp_path / "cache")
    assert len(train) >= 90
    sample = train[0]
    assert sample["tokens"].shape[0] == 32 and torch.equal(sample["tokens"][1:], sample["labels"][:-1])
    # Equal weights: each language gives about a third of the samples.
    shares = collections.Counter(int(train.dataset_index[i]) for i in range(90))
    assert all(25 <= n <= 35 for n in shares.values()), shares


def test_export_names_a_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no Megatron dist checkpoint in"):
        convert.export_dist_checkpoint(tmp_path / "iter_0001000", ARCH, 400, tmp_path, tmp_path / "out")


def test_megatron_step0_is_seeded_scaled_and_exported_with_its_logits(tok_dir, tmp_path):
    """HPLT's kind of init (pretrain.init: megatron): the same seed gives the same weights,
    another seed others; the output projections are drawn with std / √(2·layers) as Megatron
    does, unlike a Hugging Face Llama; and the exported checkpoint computes the Megatron
    model's logits."""
    from safetensors.torch import load_file

    from mergelimits.megatron.init import build_step0
    from mergelimits.similarity import init_agreement

    rec = build_step0(ARCH, tok_dir, 1234, tmp_path / "a")
    build_step0(ARCH, tok_dir, 1234, tmp_path / "b")
    build_step0(ARCH, tok_dir, 7, tmp_path / "c")
    a, b, c = (load_file(tmp_path / d / hf_model.WEIGHTS) for d in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a) and not torch.equal(a["model.layers.0.mlp.up_proj.weight"],
                                                                           c["model.layers.0.mlp.up_proj.weight"])
    assert rec["engine"] == "megatron" and rec["seed"] == 1234 and rec["sha256"] == hf_model.weights_sha256(
        tmp_path / "a" / hf_model.WEIGHTS)
    std, scaled = ARCH["init_std"], ARCH["init_std"] / (2 * ARCH["layers"]) ** 0.5
    for i in range(ARCH["layers"]):
        p = f"model.layers.{i}."
        assert a[p + "mlp.up_proj.weight"].std().item() == pytest.approx(std, rel=0.1)
        assert a[p + "self_attn.o_proj.weight"].std().item() == pytest.approx(scaled, rel=0.1)
        assert a[p + "mlp.down_proj.weight"].std().item() == pytest.approx(scaled, rel=0.1)
        assert torch.equal(a[p + "input_layernorm.weight"], torch.ones(ARCH["hidden"]))
    # the exported checkpoint is the Megatron model: load it back and compare logits
    hf = hf_model.load_model(tmp_path / "a").eval()
    meg = mmodel.gpt_model(ARCH, hf.config.vocab_size, use_cpu_initialization=True).eval()
    convert.load_into_megatron(meg, hf.state_dict(), ARCH)
    ids = _ids(hf.config.vocab_size)
    with torch.no_grad():
        assert torch.allclose(hf(ids).logits, mmodel.logits(meg, ids), atol=1e-4, rtol=0)
    # and a Hugging Face draw of the same architecture is another init altogether
    hf_model.make_init(ARCH, tok_dir, 1234, tmp_path / "hf")
    other = init_agreement(tmp_path / "hf", tmp_path / "a")
    assert other[other.matrix].cosine.abs().median() < 0.05


def test_step0_rendezvous_port_is_one_nobody_listens_on():
    """init_model on a GPU rendezvouses through MASTER_PORT; small-g shares nodes, so the
    port is the kernel's free choice, never one another job on the node already holds."""
    import socket

    from mergelimits.megatron.init import free_port

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = free_port()
        assert port != held.getsockname()[1]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # it can be taken: nobody holds it
