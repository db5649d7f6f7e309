"""Evaluation: sacrebleu's numbers and signatures, language settings, significance, reports, cards, bad input."""

import json
import logging

import pytest
import sacrebleu
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

from mtkit.cli import main
from mtkit.errors import ConfigError, DataError
from mtkit.evaluate import compare_systems, metrics_for, score_corpus

REFS = ["The police arrested 200 suspects on Monday.", "They were flown home via Thailand.",
        "The operation was a joint effort of three countries.", "More suspects will be sent back."]
SYS_A = ["Police arrested 200 suspects on Monday.", "They were flown home through Thailand.",
         "The operation was a joint action by three countries.", "More suspects will be returned."]
SYS_B = ["Police caught suspects.", "They flew.", "Three countries worked.", "More will come."]
ZH_REFS = ["警方周一抓获200名嫌疑人。", "他们经泰国被押解回国。"]
ZH_HYP = ["警方周一抓获了200名嫌疑人。", "他们经由泰国被押送回国。"]


def test_scores_equal_sacrebleus_own():
    ours = score_corpus(SYS_A, REFS, tgt_lang="en")
    assert ours["bleu"].score == BLEU(tokenize="13a").corpus_score(SYS_A, [REFS]).score
    assert ours["chrf"].score == CHRF(word_order=2).corpus_score(SYS_A, [REFS]).score
    assert ours["ter"].score == TER().corpus_score(SYS_A, [REFS]).score
    assert ours["bleu"].signature == f"nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{sacrebleu.__version__}"
    assert ours["chrf"].name == "chrF2++"


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


@pytest.mark.parametrize("method", ["bs", "ar"])
def test_significance_is_sacrebleus_paired_test(method):
    n = 200 if method == "bs" else 300
    ours = compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", method=method, n_samples=n, metrics=("bleu",))
    theirs_sig, theirs = PairedTest([("A", SYS_A), ("B", SYS_B)], {"BLEU": BLEU(references=[REFS])}, references=None,
                                    test_type=method, n_samples=n)()
    assert ours.rows[1]["BLEU"]["p_value"] == theirs["BLEU"][1].p_value
    assert ours.rows[1]["BLEU"]["score"] == theirs["BLEU"][1].score
    assert ours.signatures["BLEU"] == str(theirs_sig["BLEU"])
    assert ours.baseline == "A" and ours.rows[0]["BLEU"]["p_value"] is None


def test_bad_inputs():
    with pytest.raises(DataError, match="hypotheses has 3 lines but reference 1 has 4"):
        score_corpus(SYS_A[:3], REFS, tgt_lang="en")
    with pytest.raises(DataError, match="no lines to evaluate"):
        score_corpus([], [], tgt_lang="en")
    with pytest.raises(ConfigError, match="baseline 'C' is not one of the systems: A, B"):
        compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", baseline="C")
    with pytest.raises(ConfigError, match="unknown significance method 'xx'; known: bs, ar"):
        compare_systems({"A": SYS_A, "B": SYS_B}, REFS, tgt_lang="en", method="xx")


def test_mismatched_language_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="mtkit.evaluate"):
        score_corpus(SYS_A, REFS, tgt_lang="zh")
    assert "--tgt-lang is zh but the text is mostly Latin script" in caplog.text


@pytest.fixture
def files(tmp_path):
    for name, lines in (("ref.txt", REFS), ("a.txt", SYS_A), ("b.txt", SYS_B), ("short.txt", SYS_A[:2])):
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
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
    assert [row["system"] for row in report["comparison"]["rows"]] == ["a.txt", "b.txt"]
    assert report["worst_segments"]["b.txt"][0]["line"] in (1, 2, 3, 4)
    assert "COMET not computed" in report["notes"][0]
    assert "## Significance (paired bootstrap resampling, baseline a.txt)" in (out / "eval.md").read_text()
    assert (out / "eval.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "extra, message",
    [(["--hyp", "short.txt", "--ref", "ref.txt"], "has 2 lines but"),
     (["--hyp", "empty.txt", "--ref", "ref.txt"], "empty file"),
     (["--hyp", "a.txt", "--ref", "missing.txt"], "missing.txt: no such file")],
)
def test_cli_bad_input_messages(files, capsys, extra, message):
    args = ["evaluate", "--tgt-lang", "en"] + [str(files / a) if a.endswith(".txt") else a for a in extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err


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
    assert (card.data.base_model, card.data.language, results[0].dataset_config) == (
        "Helsinki-NLP/opus-mt-zh-en", ["zh", "en"], "en-zh")


def test_models_on_a_built_dataset_split(tmp_path, capsys):
    """`evaluate --model --dataset`: translate the split with each model, score, break down, compare."""
    from mtkit.testing import build_tiny_marian

    data = tmp_path / "mps"
    corpus = __import__("pathlib").Path(__file__).resolve().parents[2] / "corpora" / "mps-fraud-2024"
    assert main(["-q", "build", str(corpus), "--out", str(data), "--encoder", "lexical"]) == 0
    a = build_tiny_marian(tmp_path / "a", seed=1)
    b = build_tiny_marian(tmp_path / "b", seed=2)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(a), "--model", str(b), "--systems", "base,tuned", "--dataset", str(data),
                 "--config", "en-zh", "--split", "train", "--direction", "zh->en", "--out", str(tmp_path / "ev"),
                 "--backend", "hf"]) == 0
    report = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert set(report["systems"]) == {"base", "tuned"}
    assert report["comparison"]["baseline"] == "base"
    assert set(report["breakdown"]["base"]["document"]) == {"mps-coop-2024.zh"}
    assert sum(r["segments"] for r in report["breakdown"]["base"]["bead type"].values()) == 12
    assert "tok:13a" in report["systems"]["base"]["bleu"]["signature"]
    with pytest.raises(Exception, match="does not fit config"):
        from mtkit.evaluate.run import parse_direction

        parse_direction("zh->id", "en-zh")
