# The merge stage's input functions and paths (merge.smk's rules use them;
# functions live apart from rules, as `snakemake --lint` asks).


def merge_members(model, step):
    """The checkpoints a merged model merges (its branch family's experts) and its base."""
    base, base_step = STUDY.merge_base(model)
    members = [checkpoint_path(m, step) for m in STUDY.member_models(model)]
    return members, INIT if base == "init" else checkpoint_path(base, base_step)


def merge_inputs(models):
    """A merge_evaluate job's inputs: per merged model (model, step) i, its members
    (members_i) and base (base_i); the task YAMLs of them all; with published experts, the
    check that the init is theirs (no merge before it)."""
    out = {}
    for i, (model, step) in enumerate(models):
        out[f"members_{i}"], out[f"base_{i}"] = merge_members(model, step)
    out["tasks"] = sorted(
        {task_yaml(b, lang) for m, s in models for b, lang in plan_tasks(m, s)}
    )
    if not STUDY.train_monolingual:
        out["verified"] = "<results>/models/init/verify_init.tsv"
    return out


def merge_outputs(models):
    """A merge_evaluate job's outputs, per merged model i: its config, merge record, scores
    and samples, and its weights where merge.keep_weights keeps them (otherwise the job
    deletes them once evaluated). `models` may hold wildcards ("{model}", "{step}")."""
    out = {}
    for i, (model, step) in enumerate(models):
        d = f"<results>/models/{model}/step~{step}"
        if config["merge"]["keep_weights"]:
            out[f"weights_{i}"] = checkpoint_path(model, step)
        out[f"config_{i}"] = f"{d}/config.json"
        out[f"record_{i}"] = merge_record(model, step)
        out[f"scores_{i}"] = f"<results>/eval/{model}/step~{step}/scores.tsv"
        out[f"samples_{i}"] = f"<results>/eval/{model}/step~{step}/samples.jsonl"
    return out


def merge_params(models):
    """Per merged model: id, step, method and lm-eval task names (merge_evaluate.py)."""
    return [
        {
            "model": m,
            "step": int(s),
            "method": modelid.parse(m).method,
            "tasks": [task_name(b, lang) for b, lang in plan_tasks(m, s)],
        }
        for m, s in models
    ]


def merge_record(model, step):
    return f"<results>/models/{model}/step~{step}/merge.json"
