"""Fetching the paper config's benchmarks and tokenizer from the Hugging Face hub.

`fetch` is a thin wrapper over `huggingface_hub.snapshot_download` (the real client, with
its cache and resume); `prepare_*` turn the files of a snapshot into the project's local
files (each benchmark's `files` and `columns`, mergelimits.benchmarks), the same files the
tiny study generates. The tests run both against a local hub cache of fixture files with HF_HUB_OFFLINE=1, so no network is used.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import zstandard
from huggingface_hub import HfApi, snapshot_download
from huggingface_hub.errors import LocalEntryNotFoundError, RevisionNotFoundError

from . import benchmarks, languages
from .benchfiles import check_columns, read_table, write_file


class FetchError(ValueError):
    """A published file or branch that is not what the config says, in one line."""


@dataclass(frozen=True)
class Source:
    repo: str
    revision: str
    #: glob patterns relative to the repo root, `{code}` standing for the source's language code
    files: dict[str, str]  # local file name -> pattern
    repo_type: str = "dataset"
    token_env: str | None = None


def resolve(source_cfg: dict, bench: str, lang: str) -> Source:
    """The source of one benchmark × language from the config's `data.hub.<bench>` entry.

    `lang` is the project code; `overrides` are keyed by it too, and `{code}` in a file
    pattern becomes the benchmark's own code for it (languages.tsv).
    """
    code = languages.get(lang).source_code(bench)
    if code is None:
        raise KeyError(f"{bench} has no {lang} (languages.tsv); nothing to fetch")
    entry = dict(source_cfg)
    entry.update(entry.pop("overrides", {}).get(lang, {}))
    files = {name: pat.format(code=code) for name, pat in entry["files"].items()}
    expected = benchmarks.get(bench).files
    if sorted(files) != sorted(expected):
        raise ValueError(f"data.hub.{bench}.files must name {', '.join(expected)}; got {', '.join(files)}")
    return Source(entry["repo"], str(entry["revision"]), files, entry.get("repo_type", "dataset"),
                  entry.get("token_env"))


def resolve_corpus(source_cfg: dict, lang: str) -> Source:
    """The pre-training text of one language from `data.hub.corpus` (code: `hplt_text`)."""
    code = languages.get(lang).source_code("hplt_text")
    files = {name: pat.format(code=code) for name, pat in source_cfg["files"].items()}
    if list(files) != ["train.jsonl"]:
        raise ValueError(f"data.hub.corpus.files must name train.jsonl only; got {', '.join(files)}")
    return Source(source_cfg["repo"], str(source_cfg["revision"]), files, "dataset", source_cfg.get("token_env"))


def resolve_tokenizer(source_cfg: dict) -> Source:
    return Source(source_cfg["repo"], str(source_cfg["revision"]), dict(source_cfg["files"]),
                  source_cfg.get("repo_type", "model"), source_cfg.get("token_env"))


def _token(source: Source) -> str | None:
    """The token of a gated source, from the variable it names; online, a gated source
    without one is refused here rather than by the hub's 401."""
    if not source.token_env:
        return None
    token = os.environ.get(source.token_env)
    if not token and os.environ.get("HF_HUB_OFFLINE") != "1":
        raise RuntimeError(f"{source.repo} is gated: set the environment variable {source.token_env} "
                           "to a Hugging Face token that has accepted its terms")
    return token


def fetch(source: Source, patterns: list[str] | None = None) -> Path:
    """Download (or find in the hub cache) the files matching the source's patterns.

    Returns the snapshot directory; its name is the resolved commit hash, which callers
    record next to their output so that a branch name never hides what was used.
    """
    path = snapshot_download(
        source.repo, repo_type=source.repo_type, revision=source.revision,
        allow_patterns=patterns or list(source.files.values()), token=_token(source),
    )
    return Path(path)


def find(snapshot: Path, pattern: str) -> Path:
    matches = sorted(p for p in snapshot.rglob("*")
                     if p.is_file() and fnmatch.fnmatch(p.relative_to(snapshot).as_posix(), pattern))
    if not matches:
        have = sorted(p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file())
        raise FileNotFoundError(f"no file matching {pattern!r} in {snapshot}; it has: {', '.join(have[:20]) or 'nothing'}")
    if len(matches) > 1:
        raise ValueError(f"{len(matches)} files match {pattern!r} in {snapshot}: {', '.join(map(str, matches[:5]))}")
    return matches[0]


def _records(df) -> list[dict]:
    rows = df.to_dict(orient="records")
    for row in rows:
        for key, value in row.items():
            if hasattr(value, "tolist"):  # numpy arrays from Parquet list columns
                row[key] = value.tolist()
    return rows


def prepare(bench: str, source: Source, name: str, snapshot: Path, out_path: Path) -> Path:
    """Write one local file of `bench` (e.g. `devtest.jsonl`) from a fetched snapshot."""
    if name not in source.files:
        raise KeyError(f"{bench}: no file pattern for {name!r}; has {', '.join(source.files)}")
    path = find(snapshot, source.files[name])
    entry = benchmarks.get(bench)
    df = entry.from_hub(read_table(path))
    check_columns(df, entry.columns, path)
    return write_file(bench, _records(df), out_path)


def fetch_tokenizer(source: Source, out_dir: Path) -> Path:
    """Copy a tokenizer's files from a model repo snapshot into `out_dir`."""
    snapshot = fetch(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, pattern in source.files.items():
        shutil.copyfile(find(snapshot, pattern), out_dir / name)
    return snapshot


#: weight files to download, by the format a repository holds its weights in
WEIGHT_PATTERNS = {"safetensors": ["*.safetensors"], "bin": ["pytorch_model*.bin"]}


def fetch_checkpoint(repo: str, revision: str, out_dir: Path, arch: dict | None = None,
                     token_env: str | None = None, vocab_size: int | None = None,
                     weights: str = "safetensors") -> Path:
    """One published checkpoint (e.g. HPLT's, branch `checkpoint_0001000`) as a local
    single-file Hugging Face checkpoint, checked against the configured architecture and,
    when given, the vocabulary size of the shared initialisation. `weights`: the format the
    repository holds its weights in (HPLT's: one `pytorch_model.bin`; its safetensors were
    removed as broken, `resources/hub_manifests/HPLT--hplt2c_checkpoints.json`); only those
    files are downloaded, so a stale file of the other format is never the one loaded."""
    # torch and transformers (seconds) in the jobs that fetch a model, not in those that fetch data
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from .model import check_arch

    try:
        snapshot = fetch(Source(repo, revision, {}, "model", token_env),
                         ["*.json", *WEIGHT_PATTERNS[weights], "tokenizer*", "*.model"])
    except (RevisionNotFoundError, LocalEntryNotFoundError) as err:
        offline = " or, offline, it is not in the local hub cache" if os.environ.get("HF_HUB_OFFLINE") == "1" else ""
        raise FetchError(f"{repo}: no branch {revision!r}{offline}; check the repository's branches against the "
                         f"configured revision pattern and pretrain.checkpoints") from err
    if arch is not None:
        check_arch(snapshot, arch)
    if vocab_size is not None and (have := AutoConfig.from_pretrained(snapshot).vocab_size) != vocab_size:
        raise FetchError(f"{repo}@{revision} has a vocabulary of {have} but the study's models have {vocab_size}: "
                         "its embeddings cannot be merged or compared with theirs")
    if not any(snapshot.glob(p) for p in WEIGHT_PATTERNS[weights]):
        raise FetchError(f"{repo}@{revision}: no {weights} weights ({', '.join(WEIGHT_PATTERNS[weights])}); "
                         "check the repository's files against the configured weight format")
    model = AutoModelForCausalLM.from_pretrained(snapshot, dtype="auto", use_safetensors=weights == "safetensors")
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # One file, whatever the shards upstream: the merge and evaluation rules name it.
    model.save_pretrained(tmp, safe_serialization=True, max_shard_size="1000GB")
    if any(snapshot.glob("tokenizer*")):
        AutoTokenizer.from_pretrained(snapshot).save_pretrained(tmp)
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return snapshot


def fetch_init(source: dict, arch: dict, tokenizer_dir: Path, out_dir: Path) -> Path:
    """A published step 0 (`pretrain.init: hub`; the authors' `checkpoint_0000000`) as one
    local checkpoint with the study's tokenizer, checked against the architecture and the
    tokenizer's vocabulary; `model.record_published_init` then records it as the study's init."""
    from .model import padded_vocab  # as fetch_checkpoint's
    from .tokenizer import load as load_tokenizer

    tok = load_tokenizer(tokenizer_dir)
    vocab = padded_vocab(len(tok), arch.get("vocab_multiple", 1))
    snapshot = fetch_checkpoint(source["repo"], source["revision"], out_dir, arch, source.get("token_env"), vocab)
    tok.save_pretrained(out_dir)  # every model of the study reads one tokenizer
    return snapshot


def fetch_baseline(entry: dict, out_dir: Path) -> Path:
    """An external baseline (config `baselines`), any architecture transformers can load,
    as one local checkpoint with its tokenizer; what cannot be evaluated stops here, in one
    line naming the entry."""
    key = f"baselines[{entry['name']}] ({entry['repo']}@{entry['revision']})"
    try:
        snapshot = fetch_checkpoint(entry["repo"], entry["revision"], out_dir, token_env=entry.get("token_env"))
    except FetchError:  # a missing branch: already one line naming it
        raise
    except Exception as err:  # an unknown architecture, a broken config: transformers' own words
        shutil.rmtree(out_dir, ignore_errors=True)
        raise FetchError(f"{key}: cannot be loaded for evaluation: {str(err).splitlines()[0]}") from err
    if not (Path(out_dir) / "tokenizer_config.json").exists():
        shutil.rmtree(out_dir, ignore_errors=True)
        raise FetchError(f"{key}: the repository has no tokenizer, so it cannot be evaluated")
    return snapshot


def corpus_files(source: Source, pattern: str, max_files: int | None) -> list[str]:
    """The corpus shards a fetch will use, chosen before anything is downloaded: the first
    `max_files` of those matching `pattern` in path order. Online, from the repository's
    file list; offline, from the hub cache's snapshot of the revision."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        snap = Path(snapshot_download(source.repo, repo_type=source.repo_type, revision=source.revision,
                                      allow_patterns=[pattern]))
        names = [p.relative_to(snap).as_posix() for p in snap.rglob("*") if p.is_file()]
    else:
        names = HfApi().list_repo_files(source.repo, repo_type=source.repo_type, revision=source.revision,
                                        token=_token(source))
    chosen = sorted(n for n in names if fnmatch.fnmatch(n, pattern))
    if not chosen:
        raise FileNotFoundError(f"{source.repo}@{source.revision}: no file matches {pattern!r} "
                                f"(data.hub.corpus.files); it has e.g. {', '.join(sorted(names)[:5]) or 'nothing'}")
    return chosen[:max_files] if max_files else chosen


def _texts(path: Path):
    """The documents of one shard: HPLT 2.0 on the hub is Parquet with a `text` column; the
    project's own release is JSON lines, zstd-compressed."""
    if path.suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(columns=["text"], batch_size=4096):
            yield from batch.column(0).to_pylist()
        return

    with open(path, "rb") as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw) if path.suffix == ".zst" else raw
        for line in io.TextIOWrapper(stream, encoding="utf-8"):
            yield json.loads(line).get("text")


def fetch_corpus(source: Source, out_path: Path, max_files: int | None = None) -> tuple[Path, dict]:
    """Pre-training text of one language (HPLT 2.0: `<code>/train-NNNNN-of-MMMMM.parquet`) as the data
    stage's JSONL (`{"text": ...}` a line), the same file the tiny study generates. Only the
    shards it uses are downloaded."""
    files = corpus_files(source, source.files["train.jsonl"], max_files)
    snapshot = fetch(source, files)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    docs = 0
    with open(tmp, "w", encoding="utf-8") as out:
        for name in files:
            for text in _texts(snapshot / name):
                if text:
                    out.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
                    docs += 1
    os.replace(tmp, out_path)
    return snapshot, {"files": files, "documents": docs}
