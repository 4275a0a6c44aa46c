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


class job:
    """Send the `mergelimits` loggers to one job's log file, for rules with `run:` blocks.

    Such jobs may share a process (threads), so this adds and removes a handler rather
    than reconfiguring logging; a failure's traceback is written to the log too.
    """

    def __init__(self, log_path: str, name: str):
        self.handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.log = logging.getLogger("mergelimits")
        self.name = name

    def __enter__(self) -> logging.Logger:
        self.log.setLevel(logging.INFO)
        self.log.addHandler(self.handler)
        return logging.getLogger(f"mergelimits.{self.name}")

    def __exit__(self, kind, value, tb):
        if value is not None:
            logging.getLogger(f"mergelimits.{self.name}").error("failed", exc_info=(kind, value, tb))
        self.log.removeHandler(self.handler)
        self.handler.close()
        return False
