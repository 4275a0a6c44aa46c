# The pretrain torch stage's input functions and paths (pretrain_torch.smk's rules use them;
# functions live apart from rules, as `snakemake --lint` asks).


def branch_state(step, model=STUDY.mixed):
    """Mixed's whole training state at a branch step, kept beside its checkpoint."""
    return f"<results>/models/{model}/step~{step}/train_state.pt"
