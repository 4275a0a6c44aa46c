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


def eval_task_names(wildcards):
    return [
        task_name(b, lang) for b, lang in plan_tasks(wildcards.model, wildcards.step)
    ]


def eval_task_yamls(wildcards):
    return [
        task_yaml(b, lang) for b, lang in plan_tasks(wildcards.model, wildcards.step)
    ]
