"""Snakemake adapter: a Megatron dist checkpoint as a Hugging Face Llama checkpoint."""

import json
from pathlib import Path

from mergelimits import runlog
from mergelimits.megatron import convert
from mergelimits.model import load_model

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
run = json.loads(Path(snakemake.input.run).read_text())  # noqa: F821
vocab = load_model(run["init"]).config.vocab_size
out_dir = Path(snakemake.output[0]).parent  # noqa: F821
convert.export_dist_checkpoint(Path(snakemake.input.ckpt).parent, run["arch"], vocab, run["tokenizer"], out_dir)  # noqa: F821
log.info("exported %s to %s", snakemake.input.ckpt, out_dir)  # noqa: F821
