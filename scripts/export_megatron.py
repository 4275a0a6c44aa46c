"""Snakemake adapter: a Megatron dist checkpoint as a Hugging Face Llama checkpoint."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

import json
from pathlib import Path

from mergelimits import joblog
from mergelimits.megatron import convert
from mergelimits.model import load_model

log = joblog.from_snakemake(snakemake)
run = json.loads(Path(snakemake.input.run).read_text())
vocab = load_model(run["init"]).config.vocab_size
out_dir = Path(snakemake.output[0]).parent
convert.export_dist_checkpoint(Path(snakemake.input.ckpt).parent, run["arch"], vocab, run["tokenizer"], out_dir)
log.info("exported %s to %s", snakemake.input.ckpt, out_dir)
