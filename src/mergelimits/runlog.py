"""Logging for the thin scripts: everything a job says goes to its rule's `log:` file."""

from __future__ import annotations

import logging
import sys


def setup(log_path: str | None = None, name: str = "mergelimits") -> logging.Logger:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return logging.getLogger(name)


def from_snakemake(smk) -> logging.Logger:
    log = setup(smk.log[0] if smk.log else None, f"mergelimits.{smk.rule}")

    # Snakemake does not send a script's stderr to its log: put the traceback there too.
    def hook(kind, value, tb):
        log.error("failed", exc_info=(kind, value, tb))

    sys.excepthook = hook
    return log
