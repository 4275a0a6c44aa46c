# The data stage's input functions and paths (data.smk's rules use them;
# functions live apart from rules, as `snakemake --lint` asks).


def benchmark_paths(benches=STUDY.benchmarks, langs=STUDY.languages):
    """Every local benchmark file of `benches` × the languages each covers."""
    return [
        f"<results>/data/benchmarks/{bench}/lang~{lang}/{name}"
        for bench in benches
        for lang in langtable.available(bench, list(langs))
        for name in bench_files(bench)
    ]


def corpus_paths(corpora=STUDY.corpora):
    return [f"<results>/data/corpus/{corpus}/train.jsonl" for corpus in corpora]
