"""Pre-training text in Megatron's indexed format, and the GPT datasets read from it.

`build_indexed` tokenises a JSONL corpus (one `{"text": ...}` per line, the layout the
data stage writes for every language) with the study's tokenizer, one document per item
and EOS as Megatron's end-of-document token. Mixed10 is a *blend* of the ten languages'
indexed files with equal weights, so Megatron draws an equal share of tokens from each.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy
import torch
from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder

from ..tokenizer import load as load_tokenizer


class HFTokenizer:
    """Megatron's tokenizer interface over a Hugging Face tokenizer (what GPTDataset reads)."""

    def __init__(self, tokenizer_dir):
        self.hf = load_tokenizer(tokenizer_dir)
        # Megatron hashes these into its dataset cache names.
        self.unique_identifiers = {"class": type(self).__name__, "tokenizer_path": [str(tokenizer_dir)]}

    def tokenize(self, text: str) -> list[int]:
        return self.hf(text, add_special_tokens=False)["input_ids"]

    @property
    def eod(self) -> int:
        return self.hf.eos_token_id

    @property
    def pad(self) -> int:
        return self.hf.pad_token_id if self.hf.pad_token_id is not None else self.hf.eos_token_id

    @property
    def bos(self) -> int:
        return self.hf.bos_token_id

    @property
    def vocab_size(self) -> int:
        return len(self.hf)

    @property
    def vocab(self):
        return self.hf.get_vocab()

    @property
    def inv_vocab(self):
        return {v: k for k, v in self.hf.get_vocab().items()}

    def detokenize(self, ids) -> str:
        return self.hf.decode(ids)


def build_indexed(corpus: str | Path, tokenizer_dir: str | Path, out_prefix: str | Path,
                  batch: int = 1000) -> dict:
    """Write `<out_prefix>.bin` and `.idx`; return document and token counts.

    Each document is BOS, its tokens, EOD: the stream the torch engine trains on
    (`train.token_blocks`) and what Megatron-LM's `preprocess_data.py --append-eod` writes
    with the Gemma tokenizer, whose `tokenize` adds BOS itself. Evaluation prepends BOS the
    same way (the tokenizer's own), so every model of the study reads text as it was trained.
    """
    tok = HFTokenizer(tokenizer_dir)
    bos = [tok.bos] if tok.bos is not None else []
    # int32 holds Gemma-3's 262k vocabulary; uint16 would suffice for the tiny one but one
    # dtype keeps the files of both configurations alike.
    out_prefix = Path(out_prefix)
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    builder = IndexedDatasetBuilder(f"{out_prefix}.bin", dtype=numpy.int32)
    docs = tokens = 0

    def flush(texts):
        nonlocal docs, tokens
        for ids in tok.hf(texts, add_special_tokens=False)["input_ids"]:
            ids = bos + ids + [tok.eod]
            builder.add_item(torch.tensor(ids, dtype=torch.int64))
            builder.end_document()
            docs += 1
            tokens += len(ids)

    pending = []
    with open(corpus, encoding="utf-8") as fh:
        for line in fh:
            pending.append(json.loads(line)["text"])
            if len(pending) == batch:
                flush(pending)
                pending = []
    if pending:
        flush(pending)
    if docs == 0:
        raise ValueError(f"{corpus}: no documents")
    builder.finalize(f"{out_prefix}.idx")
    return {"documents": docs, "tokens": tokens}


def check_budget(corpus: str | Path, tokens: int, budget: int, max_epochs: float) -> float:
    """The epochs of this corpus that training will read; ValueError when that exceeds
    `pretrain.megatron.max_epochs` (Megatron would repeat the data without a word)."""
    epochs = budget / tokens
    if epochs > max_epochs:
        raise ValueError(
            f"{corpus}: {tokens:,} tokens, but training reads {budget:,} from it ({epochs:.2f} epochs, more than "
            f"pretrain.megatron.max_epochs = {max_epochs}); fetch more text (data.hub.corpus.max_files) or "
            "train fewer steps (pretrain.steps)")
    return epochs


def gpt_train_dataset(prefixes: list[str], weights: list[float] | None, seq_len: int, seed: int,
                      num_samples: int, tokenizer_dir, cache_dir: str | Path | None = None):
    """Megatron's GPT training dataset over a blend of indexed files."""
    cfg = GPTDatasetConfig(
        random_seed=seed,
        sequence_length=seq_len,
        blend=(list(map(str, prefixes)), weights),
        split="100,0,0",
        tokenizer=HFTokenizer(tokenizer_dir),
        reset_position_ids=False,
        reset_attention_mask=False,
        eod_mask_loss=False,
        create_attention_mask=False,  # the loop builds one causal mask; an s×s mask per sample is waste
        path_to_cache=str(cache_dir) if cache_dir else None,
    )
    train, _, _ = BlendedMegatronDatasetBuilder(GPTDataset, [num_samples, 0, 0], lambda: True, cfg).build()
    return train
