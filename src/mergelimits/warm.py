"""Import the heavy libraries once, under a lock, before jobs that share a process use them.

With `force-use-threads` (profiles/local) the `run:` jobs (merges, evaluations,
activations, FLORES pairs) run as threads of one Snakemake process, and the Snakefile
itself imports nothing heavy. Two threads importing the same library at once can see it
half-initialised: torch while scipy probes for it (`partially initialized module 'torch'
has no attribute 'Tensor'`), transformers' lazily resolved classes (`transformers has no
attribute AutoConfig`). So every `run:` job imports what it needs here first, and only
that: on Slurm each job is its own process and pays for what it imports.
"""

from __future__ import annotations

import importlib
import threading

_LOCK = threading.RLock()
_MODELS = _LM_EVAL = False
_IMPORTED: set[str] = set()

# transformers builds every model on the meta device through process-wide state (torch's
# default device, patched init functions): a thread building a model while another does
# can be left with meta tensors ("Cannot copy out of meta tensor", seen with an activation
# job beside an evaluation). One model build at a time in a process.
MODEL_BUILD = threading.RLock()


def imports(*modules: str) -> None:
    """Import `modules`, one thread at a time, once per process."""
    with _LOCK:
        for name in modules:
            if name not in _IMPORTED:
                importlib.import_module(name)
                _IMPORTED.add(name)


def models() -> None:
    """torch and transformers, its lazily resolved classes resolved: what loading a model needs."""
    global _MODELS
    with _LOCK:
        if _MODELS:
            return
        imports("numpy", "pandas", "torch")
        import transformers

        for name in ("AutoConfig", "AutoModelForCausalLM", "AutoTokenizer", "LlamaForCausalLM",
                     "PreTrainedTokenizerFast"):
            getattr(transformers, name)
        _MODELS = True


def lm_eval() -> None:
    """What an evaluation imports (on top of `models`)."""
    global _LM_EVAL
    with _LOCK:
        if _LM_EVAL:
            return
        models()
        imports("scipy.stats", "lm_eval.evaluator", "lm_eval.models.huggingface")
        import lm_eval.evaluator

        # lm-eval describes the environment in every result (torch's collect_env: `pip
        # list`, lscpu, ... in subprocesses, 1-3 s a call). The study keeps only the
        # per-item samples and pins its environment in pyproject.toml, so skip it.
        lm_eval.evaluator.add_env_info = lambda storage: None
        _LM_EVAL = True


def mergekit() -> None:
    """What a merge imports (on top of `models`); mergekit alone takes seconds."""
    with _LOCK:
        models()
        imports("mergekit.merge")
