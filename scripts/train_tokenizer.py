"""Snakemake adapter: the shared byte-level BPE tokenizer (tiny study)."""

from pathlib import Path

from mergelimits import runlog, tokenizer

log = runlog.from_snakemake(snakemake)  # noqa: F821 - injected by Snakemake
out_dir = Path(snakemake.output[0]).parent  # noqa: F821
tokenizer.train(list(snakemake.input), snakemake.params.vocab_size, out_dir)  # noqa: F821
tok = tokenizer.load(out_dir)
log.info("vocabulary %d, bos=%s eos=%s pad=%s", len(tok), tok.bos_token, tok.eos_token, tok.pad_token)
