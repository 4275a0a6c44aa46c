# The pretrain torch stage's input functions and paths (pretrain_torch.smk's rules use them;
# functions live apart from rules, as `snakemake --lint` asks).


def branch_state(step, model=STUDY.mixed):
    """Mixed's whole training state at a branch step, kept beside its checkpoint."""
    return f"<results>/models/{model}/step~{step}/train_state.pt"


def torch_train_inputs(models, corpora, branch=None):
    """A training job's inputs: the shared init, each model's corpus (corpus_i) and, for a
    family branched from Mixed at `branch`, the Mixed state its experts continue."""
    out = {"init": INIT}
    out.update(
        {
            f"corpus_{i}": f"<results>/data/corpus/{c}/train.jsonl"
            for i, c in enumerate(corpora)
        }
    )
    if branch is not None:
        out["branch_from"] = branch_state(branch)
    return out


def torch_train_outputs(models, branch=None, keep_state=False):
    """Per model i: its checkpoints (checkpoints_i: a branched expert's final one only) and,
    for Mixed, its kept training states (states_i)."""
    steps = list(STUDY.steps) if branch is None else [STUDY.final]
    out = {}
    for i, model in enumerate(models):
        out[f"checkpoints_{i}"] = [checkpoint_path(model, step) for step in steps]
        if keep_state:
            out[f"states_{i}"] = [branch_state(step, model) for step in STUDY.steps]
    return out


def torch_train_params(models, branch=None, keep_state=False):
    """Per model: id, the steps it saves and keeps the state of, its resumable state's folder."""
    steps = list(STUDY.steps) if branch is None else [STUDY.final]
    return lambda wc: [
        {
            "model": model.format(**wc),
            "checkpoints": steps,
            "keep_state": list(STUDY.steps) if keep_state else [],
            "state": f"{RESULTS}/pretrain_state/{model.format(**wc)}",
        }
        for model in models
    ]
