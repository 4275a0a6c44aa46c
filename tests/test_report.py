"""What a researcher opens: tables readable inline under their own captions, provenance, and
the report itself rendered by a real headless Chromium."""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mergelimits import benchmarks, captions, modelid, provenance, tables
from mergelimits.study import Study, table_stem

from .conftest import ROOT, snakemake_cmd, unavailable


class _Cells(HTMLParser):
    """The caption and the text of every cell of an HTML table."""

    def __init__(self):
        super().__init__()
        self.caption, self.cells, self._in = "", [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("caption", "td", "th"):
            self._in = tag
            if tag != "caption":
                self.cells.append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "caption":
            self.caption += data
        elif self._in:
            self.cells[-1] += data.strip()


def _captions(cfg):
    study = Study.from_config(cfg)
    return study, captions.captions(cfg["study"], study.benchmarks, study.final, cfg["evaluate"]["bootstrap"],
                                    cfg["seeds"]["bootstrap"], cfg["merge"]["pair_methods"][0], len(study.pairs),
                                    cfg["evaluate"]["flores_examples"])


@pytest.mark.parametrize("which", ["tiny_config", "paper_config"])
def test_every_table_has_its_own_caption_naming_it_its_metric_and_ci(which, request):
    cfg = request.getfixturevalue(which)
    study, caps = _captions(cfg)
    assert {*study.table_stems, "table8"} <= set(caps) <= {*study.table_stems, "table8", "controls"}
    names = [c.partition(":")[0] for c in caps.values()]
    assert len(set(names)) == len(names)
    assert caps["controls"].startswith("Controls — ")
    for stem, caption in caps.items():
        number = stem.removeprefix("table").split("_")[0]
        assert stem == "controls" or caption.startswith(f"Table {number} — "), caption
        assert f"Study: {cfg['study']}, step {study.final}." in caption
    for bench in study.benchmarks:
        entry = benchmarks.get(bench)
        caption = caps[table_stem(bench)]
        assert captions.UNITS[entry.metric] in caption
        assert f"{cfg['evaluate']['bootstrap']} resamples" in caption and "95% CI" in caption
    assert f"{len(study.pairs)} bilingual" in caps["table8"] and "Δ = merged − expert" in caps["table8"]


def test_a_table_is_written_rounded_as_html_under_its_caption(tmp_path):
    df = pd.DataFrame({"model": ["Mixed10", "Merged10 <linear>"], "Params/B": [0.000197321, 1.23456],
                       "multiblimp μ": [62.5555, np.nan]})
    caption = "Table 1 — test: a caption with <markup> & symbols."
    paths = tables.write_table(df, str(tmp_path / "table1"), caption)
    assert [Path(p).suffix for p in paths] == [".csv", ".md", ".tex", ".html"]
    page = _Cells()
    page.feed(Path(paths[3]).read_text(encoding="utf-8"))
    assert page.caption == caption
    assert page.cells == ["model", "Params/B", "multiblimp μ", "Mixed10", "0.000197", "62.6",
                          "Merged10 <linear>", "1.23", tables.DASH]
    assert "<title>Table 1 — test</title>" in Path(paths[3]).read_text(encoding="utf-8")
    # the CSV keeps every digit and no index
    csv = pd.read_csv(paths[0])
    assert list(csv.columns) == list(df.columns) and csv["multiblimp μ"].iloc[0] == 62.5555
    # Markdown and LaTeX: the same caption and rounding (one decimal; sizes to three significant digits)
    md = Path(paths[1]).read_text(encoding="utf-8")
    assert md.startswith(caption + "\n\n| model") and "| 62.6 " in md and "0.000197" in md and "| 0 " not in md
    tex = Path(paths[2]).read_text(encoding="utf-8").splitlines()
    assert tex[1] == "\\caption{" + caption.replace("&", "\\&") + "}"
    assert tex[4:9] == ["model & Params/B & multiblimp $\\mu$ \\\\", "\\midrule", "Mixed10 & 0.000197 & 62.6 \\\\",
                        "Merged10 <linear> & 1.23 & -- \\\\", "\\bottomrule"]  # no index column; – as --
    wide = tables.write_table(pd.DataFrame({"model": ["a"], "x μ": [95.04]}), str(tmp_path / "wide"), "Table 9 — w: x.")
    assert "95.0" in Path(wide[1]).read_text(encoding="utf-8")


def test_latex_escapes_the_caption_as_it_escapes_the_cells(tmp_path):
    """A caption's "%" (CV%) would comment out the rest of the line in LaTeX, its "&" break
    the table: both are escaped, like a cell's."""
    df = pd.DataFrame({"model": ["a_b 5% & c"]})
    tex = Path(tables.write_table(df, str(tmp_path / "t"), "Table 1 — CV% = 100 × SD/μ & more_x.")[2]).read_text()
    assert "\\caption{Table 1 — CV\\% = 100 × SD/$\\mu$ \\& more\\_x.}" in tex
    assert "a\\_b 5\\% \\& c \\\\" in tex


def test_cv_of_a_benchmark_every_model_scores_zero_on_is_undefined_not_infinite():
    """DARE-TIES' FLORES chrF++ is 0.0 in every language of the tiny study: its CV is "–"."""
    agg = pd.DataFrame([{"model": "m", "step": 1, "benchmark": "flores", "lang": lang, "score": 0.0}
                        for lang in ("deu", "eng")])
    t = tables.table1(agg, [("M", "m")], ["deu", "eng"], ["flores"], 1)
    assert t["flores μ"].iloc[0] == 0.0 and np.isnan(t["flores CV%"].iloc[0])


def test_the_html_title_is_the_captions_name_before_its_first_colon(tmp_path):
    path = tables.write_table(pd.DataFrame({"model": ["a"]}), str(tmp_path / "t"), "Table 8 — Δ vs x: r: and ρ.")[3]
    assert "<title>Table 8 — Δ vs x</title>" in Path(path).read_text(encoding="utf-8")


def test_items_note_counts_the_items_behind_each_cell():
    agg = pd.DataFrame({"benchmark": ["multiblimp", "multiblimp", "belebele", "belebele"],
                        "items": [100, 87, 30, 30]})
    assert tables.items_note(agg, "multiblimp") == " n = 87–100 items per language."
    assert tables.items_note(agg, "belebele") == " n = 30 items per language."
    assert tables.items_note(agg) == " Items per language: multiblimp 87–100, belebele 30."
    assert tables.items_note(agg, "xcsqa") == ""  # no such scores: nothing said


def test_the_environment_file_repeats_pyprojects_pins():
    """The report lists each rule's software from envs/mergelimits.yaml: its pins must be the
    ones the install uses."""
    pins = {d.split("==")[0]: d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
            if "==" in d}
    env = yaml.safe_load((ROOT / "envs/mergelimits.yaml").read_text())
    listed = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    repeated = [p for p in listed if "==" in p]
    assert len(repeated) >= 8
    for pin in repeated:
        assert pins[pin.split("==")[0]] == pin
    assert listed[-1] == "-e .."


def test_the_login_requirements_repeat_pyprojects_pins_and_build_the_paper_dag():
    """envs/login.txt, LUMI's login-side install: pyproject's pins, no torch; and they are
    enough to build the paper's DAG (the packages the Snakefile imports at parse time)."""
    pins = {d.split("==")[0]: d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
            if "==" in d}
    listed = [ln.strip() for ln in (ROOT / "envs/login.txt").read_text().splitlines()
              if ln.strip() and not ln.startswith("#")]
    assert {"snakemake", "snakemake-executor-plugin-slurm"} <= {p.split("==")[0] for p in listed}
    for pin in listed:
        assert pins[pin.split("==")[0]] == pin
    heavy = {"torch", "transformers", "mergekit", "lm-eval[hf]", "megatron-core", "datasets"}
    assert not heavy & {p.split("==")[0] for p in listed}
    probe = ("import sys, importlib.abc\n"
             "class Block(importlib.abc.MetaPathFinder):\n"
             "    def find_spec(self, name, path, target=None):\n"
             "        if name.split('.')[0] in {'torch', 'transformers', 'mergekit', 'lm_eval', 'megatron', 'datasets',"
             " 'scipy', 'matplotlib', 'lang2vec', 'sacrebleu'}:\n"
             "            raise ImportError(f'{name}: not on a login node')\n"
             "sys.meta_path.insert(0, Block())\n"
             "from snakemake.cli import main\n"
             "sys.argv = ['snakemake', '-n', '--quiet', 'rules', '--snakefile', sys.argv[1], '--configfile', sys.argv[2],"
             " '--directory', sys.argv[3]]\n"
             "main()\n")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-c", probe, str(ROOT / "Snakefile"), str(ROOT / "config/paper.yaml"), tmp],
                              capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_git_commit_names_the_checkout_and_its_uncommitted_changes(tmp_path):
    assert provenance.git_commit(tmp_path) == "unknown (not a git checkout)"
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "f").write_text("a")
    subprocess.run([*git, "add", "f"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert provenance.git_commit(tmp_path) == head
    (tmp_path / "untracked").write_text("b")
    assert provenance.git_commit(tmp_path) == head
    (tmp_path / "f").write_text("changed")
    assert provenance.git_commit(tmp_path) == f"{head} + uncommitted changes"


def test_versions_are_the_installed_ones():
    from importlib.metadata import version

    v = provenance.versions()
    assert v["torch"] == version("torch") and v["mergekit"] == version("mergekit")
    assert provenance.versions(["no-such-package-here"]) == {"no-such-package-here": "not installed"}


def test_provenance_page_holds_config_commit_and_versions_and_no_date():
    page = provenance.page("tiny", ["config/config.yaml"], "abc123", {"torch": "2.13.0"},
                           {"study": "tiny", "seeds": {"data": 1234}})
    for must in ("config/config.yaml", "abc123", "2.13.0", "data 1234", "study: tiny"):
        assert must in page
    assert datetime.date.today().isoformat() not in page


# --- the report's text is valid reStructuredText -------------------------------------------------

#: every shipped study's config files, as `--configfile` takes them
REPORT_CONFIGS = {
    "tiny": ["config/config.yaml"],
    "branch-sweep": ["config/config.yaml", "config/branch-sweep.yaml"],
    "paper": ["config/paper.yaml"],
    "paper-published": ["config/paper.yaml", "config/paper-published.yaml"],
    "paper-branch": ["config/paper.yaml", "config/paper-branch.yaml"],
    "paper-smoke": ["config/paper.yaml", "config/paper-smoke.yaml"],
}


def rst_to_html(text: str) -> str:
    """docutils as Snakemake's report calls it, except that a warning raises instead of being
    printed into the page as a "System Message" box."""
    from docutils.core import publish_parts
    from docutils.utils import SystemMessage

    try:
        return publish_parts(text, writer_name="html", settings_overrides={"halt_level": 2, "report_level": 2})["body"]
    except SystemMessage as err:
        pytest.fail(f"docutils: {err}\n--- the text ---\n{text}")


def report_problems(html: str, stderr: str) -> list[str]:
    """What a reader of a built report would see of a reStructuredText error."""
    found = [f"page: {line.strip()}" for line in html.splitlines() if "System Message" in line]
    found += [f"stderr: {line}" for line in stderr.splitlines() if "(WARNING/" in line or "(ERROR/" in line]
    return found


@pytest.mark.parametrize("name", sorted(REPORT_CONFIGS))
def test_the_front_page_is_valid_rst_for_every_shipped_config(name):
    """workflow/report/workflow.rst rendered as Snakemake renders it (Jinja with trim_blocks
    and lstrip_blocks, then docutils), its Provenance loop filled: no docutils warning."""
    from types import SimpleNamespace

    from jinja2 import Environment

    from mergelimits.synthetic.hub_cache import load_config

    config = load_config([ROOT / f for f in REPORT_CONFIGS[name]])
    rec = SimpleNamespace(job=SimpleNamespace(params=SimpleNamespace(configfiles=REPORT_CONFIGS[name], commit="abc")))
    category = type("Category", (), {"name": "Provenance"})()  # hashable, as Snakemake's own
    categories = {category: {"": [rec]}}
    env = Environment(trim_blocks=True, lstrip_blocks=True)  # snakemake/report/__init__.py, auto_report
    text = env.from_string((ROOT / "workflow/report/workflow.rst").read_text()).render(
        snakemake=SimpleNamespace(config=config), categories=categories, files=[])
    html = rst_to_html(text)
    assert "Workflow commit" in html and "Where each result is in the paper" in html
    assert ("These languages are generated" in html) == (config["data"]["source"] == "generated")


@pytest.mark.parametrize("name", ["tiny", "paper", "paper-branch"])
def test_every_table_caption_is_valid_rst(name):
    """The captions captions.captions() writes, as the report shows them (docutils, no warning)."""
    from mergelimits.synthetic.hub_cache import load_config

    cfg = load_config([ROOT / f for f in REPORT_CONFIGS[name]])
    study = Study.from_config(cfg)
    caps = captions.captions(cfg["study"], study.benchmarks, study.final, cfg["evaluate"]["bootstrap"],
                             cfg["seeds"]["bootstrap"], cfg["merge"]["pair_methods"][0], len(study.pairs),
                             cfg["evaluate"]["flores_examples"], study.branch_steps, len(study.branch_pairs))
    for stem, caption in caps.items():
        assert "System Message" not in rst_to_html(caption), stem


# --- the report in a browser -----------------------------------------------------------------


def _browser():
    """Selenium driving Debian's chromium through its chromedriver (tools/ensure-chromium.sh
    installs both in `make test`); skipped with the reason when they are missing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [b for b in ("chromium", "chromedriver") if shutil.which(b) is None]
    if missing:
        unavailable(f"{' and '.join(missing)} not installed (tools/ensure-chromium.sh installs them as root)",
                    "MERGELIMITS_REQUIRE_BROWSER")
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium")
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


@pytest.mark.slow
def test_report_opens_in_chromium_with_tables_inline_captions_and_provenance(mini_runs, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    report = tmp_path / "report.html"
    made = subprocess.run(snakemake_cmd("--configfile", str(mini_runs.config), "--directory", str(mini_runs.a),
                                        "--report", str(report)), capture_output=True, text=True, env=mini_runs.env)
    assert made.returncode == 0, made.stderr[-3000:]
    assert not report_problems(report.read_text(encoding="utf-8"), made.stderr)
    t1 = pd.read_csv(mini_runs.a / "results/tiny/tables/table1.csv")
    expected = [f"{v:.1f}" for c in t1.columns if c.endswith(" μ") for v in t1[c]]
    with _browser() as d:
        wait = WebDriverWait(d, 20)
        d.get(report.as_uri())
        front = wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(., 'Workflow commit')]")))
        assert "These languages are generated" in front.text
        assert "System Message" not in d.find_element(By.TAG_NAME, "body").text

        def open_table(name):
            d.switch_to.default_content()
            wait.until(ec.element_to_be_clickable((By.XPATH, "//*[normalize-space(text())='Tables']"))).click()
            row = wait.until(ec.presence_of_element_located(
                (By.XPATH, f"//tr[td[starts-with(normalize-space(.), '{name} —')]]")))
            row.find_element(By.XPATH, ".//a[@iconname='eye']").click()
            d.switch_to.frame(wait.until(ec.presence_of_element_located((By.TAG_NAME, "iframe"))))
            return wait.until(ec.presence_of_element_located((By.TAG_NAME, "table")))

        table = open_table("Table 1")
        cells = [td.text for td in table.find_elements(By.TAG_NAME, "td")]
        assert expected and all(v in cells for v in expected), (expected, cells)
        assert table.find_element(By.TAG_NAME, "caption").text.startswith("Table 1 — size, tokens")
        table = open_table("Table 8")
        assert "Δ = merged − expert" in table.find_element(By.TAG_NAME, "caption").text
        d.switch_to.default_content()
        # the caption beside the listing is the table's own, not one for all tables
        row = d.find_element(By.XPATH, "//tr[td[starts-with(normalize-space(.), 'Table 8 —')]]")
        row.find_element(By.XPATH, ".//a[@iconname='information-circle']").click()
        info = wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(text(), 'Pearson r and Spearman')]")))
        assert "Table 8 — Δ vs similarity" in info.text


def test_controls_table_sets_each_score_beside_its_question_blind_means():
    rows = [("Monolingual experts", {"deu": "mono-deu", "eng": "mono-eng"}), ("Mixed2", "mixed2")]
    cells = []
    for model, lang, score, blind, shuffled in [("mono-deu", "deu", 80, 30, 40), ("mono-eng", "eng", 60, 20, 30),
                                                ("mixed2", "deu", 50, 25, 25), ("mixed2", "eng", 40, 35, 15)]:
        for bench, value in (("xcsqa", score), ("xcsqa~blind", blind), ("xcsqa~shuffled", shuffled)):
            cells.append({"model": model, "step": 9, "benchmark": bench, "lang": lang, "score": value})
    cells.append({"model": "mixed2", "step": 9, "benchmark": "xcsqa~blind", "lang": "eng", "score": 99.0} | {"step": 3})
    agg = pd.DataFrame(cells)
    t = tables.controls(agg, rows, ["deu", "eng"], ["multiblimp", "xcsqa"], 9, ["blind", "shuffled"])
    assert list(t.columns) == ["model", "xcsqa score", "xcsqa blind", "xcsqa shuffled"]
    assert t.iloc[0, 1:].tolist() == [70, 25, 35]  # each expert on its own language
    assert t.iloc[1, 1:].tolist() == [45, 30, 20]
    with pytest.raises(ValueError, match="no xcsqa~shuffled score for eng"):
        tables.controls(agg[~((agg.benchmark == "xcsqa~shuffled") & (agg.lang == "eng"))], rows, ["deu", "eng"],
                        ["xcsqa"], 9, ["blind", "shuffled"])


CAPTIONS = Path(__file__).parent / "fixtures" / "captions.json"


def _reviewed_captions(paper_config) -> dict[str, str]:
    study = Study.from_config(paper_config)
    return captions.captions(paper_config["study"], study.benchmarks, study.final, 1000, 1,
                             paper_config["merge"]["pair_methods"][0], len(study.pairs),
                             paper_config["evaluate"]["flores_examples"], (16000, 32000), 45,
                             paper_config["evaluate"]["acc_norm"], paper_config["evaluate"]["flores"]["sampling"])


def test_the_captions_read_as_reviewed(paper_config):
    """The captions, word for word, as last reviewed (tests/fixtures/captions.json): a caption
    is what a reader of a table is told, so a change to one is a change to review. After a
    deliberate change: MERGELIMITS_UPDATE_CAPTIONS=1 pytest -k captions_read, then read the diff."""
    caps = _reviewed_captions(paper_config)
    if os.environ.get("MERGELIMITS_UPDATE_CAPTIONS"):
        CAPTIONS.write_text(json.dumps(caps, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    assert caps == json.loads(CAPTIONS.read_text(encoding="utf-8"))


def test_table7_shows_each_rows_output_for_the_first_sentences_of_its_language():
    """Table 7 from hand-made FLORES rows: the first n items of the language in item order,
    the experts' row read from that language's expert, a baseline at its own step, a model
    without an output shown as a dash; other languages, steps and benchmarks never leak."""
    def row(model, step, item, hyp, lang="deu", bench="flores"):
        return {"model": model, "step": step, "benchmark": bench, "lang": lang, "item": item,
                "source": f"src{item}", "reference": f"ref{item}", "hypothesis": hyp}

    ext = modelid.external("gpt")
    store = pd.DataFrame([
        row("mixed3", 8, 0, "blimp", bench="multiblimp"),  # another benchmark, listed first
        row("mixed3", 8, 2, "mix2"), row("mixed3", 8, 0, "mix0"), row("mixed3", 8, 1, "mix1"),
        row("mixed3", 4, 0, "early"),                 # another step
        row("mono-deu", 8, 0, "deu0"),
        row("mono-fra", 8, 0, "fra-on-deu"),           # not deu's expert
        row("mono-fra", 8, 0, "fra0", lang="fra"),     # another language
        row(ext, modelid.EXTERNAL_STEP, 0, "gpt0"),
    ])
    t7 = tables.flores_examples(store, [("Experts", {"deu": "mono-deu", "fra": "mono-fra"}), ("Mixed3", "mixed3"),
                                        ("GPT", ext)], "deu", 8, 2)
    assert list(t7.columns) == ["source", "reference", "Experts", "Mixed3", "GPT"]
    assert t7.to_dict("records") == [
        {"source": "src0", "reference": "ref0", "Experts": "deu0", "Mixed3": "mix0", "GPT": "gpt0"},
        {"source": "src1", "reference": "ref1", "Experts": tables.DASH, "Mixed3": "mix1", "GPT": tables.DASH},
    ]


def test_table7s_caption_says_how_the_evaluation_decoded_and_titles_name_the_normalisation():
    """Without decoding of its own (the tiny study) Table 7 shows the evaluation's outputs: its
    caption says greedy, or sampled with the configured temperature and top-k. A length-normalised
    accuracy's title names its normalisation, token by default; other metrics keep the title."""
    from mergelimits import benchmarks
    from mergelimits.study import FLORES_EXAMPLES

    def table7(sampling):
        return captions.captions("s", ["flores"], 8, 10, 0, "linear", 3, {"lang": "deu", "n": 3},
                                 flores_sampling=sampling)[FLORES_EXAMPLES]

    assert "each model's greedy output in the evaluation" in table7(None)
    assert "each model's sampled (temperature 0.7) output in the evaluation" in table7({"temperature": 0.7})
    assert "each model's sampled (temperature 0.7, top-k 50) output" in table7({"temperature": 0.7, "top_k": 50})
    label = benchmarks.get("xcsqa").label
    assert captions.title("xcsqa") == f"{label} token-normalised accuracy"
    assert captions.title("xcsqa", "char") == f"{label} character-normalised accuracy"
    assert captions.title("multiblimp", "char") == benchmarks.get("multiblimp").title
