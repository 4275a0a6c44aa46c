"""Import the heavy libraries once, under a lock, before jobs that share a process use them.

With `force-use-threads` (profiles/local) merge and evaluation jobs run as threads of
one Snakemake process. transformers resolves its classes lazily on first access, and two
threads racing through that (one inside mergekit, one inside lm-eval) can see a
half-initialised module (`transformers has no attribute AutoConfig`).
"""

from __future__ import annotations

import threading

_LOCK = threading.Lock()
_DONE = False

# transformers builds every model on the meta device through process-wide state (torch's
# default device, patched init functions): a thread building a model while another does
# can be left with meta tensors ("Cannot copy out of meta tensor", seen with an activation
# job beside an evaluation). One model build at a time in a process.
MODEL_BUILD = threading.RLock()


def heavy_imports() -> None:
    global _DONE
    with _LOCK:
        if _DONE:
            return
        import transformers

        for name in ("AutoConfig", "AutoModelForCausalLM", "AutoTokenizer", "LlamaForCausalLM",
                     "PreTrainedTokenizerFast"):
            getattr(transformers, name)
        import lm_eval.evaluator
        import lm_eval.models.huggingface  # noqa: F401

        # lm-eval describes the environment in every result (torch's collect_env: `pip
        # list`, lscpu, ... in subprocesses, 1-3 s a call). The study keeps only the
        # per-item samples and pins its environment in pyproject.toml, so skip it.
        lm_eval.evaluator.add_env_info = lambda storage: None
        import mergekit.merge  # noqa: F401

        _DONE = True
