"""A local Hugging Face hub cache that serves a paper-shaped config's sources, offline.

Every `data.hub` source, HPLT's checkpoint branches, the baselines and, where the config
fetches them, the published step 0, Mixed model and merges are written where `huggingface_hub` looks for them with
HF_HUB_OFFLINE=1 (`<cache>/{datasets,models}--<org>--<name>/refs/<revision>` naming a
snapshot), in the formats the hub serves: MultiBLiMP TSV, Belebele and m_hellaswag JSONL,
HellaSwag's Parquet with integer labels, X-CSR's Parquet conversion (choices as a struct of
lists), flores_plus Parquet, HPLT 2.0 text shards and HPLT's checkpoints, each under the name
its repository's recorded listing gives (`manifests`; the configured pattern's only for a
language no listing shows). The text
is the tiny study's generated languages, so the paper's DAG runs end to end on a CPU
(`config/paper-smoke.yaml`, `make smoke`) through the same fetch code as on LUMI.

HPLT's experts really started from the Megatron step 0 that `init_model` rebuilds; the
fixture's experts do too: each is that step 0 moved along its own seeded direction, further
at later steps, so `verify_init` and the merges see what they would see upstream.

    python -m mergelimits.synthetic.hub_cache --configfile config/paper.yaml config/paper-smoke.yaml \
        --cache .fixture-hub/paper-smoke
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import torch
import yaml
from snakemake.utils import update_config
from transformers import GPT2Config, GPT2LMHeadModel

from .. import benchfiles, benchmarks, languages, merge, model, modelid, tokenizer
from ..hub import resolve, resolve_corpus, resolve_tokenizer
from ..megatron.init import build_step0
from ..study import steps_of
from . import manifests, writers

#: items per language and benchmark: enough for 5-shot prompts and a few scored items
SIZES = {"multiblimp": 20, "belebele": 12, "hellaswag": 12, "xcsqa": 12, "flores_dev": 6, "flores_devtest": 12}
CORPUS_SHARDS, DOCS_PER_SHARD, SENTENCES_PER_DOC = 3, 80, 4
#: the size of an expert's move from step 0 at its last step, relative to the init's weights
EXPERT_SHIFT = 0.5


def load_config(paths: list[str | Path]) -> dict:
    """Config files merged as `snakemake --configfile a b` merges them."""
    config: dict = {}
    for path in paths:
        update_config(config, yaml.safe_load(Path(path).read_text()))
    return config


def commit_of(repo: str, revision: str) -> str:
    """The snapshot a branch resolves to: a stable fake commit hash."""
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        return revision
    return hashlib.sha1(f"{repo}@{revision}".encode()).hexdigest()


def snapshot(cache: Path, repo: str, revision: str, repo_type: str = "dataset") -> Path:
    """The (new or existing) snapshot folder that `revision` of `repo` resolves to."""
    base = Path(cache) / f"{'datasets' if repo_type == 'dataset' else 'models'}--{repo.replace('/', '--')}"
    commit = commit_of(repo, revision)
    if commit != revision:
        ref = base / "refs" / revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(commit)
    snap = base / "snapshots" / commit
    snap.mkdir(parents=True, exist_ok=True)
    return snap


def _concrete(pattern: str) -> str:
    """A file name the hub could serve for a glob pattern (`data/validation-*.parquet`)."""
    return pattern.replace("*", "00000-of-00001")


def _served_name(repo: str, code: str, pattern: str) -> str:
    """The name a benchmark file has upstream: the recorded listing's file of that language
    (the one the pattern matches, else the first, so that a wrong pattern finds nothing here
    as it would on the hub); the pattern's own name only where the listing does not show the
    language (tests/test_hub_manifests.py names those)."""
    recorded = manifests.recorded_files(repo, code)
    if not recorded:
        return _concrete(pattern)
    return next((f for f in recorded if fnmatch.fnmatch(f, pattern)), recorded[0])


def _write_raw(bench: str, rows: list[dict], path: Path) -> None:
    """One benchmark file as the hub serves it, the format chosen by its extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".tsv":
        benchfiles.write_tsv(rows, path)
    elif path.suffix == ".jsonl":
        benchfiles.write_jsonl(rows, path)
    elif path.suffix == ".parquet":
        frame = benchmarks.get(bench).to_hub(pd.DataFrame(rows))  # e.g. X-CSR's struct of lists
        frame.to_parquet(path)
    else:
        raise ValueError(f"{path}: no fixture writer for {path.suffix}")


def publish_benchmarks(config: dict, cache: Path) -> list[str]:
    codes, seed = config["languages"], config["seeds"]["data"]
    rows = writers.benchmark_rows(codes, seed, SIZES)
    served = []
    for bench in config["benchmarks"]:
        for lang, files in rows[bench].items():
            source = resolve(config["data"]["hub"][bench], bench, lang)
            snap = snapshot(cache, source.repo, source.revision, source.repo_type)
            code = languages.get(lang).source_code(bench)
            for name, pattern in source.files.items():
                _write_raw(bench, files[name], snap / _served_name(source.repo, code, pattern))
            served.append(f"{bench}/{lang}")
    return served


def publish_corpus(config: dict, cache: Path) -> None:
    """HPLT 2.0 cleaned: Parquet shards of documents with a text column, per language."""
    for lang in config["languages"]:
        source = resolve_corpus(config["data"]["hub"]["corpus"], lang)
        snap = snapshot(cache, source.repo, source.revision)
        # the file names HPLT's `main` holds (the recorded listing), never the configured
        # pattern: a pattern that matches nothing upstream then matches nothing here either
        code = languages.get(lang).source_code("hplt_text")
        for shard, name in enumerate(manifests.corpus_shards(code, CORPUS_SHARDS)):
            docs = writers.corpus_docs(lang, config["seeds"]["data"] + shard, DOCS_PER_SHARD, SENTENCES_PER_DOC)
            path = snap / name
            path.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame({"id": [f"{lang}-{shard}-{i}" for i in range(len(docs))], "text": docs,
                          "lang": [code] * len(docs)}).to_parquet(path)


def publish_tokenizer(config: dict, cache: Path, work: Path) -> Path:
    """A small tokenizer trained on the languages' text, under the paper tokenizer's name and
    file names (Gemma-3's `tokenizer.json` and `tokenizer_config.json`)."""
    corpus = work / "tokenizer-corpus.jsonl"
    benchfiles.write_jsonl([{"text": t} for lang in config["languages"]
                            for t in writers.corpus_docs(lang, config["seeds"]["data"], 60, SENTENCES_PER_DOC)], corpus)
    tok_dir = tokenizer.train([corpus], 400, work / "tokenizer")
    source = resolve_tokenizer(config["data"]["hub"]["tokenizer"])
    snap = snapshot(cache, source.repo, source.revision, source.repo_type)
    for name, pattern in source.files.items():
        shutil.copyfile(tok_dir / name, snap / pattern)
    return tok_dir


def _direction(state: dict, seed: int):
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(v.shape, generator=g) * v.float().std().clamp_min(1e-3) * EXPERT_SHIFT
            for k, v in state.items()}


def _save(state: dict, init_dir: Path, *targets: tuple[Path, bool]) -> None:
    """A Llama checkpoint with the init's config and tokenizer, saved to each (directory,
    as_hplt) of `targets`: one safetensors file, or as HPLT's repositories hold theirs (the
    recorded listing: one `pytorch_model.bin`, no safetensors)."""
    m = model.load_model(init_dir)
    m.load_state_dict(state)
    tok = tokenizer.load(init_dir)
    for out_dir, as_hplt in targets:
        if as_hplt:
            m.config.save_pretrained(out_dir)
            (weights,) = manifests.checkpoint_weights()
            torch.save(m.state_dict(), Path(out_dir) / weights)
        else:
            m.save_pretrained(out_dir)
        tok.save_pretrained(out_dir)


def _copy(src: Path, cache: Path, repo: str, revision: str) -> None:
    snap = snapshot(cache, repo, revision, "model")
    for f in src.iterdir():
        if f.is_file():
            shutil.copyfile(f, snap / f.name)


def publish_checkpoints(config: dict, cache: Path, tok_dir: Path, work: Path) -> list[str]:
    """Every checkpoint the config fetches, made from the study's own step 0 (built here as
    `init_model` builds it): HPLT's monolingual branches, and where the config takes them
    from the hub, the published step 0, Mixed model and merges (the authors' repositories)."""
    pre = config["pretrain"]
    init_dir = work / "init"
    # a published step 0 is, as the authors', a Megatron run's: the one init_model rebuilds
    if pre.get("init", "torch") in ("megatron", "hub"):
        build_step0(pre["arch"], tok_dir, config["seeds"]["init"], init_dir)
    else:
        model.make_init(pre["arch"], tok_dir, config["seeds"]["init"], init_dir)
    init = {k: v.clone() for k, v in model.load_model(init_dir).state_dict().items()}
    checkpoints = tuple(pre["checkpoints"])
    final = max(checkpoints)
    steps = sorted(set(checkpoints) | {pre.get("verify_init", {}).get("step", checkpoints[0])})
    served, experts, directions = [], {}, {}
    for lang in config["languages"]:
        directions[lang] = _direction(init, writers.grammar._stable_seed(config["seeds"]["data"], "hplt", lang))
        repo = pre["hplt"]["repo"].format(code=languages.get(lang).source_code("hplt"))
        for step in steps:
            state = {k: init[k] + directions[lang][k] * (step / final) for k in init}
            experts[lang, step] = work / "experts" / lang / str(step)  # one file, for the merges below
            _save(state, init_dir, (experts[lang, step], False),
                  (snapshot(cache, repo, pre["hplt"]["revision"].format(step=step), "model"), True))
            served.append(f"{repo}@{step}")
    if pre.get("init") == "hub":
        _copy(init_dir, cache, pre["init_hub"]["repo"], pre["init_hub"]["revision"])
        served.append(f"{pre['init_hub']['repo']}@{pre['init_hub']['revision']} (step 0)")
    if pre.get("mixed") == "hub":
        src = pre["mixed_hub"]
        for step in checkpoints:
            state = {k: init[k] + sum(d[k] for d in directions.values()) / len(directions) * (step / final)
                     for k in init}
            _save(state, init_dir, (snapshot(cache, src["repo"], src["revision"].format(step=step), "model"), False))
            served.append(f"{src['repo']}@{step} ({modelid.mixed(len(directions))})")
    pub = config["merge"].get("published")
    for step in steps_of(pub["steps"], checkpoints) if pub else ():
        # the authors' merge: mergekit over the same experts, as merge_evaluate runs it
        out = work / "merged" / str(step)
        merge.run(pub["method"], [experts[lang, step] for lang in config["languages"]], out, base=init_dir,
                  density=config["merge"]["density"], seed=config["seeds"]["merge"], dtype=config["merge"]["dtype"])
        _copy(out, cache, pub["repo"], pub["revision"].format(step=step))
        served.append(f"{pub['repo']}@{step}")
    return served


def publish_baseline(cache: Path, repo: str, revision: str = "main", with_tokenizer: bool = True,
                     seed: int = 5) -> None:
    """A tiny GPT-2 with a tokenizer of its own: a baseline of another architecture."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        benchfiles.write_jsonl([{"text": t} for c in ("deu", "eng", "fra") for t in writers.corpus_docs(c, seed, 20, 4)],
                               corpus)
        tok = tokenizer.load(tokenizer.train([corpus], 320, Path(tmp) / "tok"))
    snap = snapshot(cache, repo, revision, "model")
    torch.manual_seed(seed)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=256, n_embd=16, n_layer=1, n_head=2,
                               bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)).save_pretrained(snap)
    if with_tokenizer:
        tok.save_pretrained(snap)


def build(config: dict, cache: Path) -> dict:
    """Serve every hub source of `config` from `cache`; returns what was served."""
    if config["data"].get("source") != "hub":
        raise ValueError("data.source is not 'hub': this config fetches nothing")
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        served = {"benchmarks": publish_benchmarks(config, cache)}
        publish_corpus(config, cache)
        tok_dir = publish_tokenizer(config, cache, work)
        if config["pretrain"].get("monolingual") == "hplt":
            served["checkpoints"] = publish_checkpoints(config, cache, tok_dir, work)
    for entry in config.get("baselines", []):
        publish_baseline(cache, entry["repo"], entry["revision"])
    served["baselines"] = [b["repo"] for b in config.get("baselines", [])]
    return served


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", nargs="+", required=True, help="config files, merged as Snakemake merges them")
    ap.add_argument("--cache", required=True, type=Path, help="the hub cache to write (HF_HUB_CACHE)")
    args = ap.parse_args(argv)
    served = build(load_config(args.configfile), args.cache)
    print(json.dumps(served, indent=1))


if __name__ == "__main__":
    main()
