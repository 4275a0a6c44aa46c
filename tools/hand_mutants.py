"""Re-apply, one at a time, the plausible bugs that issue 19 found surviving the suite, and
check that the tests that guard each now catch it.

Each mutant is a textual change to one file of a scratch copy of the repository; the named
test files run against that copy (`pytest -x -q`, fast tests only). A mutant that leaves them
passing survives and is reported; the script exits 1 if any does.

    .venv/bin/python tools/hand_mutants.py            # all (about 3 min on 2 cores)
    .venv/bin/python tools/hand_mutants.py ci_1x_se    # one, by name
    .venv/bin/python tools/hand_mutants.py --fast     # each against the one test that caught it

`--fast` is what `make test` runs (tests/test_known_bugs.py): one process imports the
libraries the tests use (torch, transformers, lm-eval, pandas: seconds) once, and each mutant
runs in a fork of it, which imports the project and its tests again from the mutated copy and
runs the mutant's `catch` test alone: about 20 s for all instead of 3 min.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    catch: str = ""  # the one test that fails on it (--fast): the first a full run names


MUTANTS = [
    Mutant("acc_norm_by_chars", "src/mergelimits/evaluate.py", "acc_norm_token=float(np.argmax(lls / toks) == gold)",
           "acc_norm_token=float(np.argmax(lls / chars) == gold)", ("tests/test_evaluate.py",),
           "tests/test_evaluate.py::test_item_scores_from_samples_by_hand"),
    Mutant("ci_1x_se", "src/mergelimits/bootstrap.py", '"se": se, "ci95": 1.96 * se', '"se": se, "ci95": 1.0 * se',
           ("tests/test_evaluate.py", "tests/test_properties.py"),
           "tests/test_evaluate.py::test_chrf_bootstrap_resamples_sentences_and_rescores_the_corpus"),
    Mutant("mean_ci_1x_se", "src/mergelimits/bootstrap.py", '"se": se,\n                     "ci95": 1.96 * se',
           '"se": se,\n                     "ci95": 1.0 * se', ("tests/test_properties.py",),
           "tests/test_properties.py::test_a_mean_over_independent_languages_has_the_pooled_se"),
    Mutant("chrf_se_zero", "src/mergelimits/bootstrap.py", "return score, float(np.std(boots, ddof=1))", "return score, 0.0",
           ("tests/test_evaluate.py",),
           "tests/test_evaluate.py::test_chrf_bootstrap_resamples_sentences_and_rescores_the_corpus"),
    Mutant("bootstrap_ddof0", "src/mergelimits/bootstrap.py", "values[idx].mean(axis=1).std(ddof=1)",
           "values[idx].mean(axis=1).std(ddof=0)", ("tests/test_evaluate.py", "tests/test_properties.py"),
           "tests/test_evaluate.py::test_bootstrap_ci_on_a_known_distribution"),
    # the experts' row scoring every language with one expert, not each language's own
    Mutant("experts_row_unmapped", "src/mergelimits/tables.py",
           "return model.get(lang) if isinstance(model, dict) else model",
           "return next(iter(model.values())) if isinstance(model, dict) else model",
           ("tests/test_evaluate.py", "tests/test_analysis.py"),
           "tests/test_evaluate.py::test_table1_is_recomputed_from_the_store"),
    Mutant("ties_no_normalise", "src/mergelimits/registry.py",
           'MergeMethod("ties", "TIES", "ties", task_vectors=True, sparsified=True, normalize=True,',
           'MergeMethod("ties", "TIES", "ties", task_vectors=True, sparsified=True, normalize=False,',
           ("tests/test_merge.py", "tests/test_registry.py"),
           "tests/test_merge.py::test_ties_equals_its_definition"),
    Mutant("density_ignored", "src/mergelimits/merge.py", 'params["density"] = density', 'params["density"] = 0.3',
           ("tests/test_merge.py",),
           "tests/test_merge.py::test_ties_of_one_model_at_density_one_gives_it_back"),
    Mutant("parametric_no_abs", "src/mergelimits/similarity.py", "diff = (stats[a] - stats[b]).abs()",
           "diff = (stats[a] - stats[b])", ("tests/test_merge.py",),
           "tests/test_merge.py::test_parametric_differences_equal_a_hand_computation_in_either_order"),
    Mutant("cka_own_from_english", "src/mergelimits/analysis.py", '("cka_own", mean_cka(cka, "own")',
           '("cka_own", mean_cka(cka, "eng")', ("tests/test_analysis.py",),
           "tests/test_analysis.py::test_pair_table_joins_each_measure_to_its_own_pair_and_variant"),
    Mutant("figure3_axes_swapped", "src/mergelimits/plots.py",
           'x, y = pairs["cka_eng"].to_numpy(float), pairs["delta"].to_numpy(float)',
           'y, x = pairs["cka_eng"].to_numpy(float), pairs["delta"].to_numpy(float)', ("tests/test_figures.py",),
           "tests/test_figures.py::test_figure3_puts_cka_on_x_and_delta_on_y_with_labels_that_never_overlap"),
    Mutant("figure1_max_not_mean", "src/mergelimits/plots.py", 'pd.DataFrame({"score": g["score"].mean(),',
           'pd.DataFrame({"score": g["score"].max(),', ("tests/test_figures.py",),
           "tests/test_figures.py::test_figure1_plots_the_mean_over_languages_with_chance_in_every_panel"),
    Mutant("checkpoints_not_increasing", "src/mergelimits/config.py", "if steps[i] <= steps[i - 1]:",
           "if False:", ("tests/test_config.py",),
           "tests/test_config.py::test_bad_config_names_the_key"),
    Mutant("heads_not_dividing_hidden", "src/mergelimits/config.py",
           'if arch["hidden"] % arch["heads"]:', "if False:",
           ("tests/test_config.py",),
           "tests/test_config.py::test_bad_config_names_the_key"),
    Mutant("kv_heads_not_dividing_heads", "src/mergelimits/config.py",
           'if arch.get("kv_heads") and arch["heads"] % arch["kv_heads"]:', "if False:",
           ("tests/test_config.py",),
           "tests/test_config.py::test_bad_config_names_the_key"),
    Mutant("global_batch_multiple", "src/mergelimits/config.py",
           'if ranks < 1 or meg["global_batch"] % (meg["micro_batch"] * ranks):', "if False:",
           ("tests/test_config.py",),
           "tests/test_config.py::test_model_parallel_sizes_divide_the_data_parallel_ranks"),
    Mutant("merge_steps_not_checkpoints", "src/mergelimits/config.py", "            if step not in steps:\n"
           '                errors.append(f"{key}[{i}]', "            if False:\n"
           '                errors.append(f"{key}[{i}]', ("tests/test_config.py",),
           "tests/test_config.py::test_bad_config_names_the_key"),
    Mutant("delta_sign_flipped", "src/mergelimits/analysis.py",
           "deltas.append(mb[(merged, lang)] - mb[(expert, lang)])",
           "deltas.append(mb[(expert, lang)] - mb[(merged, lang)])", ("tests/test_analysis.py",),
           "tests/test_analysis.py::test_delta_uses_the_languages_with_multiblimp"),
    Mutant("delta_ci_1x_se", "src/mergelimits/analysis.py", 'row["delta_ci95"] = 1.96 * se',
           'row["delta_ci95"] = 1.0 * se', ("tests/test_properties.py",),
           "tests/test_properties.py::test_a_pairs_delta_ci_is_the_paired_se_of_its_item_differences"),
    Mutant("distractors_fit_the_verb", "src/mergelimits/synthetic/grammar.py",
           "if cat in objects and cat not in allowed]", "if cat in objects]", ("tests/test_generate.py",),
           "tests/test_generate.py::test_no_option_only_rule_beats_chance_on_any_generated_benchmark"),
    Mutant("minimal_pairs_not_mirrored", "src/mergelimits/synthetic/grammar.py",
           "        if len(rows) < n:\n            rows.append(_minimal_pair(lang, mirror, feat, right[feat]))", "",
           ("tests/test_generate.py",),
           "tests/test_generate.py::test_agreement_is_learnable_in_language_and_not_across"),
]


def mutated_copy(mutant: Mutant | None, tmp: str) -> Path:
    """A scratch copy of the repository with the mutant applied (None: as it is)."""
    copy = Path(tmp) / "repo"

    def ignore(folder: str, names: list[str]) -> set[str]:
        # the run's outputs at the top only: src/mergelimits/benchmarks/ is code (a pattern
        # matched at every depth once left every mutant "caught" by an ImportError)
        top = {".git", ".venv", "results", "logs", "benchmarks", ".snakemake", "mutants", ".fixture-hub"}
        return {n for n in names if n == "__pycache__" or (Path(folder) == ROOT and n in top)}

    shutil.copytree(ROOT, copy, ignore=ignore)
    if mutant is None:
        return copy
    target = copy / mutant.path
    text = target.read_text()
    if text.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.name}: the code to mutate is not found once in {mutant.path}; update the mutant")
    target.write_text(text.replace(mutant.old, mutant.new))
    return copy


def run(mutant: Mutant) -> tuple[bool, str]:
    """Whether the mutant is caught (its tests fail), and the first test that failed."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        copy = mutated_copy(mutant, tmp)
        env = {**os.environ, "PYTHONPATH": str(copy / "src"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
        where = subprocess.run([sys.executable, "-c", "import mergelimits; print(mergelimits.__file__)"], env=env,
                               capture_output=True, text=True).stdout
        if not where.startswith(str(copy)):
            raise SystemExit(f"the tests would import mergelimits from {where.strip()}, not the mutated copy")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider", "-m",
                               "not slow", *mutant.tests], cwd=copy, env=env, capture_output=True, text=True)
        failed = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("FAILED ")]
        # caught: a test failed on it; an error collecting the tests is the copy's fault, not a catch
        if proc.returncode not in (0, 1) or (proc.returncode == 1 and not failed):
            raise SystemExit(f"{mutant.name}: pytest exit {proc.returncode} with no failed test\n{proc.stdout[-3000:]}")
        return proc.returncode == 1, failed[0] if failed else ""


#: What the tests import that takes seconds: loaded once by --fast, before the forks.
PRELOAD = ("torch", "transformers", "pandas", "scipy.stats", "matplotlib.pyplot", "sacrebleu", "lm_eval.evaluator",
           "lm_eval.models.huggingface", "lm_eval.tasks", "mergekit.merge", "datasets", "pytest", "hypothesis")


def run_forked(mutant: Mutant | None, tests: list[str]) -> int:
    """pytest's exit code for `tests` in a fork of this process (its libraries already
    imported), the project and the tests imported anew from a copy with `mutant` applied."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name if mutant else 'none'}-") as tmp:
        copy = mutated_copy(mutant, tmp)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 3
            try:
                for name in [m for m in sys.modules if m.split(".")[0] in ("mergelimits", "tests", "conftest")]:
                    del sys.modules[name]
                sys.path.insert(0, str(copy / "src"))
                os.chdir(copy)
                import importlib

                import pytest

                where = importlib.import_module("mergelimits").__file__
                if not where.startswith(str(copy)):
                    print(f"the test would import mergelimits from {where}, not the mutated copy", file=sys.stderr)
                    os._exit(10)
                with open(os.devnull, "w") as quiet:
                    sys.stdout = quiet
                    code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-m", "not slow",
                                        "--rootdir", str(copy), *tests])
            finally:
                os._exit(int(code))
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code == 10:
            raise SystemExit("a fork imported mergelimits from outside its copy of the project")
        return code


def caught_forked(mutant: Mutant) -> tuple[bool, str]:
    """Whether the mutant's `catch` test fails on it (pytest exit 1; any other exit is an error)."""
    if not mutant.catch:
        raise SystemExit(f"{mutant.name}: no `catch` test for --fast; run it without --fast and record the one it names")
    code = run_forked(mutant, [mutant.catch])
    if code not in (0, 1):
        raise SystemExit(f"{mutant.name}: pytest exit {code} on {mutant.catch} (a test renamed?)")
    return code == 1, mutant.catch


def main(names: list[str]) -> int:
    fast = "--fast" in names
    names = [n for n in names if n != "--fast"]
    chosen = [m for m in MUTANTS if not names or m.name in names]
    if fast:
        import importlib

        for module in PRELOAD:
            importlib.import_module(module)
        # the control: the catching tests pass on the project as it is, so a failure below is the mutant's
        catches = sorted({m.catch for m in chosen})
        if run_forked(None, catches) != 0:
            raise SystemExit(f"the catching tests fail on the unmutated project: {' '.join(catches)}")
    survived = []
    for m in chosen:
        caught, by = caught_forked(m) if fast else run(m)
        print(f"{'caught  ' if caught else 'SURVIVED'}  {m.name:32s} {m.path}  {by}", flush=True)
        if not caught:
            survived.append(m.name)
    print(f"{len(chosen) - len(survived)} of {len(chosen)} caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
