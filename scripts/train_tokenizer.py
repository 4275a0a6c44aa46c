"""Snakemake adapter: the shared byte-level BPE tokenizer (tiny study)."""

import gc

gc.disable()  # until joblog.from_snakemake: the imports run without the cyclic collector

from pathlib import Path

from mergelimits import joblog, tokenizer

log = joblog.from_snakemake(snakemake)
out_dir = Path(snakemake.output[0]).parent
tokenizer.train(list(snakemake.input), snakemake.params.vocab_size, out_dir)
tok = tokenizer.load(out_dir)
log.info("vocabulary %d, bos=%s eos=%s pad=%s", len(tok), tok.bos_token, tok.eos_token, tok.pad_token)
