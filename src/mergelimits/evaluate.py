"""Evaluation with lm-eval: one harness call per model on the project's task YAMLs, and
per-item scores (`scores`: the one store every table, CI and figure reads).

lm-eval lacks several of the paper's tasks (X-CSQA, general FLORES-200, tr/zh HellaSwag,
cloze Belebele), so `src/mergelimits/benchmarks/<bench>.yaml` holds one template per benchmark;
`tasks.render_tasks` fills in each language's local files. Per item we keep lm-eval's
log-likelihoods and generations and compute ourselves: accuracy, character-normalised
accuracy, token-normalised accuracy (log-likelihood / number of continuation tokens under
the model's tokenizer: the paper's metric) and sentence chrF++ (sacrebleu).
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from datasets import config as datasets_config
from lm_eval.evaluator import evaluate
from lm_eval.models.huggingface import HFLM
from lm_eval.models.utils import _add_special_kwargs, has_bos_prefix, resolve_max_length
from lm_eval.tasks import TaskManager
from sacrebleu.metrics import CHRF
from transformers import AutoConfig

from . import benchmarks, cost, languages
from .model import device, load_model
from .scores import SCORE_COLUMNS, write_scores
from .tokenizer import load as load_tokenizer

log = logging.getLogger(__name__)


def check_model_dir(model_dir: str | Path) -> None:
    model_dir = Path(model_dir)
    for name in ("config.json", "model.safetensors"):
        if not (model_dir / name).exists():
            raise FileNotFoundError(f"{model_dir}: {name} missing")
    if not (model_dir / "tokenizer_config.json").exists():
        raise FileNotFoundError(f"{model_dir} has no tokenizer (tokenizer_config.json missing)")


# The task files are local: `datasets` would otherwise report each load of them to the hub
# (a HEAD request a task, datasets/load.py `increase_load_count`) unless HF_HUB_OFFLINE is set.
datasets_config.HF_UPDATE_DOWNLOAD_COUNTS = False

#: the dtype a model is evaluated in: bf16 on a GPU, as the authors' vLLM runs (docs/fidelity.md);
#: fp32 on a CPU, where bf16 matmuls are slow and the tiny study's numbers are fp32's
EVAL_DTYPE = {"cuda": "bfloat16", "cpu": "float32"}


def harness_settings(model_dir: str | Path, batch_size: int, dev: str) -> tuple[str, int, int | None]:
    """(dtype, batch size, max_length) for one model on `dev`. The input is capped at
    cost.EVAL_MAX_TOKENS (None: the model's own context is shorter, lm-eval's default
    stands); on a GPU the batch is cut to what the memory estimate says fits the device
    for the longest input (cost.eval_batch)."""
    hf_cfg = AutoConfig.from_pretrained(model_dir)
    model_max = resolve_max_length(hf_cfg)  # as HFLM resolves it
    seq = cost.eval_seq(model_max)
    max_length = seq if seq < model_max else None
    dtype = EVAL_DTYPE[dev]
    if dev != "cuda":
        return dtype, batch_size, max_length
    model_cfg = hf_cfg.to_dict()
    model_cfg = model_cfg.get("text_config", model_cfg)
    fits = cost.eval_batch(model_cfg, seq, batch_size, torch.cuda.get_device_properties(0).total_memory, 2)
    if not fits:
        raise RuntimeError(f"{model_dir}: one sequence of {seq} tokens does not fit the device by the memory "
                           "estimate (mergelimits.cost.eval_peak_bytes)")
    if fits < batch_size:
        log.info("batch %d → %d: the longest input's logits would not fit the device (cost.eval_batch)",
                 batch_size, fits)
    return dtype, fits, max_length


class HFModel(HFLM):
    """lm-eval's HF model, its log-likelihood requests tokenized ahead in batches and its
    `max_length` resolved once.

    lm-eval encodes each request's context and context-with-continuation one call at a time
    (TemplateLM.loglikelihood, `_encode_pair`), the options of an item repeating their
    context: 5 s of an all-language evaluation's 22 here. This encodes every distinct text
    once, in one batch call of the fast tokenizer per set of arguments, before lm-eval asks
    for them; `tok_encode` then returns what the tokenizer gave, the same ids (the settings
    are lm-eval's own, HFLM.tok_encode). tests/test_evaluate.py compares the ids with HFLM's,
    and a whole evaluation with lm-eval's `simple_evaluate` on HFLM."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._ahead: dict[tuple[str, bool | None], list[int]] = {}

    def _tok_kwargs(self, text: str, add_special_tokens: bool | None, bos_text: str) -> dict:
        kwargs = _add_special_kwargs(add_special_tokens, self.add_bos_token)
        if add_special_tokens is None and has_bos_prefix(text, bos_text):
            kwargs["add_special_tokens"] = False
        return kwargs

    def encode_ahead(self, pairs: list[tuple[str, str]]) -> None:
        """Tokenize what lm-eval will ask for these (context, continuation) pairs: an empty
        context's continuation without special tokens, else the context and the whole text
        split as `_encode_pair` splits them."""
        bos_text = self.tokenizer.decode(self.prefix_token_id)
        wanted = set()
        for context, continuation in pairs:
            if context:
                wanted.update((t, None) for t in TokenCounter._split(context, continuation))
            else:
                wanted.add((continuation, False))
        groups: dict[tuple, list[tuple[str, bool | None]]] = {}
        for text, special in wanted:
            groups.setdefault(tuple(self._tok_kwargs(text, special, bos_text).items()), []).append((text, special))
        for kwargs, keys in groups.items():
            ids = self.tokenizer([t for t, _ in keys], **dict(kwargs))["input_ids"]
            self._ahead.update(zip(keys, ids))

    @property
    def max_length(self) -> int:
        """HFLM's, resolved once: HFLM resolves it from the config again for every request
        (1 s of an all-language evaluation)."""
        if not self._max_length:
            self._max_length = super().max_length
        return self._max_length

    def loglikelihood(self, requests, **kwargs):
        self.encode_ahead([req.args for req in requests])
        try:
            return super().loglikelihood(requests, **kwargs)
        finally:
            self._ahead.clear()

    def tok_encode(self, string: str, add_special_tokens: bool | None = None, left_truncate_len: int | None = None,
                   **kwargs) -> list[int]:
        ids = None if left_truncate_len or kwargs else self._ahead.get((string, add_special_tokens))
        if ids is None:
            return super().tok_encode(string, add_special_tokens, left_truncate_len, **kwargs)
        return list(ids)


#: lm-eval's model backends the config may name (`evaluate.backend`)
BACKENDS = ("hf", "vllm")


def vllm_model(model_dir: str | Path, batch_size: int, seed: int, max_length: int | None):
    """lm-eval's vLLM backend (`evaluate.backend: vllm`), as the authors scored with vLLM; only
    where the environment has vLLM (a GPU image): otherwise one line naming the key."""
    try:
        from lm_eval.models.vllm_causallms import VLLM
    except ImportError as err:
        raise RuntimeError(f"evaluate.backend is vllm, but vLLM cannot be imported here ({err}): use the image "
                           "that has it, or evaluate.backend: hf") from None
    kwargs = {"max_model_len": max_length} if max_length else {}
    return VLLM(pretrained=str(model_dir), dtype="bfloat16", batch_size=batch_size, seed=seed,
                gpu_memory_utilization=cost.DEVICE_HEADROOM, **kwargs)


def run_harness(model_dir: str | Path, tasks: list[str], tasks_dir: str | Path, batch_size: int, seed: int,
                backend: str = "hf") -> dict:
    """One lm-eval call for all tasks of one model (the model is loaded once).

    lm-eval's `evaluate` with the seeding and few-shot defaults of its `simple_evaluate`
    (lm_eval/evaluator.py), without what `simple_evaluate` adds around it: a description of
    the environment (`pip list`, lscpu: 1-3 s a call) and git hashes. The study pins its
    environment in pyproject.toml and keeps only the per-item samples.
    """
    check_model_dir(model_dir)
    rendered = {p.stem for p in Path(tasks_dir).glob("*.yaml")}
    unknown = sorted(set(tasks) - rendered)
    if unknown:
        raise KeyError(f"no task YAML in {tasks_dir} for: {', '.join(unknown)}")
    log.info("harness call: %s, %d tasks", model_dir, len(tasks))  # perf/bench_evaluate.py counts these
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if backend not in BACKENDS:
        raise ValueError(f"evaluate.backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    dev = device()
    dtype, batch_size, max_length = harness_settings(model_dir, batch_size, dev)
    if backend == "vllm":  # vLLM batches by its own memory accounting (gpu_memory_utilization)
        lm = vllm_model(model_dir, batch_size, seed, max_length)
    else:
        lm = HFModel(pretrained=str(model_dir), dtype=dtype, device=dev, batch_size=batch_size, max_length=max_length)
    loaded = TaskManager(include_path=str(tasks_dir), include_defaults=False).load(tasks)
    for task in loaded["tasks"].values():
        task.set_fewshot_seed(seed=seed)
    return evaluate(lm=lm, task_dict=loaded, log_samples=True, bootstrap_iters=0)


class TokenCounter:
    """Continuation length in tokens, split exactly as lm-eval's HF model splits it."""
    def __init__(self, tokenizer):
        self.tok = tokenizer

    @staticmethod
    def _split(context: str, continuation: str) -> tuple[str, str]:
        """(context, whole) as lm-eval encodes them: the context's trailing spaces go with the
        continuation; `whole` is the context and continuation together."""
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces:
            continuation, context = context[-n_spaces:] + continuation, context[:-n_spaces]
        return context, context + continuation

    def __call__(self, context: str, continuation: str) -> int:
        return self.counts([(context, continuation)])[0]

    def counts(self, pairs: list[tuple[str, str]]) -> list[int]:
        """Each (context, continuation)'s continuation length, the tokenizer called once on
        every distinct text (an item's options share its context): one call a text cost a
        tenth of a large evaluation."""
        split = [self._split(ctx, cont) for ctx, cont in pairs]
        texts = list(dict.fromkeys(t for ctx, whole in split for t in (ctx, whole) if t))
        ids = dict(zip(texts, self.tok(texts, add_special_tokens=False)["input_ids"])) if texts else {}
        return [len(ids[whole]) - (len(ids[ctx]) if ctx else 0) for ctx, whole in split]


def _chrf():
    return CHRF(word_order=2)  # chrF++


def item_scores(samples: dict[str, list[dict]], tokenizer, model: str, step: int) -> pd.DataFrame:
    """Per-item scores from lm-eval's logged samples (task name -> samples)."""
    count = TokenCounter(tokenizer)
    chrf = _chrf()
    # every option's token count at once, in the order the loop below reads them
    names = {task: task.split("_", 2)[1:] for task in samples}  # ml_<bench>_<lang>: names are letters only
    lengths = iter(count.counts([(a[0], a[1]) for task, items in samples.items()
                                 if benchmarks.base(names[task][0]).kind != "generation"
                                 for s in items for a in s["arguments"]]))
    rows = []
    for task, items in samples.items():
        bench, lang = names[task]
        for s in items:
            # the item's index in its file (mergelimits.prompts keeps it when items are selected)
            row = {"model": model, "step": step, "benchmark": bench, "lang": lang, "item": s["doc"]["item"]}
            if benchmarks.base(bench).kind == "generation":
                hyp = s["filtered_resps"][0] if isinstance(s["filtered_resps"], list) else s["filtered_resps"]
                ref = s["target"]
                row.update(chrf=chrf.sentence_score(hyp, [ref]).score, source=s["doc"]["source"], hypothesis=hyp,
                           reference=ref)
            else:
                lls = np.array([float(r[0]) for r in s["filtered_resps"]])
                gold = int(s["target"])
                chars = np.array([len(a[1]) for a in s["arguments"]])
                toks = np.array([next(lengths) for _ in s["arguments"]])
                row.update(acc=float(np.argmax(lls) == gold),
                           acc_norm_char=float(np.argmax(lls / chars) == gold),
                           acc_norm_token=float(np.argmax(lls / toks) == gold))
            rows.append(row)
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def evaluate_model(model_dir: str | Path, model: str, step: int, tasks: list[str], tasks_dir: str | Path,
                   batch_size: int, seed: int, samples_out: str | Path | None = None,
                   backend: str = "hf") -> pd.DataFrame:
    result = run_harness(model_dir, tasks, tasks_dir, batch_size, seed, backend)
    samples = result["samples"]
    missing = sorted(set(tasks) - set(samples))
    if missing:
        raise RuntimeError(f"lm-eval returned no samples for {', '.join(missing)}")
    if samples_out:
        with open(samples_out, "w", encoding="utf-8") as fh:
            for task, items in samples.items():
                for s in items:
                    fh.write(json.dumps({"task": task, **s}, default=str, ensure_ascii=False) + "\n")
    return item_scores(samples, load_tokenizer(model_dir), model, step)


def evaluate_to_files(model_dir: str | Path, model: str, step: int, tasks: list[str], tasks_dir: str | Path,
                      batch_size: int, seed: int, scores_out: str | Path, samples_out: str | Path,
                      backend: str = "hf") -> pd.DataFrame:
    """The evaluation of one checkpoint: per-item scores (TSV) and lm-eval's samples (JSONL)."""
    df = evaluate_model(model_dir, model, step, tasks, tasks_dir, batch_size, seed, samples_out, backend)
    counts = df.groupby(["benchmark", "lang"]).size()
    log.info("%s step %s: %d items in %d benchmark × language cells", model, step, len(df), len(counts))
    write_scores(df, scores_out)
    return df


#: Table 7's prompt, the authors' (flores.py `make_prompt`), with the languages' English names
TRANSLATE_PROMPT = "Translate the following sentence from {source} to {target}.\n{source}: {text}\n{target}:"


def translate_examples(model_dir: str | Path, source: str, texts: list[dict], targets: dict[str, list[dict]],
                       n: int, num_beams: int, max_new_tokens: int) -> pd.DataFrame:
    """Table 7 decoded for itself, as the authors' flores.py: the first `n` FLORES devtest
    sentences of `source` (rows with id and text, in file order) translated into each target
    (its rows, joined by id for the reference) after the authors' instruction prompt, by
    beam search without sampling; only the new tokens, special tokens dropped, stripped. No
    stop at a newline, as theirs. One row per target and sentence."""
    dev = device()
    tok = load_tokenizer(model_dir)
    model = load_model(model_dir, dtype=getattr(torch, EVAL_DTYPE[dev])).to(dev).eval()
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    rows = []
    for lang, tgt_rows in targets.items():
        refs = {r["id"]: r["text"] for r in tgt_rows}
        for item, r in enumerate(texts[:n]):
            prompt = TRANSLATE_PROMPT.format(source=languages.get(source).name, target=languages.get(lang).name,
                                             text=r["text"])
            ids = tok(prompt, return_tensors="pt").to(dev)
            with torch.no_grad():
                out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, num_beams=num_beams,
                                     pad_token_id=pad)
            hyp = tok.decode(out[0][ids["input_ids"].shape[-1]:], skip_special_tokens=True).strip()
            rows.append({"source_lang": source, "target_lang": lang, "item": item, "id": r["id"], "source": r["text"],
                         "reference": refs[r["id"]], "hypothesis": hyp, "prompt": prompt})
    return pd.DataFrame(rows)
