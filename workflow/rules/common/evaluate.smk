# The evaluate stage's input functions and paths (evaluate.smk's rules use them;
# functions live apart from rules, as `snakemake --lint` asks).


def task_files(bench, lang):
    """An evaluation task's local data files: {split: path} (a control: its benchmark's)."""
    bench, _ = benchmarks.split_variant(bench)
    # FLORES's tasks read the translation pairs flores_pairs builds
    if bench == "flores":
        return {
            s: f"{RESULTS}/eval/flores_pairs/lang~{lang}/{s}.jsonl"
            for s in ("dev", "devtest")
        }
    (name,) = bench_files(bench)
    split = benchmarks.get(bench).split
    return {split: f"{RESULTS}/data/benchmarks/{bench}/lang~{lang}/{name}"}


def checkpoint_inputs(members):
    """An evaluate_model job's inputs: each (model, step) i's checkpoint (weights_i), and
    the task YAMLs of them all. `members` may hold the wildcards "{model}", "{step}"."""
    out = {
        f"weights_{i}": checkpoint_path(model, step)
        for i, (model, step) in enumerate(members)
    }
    out["tasks"] = lambda wc: sorted(
        {
            task_yaml(b, lang)
            for m, s in members
            for b, lang in plan_tasks(m.format(**wc), str(s).format(**wc))
        }
    )
    return out


def checkpoint_outputs(members):
    out = {}
    for i, (model, step) in enumerate(members):
        out[f"scores_{i}"] = f"<results>/eval/{model}/step~{step}/scores.tsv"
        out[f"samples_{i}"] = f"<results>/eval/{model}/step~{step}/samples.jsonl"
    return out


def checkpoint_params(members):
    """Per (model, step): id, step and lm-eval task names (evaluate_model.py)."""
    return lambda wc: [
        {
            "model": m.format(**wc),
            "step": int(str(s).format(**wc)),
            "tasks": [
                task_name(b, lang)
                for b, lang in plan_tasks(m.format(**wc), str(s).format(**wc))
            ],
        }
        for m, s in members
    ]


def expert_inputs(models):
    """An expert-evaluation job's inputs, per expert i at the final step: its checkpoint
    (weights_i) and own-language FLORES devtest (own_i); English FLORES and the task YAMLs
    of them all. `models` may hold the wildcard "{model}"."""
    out = {"eng": "<results>/data/benchmarks/flores/lang~eng/devtest.jsonl"}
    for i, model in enumerate(models):
        out[f"weights_{i}"] = checkpoint_path(model, STUDY.final)
        out[f"own_{i}"] = (
            lambda wc, m=model: f"<results>/data/benchmarks/flores/lang~{modelid.mono_lang(m.format(**wc))}/devtest.jsonl"
        )
    out["tasks"] = checkpoint_inputs([(m, STUDY.final) for m in models])["tasks"]
    return out


def expert_outputs(models):
    """Per expert i: its scores and samples, and its activations on English and own-language
    FLORES (CKA's input)."""
    out = {}
    for i, model in enumerate(models):
        step = f"step~{STUDY.final}"
        out[f"scores_{i}"] = f"<results>/eval/{model}/{step}/scores.tsv"
        out[f"samples_{i}"] = f"<results>/eval/{model}/{step}/samples.jsonl"
        out[f"eng_{i}"] = f"<results>/analysis/activations/{model}/{step}/eng.npy"
        out[f"own_{i}"] = f"<results>/analysis/activations/{model}/{step}/own.npy"
    return out


def expert_params(models):
    """Per expert: id, step and lm-eval task names (evaluate_expert.py), as an
    evaluate_model job's at the final step."""
    return checkpoint_params([(m, STUDY.final) for m in models])


# Table 7 decoded for itself (evaluate.flores_examples.decoding): label -> model, Mixed and
# Merged-N (the authors' flores.py); empty when Table 7 shows the evaluation's outputs.
TRANSLATED = (
    dict(STUDY.translation_rows)
    if "flores" in STUDY.benchmarks
    and "decoding" in config["evaluate"]["flores_examples"]
    else {}
)


def translation_path(model):
    return f"<results>/eval/{model}/step~{STUDY.final}/examples.jsonl"


def translation_inputs(wildcards):
    """The FLORES devtest files of English and each target; the checkpoint, or for a merged
    model (its weights are not kept) its members and base, merged again in the job."""
    flores = "<results>/data/benchmarks/flores/lang~{}/devtest.jsonl"
    out = {"source": flores.format("eng")}
    out.update(
        {
            f"target_{t}": flores.format(t)
            for t in config["evaluate"]["flores_examples"]["targets"]
        }
    )
    if modelid.parse(wildcards.model).method:
        out["members"], out["base"] = merge_members(wildcards.model, wildcards.step)
    else:
        out["weights"] = checkpoint_path(wildcards.model, wildcards.step)
    return out
