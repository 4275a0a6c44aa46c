"""Linear merge of ten models with mergekit, against reading the same files once.

    .venv/bin/python perf/bench_merge.py [--hidden 512] [--layers 8] [--vocab 8192]

Writes ten random Llama checkpoints (default ≈ 60 MB each, 600 MB in all) to a temporary
directory, times `cat <weights> > /dev/null` and the mergekit linear merge in the same run
(both from the page cache, best of three), and prints the ratio. Goal: ≤ 1.3.
"""

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import torch


def make_models(root: Path, n: int, hidden: int, layers: int, vocab: int) -> list[Path]:
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=4 * hidden, num_hidden_layers=layers,
                      num_attention_heads=8, num_key_value_heads=8, tie_word_embeddings=True)
    out = []
    for i in range(n):
        torch.manual_seed(i)
        LlamaForCausalLM(cfg).save_pretrained(root / f"m{i}")
        out.append(root / f"m{i}")
    return out


def best_of(k, fn):
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    from mergelimits import merge

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        models = make_models(tmp, 10, args.hidden, args.layers, args.vocab)
        files = [str(m / "model.safetensors") for m in models]
        size = sum(Path(f).stat().st_size for f in files)
        t_cat = best_of(3, lambda: subprocess.run(f"cat {' '.join(files)} > /dev/null", shell=True, check=True))
        opts = {"lazy_unpickle": True, "num_threads": args.threads, "out_shard_size": 10**12}
        merge.run("linear", models, tmp / "warm", options=opts)  # imports and first-touch costs
        t_merge = best_of(3, lambda: merge.run("linear", models, tmp / "out", options=opts))
    print(f"ten models, {size / 1e6:.0f} MB: cat {t_cat:.2f} s, mergekit linear merge {t_merge:.2f} s, "
          f"ratio {t_merge / t_cat:.2f} (options: {opts})")


if __name__ == "__main__":
    main()
