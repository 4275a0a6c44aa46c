"""Re-apply, one at a time, the plausible bugs that issue 19 found surviving the suite, and
check that the tests that guard each now catch it.

Each mutant is a textual change to one file of a scratch copy of the repository; the named
test files run against that copy (`pytest -x -q`, fast tests only). A mutant that leaves them
passing survives and is reported; the script exits 1 if any does.

    .venv/bin/python tools/hand_mutants.py            # all (about 3 min on 2 cores)
    .venv/bin/python tools/hand_mutants.py ci_1x_se    # one, by name
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


MUTANTS = [
    Mutant("acc_norm_by_chars", "src/mergelimits/evaluate.py", "acc_norm_token=float(np.argmax(lls / toks) == gold)",
           "acc_norm_token=float(np.argmax(lls / chars) == gold)", ("tests/test_evaluate.py",)),
    Mutant("ci_1x_se", "src/mergelimits/bootstrap.py", '"se": se, "ci95": 1.96 * se', '"se": se, "ci95": 1.0 * se',
           ("tests/test_evaluate.py", "tests/test_properties.py")),
    Mutant("mean_ci_1x_se", "src/mergelimits/bootstrap.py", '"se": se,\n                     "ci95": 1.96 * se',
           '"se": se,\n                     "ci95": 1.0 * se', ("tests/test_properties.py",)),
    Mutant("chrf_se_zero", "src/mergelimits/bootstrap.py", "return score, float(np.std(boots, ddof=1))", "return score, 0.0",
           ("tests/test_evaluate.py",)),
    Mutant("bootstrap_ddof0", "src/mergelimits/bootstrap.py", "values[idx].mean(axis=1).std(ddof=1)",
           "values[idx].mean(axis=1).std(ddof=0)", ("tests/test_evaluate.py", "tests/test_properties.py")),
    Mutant("experts_row_unmapped", "src/mergelimits/tables.py",
           'm = modelid.mono(lang) if model == "mono" else model\n            cell', "m = model\n            cell",
           ("tests/test_evaluate.py", "tests/test_analysis.py")),
    Mutant("ties_no_normalise", "src/mergelimits/registry.py",
           'MergeMethod("ties", "TIES", "ties", task_vectors=True, sparsified=True, normalize=True,',
           'MergeMethod("ties", "TIES", "ties", task_vectors=True, sparsified=True, normalize=False,',
           ("tests/test_merge.py", "tests/test_registry.py")),
    Mutant("density_ignored", "src/mergelimits/merge.py", 'params["density"] = density', 'params["density"] = 0.3',
           ("tests/test_merge.py",)),
    Mutant("parametric_no_abs", "src/mergelimits/similarity.py", "diff = (stats[a] - stats[b]).abs()",
           "diff = (stats[a] - stats[b])", ("tests/test_merge.py",)),
    Mutant("cka_own_from_english", "src/mergelimits/analysis.py", '("cka_own", mean_cka(cka, "own")',
           '("cka_own", mean_cka(cka, "eng")', ("tests/test_analysis.py",)),
    Mutant("figure3_axes_swapped", "src/mergelimits/plots.py",
           'x, y = pairs["cka_eng"].to_numpy(float), pairs["delta"].to_numpy(float)',
           'y, x = pairs["cka_eng"].to_numpy(float), pairs["delta"].to_numpy(float)', ("tests/test_figures.py",)),
    Mutant("figure1_max_not_mean", "src/mergelimits/plots.py", 'pd.DataFrame({"score": g["score"].mean(),',
           'pd.DataFrame({"score": g["score"].max(),', ("tests/test_figures.py",)),
    Mutant("checkpoints_not_increasing", "src/mergelimits/config.py", "if steps[i] <= steps[i - 1]:",
           "if False:", ("tests/test_config.py",)),
    Mutant("heads_not_dividing_hidden", "src/mergelimits/config.py",
           'if arch["hidden"] % arch["heads"]:', "if False:",
           ("tests/test_config.py",)),
    Mutant("kv_heads_not_dividing_heads", "src/mergelimits/config.py",
           'if arch.get("kv_heads") and arch["heads"] % arch["kv_heads"]:', "if False:",
           ("tests/test_config.py",)),
    Mutant("global_batch_multiple", "src/mergelimits/config.py",
           'if ranks < 1 or meg["global_batch"] % (meg["micro_batch"] * ranks):', "if False:",
           ("tests/test_config.py",)),
    Mutant("merge_steps_not_checkpoints", "src/mergelimits/config.py", "            if step not in steps:\n"
           '                errors.append(f"{key}[{i}]', "            if False:\n"
           '                errors.append(f"{key}[{i}]', ("tests/test_config.py",)),
    Mutant("delta_sign_flipped", "src/mergelimits/analysis.py",
           "deltas.append(mb[(merged, lang)] - mb[(expert, lang)])",
           "deltas.append(mb[(expert, lang)] - mb[(merged, lang)])", ("tests/test_analysis.py",)),
    Mutant("delta_ci_1x_se", "src/mergelimits/analysis.py", 'row["delta_ci95"] = 1.96 * se',
           'row["delta_ci95"] = 1.0 * se', ("tests/test_properties.py",)),
    Mutant("distractors_fit_the_verb", "src/mergelimits/synthetic/grammar.py",
           "if cat in objects and cat not in allowed]", "if cat in objects]", ("tests/test_generate.py",)),
    Mutant("minimal_pairs_not_mirrored", "src/mergelimits/synthetic/grammar.py",
           "        if len(rows) < n:\n            rows.append(_minimal_pair(lang, mirror, feat, right[feat]))", "",
           ("tests/test_generate.py",)),
]


def run(mutant: Mutant) -> tuple[bool, str]:
    """Whether the mutant is caught (its tests fail), and the first test that failed."""
    with tempfile.TemporaryDirectory(prefix=f"mutant-{mutant.name}-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", "results", "logs", "benchmarks",
                                                                  ".snakemake", "mutants", ".fixture-hub", "__pycache__"))
        target = copy / mutant.path
        text = target.read_text()
        if text.count(mutant.old) != 1:
            raise SystemExit(f"{mutant.name}: the code to mutate is not found once in {mutant.path}; update the mutant")
        target.write_text(text.replace(mutant.old, mutant.new))
        env = {**os.environ, "PYTHONPATH": str(copy / "src"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
        where = subprocess.run([sys.executable, "-c", "import mergelimits; print(mergelimits.__file__)"], env=env,
                               capture_output=True, text=True).stdout
        if not where.startswith(str(copy)):
            raise SystemExit(f"the tests would import mergelimits from {where.strip()}, not the mutated copy")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider", "-m",
                               "not slow", *mutant.tests], cwd=copy, env=env, capture_output=True, text=True)
        failed = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("FAILED ")]
        return proc.returncode != 0, failed[0] if failed else ""


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    survived = []
    for m in chosen:
        caught, by = run(m)
        print(f"{'caught  ' if caught else 'SURVIVED'}  {m.name:32s} {m.path}  {by}", flush=True)
        if not caught:
            survived.append(m.name)
    print(f"{len(chosen) - len(survived)} of {len(chosen)} caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
