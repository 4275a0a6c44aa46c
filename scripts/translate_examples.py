"""Snakemake adapter: Table 7's translations by one model (evaluate.translate_examples); a
merged model, whose weights its merge_evaluate job deleted, is merged again here (the same
inputs, seed and device kind: the same weights) into a temporary directory."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

import tempfile
from pathlib import Path

from mergelimits import benchfiles, evaluate, joblog, merge
from mergelimits.model import device

log = joblog.from_snakemake(snakemake)
inp, p = snakemake.input, snakemake.params
ex = p.examples


def rows(path):
    return benchfiles.load("flores", path).to_dict("records")


targets = {t: rows(inp[f"target_{t}"]) for t in ex["targets"]}


def translate(model_dir):
    return evaluate.translate_examples(model_dir, "eng", rows(inp.source), targets, ex["n"],
                                       ex["decoding"]["num_beams"], ex["decoding"]["max_new_tokens"])


if p.method:
    with tempfile.TemporaryDirectory() as tmp:
        merge.run(p.method, [Path(m).parent for m in inp.members], Path(tmp) / "merged", base=Path(inp.base).parent,
                  density=p.density, seed=p.merge_seed, dtype=p.dtype, options={"device": device()})
        df = translate(Path(tmp) / "merged")
else:
    df = translate(Path(inp.weights).parent)
benchfiles.write_jsonl(df.to_dict("records"), snakemake.output[0])
log.info("%s: %d sentences into %s", snakemake.wildcards.model, ex["n"], ", ".join(ex["targets"]))
