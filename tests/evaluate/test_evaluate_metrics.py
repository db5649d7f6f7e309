"""Evaluation: sacrebleu's numbers and signatures, language settings, significance, reports, cards, bad input."""

import json
import logging
import subprocess
import sys

import pytest
import sacrebleu
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

from mtkit.cli import main
from mtkit.errors import ConfigError, DataError
from mtkit.evaluate import METRICS, ComparisonRow, compare_systems, metrics_for, score_corpus

REFS = ["The police arrested 200 suspects on Monday.", "They were flown home via Thailand.",
        "The operation was a joint effort of three countries.", "More suspects will be sent back."]
SYS_A = ["Police arrested 200 suspects on Monday.", "They were flown home through Thailand.",
         "The operation was a joint action by three countries.", "More suspects will be returned."]
SYS_B = ["Police caught suspects.", "They flew.", "Three countries worked.", "More will come."]
ZH_REFS = ["警方周一抓获200名嫌疑人。", "他们经泰国被押解回国。"]
ZH_HYP = ["警方周一抓获了200名嫌疑人。", "他们经由泰国被押送回国。"]


@pytest.mark.parametrize(
    "hyps, refs, tgt_lang, expected",
    [(SYS_A, REFS, "en", {"bleu": ("BLEU", 55.33151191726635), "chrf": ("chrF2++", 76.22542087291481),
                          "ter": ("TER", 21.428571428571427)}),
     (ZH_HYP, ZH_REFS, "zh", {"bleu": ("BLEU", 60.83136153043262), "chrf": ("chrF2", 57.99432465164186),
                              "ter": ("TER", 13.043478260869565)})],
)
def test_scores_are_sacrebleus_exact_numbers(hyps, refs, tgt_lang, expected):
    ours = score_corpus(hyps, refs, tgt_lang=tgt_lang)
    assert {k: (s.name, s.score) for k, s in ours.items()} == expected
    cjk = tgt_lang == "zh"
    theirs = {"bleu": BLEU(tokenize="zh" if cjk else "13a"), "chrf": CHRF(word_order=0 if cjk else 2),
              "ter": TER(normalized=cjk, asian_support=cjk)}
    for name, metric in theirs.items():
        assert ours[name].score == metric.corpus_score(hyps, [refs]).score
        assert ours[name].signature == str(metric.get_signature())


def test_scores_and_signatures_equal_the_sacrebleu_command(tmp_path):
    """The same files through the `sacrebleu` command (4 decimals, JSON): same numbers, same signatures."""
    (tmp_path / "ref.txt").write_text("\n".join(REFS) + "\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("\n".join(SYS_A) + "\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "sacrebleu", str(tmp_path / "ref.txt"), "-i", str(tmp_path / "hyp.txt"),
                          "-m", "bleu", "chrf", "ter", "--chrf-word-order", "2", "-w", "4", "-f", "json"],
                         capture_output=True, text=True, check=True)
    theirs = json.loads(run.stdout)
    ours = score_corpus(SYS_A, REFS, tgt_lang="en")
    assert [(s.name, round(s.score, 4), s.signature) for s in ours.values()] == [
        (t["name"], t["score"], t["signature"]) for t in theirs]
    assert ours["bleu"].signature == f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{sacrebleu.__version__}"


V = sacrebleu.__version__


@pytest.mark.parametrize(
    "name, tgt_lang, signature",
    [("bleu", "en", f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{V}"),
     ("bleu", "zh", f"nrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:{V}"),
     ("chrf", "id", f"nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:{V}"),
     ("chrf", "zh", f"nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:{V}"),
     ("ter", "en", f"nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:{V}"),
     ("ter", "zh", f"nrefs:1|case:lc|tok:tercom|norm:yes|punct:yes|asian:yes|version:{V}")],
)
def test_registered_metrics_by_name(name, tgt_lang, signature):
    metric = METRICS.get(name)(tgt_lang)
    result = metric.corpus_score(["the police arrested two men"], [["the police arrested two men"]])  # sacrebleu knows nrefs once it has scored
    assert (round(result.score, 9), result.signature, metric.signature()) == (0.0 if name == "ter" else 100.0, signature,
                                                                     signature)


def test_chinese_targets_get_chinese_settings():
    ours = score_corpus(ZH_HYP, ZH_REFS, tgt_lang="zh")
    assert ours["bleu"].score == BLEU(tokenize="zh").corpus_score(ZH_HYP, [ZH_REFS]).score
    assert "tok:zh" in ours["bleu"].signature
    assert (ours["chrf"].name, "nw:0" in ours["chrf"].signature) == ("chrF2", True)
    assert "norm:yes" in ours["ter"].signature and "asian:yes" in ours["ter"].signature
    assert "tok:intl" in score_corpus(ZH_HYP, ZH_REFS, tgt_lang="zh", bleu_tokenize="intl")["bleu"].signature
    assert set(metrics_for("zh")) == {"bleu", "chrf", "ter"}


def test_several_references():
    refs2 = ["Police arrested 200 suspects on Monday.", "They flew home via Thailand.",
             "Three countries ran the operation together.", "More suspects will be returned."]
    ours = score_corpus(SYS_A, [REFS, refs2], tgt_lang="en")
    assert ours["bleu"].score == BLEU().corpus_score(SYS_A, [REFS, refs2]).score
    assert "nrefs:2" in ours["bleu"].signature


@pytest.mark.parametrize("method, extra", [("bs", {}), ("ar", {"n_ar_confidence": 1000})])
def test_significance_is_sacrebleus_paired_test(method, extra):
    n = 200 if method == "bs" else 300
    ours = compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", method=method, n_samples=n, seed=12345)
    theirs_sig, theirs = PairedTest([("A", SYS_A), ("B", SYS_B)],
                                    {"BLEU": BLEU(references=[REFS]), "chrF2++": CHRF(word_order=2, references=[REFS]),
                                     "TER": TER(references=[REFS])},
                                    references=None, test_type=method, n_samples=n, **extra)()
    # one typed row per system and metric, keyed by mtkit's metric names as score_corpus keys its scores
    assert [(r.system, r.metric, r.name) for r in ours.rows] == [
        (system, metric, name) for system in ("A", "B")
        for metric, name in (("bleu", "BLEU"), ("chrf", "chrF2++"), ("ter", "TER"))]
    for metric, name in (("bleu", "BLEU"), ("chrf", "chrF2++"), ("ter", "TER")):
        for k, system in enumerate(("A", "B")):
            r = theirs[name][k]
            assert ours.row(system, metric) == ComparisonRow(system, metric, name, r.score, r.mean, r.ci, r.p_value)
        assert ours.signatures[metric] == str(theirs_sig[name])
    assert ours.baseline == "A" and ours.row("A", "bleu").p_value is None
    assert ours.row("B", "bleu").ci > 0 and ours.row("B", "bleu").p_value < 0.05
    assert f"{method}:{n}|" in ours.signatures["bleu"] and "seed:12345" in ours.signatures["bleu"]


def test_significance_seed_is_used():
    runs = [compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", n_samples=100, seed=seed,
                            metrics=("chrf",)).row("B", "chrf").ci for seed in (1, 1, 2)]
    assert runs[0] == runs[1] != runs[2]


@pytest.mark.parametrize("seed", [0, -1])
def test_a_seed_sacrebleu_cannot_fix_is_refused(seed, capsys):
    # seed 0 gave different p-values on every run under a "seed:0" signature; -1 was a numpy traceback
    with pytest.raises(ConfigError, match=f"the resampling seed must be a positive integer .*, not {seed}$"):
        compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", n_samples=10, seed=seed)
    assert main(["evaluate", "--hyp", __file__, "--hyp", __file__, "--ref", __file__, "--tgt-lang", "en",
                 "--systems", "A,B", "--seed", str(seed)]) == 2
    assert f"positive integer (sacrebleu does not fix 0), not {seed}" in capsys.readouterr().err


@pytest.mark.parametrize("tgt_lang", ["zh-TW", "zh-CN", "zh_Hans", "zho_Hans", "ZH", "yue", "cmn_Hant"])
def test_chinese_in_any_spelling_gets_chinese_settings(tgt_lang, caplog):
    # zh-TW was scored with 13a, chrF++ and plain TER (BLEU 0.00), and warned that Chinese text did not fit it
    with caplog.at_level(logging.WARNING, logger="mtkit.evaluate"):
        ours = score_corpus(ZH_HYP, ZH_REFS, tgt_lang=tgt_lang)
    assert {k: (s.name, s.score, s.signature) for k, s in ours.items()} == {
        k: (s.name, s.score, s.signature) for k, s in score_corpus(ZH_HYP, ZH_REFS, tgt_lang="zh").items()}
    assert "tok:zh" in ours["bleu"].signature and caplog.records == []


@pytest.mark.parametrize("tgt_lang", ["Chinese", "english", "xx"])
def test_a_target_that_is_no_language_code_is_refused(tgt_lang, tmp_path, capsys):
    # was scored with the 13a defaults (BLEU 88.65 for Chinese output that gets 98.18 with tok:zh) after a warning
    message = f"tgt_lang {tgt_lang!r} is not a language code; give an ISO 639-1 code such as zh, id or en"
    with pytest.raises(ConfigError) as raised:
        score_corpus(ZH_HYP, ZH_REFS, tgt_lang=tgt_lang)
    assert str(raised.value) == message
    with pytest.raises(ConfigError, match=f"^{message}$"):
        compare_systems({"A": ZH_HYP, "B": ZH_REFS}, ZH_REFS, tgt_lang=tgt_lang, n_samples=10)
    (tmp_path / "hyp.zh").write_text("\n".join(ZH_HYP) + "\n", encoding="utf-8")
    (tmp_path / "ref.zh").write_text("\n".join(ZH_REFS) + "\n", encoding="utf-8")
    from mtkit.evaluate import evaluate_files

    with pytest.raises(ConfigError, match=f"^{message}$"):
        evaluate_files([str(tmp_path / "hyp.zh")], [str(tmp_path / "ref.zh")], tgt_lang=tgt_lang)
    assert main(["evaluate", "--hyp", str(tmp_path / "hyp.zh"), "--ref", str(tmp_path / "ref.zh"),
                 "--tgt-lang", tgt_lang]) == 2
    assert capsys.readouterr().err == f"mtkit evaluate: error: --{message.replace('_', '-', 1)}\n"
    for code in ("zh", "zh-CN", "ZH", "zho"):  # real codes in any spelling still score as Chinese
        assert main(["evaluate", "--hyp", str(tmp_path / "hyp.zh"), "--ref", str(tmp_path / "ref.zh"),
                     "--tgt-lang", code]) == 0
        assert "tok:zh" in capsys.readouterr().out


@pytest.mark.parametrize("tgt_lang, tokenizer, install", [("ja", "ja-mecab", "MeCab package, which is not installed "
                                                           "(pip install 'sacrebleu[ja]')"),
                                                          ("ko-KR", "ko-mecab", "mecab_ko package, which is not "
                                                           "installed (pip install 'sacrebleu[ko]')")])
def test_japanese_and_korean_without_mecab_use_char_with_a_warning(tgt_lang, tokenizer, install, caplog):
    from mtkit.evaluate.metrics import default_tokenizer

    default_tokenizer.cache_clear()  # the warning is given once per language and process
    with caplog.at_level(logging.WARNING, logger="mtkit.evaluate"):
        ours = score_corpus(ZH_HYP, ZH_REFS, tgt_lang=tgt_lang)
        score_corpus(ZH_HYP, ZH_REFS, tgt_lang=tgt_lang)
    assert ours["bleu"].score == BLEU(tokenize="char").corpus_score(ZH_HYP, [ZH_REFS]).score
    assert "tok:char" in ours["bleu"].signature
    lang = tgt_lang[:2]
    assert [r.getMessage() for r in caplog.records] == [
        f"the BLEU tokenizer {tokenizer} needs the {install}; BLEU for {lang} uses sacrebleu's char tokenizer "
        "instead (tok:char in the signature)"]


def test_tokenizers_that_cannot_run_here_are_one_line_errors(files, capsys, monkeypatch, tmp_path):
    import sacrebleu.utils

    monkeypatch.setattr(sacrebleu.utils, "SACREBLEU_DIR", str(tmp_path / "sacrebleu"))
    with pytest.raises(ConfigError, match=r"^the BLEU tokenizer ja-mecab needs the MeCab package, which is not "
                                          r"installed \(pip install 'sacrebleu\[ja\]'\)$"):
        score_corpus(SYS_A, REFS, tgt_lang="en", bleu_tokenize="ja-mecab")
    args = ["evaluate", "--hyp", str(files / "a.txt"), "--ref", str(files / "ref.txt"), "--tgt-lang", "en"]
    assert main(args + ["--bleu-tokenize", "flores200"]) == 2
    model = tmp_path / "sacrebleu" / "models" / "flores200sacrebleuspm"
    assert capsys.readouterr().err == (
        f"mtkit evaluate: error: the BLEU tokenizer flores200 needs sacrebleu's SentencePiece model {model}, which "
        "is not downloaded; fetch https://tinyurl.com/flores200sacrebleuspm to that path (or run `sacrebleu` once "
        "with -tok flores200 online)\n")


def test_bad_inputs():
    with pytest.raises(DataError, match="hypotheses has 3 lines but reference 1 has 4"):
        score_corpus(SYS_A[:3], REFS, tgt_lang="en")
    with pytest.raises(DataError, match=r"the reference sets differ in length \(reference 1 has 4, reference 2 has 3 "):
        score_corpus(SYS_A, [REFS, REFS[:3]], tgt_lang="en")
    with pytest.raises(ConfigError, match="unknown BLEU tokenizer 'xx'; known: none, zh, 13a"):
        score_corpus(SYS_A, REFS, tgt_lang="en", bleu_tokenize="xx")
    with pytest.raises(ConfigError) as error:
        score_corpus(SYS_A, REFS, tgt_lang="en", metrics=("meteor",))
    assert str(error.value) == "unknown metric 'meteor'; known: bleu, chrf, ter; aliases: chrf++ (chrf)"
    with pytest.raises(DataError, match="no lines to evaluate"):
        score_corpus([], REFS, tgt_lang="en")
    with pytest.raises(ConfigError, match="baseline 'C' is not one of the systems: A, B"):
        compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", baseline="C")
    with pytest.raises(ConfigError, match="unknown significance method 'xx'; known: bs, ar"):
        compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", method="xx")


@pytest.mark.parametrize(
    "hyps, refs, tgt_lang, warning",
    [(SYS_A, REFS, "zh", "hypotheses: --tgt-lang is zh but the text is mostly Latin script"),
     (ZH_HYP, ZH_REFS, "en", "hypotheses: --tgt-lang is en but the text is mostly Chinese characters"),
     (ZH_HYP, ZH_REFS, "zh", None),
     (SYS_A, REFS, "id", None)],
)
def test_mismatched_language_warns(caplog, hyps, refs, tgt_lang, warning):
    with caplog.at_level(logging.WARNING, logger="mtkit.evaluate"):
        score_corpus(hyps, refs, tgt_lang=tgt_lang)
    assert [r.getMessage() for r in caplog.records] == ([warning] if warning else [])


@pytest.fixture
def files(tmp_path):
    for name, lines in (("ref.txt", REFS), ("a.txt", SYS_A), ("b.txt", SYS_B), ("short.txt", SYS_A[:2])):
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "blank.txt").write_text("\n \n\n\n", encoding="utf-8")
    return tmp_path


def test_cli_prints_scores_with_signatures_and_writes_reports(files, capsys):
    out = files / "eval"
    assert main(["evaluate", "--hyp", str(files / "a.txt"), "--hyp", str(files / "b.txt"), "--ref",
                 str(files / "ref.txt"), "--tgt-lang", "en", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    bleu = BLEU().corpus_score(SYS_A, [REFS]).score
    assert lines[0] == "# a.txt"
    assert lines[1] == f"BLEU = {bleu:.2f}\tnrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{sacrebleu.__version__}"
    report = json.loads((out / "eval.json").read_text())
    assert report["comparison"]["baseline"] == "a.txt"
    assert [(row["system"], row["metric"], row["name"]) for row in report["comparison"]["rows"]] == [
        (system, metric, name) for system in ("a.txt", "b.txt")
        for metric, name in (("bleu", "BLEU"), ("chrf", "chrF2++"), ("ter", "TER"))]
    assert report["worst_segments"]["b.txt"][0]["line"] in (1, 2, 3, 4)
    assert "COMET not computed" in report["notes"][0]
    assert "## Significance (paired bootstrap resampling, baseline a.txt)" in (out / "eval.md").read_text()
    assert (out / "eval.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "extra, message",
    [(["--hyp", "short.txt", "--ref", "ref.txt"], "has 2 lines but"),
     (["--hyp", "empty.txt", "--ref", "ref.txt"], "empty.txt: empty file"),
     (["--hyp", "a.txt", "--ref", "blank.txt"], "blank.txt: all 4 lines are empty"),
     (["--hyp", "a.txt", "--ref", "missing.txt"], "missing.txt: no such file"),
     (["--hyp", "a.txt", "--ref", "ref.txt", "--ref", "short.txt"], "ref.txt has 4, "),
     (["--hyp", "a.txt"], "give --hyp, --ref and --tgt-lang"),
     (["--hyp", "a.txt", "--hyp", "a.txt", "--ref", "ref.txt"], "system names repeat (a.txt, a.txt); give distinct"),
     (["--hyp", "a.txt", "--ref", "ref.txt", "--systems", "x,y"], "2 system names for 1 hypothesis files")],
)
def test_cli_bad_input_messages(files, capsys, extra, message):
    args = ["evaluate", "--tgt-lang", "en"] + [str(files / a) if a.endswith(".txt") else a for a in extra]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    if "--ref" in extra and extra.count("--ref") == 2:
        assert "short.txt has 2 lines); each must match the hypotheses" in err


def test_model_card_round_trip(files, tmp_path):
    from huggingface_hub import ModelCard

    out = files / "eval"
    assert main(["evaluate", "--hyp", str(files / "a.txt"), "--ref", str(files / "ref.txt"), "--tgt-lang", "en",
                 "--out", str(out)]) == 0
    card_path = tmp_path / "model_cards" / "opus-mps.md"
    assert main(["card", "--eval", str(out / "eval.json"), "--out", str(card_path), "--model-name", "opus-mps",
                 "--base-model", "Helsinki-NLP/opus-mt-zh-en", "--languages", "zh,en", "--dataset", "mtkit/mps",
                 "--dataset-config", "en-zh"]) == 0
    card = ModelCard.load(card_path)
    results = card.data.eval_results
    assert [(r.metric_type, r.metric_name) for r in results] == [("bleu", "BLEU"), ("chrf", "chrF2++"), ("ter", "TER")]
    assert results[0].metric_value == round(BLEU().corpus_score(SYS_A, [REFS]).score, 4)
    assert results[1].metric_config.startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:2")
    assert results[2].metric_args == {"signature": results[2].metric_config}
    text = card_path.read_text()
    assert "      args:\n        signature: nrefs:1|case:lc|tok:tercom|" in text
    assert "| TER | 21.43 | `nrefs:1\\|case:lc\\|tok:tercom\\|norm:no\\|punct:yes\\|asian:no\\|version:" in text
    assert (card.data.base_model, card.data.language, results[0].dataset_config) == (
        "Helsinki-NLP/opus-mt-zh-en", ["zh", "en"], "en-zh")


@pytest.mark.parametrize("flag", ["--paired-bs", "--paired-ar"])
def test_cli_significance_equals_the_sacrebleu_command(files, flag):
    """`mtkit evaluate` and `sacrebleu` on the same files and settings print the same table numbers. sacrebleu's
    command gives no CIs with --paired-ar (mtkit adds them through sacrebleu's bootstrap: `bs:1000` in the
    signature), so for ar the scores, p-values and the rest of the signature are compared."""
    n = "200" if flag == "--paired-bs" else "500"
    hyps = [str(files / "a.txt"), str(files / "b.txt")]
    assert main(["-q", "evaluate", "--hyp", hyps[0], "--hyp", hyps[1], "--ref", str(files / "ref.txt"), "--tgt-lang",
                 "en", "--out", str(files / "ev"), flag, "--paired-n", n]) == 0
    theirs = subprocess.run([sys.executable, "-m", "sacrebleu", str(files / "ref.txt"), "-i", *hyps, "-m", "bleu",
                             "chrf", "ter", "--chrf-word-order", "2", flag, f"{flag}-n", n, "-w", "4", "--no-color",
                             "-f", "text"], capture_output=True, text=True, check=True).stdout
    report = json.loads((files / "ev" / "eval.json").read_text())
    for r in report["comparison"]["rows"]:
        if flag == "--paired-bs":
            assert f"{r['score']:.4f} ({r['mean']:.4f} ± {r['ci']:.4f})" in theirs
        else:
            assert f"{r['score']:.4f}" in theirs and r["ci"] > 0
        if r["p_value"] is not None:
            assert f"(p = {r['p_value']:.4f})" in theirs
    b = next(r for r in report["comparison"]["rows"] if (r["system"], r["metric"]) == ("b.txt", "bleu"))
    md = (files / "ev" / "eval.md").read_text()
    assert f"| b.txt | {b['score']:.2f} ({b['mean']:.2f} ± {b['ci']:.2f}) (p = {b['p_value']:.4f}" in md
    names = {r["metric"]: r["name"] for r in report["comparison"]["rows"]}
    for metric, signature in report["comparison"]["signatures"].items():
        signature = signature.replace('|bs:1000', '') if flag == '--paired-ar' else signature
        assert f" - {names[metric]:<10} {signature}" in theirs


def test_lines_split_as_sacrebleu_splits_them(tmp_path, capsys):
    """Only `\\n` ends a line (sacrebleu's reading); a form feed or U+2028 inside a line does not."""
    refs = ["The police sat\u2028on the mat.", "They were flown\x0chome.", "Three countries."]
    hyps = ["The police sat on the mat.", "They were flown home.", "Three countries."]
    (tmp_path / "ref.txt").write_text("\n".join(refs) + "\r\n", encoding="utf-8", newline="")
    (tmp_path / "hyp.txt").write_text("\n".join(hyps) + "\n", encoding="utf-8")
    assert main(["evaluate", "--hyp", str(tmp_path / "hyp.txt"), "--ref", str(tmp_path / "ref.txt"), "--tgt-lang",
                 "en"]) == 0
    bleu = BLEU().corpus_score(hyps, [refs]).score
    assert capsys.readouterr().out.splitlines()[0] == (
        f"BLEU = {bleu:.2f}\tnrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{sacrebleu.__version__}")


def test_cli_prints_the_significance_table(files, capsys):
    """Without --out the paired test's results were computed and never shown."""
    assert main(["evaluate", "--hyp", str(files / "a.txt"), "--hyp", str(files / "b.txt"), "--ref",
                 str(files / "ref.txt"), "--tgt-lang", "en", "--paired-n", "200"]) == 0
    lines = capsys.readouterr().out.splitlines()
    comparison = compare_systems({"a.txt": SYS_A, "b.txt": SYS_B}, REFS, tgt_lang="en", n_samples=200)
    a, b = ([comparison.row(system, m) for m in ("bleu", "chrf", "ter")] for system in ("a.txt", "b.txt"))
    assert lines[8] == "# significance (paired bootstrap resampling, baseline a.txt): score (mean ± 95% CI) (p-value)"
    assert lines[9] == "a.txt\t" + "\t".join(f"{r.name} = {r.score:.2f} ({r.mean:.2f} ± {r.ci:.2f})" for r in a)
    assert lines[10] == "b.txt\t" + "\t".join(
        f"{r.name} = {r.score:.2f} ({r.mean:.2f} ± {r.ci:.2f}) (p = {r.p_value:.4f}{'*' if r.p_value < 0.05 else ''})"
        for r in b)
    assert [r.name for r in a] == ["BLEU", "chrF2++", "TER"]
    assert lines[11] == f"BLEU\t{comparison.signatures['bleu']}" and "|bs:200|seed:12345|" in lines[11]


@pytest.mark.parametrize("extra, message", [
    (["--hyp", "a.txt", "--ref", "ref.txt", "--src", "short.txt"],
     "mtkit evaluate: error: the source file has 2 lines but the references have 4\n"),
    (["--hyp", "a.txt", "--hyp", "b.txt", "--ref", "ref.txt", "--paired-n", "0"],
     "mtkit evaluate: error: the number of resamples must be at least 1, not 0\n"),
])
def test_cli_more_bad_inputs(files, capsys, extra, message):
    args = ["evaluate", "--tgt-lang", "en"] + [str(files / a) if a.endswith(".txt") else a for a in extra]
    assert main(args) == 2
    assert capsys.readouterr().err == message


def test_card_takes_the_first_system_as_evaluated(files, tmp_path, capsys):
    """eval.json sorts its keys: `card` without --system took the alphabetically first system's scores."""
    from huggingface_hub import ModelCard

    (files / "z.txt").write_text("\n".join(SYS_A) + "\n", encoding="utf-8")
    assert main(["evaluate", "--hyp", str(files / "z.txt"), "--hyp", str(files / "b.txt"), "--ref",
                 str(files / "ref.txt"), "--tgt-lang", "en", "--out", str(files / "ev"), "--paired-n", "10"]) == 0
    report = json.loads((files / "ev" / "eval.json").read_text())
    assert report["system_order"] == ["z.txt", "b.txt"]
    md = (files / "ev" / "eval.md").read_text()
    assert md.index("| z.txt | BLEU |") < md.index("| b.txt | BLEU |")
    card = tmp_path / "card.md"
    assert main(["card", "--eval", str(files / "ev" / "eval.json"), "--out", str(card), "--model-name", "z",
                 "--languages", "zh,en", "--dataset", "mtkit/mps"]) == 0
    assert ModelCard.load(card).data.eval_results[0].metric_value == round(BLEU().corpus_score(SYS_A, [REFS]).score, 4)
    capsys.readouterr()
    assert main(["card", "--eval", str(tmp_path / "missing.json"), "--out", str(card), "--model-name", "z",
                 "--languages", "zh,en", "--dataset", "mtkit/mps"]) == 2
    assert capsys.readouterr().err == f"mtkit card: error: {tmp_path / 'missing.json'}: no such file\n"


def test_a_system_of_empty_lines_is_scored_as_sacrebleu_scores_it(files, capsys, caplog):
    # it was refused as "empty file", and with it the comparison of the other systems
    (files / "blank4.txt").write_text("\n\n\n\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="mtkit.evaluate"):
        assert main(["evaluate", "--hyp", str(files / "a.txt"), "--hyp", str(files / "blank4.txt"), "--ref",
                     str(files / "ref.txt"), "--tgt-lang", "en", "--paired-n", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    theirs = {name: (m.corpus_score([""] * 4, [REFS]).score, str(m.get_signature()))
              for name, m in (("BLEU", BLEU()), ("chrF2++", CHRF(word_order=2)), ("TER", TER()))}
    assert theirs == {"BLEU": (0.0, out[5].split("\t")[1]), "chrF2++": (0.0, out[6].split("\t")[1]),
                      "TER": (100.0, out[7].split("\t")[1])}
    assert out[4:8] == ["# blank4.txt", f"BLEU = 0.00\t{theirs['BLEU'][1]}", f"chrF2++ = 0.00\t{theirs['chrF2++'][1]}",
                        f"TER = 100.00\t{theirs['TER'][1]}"]
    assert [r.getMessage() for r in caplog.records] == [f"{files / 'blank4.txt'}: all 4 lines are empty; scored as "
                                                        "they are"]


@pytest.mark.parametrize("call, error, message", [
    # one rule for align's, evaluate's and translate's lists (mtkit.utils.checked_texts): a wrong type, of the list
    # or of a line, is a TypeError naming the argument and the index (a line that is not a string was a
    # DataError, "hypotheses line 1"); no references at all is the data's content, a DataError
    (lambda: score_corpus(["the cat"], "the cat", tgt_lang="en"), TypeError,
     "references is one str (7 characters), not a list of lines; give references=[line, ...] or [[line, ...], "
     "[line, ...]] for several references"),
    (lambda: score_corpus("the cat", ["the cat"], tgt_lang="en"), TypeError,
     "hypotheses is one str (7 characters), not a list of lines; give score_corpus([line, ...], references, ...)"),
    (lambda: score_corpus(None, ["the cat"], tgt_lang="en"), TypeError,
     "hypotheses is None, not a list of lines; give score_corpus([line, ...], references, ...)"),
    (lambda: score_corpus(["the cat"], [], tgt_lang="en"), DataError,
     "no references given: references=[line, ...] or [[line, ...], [line, ...]] for several references"),
    (lambda: score_corpus([None], ["the cat"], tgt_lang="en"), TypeError, "hypotheses[0] is None, not a string"),
    (lambda: score_corpus(["the cat"], [["the cat"], [3]], tgt_lang="en"), TypeError,
     "references[1][0] is int 3, not a string"),
    (lambda: compare_systems({"a": "x y", "b": ["x"]}, ["x y"], tgt_lang="en"), TypeError,
     "systems['a'] is one str (3 characters), not a list of lines; give compare_systems({name: [line, ...], ...}, "
     "references, ...)"),
])
def test_api_misuse_gets_clear_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message
    assert issubclass(DataError, ValueError)  # references=[]: a ValueError, as callers catch


def test_api_accepts_one_metric_name_iterables_and_no_seed():
    one = score_corpus(SYS_A, REFS, tgt_lang="en", metrics="bleu")  # was: unknown metric 'b'
    assert list(one) == ["bleu"] and one["bleu"].score == BLEU().corpus_score(SYS_A, [REFS]).score
    assert score_corpus(SYS_A, (r for r in REFS), tgt_lang="en")["bleu"].score == one["bleu"].score
    # seed None: unseeded, as sacrebleu's SACREBLEU_SEED=None (was: TypeError '<' not supported)
    unseeded = compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", n_samples=10, seed=None)
    assert "|bs:10|seed:none|" in unseeded.signatures["bleu"]


def test_options_that_would_be_ignored(files, capsys, caplog):
    args = ["evaluate", "--hyp", str(files / "a.txt"), "--ref", str(files / "ref.txt"), "--tgt-lang", "en"]
    with caplog.at_level(logging.WARNING, logger="mtkit.evaluate"):
        assert main(args + ["--paired-ar", "--baseline", "a.txt"]) == 0
    assert [r.getMessage() for r in caplog.records] == [
        "--paired-ar, --baseline ignored: significance needs two or more systems"]
    capsys.readouterr()
    dataset = ["--dataset", str(files), "--config", "en-zh", "--direction", "zh->en"]
    assert main(args + dataset) == 2
    assert capsys.readouterr().err == ("mtkit evaluate: error: --ref cannot be used with --dataset: the split's rows "
                                       "are the references and sources\n")
    assert main(["evaluate", "--hyp", str(files / "a.txt"), "--tgt-lang", "zh"] + dataset) == 2
    assert capsys.readouterr().err == ("mtkit evaluate: error: --tgt-lang zh contradicts the direction's target en "
                                       "(with --dataset the target comes from --direction)\n")


def test_out_is_checked_before_anything_is_scored(files, capsys, monkeypatch):
    import mtkit.evaluate.run as run

    monkeypatch.setattr(run, "read_lines", lambda *a, **k: pytest.fail("read before --out was checked"))
    (files / "afile").write_text("x")
    args = ["evaluate", "--hyp", str(files / "a.txt"), "--ref", str(files / "ref.txt"), "--tgt-lang", "en", "--out"]
    for out, reason in ((files / "afile", f"{files / 'afile'} is a file, not a folder"),
                        (files / "afile" / "ev", f"{files / 'afile'} is a file, not a folder"),
                        ("/proc/nope", "cannot create files in /proc (No such file or directory)")):
        assert main(args + [str(out)]) == 2
        assert capsys.readouterr().err == f"mtkit evaluate: error: cannot write {out}: {reason}\n"


@pytest.mark.parametrize("content, message", [
    ("[1]", "not an eval.json from `mtkit evaluate --out` (no systems' scores)"),
    ('{"systems": {}}', "not an eval.json from `mtkit evaluate --out` (no systems' scores)"),
    ('{"systems": {"a": {"bleu": 3}}}', "system 'a' has no scores of the form eval.json writes (name, score, "
                                         "signature)"),
])
def test_card_on_a_malformed_eval_json(tmp_path, capsys, content, message):
    (tmp_path / "e.json").write_text(content)
    assert main(["card", "--eval", str(tmp_path / "e.json"), "--languages", "zh,en", "--dataset", "x", "--out",
                 str(tmp_path / "c.md"), "--model-name", "x"]) == 2
    assert capsys.readouterr().err == f"mtkit card: error: {tmp_path / 'e.json'}: {message}\n"


def test_card_languages_from_a_files_eval_json(files, tmp_path, capsys):
    # --languages en,zh on a zh->en eval wrote "Translation en-zh"; en,zh,id wrote "Translation en-zh-id"
    assert main(["evaluate", "--hyp", str(files / "a.txt"), "--ref", str(files / "ref.txt"), "--tgt-lang", "en",
                 "--out", str(files / "ev")]) == 0
    capsys.readouterr()
    ev = files / "ev" / "eval.json"
    args = ["card", "--eval", str(ev), "--out", str(tmp_path / "c.md"), "--model-name", "m", "--dataset", "org/x"]
    for extra, message in (
            ([], f"give --languages SRC,TGT ({ev} does not record the source language)"),
            (["--languages", "en,zh"], f"--languages en,zh contradicts {ev}, whose target language is en"),
            (["--languages", "zh"], "--languages zh: give two codes, source and target, e.g. zh,en")):
        assert main(args + extra) == 2
        assert capsys.readouterr().err == f"mtkit card: error: {message}\n"
    assert main(args + ["--languages", "zh,en"]) == 0


def test_compare_systems_wants_a_dict_of_systems():
    """A list of systems was an AttributeError ('list' object has no attribute 'items') from deep inside."""
    with pytest.raises(TypeError) as error:
        compare_systems([SYS_A, SYS_B], REFS, tgt_lang="en")
    assert str(error.value) == ("systems is a list; give a dict of system name -> lines: "
                                "compare_systems({name: [line, ...], ...}, references, ...)")


@pytest.mark.parametrize("tgt_lang, name", [("en", "chrF2++"), ("zh", "chrF2")])
def test_chrf_plus_plus_names_the_chrf_metric(tgt_lang, name):
    """'chrf' computes chrF++ (plain chrF for CJK targets), and `metrics="chrf++"` was refused as unknown."""
    hyps, refs = (SYS_A, REFS) if tgt_lang == "en" else (ZH_HYP, ZH_REFS)
    ours = score_corpus(hyps, refs, tgt_lang=tgt_lang, metrics="chrf++")
    assert {k: (s.name, s.score) for k, s in ours.items()} == {
        "chrf": (name, score_corpus(hyps, refs, tgt_lang=tgt_lang, metrics="chrf")["chrf"].score)}
    assert "chrf++" in METRICS and METRICS.get("chrf++") is METRICS.get("chrf")
    assert list(metrics_for(tgt_lang, ("chrf++", "bleu"))) == ["chrf", "bleu"]
    if tgt_lang == "en":
        comparison = compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", metrics=("chrf++",), n_samples=10)
        assert [(r.system, r.metric, r.name) for r in comparison.rows] == [("A", "chrf", name), ("B", "chrf", name)]
        assert list(comparison.signatures) == ["chrf"] and comparison.row("B", "chrf++") is comparison.rows[1]
