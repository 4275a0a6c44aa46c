"""Tiny pre-training speed: tokens/s of the CPU trainer and the time of one full run.

    .venv/bin/python perf/bench_pretrain.py [--config config/config.yaml] [--lang deu]

Trains one monolingual model of the configured tiny study from a fresh init, in a
temporary directory, with the config's recipe, and prints the figures.
"""

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from mergelimits import benchfiles, model, tokenizer, train
from mergelimits.synthetic import writers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--lang", default="deu")
    args = ap.parse_args()
    cfg = yaml.safe_load(Path(args.config).read_text())
    pre, gen = cfg["pretrain"], cfg["data"]["generated"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        docs = writers.corpus_docs(args.lang, cfg["seeds"]["data"], gen["pretrain_docs"], gen["sentences_per_doc"])
        benchfiles.write_jsonl([{"text": d} for d in docs], corpus)
        tok = tokenizer.train([corpus], cfg["data"]["tokenizer"]["vocab_size"], tmp / "tok")
        model.make_init(pre["arch"], tok, cfg["seeds"]["init"], tmp / "init")
        tc = train.TrainConfig(steps=pre["steps"], batch_size=pre["batch_size"], seq_len=pre["arch"]["seq_len"],
                               lr=pre["lr"], seed=cfg["seeds"]["train"], checkpoints=tuple(pre["checkpoints"]),
                               threads=pre.get("threads", 1), log_every=10**9)
        t0 = time.perf_counter()
        train.train(tmp / "init", corpus, tc, {s: tmp / f"step~{s}" for s in tc.checkpoints}, tmp / "state")
        dt = time.perf_counter() - t0
    tokens = tc.steps * tc.batch_size * tc.seq_len
    n_models = len(cfg["languages"]) + 1
    print(f"one tiny model ({args.lang}): {tc.steps} steps, {tokens} tokens in {dt:.1f} s "
          f"= {tokens / dt:.0f} tokens/s with {tc.threads} thread(s)")
    print(f"the study's {n_models} models: about {n_models * dt:.0f} s of one core "
          f"({n_models * dt / 2:.0f} s on two cores, two jobs at a time)")


if __name__ == "__main__":
    main()
