"""What lm-eval reads: one task YAML per benchmark and language, written from the
benchmark's template (`src/mergelimits/benchmarks/<bench>.yaml`) and that language's local
files, and the FLORES translation pairs its tasks read.

Kept apart from the harness (`evaluate`) so that the jobs writing these files import
neither torch nor lm-eval.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from . import benchmarks, languages
from .benchfiles import load, write_jsonl
from .benchmarks import task_name
from .benchmarks.flores import source as flores_source

log = logging.getLogger(__name__)


def flores_pairs(src_rows: list[dict], tgt_rows: list[dict], src: str, tgt: str) -> list[dict]:
    tgt_by_id = {r["id"]: r["text"] for r in tgt_rows}
    missing = [r["id"] for r in src_rows if r["id"] not in tgt_by_id]
    if missing:
        raise ValueError(f"FLORES {src}→{tgt}: {len(missing)} source ids have no target (first: {missing[0]})")
    return [{"id": r["id"], "source": r["text"], "target": tgt_by_id[r["id"]],
             "source_name": languages.get(src).name, "target_name": languages.get(tgt).name} for r in src_rows]


def layout_of(settings: dict, bench: str, lang: str) -> str:
    """What one task reads: `evaluate.layouts`'s choice for the benchmark and language (the
    paper config: the leaderboard template for English HellaSwag), else `evaluate.prompts`."""
    return settings.get("layouts", {}).get(bench, {}).get(lang, settings["prompts"])


def max_items(settings: dict, bench: str) -> int | None:
    """`evaluate.max_items` for one benchmark: one cap for all, or the benchmark's own (None: every item)."""
    cap = settings.get("max_items")
    return cap.get(bench) if isinstance(cap, dict) else cap


PROCESSORS = "ml_prompts"  #: the module beside the task YAMLs that their `process_docs` name


def render_tasks(files: dict[tuple[str, str], dict[str, str]], out_dir: str | Path, settings: dict,
                 seed: int) -> list[Path]:
    """Write one lm-eval task YAML per (benchmark, language), and the module of their
    `process_docs` hooks (mergelimits.prompts: layout and item selection).

    files: (bench, lang) -> {split name: local data file}; each file must exist.
    settings: the config's `evaluate` block (prompts, num_fewshot, max_items, flores).
    seed: seeds.evaluate (the item selection; lm-eval's few-shot order takes it at run time).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hooks = ["# Written by mergelimits.tasks.render_tasks: each task's process_docs.",
             "from mergelimits.prompts import processor", ""]
    written = []
    for (name, lang), splits in sorted(files.items()):
        # a control ("xcsqa~blind") is its benchmark's template; prompts.process_docs applies it
        bench, control = benchmarks.split_variant(name)
        entry = benchmarks.get(bench)
        layout = layout_of(settings, bench, lang)
        template = entry.template
        for path in splits.values():
            if not Path(path).exists():
                raise FileNotFoundError(f"{task_name(name, lang)}: data file missing: {path}")
        task = yaml.safe_load(template.read_text())
        # As given: relative to the directory the workflow runs in (each job's working
        # directory), so the task files of two clones are byte-identical.
        data_files = {s: str(p) for s, p in splits.items()}
        if all(p.endswith(".tsv") for p in data_files.values()):
            # Never read a generated word such as "nan" or "null" as a missing value.
            task.update(dataset_path="csv", dataset_kwargs={"data_files": data_files, "delimiter": "\t",
                                                            "keep_default_na": False, "na_filter": False})
        else:
            task.update(dataset_path="json", dataset_kwargs={"data_files": data_files})
        task_id = task_name(name, lang)
        task["task"] = task_id
        task["num_fewshot"] = settings["num_fewshot"][bench]
        if entry.kind == "generation":  # evaluate.flores: the generation settings
            gen = task["generation_kwargs"]
            gen["max_gen_toks"] = settings["flores"]["max_gen_toks"]
            sampling = settings["flores"].get("sampling")
            if sampling:  # the authors' decoding: sampled, seeded by lm-eval's torch seed
                gen.update(do_sample=True, **sampling)
        # cloze: the template's " " before every option, Chinese's included, as the authors'
        # lighteval runs (multichoice_continuations_start_space=True, Sethjsa/multimerge evaluate.py)
        if control == "blind" and layout == "bare":
            task["target_delimiter"] = ""  # nothing before the option: scored as a text of its own
        hook = task_id.replace(benchmarks.VARIANT_SEP, "__")  # a Python name: "ml_xcsqa__blind_deu"
        cap = max_items(settings, bench)
        hooks.append(f"{hook} = processor({name!r}, {lang!r}, {layout!r}, {cap!r}, {seed!r})")
        path = out_dir / f"{task_id}.yaml"
        # The !function tag is lm-eval's own YAML extension: a path beside this file.
        path.write_text(yaml.safe_dump(task, sort_keys=False, allow_unicode=True)
                        + f"process_docs: !function {PROCESSORS}.{hook}\n")
        written.append(path)
    (out_dir / f"{PROCESSORS}.py").write_text("\n".join(hooks) + "\n")
    return written


def write_flores_pairs(source: str | Path, target: str | Path, out: str | Path, lang: str) -> int:
    """Source and target sentences of one language's FLORES direction, as one JSONL file."""
    src = flores_source(lang)
    rows = flores_pairs(load("flores", source).to_dict("records"), load("flores", target).to_dict("records"),
                        src, lang)
    write_jsonl(rows, out)
    log.info("%s→%s: %d pairs", src, lang, len(rows))
    return len(rows)
