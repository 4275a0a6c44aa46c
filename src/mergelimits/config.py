"""Validation of the study configuration, before any job runs.

The JSON Schema (src/mergelimits/resources/config.schema.yaml, linked from workflow/schemas/) checks structure and ranges; the
checks here need the language table (unknown codes, pairs). Every message starts with the
key it is about, e.g. ``merge.pairs[2]: 'deu+deu' names one language twice``.
"""

from __future__ import annotations

import copy
from importlib.resources import files
from pathlib import Path

import jsonschema
import yaml

from . import benchmarks, languages, registry
from .benchmarks.flores import source as flores_source
from .megatron.memory import data_parallel_size
from .prompts import layouts
from .study import merged_all_grid

#: package data (importlib.resources): a non-editable install finds it too; workflow/schemas/ links to it
SCHEMA = files("mergelimits") / "resources" / "config.schema.yaml"


class ConfigError(ValueError):
    """An invalid configuration; the message names every offending key."""


def _key(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_schema() -> dict:
    """The JSON Schema, its merge-method enum taken from the registry (the file's copy is
    documentation; tests/test_registry.py checks that the two agree) and its per-benchmark
    keys from the benchmarks' (the file leaves them out)."""
    schema = yaml.safe_load(SCHEMA.read_text())
    props = schema["properties"]
    props["merge"]["$defs"]["methods"]["items"]["enum"] = list(registry.MERGE_METHODS)
    entries = benchmarks.BENCHMARKS.values()
    # generated items: one count per multiple-choice benchmark (FLORES's sizes are its splits')
    items = props["data"]["properties"]["generated"]["properties"]["items"]
    choice = [b.name for b in entries if b.kind == "choice"]
    items.update(required=choice, properties={b: {"$ref": "#/$defs/posint"} for b in choice})
    props["data"]["properties"]["hub"]["properties"].update({b.name: {"$ref": "#/$defs/hub_source"} for b in entries})
    shots = props["evaluate"]["properties"]["num_fewshot"]
    # a benchmark without a context (MultiBLiMP's lone sentences) takes no examples
    shots.update(required=[b.name for b in entries],
                 properties={b.name: {"type": "integer", "minimum": 0} if b.context else {"const": 0} for b in entries})
    # per benchmark: every one named, each a cap or null (all items)
    cap = {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/posint"}]}
    props["evaluate"]["properties"]["max_items"]["oneOf"][2].update(
        required=[b.name for b in entries], properties={b.name: cap for b in entries})
    return schema


def schema_errors(cfg: dict) -> list[str]:
    schema = load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = []
    for err in sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path))):
        if err.context:  # oneOf/anyOf: report the branch that came closest, at its own key
            # inside the branch of the right type: deeper errors, or the object's own keys
            deeper = [e for e in err.context if e.relative_path] or [e for e in err.context if e.validator != "type"]
            err = jsonschema.exceptions.best_match(deeper or err.context)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            errors += [f"{_key([*err.absolute_path, name])}: unknown key" for name in extra]
        elif err.validator == "required":
            missing = [r for r in err.validator_value if r not in err.instance]
            errors += [f"{_key([*err.absolute_path, name])}: required key missing" for name in missing]
        else:
            errors.append(f"{_key(err.absolute_path)}: {err.message}")
    return errors


def _duplicates(items: list[str], key: str) -> list[str]:
    seen, errors = set(), []
    for i, item in enumerate(items):
        if item in seen:
            errors.append(f"{key}[{i}]: {item!r} listed twice")
        seen.add(item)
    return errors


def _languages(cfg: dict) -> list[str]:
    known = languages.table()
    errors = [f"languages[{i}]: unknown language {code!r}; known: {', '.join(known)}"
              for i, code in enumerate(cfg["languages"]) if code not in known]
    errors += _duplicates(cfg["languages"], "languages")
    if "flores" in cfg["benchmarks"]:
        for lang in cfg["languages"]:
            src = flores_source(lang)
            if lang in known and src not in cfg["languages"]:
                errors.append(f"languages: FLORES translates {src}→{lang}, so {src!r} must be configured too "
                              f"(or drop 'flores' from benchmarks)")
    return errors


def _benchmarks(cfg: dict) -> list[str]:
    benches = cfg["benchmarks"]
    errors = [f"benchmarks[{i}]: unknown benchmark {bench!r}; known: {', '.join(benchmarks.BENCHMARKS)}"
              for i, bench in enumerate(benches) if bench not in benchmarks.BENCHMARKS]
    return errors + _duplicates(benches, "benchmarks")


def _evaluate(cfg: dict) -> list[str]:
    errors, langs, benches = [], cfg["languages"], cfg["benchmarks"]
    for bench, per_lang in cfg["evaluate"].get("layouts", {}).items():
        if bench not in benches:
            errors.append(f"evaluate.layouts.{bench}: not one of the configured benchmarks")
            continue
        for lang, layout in per_lang.items():
            if lang not in langs:
                errors.append(f"evaluate.layouts.{bench}.{lang}: not one of the configured languages")
            if layout not in layouts(bench):
                errors.append(f"evaluate.layouts.{bench}.{lang}: {layout!r} is not one of {bench}'s layouts "
                              f"({', '.join(layouts(bench))})")
    if "flores" in benches:
        ex, key = cfg["evaluate"]["flores_examples"], "evaluate.flores_examples"
        if "decoding" in ex:
            if "targets" not in ex:
                errors.append(f"{key}.targets: required with {key}.decoding (English is translated into each)")
            if "eng" not in langs:
                errors.append(f"{key}.decoding: translates from English, so 'eng' must be configured")
            errors += [f"{key}.targets[{i}]: {t!r} is not one of the configured languages"
                       for i, t in enumerate(ex.get("targets", [])) if t not in langs or t == "eng"]
        elif "lang" not in ex:
            errors.append(f"{key}.lang: required without {key}.decoding (the evaluation's outputs in it)")
        elif ex["lang"] not in langs:
            errors.append(f"{key}.lang: {ex['lang']!r} is not one of the configured languages")
    return errors


def _tables(cfg: dict) -> list[str]:
    errors = []
    t1 = cfg.get("tables", {}).get("table1_languages", "all")
    if isinstance(t1, dict):
        key = "tables.table1_languages.experts"
        for i, code in enumerate(t1["experts"]["leave_out"]):
            if code not in cfg["languages"]:
                errors.append(f"{key}.leave_out[{i}]: {code!r} is not one of the configured languages")
        for i, bench in enumerate(t1["experts"]["benchmarks"]):
            if bench not in cfg["benchmarks"]:
                errors.append(f"{key}.benchmarks[{i}]: {bench!r} is not one of the configured benchmarks")
    return errors


def _pairs(cfg: dict) -> list[str]:
    errors, langs, pairs = [], cfg["languages"], cfg["merge"]["pairs"]
    if isinstance(pairs, list):
        seen = {}
        for i, pair in enumerate(pairs):
            key = f"merge.pairs[{i}]"
            a, _, b = pair.partition("+")
            if a == b:
                errors.append(f"{key}: {pair!r} names one language twice")
            for code in (a, b):
                if code not in langs:
                    errors.append(f"{key}: {code!r} is not one of the configured languages")
            canon = tuple(sorted((a, b)))
            if canon in seen:
                errors.append(f"{key}: {pair!r} repeats merge.pairs[{seen[canon]}]")
            seen.setdefault(canon, i)
    n_pairs = len(pairs) if isinstance(pairs, list) else len(langs) * (len(langs) - 1) // 2
    if n_pairs < 3:  # analysis.correlations
        errors.append(f"merge.pairs: Table 8 correlates Δ with similarity over the bilingual pairs and needs at "
                      f"least three; {n_pairs} configured" + (" (three languages give three)" if pairs == "all" else ""))
    return errors


def _pretrain(cfg: dict) -> list[str]:
    errors, pre = [], cfg["pretrain"]
    steps = pre["checkpoints"]
    for i in range(1, len(steps)):
        if steps[i] <= steps[i - 1]:
            errors.append(f"pretrain.checkpoints[{i}]: {steps[i]} does not increase on {steps[i - 1]}")
    if steps and steps[-1] != pre["steps"]:
        errors.append(f"pretrain.checkpoints[{len(steps) - 1}]: the last checkpoint must be the final step "
                      f"pretrain.steps = {pre['steps']}")
    arch = pre["arch"]
    if arch["hidden"] % arch["heads"]:
        errors.append(f"pretrain.arch.heads: {arch['heads']} does not divide pretrain.arch.hidden {arch['hidden']}")
    if arch.get("kv_heads") and arch["heads"] % arch["kv_heads"]:
        errors.append(f"pretrain.arch.kv_heads: {arch['kv_heads']} does not divide pretrain.arch.heads {arch['heads']}")
    if pre["engine"] == "torch" and "batch_size" not in pre:
        errors.append("pretrain.batch_size: required when pretrain.engine is 'torch'")
    if pre["engine"] == "torch" and "lr" not in pre:
        errors.append("pretrain.lr: required when pretrain.engine is 'torch'")
    if pre["engine"] == "megatron":
        meg = pre.get("megatron")
        if meg is None:
            errors.append("pretrain.megatron: required when pretrain.engine is 'megatron'")
        else:
            ranks = data_parallel_size(meg)
            if ranks < 1 or meg["global_batch"] % (meg["micro_batch"] * ranks):
                errors.append(f"pretrain.megatron.global_batch: {meg['global_batch']} is not a multiple of "
                              f"micro_batch {meg['micro_batch']} × {ranks} data-parallel ranks")
        if cfg["data"]["source"] == "hub" and "corpus" not in cfg["data"].get("hub", {}):
            errors.append("data.hub.corpus: required to pre-train on fetched text (pretrain.engine: megatron)")
    if pre["monolingual"] == "hplt" and "hplt" not in pre:
        errors.append("pretrain.hplt: required when pretrain.monolingual is 'hplt'")
    if pre["monolingual"] == "hplt":
        check = pre.get("verify_init")
        if check is None:
            errors.append("pretrain.verify_init: required when pretrain.monolingual is 'hplt' (the published "
                          "checkpoint the shared initialisation is checked against)")
        else:
            if check["lang"] not in cfg["languages"]:
                errors.append(f"pretrain.verify_init.lang: {check['lang']!r} is not one of the configured languages")
            if check["step"] not in steps:
                errors.append(f"pretrain.verify_init.step: {check['step']} is not one of pretrain.checkpoints")
    if pre.get("init") == "hub" and "init_hub" not in pre:
        errors.append("pretrain.init_hub: required when pretrain.init is 'hub' (the repository and branch of the "
                      "published step 0)")
    if pre.get("mixed") == "hub" and "mixed_hub" not in pre:
        errors.append("pretrain.mixed_hub: required when pretrain.mixed is 'hub' (the repository of the published "
                      "Mixed checkpoints)")
    return errors


def _merge(cfg: dict) -> list[str]:
    """merge.all's grids, the branch families (pretrain.branch with merge.branch), the
    published merges and the successive order."""
    errors, langs, pre, merge = [], cfg["languages"], cfg["pretrain"], cfg["merge"]
    steps = pre["checkpoints"]
    merge_steps = merge["all"].get("steps", "all")
    per_method = merge_steps if isinstance(merge_steps, dict) else {None: merge_steps}
    for method, spec in per_method.items():
        key = "merge.all.steps" + (f".{method}" if method else "")
        # a grid for a method not merged now is kept for when it is; a name no method has is a typo
        if method and method not in registry.MERGE_METHODS:
            errors.append(f"{key}: {method!r} is not a merge method; known: {', '.join(registry.MERGE_METHODS)}")
        for i, step in enumerate(spec if isinstance(spec, list) else []):
            if step not in steps:
                errors.append(f"{key}[{i}]: {step} is not one of pretrain.checkpoints")
    branches = pre.get("branch", {}).get("steps", [])
    for i, step in enumerate(branches):
        key = f"pretrain.branch.steps[{i}]"
        if step not in steps:
            errors.append(f"{key}: {step} is not one of pretrain.checkpoints (an expert branches from a saved Mixed)")
        elif steps and step == steps[-1]:
            errors.append(f"{key}: {step} is the final step; an expert branched there would train for no steps")
    if branches and pre.get("mixed", "train") != "train":
        errors.append("pretrain.branch: experts branch from the state of a Mixed this workflow trains "
                      "(pretrain.mixed: train); a published Mixed has no optimiser state")
    if branches and "branch" not in merge:
        errors.append("merge.branch: required when pretrain.branch.steps is set (the merges of each branch family)")
    if not branches and "branch" in merge:
        errors.append("merge.branch: set, but pretrain.branch.steps names no branch step")
    bpairs = merge.get("branch", {}).get("pairs", [])
    for i, pair in enumerate(bpairs if isinstance(bpairs, list) else []):
        a, _, b = pair.partition("+")
        if a == b or a not in langs or b not in langs:
            errors.append(f"merge.branch.pairs[{i}]: {pair!r} is not a pair of two configured languages")
    if branches and steps and "branch" in merge:
        at_final = {m for m, s in merged_all_grid(merge_steps, merge["all"]["methods"], tuple(steps))
                    if s == steps[-1]}
        for i, method in enumerate(merge["branch"]["methods"]):
            if method not in at_final:
                errors.append(f"merge.branch.methods[{i}]: {method!r} is not merged at the final step for the "
                              "paper's experts (merge.all), Figure 4's branch step 0")
    if isinstance(bpairs, list) and 0 < len(bpairs) < 3:
        errors.append(f"merge.branch.pairs: a branch family's Table 8 needs at least three pairs; {len(bpairs)} "
                      "configured (or [] for none)")
    published = merge.get("published") or {}
    for i, step in enumerate(published.get("steps") if isinstance(published.get("steps"), list) else []):
        if step not in steps:
            errors.append(f"merge.published.steps[{i}]: {step} is not one of pretrain.checkpoints")
    order = merge["successive"].get("order", "seeded")
    if isinstance(order, list) and sorted(order) != sorted(langs):
        extra = sorted({c for c in order if c not in langs or order.count(c) > 1})
        errors.append(f"merge.successive.order: must list every configured language once; "
                      f"missing {sorted(set(langs) - set(order)) or 'none'}, not configured or repeated {extra or 'none'}")
    return errors


def _baselines(cfg: dict) -> list[str]:
    base = cfg.get("baselines", [])
    return (_duplicates([b["name"] for b in base], "baselines[].name")
            + _duplicates([b["label"] for b in base], "baselines[].label"))


def _data(cfg: dict) -> list[str]:
    errors, data = [], cfg["data"]
    if data["source"] == "generated" and "generated" not in data:
        errors.append("data.generated: required when data.source is 'generated'")
    if data["source"] == "hub":
        for bench in cfg["benchmarks"]:
            if bench in benchmarks.BENCHMARKS and bench not in data.get("hub", {}):
                errors.append(f"data.hub.{bench}: required when data.source is 'hub'")
    tok = data["tokenizer"]
    if tok["source"] == "train" and "vocab_size" not in tok:
        errors.append("data.tokenizer.vocab_size: required when data.tokenizer.source is 'train'")
    if tok["source"] == "hub" and "tokenizer" not in data.get("hub", {}):
        errors.append("data.hub.tokenizer: required when data.tokenizer.source is 'hub'")
    if tok["source"] == "train" and data["source"] != "generated":
        errors.append("data.tokenizer.source: 'train' needs generated corpora (data.source: generated)")
    return errors


#: the checks a JSON Schema cannot express, one per part of the config, in the order their
#: errors are reported
SEMANTIC_CHECKS = (_languages, _benchmarks, _evaluate, _tables, _pairs, _pretrain, _merge, _baselines, _data)


def semantic_errors(cfg: dict) -> list[str]:
    """The checks a JSON Schema cannot express. They run on a config the schema accepted
    (validate), so a key it requires is read as required: indexed, never defaulted."""
    return [error for check in SEMANTIC_CHECKS for error in check(cfg)]


def validate(cfg: dict) -> dict:
    """Return `cfg` unchanged if valid; raise ConfigError listing every problem otherwise."""
    errors = schema_errors(cfg)
    if not errors:  # the semantic checks assume the structure is right
        errors = semantic_errors(cfg)
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    return cfg


def fill_defaults(cfg: dict, schema: dict | None = None) -> dict:
    """`cfg` with the schema's `default` of every key it leaves out, in place, inside the
    objects it has (an optional block left out stays out): the one place a default is
    decided, so that the rules index keys instead of repeating `.get(key, default)`."""
    schema = load_schema() if schema is None else schema
    for key, sub in schema.get("properties", {}).items():
        if key not in cfg and "default" in sub:
            cfg[key] = copy.deepcopy(sub["default"])
        if isinstance(cfg.get(key), dict) and "properties" in sub:
            fill_defaults(cfg[key], sub)
    return cfg


def load(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return fill_defaults(validate(yaml.safe_load(fh)))
