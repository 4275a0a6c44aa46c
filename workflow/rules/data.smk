# Data stage: benchmark files in the real datasets' schemas, pre-training corpora, the
# shared tokenizer. The tiny study generates them; the paper config fetches them.


GENERATED = config["data"]["source"] == "generated"


rule data:
    input:
        benchmark_paths(),
        TOKENIZER,
        corpus_paths() if GENERATED else [],


if GENERATED:

    rule generate_corpora:
        output:
            corpora=corpus_paths(),
            record="<results>/data/corpus/generated.json",
        log:
            "<logs>/data/generate_corpora.log",
        benchmark:
            "<benchmarks>/data/generate_corpora.tsv"
        conda:
            "../../envs/mergelimits.yaml"
        params:
            languages=STUDY.languages,
            benchmarks=STUDY.benchmarks,
            seed=config["seeds"]["data"],
            sizes=config["data"]["generated"],
            # corpus id -> its languages, in the order of output.corpora
            corpora={c: STUDY.corpus_languages(c) for c in STUDY.corpora},
        script:
            "../../scripts/generate_corpora.py"

    rule generate_benchmarks:
        output:
            files=benchmark_paths(),
            record="<results>/data/benchmarks/generated.json",
        log:
            "<logs>/data/generate_benchmarks.log",
        benchmark:
            "<benchmarks>/data/generate_benchmarks.tsv"
        conda:
            "../../envs/mergelimits.yaml"
        params:
            languages=STUDY.languages,
            benchmarks=STUDY.benchmarks,
            seed=config["seeds"]["data"],
            sizes=config["data"]["generated"],
            # Snakemake tracks the script, not the generator it calls: a new item design
            # bumps this and regenerates the items (and reruns what reads them).
            design=ITEM_DESIGN,
        script:
            "../../scripts/generate_benchmarks.py"

    rule train_tokenizer:
        input:
            corpus_paths(STUDY.mono),
        output:
            TOKENIZER,
            "<results>/data/tokenizer/tokenizer.json",
        log:
            "<logs>/data/train_tokenizer.log",
        benchmark:
            "<benchmarks>/data/train_tokenizer.tsv"
        conda:
            "../../envs/mergelimits.yaml"
        params:
            vocab_size=config["data"]["tokenizer"]["vocab_size"],
        script:
            "../../scripts/train_tokenizer.py"

else:

    localrules:
        fetch_benchmark,
        fetch_tokenizer,
        fetch_corpus,

    rule fetch_corpus:
        output:
            corpus=f"<results>/data/corpus/{modelid.mono('{lang}')}/train.jsonl",
            record=f"<results>/data/corpus/{modelid.mono('{lang}')}/source.json",
        log:
            f"<logs>/data/fetch_corpus/{modelid.mono('{lang}')}.log",
        retries: 3
        conda:
            "../../envs/mergelimits.yaml"
        params:
            source=config["data"]["hub"].get("corpus"),
        script:
            "../../scripts/fetch_corpus.py"

    rule fetch_benchmark:
        output:
            data="<results>/data/benchmarks/{bench}/lang~{lang}/{split}.{ext}",
            record="<results>/data/benchmarks/{bench}/lang~{lang}/{split}.{ext}.source.json",
        log:
            "<logs>/data/fetch_benchmark/{bench}/lang~{lang}/{split}.{ext}.log",
        retries: 3
        conda:
            "../../envs/mergelimits.yaml"
        params:
            source=lambda wc: config["data"]["hub"][wc.bench],
        script:
            "../../scripts/fetch_benchmark.py"

    rule fetch_tokenizer:
        output:
            TOKENIZER,
            "<results>/data/tokenizer/tokenizer.json",
            record="<results>/data/tokenizer/source.json",
        log:
            "<logs>/data/fetch_tokenizer.log",
        retries: 3
        conda:
            "../../envs/mergelimits.yaml"
        params:
            source=config["data"]["hub"].get("tokenizer"),
        script:
            "../../scripts/fetch_tokenizer.py"
