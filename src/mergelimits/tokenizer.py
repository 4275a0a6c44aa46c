"""The shared tokenizer: a byte-level BPE trained on all languages (tiny study).

The paper config fetches the Gemma-3 tokenizer instead (see `hub.py`); either way the
result is a directory that `AutoTokenizer.from_pretrained` loads, with BOS, EOS and PAD,
which lm-eval needs to score a sentence with no context as log P(sentence | BOS).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

BOS, EOS, PAD = "<s>", "</s>", "<pad>"


def _texts(paths: list[str | Path]) -> Iterator[str]:
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)["text"]


def train(corpora: list[str | Path], vocab_size: int, out_dir: str | Path) -> Path:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Round-robin over languages so that no language dominates the merges by file order.
    tok.train_from_iterator(_interleave([_texts([p]) for p in corpora]), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD)
    out_dir = Path(out_dir)
    fast.save_pretrained(out_dir)
    return out_dir


def _interleave(iterators: list[Iterator[str]]) -> Iterator[str]:
    live = list(iterators)
    while live:
        for it in list(live):
            try:
                yield next(it)
            except StopIteration:
                live.remove(it)


def load(path: str | Path):
    path = Path(path)
    if not (path / "tokenizer_config.json").exists():
        raise FileNotFoundError(f"no tokenizer in {path} (tokenizer_config.json missing)")
    tok = AutoTokenizer.from_pretrained(path)
    if tok.bos_token_id is None and tok.eos_token_id is None:
        raise ValueError(f"{path}: the tokenizer has neither a BOS nor an EOS token")
    return tok
