"""What every job script does first: log to its rule's `log:` file, check its device, and
keep the garbage collector off its imports.

Each job is its own process (a `script:` rule), so this configures logging for the whole
process and sends a failure's traceback to the log as well as to stderr.
"""

from __future__ import annotations

import gc
import logging
import os
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class NoDeviceError(RuntimeError):
    """A job whose rule asks for a GPU found none: it stops rather than run on the CPU."""


def setup(log_path: str | None = None, name: str = "mergelimits") -> logging.Logger:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True, format=FORMAT)
    return logging.getLogger(name)


def check_gpu(rule: str, gpus: int, available: int | None = None) -> None:
    """Fail at once when a rule asks for `gpus` and the job sees fewer.

    On LUMI a GPU job that lands without its GCD (a wrong bind, a missing --gpus) would
    otherwise run a 2B-parameter model on 7 CPU cores for hours.
    """
    if gpus < 1:
        return
    if available is None:
        import torch  # every job imports this module; only a GPU job pays for torch

        available = torch.cuda.device_count()
    if available < gpus:
        visible = ", ".join(f"{v}={os.environ[v]}" for v in ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES",
                                                           "HIP_VISIBLE_DEVICES") if v in os.environ)
        raise NoDeviceError(f"{rule}: the rule asks for gpu={gpus} but this job sees {available} GPU(s) "
                            f"(torch.cuda.device_count(); {visible or 'no *_VISIBLE_DEVICES set'})")


def freeze_imports() -> None:
    """Move every object alive now, what the job's script imported, out of the garbage
    collector's reach, and turn the collector on.

    A model-loading job's imports (torch, transformers, lm-eval, datasets) leave about 440,000
    objects that live as long as the process. While they are made, each full collection walks
    all made so far; at the interpreter's shutdown it runs several more (0.5 s of a 4.1 s empty
    job, perf/README.md, session 16). So every script turns the collector off before its first
    import (`gc.disable()`, which saved 0.6-1.4 s of a model-loading job's 3.5-5 s of imports,
    session 21), and this freezes what they made (`gc.freeze`, made for long-lived objects): it
    is never traversed, during the job or at its exit. What the job creates afterwards is
    collected as usual.
    """
    gc.freeze()
    gc.enable()


def job_threads(threads: int, cpus_per_task=None) -> int:
    """The cores a job was given: its rule's `threads`, or on Slurm its `cpus_per_task`
    where a profile sets more (LUMI's GPU jobs hold 7 cores of their GCD)."""
    return max(1, int(threads or 1), int(cpus_per_task or 0))


def limit_threads(n: int) -> None:
    """Keep torch's intra-op pool to the job's `n` cores, when the job imported torch.

    torch's default is one thread per core the process may run on. Slurm binds a job to its
    cores; a local run binds nothing, and Snakemake schedules a `script:` job by its rule's
    `threads` but sets no OMP_NUM_THREADS for it: two evaluation jobs on a 2-core laptop ran
    four busy threads, and a training job beside one ran 10% slower
    (perf/README.md, session 20). A job that sets its own (pretrain's `threads`) still does.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


def from_snakemake(smk) -> logging.Logger:
    """Logging to the job's log file, a traceback hook, the GPU check of its rule, torch's
    threads to the job's cores (`limit_threads`), and the imports frozen (`freeze_imports`)."""
    log = setup(smk.log[0] if smk.log else None, f"mergelimits.{smk.rule}")

    # Snakemake does not send a script's stderr to its log: put the traceback there too.
    def hook(kind, value, tb):
        if kind is NoDeviceError:  # one line, not a traceback
            log.error("%s", value)
            return
        log.error("failed", exc_info=(kind, value, tb))

    sys.excepthook = hook
    check_gpu(smk.rule, int(smk.resources.get("gpu", 0) or 0))
    limit_threads(job_threads(smk.threads, smk.resources.get("cpus_per_task")))
    freeze_imports()
    return log
