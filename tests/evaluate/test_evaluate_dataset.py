"""Evaluating systems on a split of a dataset folder (the builder's Parquet layout, written here by hand), and cards
from a model folder."""

import dataclasses
import json

import pytest
from sacrebleu.metrics import BLEU, CHRF

from mtkit.cli import main
from mtkit.errors import ConfigError, DataError
from mtkit.corpus.dataset import parse_direction
from mtkit.evaluate import EvalResult, evaluate_dataset

ROWS = [  # zh source, en reference, source document, bead type
    ("警方周一抓获200名嫌疑人。", "Police arrested 200 suspects on Monday.", "story-a.zh", "1-1"),
    ("他们经泰国被押解回国。", "They were flown home via Thailand.", "story-a.zh", "2-1"),
    ("三国联合行动。", "The operation was a joint effort of three countries.", "story-b.zh", "1-1"),
]
HYPS = {  # the stub translator's outputs per model
    "good": ["Police arrested 200 suspects on Monday.", "They were sent home through Thailand.",
             "A joint operation of three countries."],
    "bad": ["Police suspects.", "They flew.", "Three countries."],
}


@pytest.fixture
def dataset(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "mps"
    (root / "data" / "en-zh").mkdir(parents=True)
    table = pa.Table.from_pylist([
        {"translation": {"en": en, "zh": zh}, "src_lang": "zh", "src_doc": doc, "tgt_doc": doc.replace(".zh", ".en"),
         "bead_type": bead, "score": 0.9} for zh, en, doc, bead in ROWS])
    pq.write_table(table, root / "data" / "en-zh" / "test-00000-of-00001.parquet")
    (root / "README.md").write_text("---\nconfigs:\n- config_name: en-zh\n  data_files:\n  - split: test\n"
                                    "    path: data/en-zh/test-*.parquet\n---\n\n# mps\n", encoding="utf-8")
    return root


class StubTranslator:
    def __init__(self, model):
        self.model = model

    def translate(self, sentences, **settings):
        assert sentences == [zh for zh, *_ in ROWS]
        return HYPS[self.model]


def test_breakdowns_and_comparison_on_a_split(dataset, tmp_path):
    report = evaluate_dataset(dataset, config_name="en-zh", split="test", direction="zh->en", models=["good", "bad"],
                              out_dir=tmp_path / "ev", translator_factory=StubTranslator)
    refs = [en for _, en, *_ in ROWS]
    assert report.scores["good"]["bleu"].score == BLEU().corpus_score(HYPS["good"], [refs]).score
    assert report.comparison.baseline == "good"
    by_doc = report.breakdown["bad"]["document"]
    assert {doc: r["segments"] for doc, r in by_doc.items()} == {"story-a.zh": 2, "story-b.zh": 1}
    assert by_doc["story-a.zh"]["chrf"] == round(CHRF(word_order=2).corpus_score(HYPS["bad"][:2], [refs[:2]]).score, 4)
    by_bead = report.breakdown["good"]["bead type"]
    assert {bead: r["segments"] for bead, r in by_bead.items()} == {"1-1": 2, "2-1": 1}
    assert by_bead["2-1"]["bleu"] == round(BLEU().corpus_score(HYPS["good"][1:2], [refs[1:2]]).score, 4)
    worst = report.worst_segments["bad"][0]
    assert (worst["source"], worst["reference"], worst["hypothesis"]) == (ROWS[1][0], ROWS[1][1], "They flew.")
    md = (tmp_path / "ev" / "eval.md").read_text()
    assert "## bad: by document" in md and "| story-b.zh | 1 |" in md
    assert "| 2 | " + str(worst["chrf"]) + " | 他们经泰国被押解回国。 | They were flown home via Thailand. | They flew. |" in md


def test_breakdown_by_source_document_when_rows_differ_in_orientation(tmp_path):
    # export_corpus writes each pair as aligned: one config can hold en->zh and zh->en rows side by side; the
    # source document of each row must come from that row's own orientation (was: the first row's for all)
    from mtkit.publish import DatasetCardInfo, export_corpus
    from mtkit.records import SentencePair

    pairs = [
        SentencePair("a", "en", "zh", "It rained.", "下雨了。", 0.9, "1-1", "enA", "zhA", (0,), (0,), ((0, 10),),
                     ((0, 4),), "s1", "test"),
        SentencePair("b", "zh", "en", "你好。", "Hello.", 0.8, "1-1", "zhB", "enB", (0,), (0,), ((0, 3),),
                     ((0, 6),), "s2", "test"),
    ]
    export_corpus(pairs, tmp_path / "mixed", card=DatasetCardInfo(name="m", pretty_name="M", languages=["en", "zh"]),
                  formats=("parquet",))
    hyp = tmp_path / "hyp.zh"
    hyp.write_text("下雨了。\n你好。\n", encoding="utf-8")
    for direction, expected in (("en->zh", ["enA", "enB"]), ("zh->en", ["zhA", "zhB"])):
        report = evaluate_dataset(tmp_path / "mixed", config_name="en-zh", split="test", direction=direction,
                                  hyp_paths=[str(hyp)])
        assert sorted(report.breakdown["hyp.zh"]["document"]) == expected


@pytest.mark.parametrize(
    "direction, config, expected",
    [("zh->en", "en-zh", ("zh", "en")), ("en -> zh", "en-zh", ("en", "zh")),
     # no default: the config's (alphabetical) order translated en->zh with a zh->en model
     (None, "en-zh", "give the direction, SRC->TGT (en->zh or zh->en): config 'en-zh' holds both directions"),
     ("", "en-zh", "give the direction, SRC->TGT (en->zh or zh->en): config 'en-zh' holds both directions"),
     ("zh->id", "en-zh", "direction 'zh->id' does not fit config 'en-zh' (languages: en, zh)"),
     ("zh", "en-zh", "direction 'zh' is not of the form SRC->TGT, e.g. zh->en"),
     ("zh->en", ["en", "zh"], "config_name must be a dataset config name, a language pair such as 'en-zh' (a str), "
                              "not list"),
     (("zh", "en"), "en-zh", "direction must be a str SRC->TGT such as 'zh->en', not tuple")],
)
def test_directions(direction, config, expected):
    if isinstance(expected, tuple):
        assert parse_direction(direction, config) == expected
    else:
        with pytest.raises(ConfigError) as error:
            parse_direction(direction, config)
        assert str(error.value) == expected


def test_the_builds_save_to_disk_copies_evaluate_as_the_parquet_folder(dataset, tmp_path):
    """`evaluate --dataset build/X/hf/en-zh` (or `.../hf`) failed ("BuilderConfig 'en-zh' not found") where finetune
    and translate read the same folder; its dev split is named dev, the Parquet layout's validation."""
    import datasets

    rows = datasets.load_dataset(str(dataset), "en-zh", split="test")
    datasets.DatasetDict({"dev": rows, "test": rows}).save_to_disk(str(tmp_path / "hf" / "en-zh"))
    expected = evaluate_dataset(dataset, config_name="en-zh", split="test", direction="zh->en", models=["good"],
                                translator_factory=StubTranslator)
    for folder, split in ((tmp_path / "hf", "test"), (tmp_path / "hf" / "en-zh", "test"),
                          (tmp_path / "hf" / "en-zh", "validation")):
        got = evaluate_dataset(folder, config_name="en-zh", split=split, direction="zh->en", models=["good"],
                               translator_factory=StubTranslator)
        assert (got.scores, got.breakdown, got.worst_segments) == (expected.scores, expected.breakdown,
                                                                   expected.worst_segments)
        assert got.evaluated == {**expected.evaluated, "dataset": str(folder), "split": split}


def test_split_errors(dataset):
    with pytest.raises(DataError, match=r"mps \(en-zh\): no split 'train' \(empty splits are not declared\); "
                                        r"splits: test$"):
        evaluate_dataset(dataset, config_name="en-zh", split="train", direction="zh->en", models=["good"],
                         translator_factory=StubTranslator)
    with pytest.raises(DataError, match="nowhere: no such dataset folder$"):
        evaluate_dataset(dataset / "nowhere", config_name="en-zh", direction="zh->en", models=["good"],
                         translator_factory=StubTranslator)
    with pytest.raises(ConfigError, match="3 system names for 1 systems"):
        evaluate_dataset(dataset, config_name="en-zh", direction="zh->en", models=["good"],
                         system_names=["a", "b", "c"], translator_factory=StubTranslator)


@pytest.mark.slow
def test_tiny_marian_models_through_the_cli_and_a_card_from_the_model_dir(dataset, tmp_path, capsys, caplog):
    """`evaluate --model` translates with mtkit.translate (random tiny Marians), then `card --model-dir`."""
    from huggingface_hub import ModelCard

    from mtkit.testing import build_tiny_marian
    from mtkit.translate import Translator

    a = build_tiny_marian(tmp_path / "a", seed=1)
    b = build_tiny_marian(tmp_path / "b", seed=2)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(a), "--model", str(b), "--systems", "base,tuned", "--dataset", str(dataset),
                 "--config", "en-zh", "--split", "test", "--direction", "zh->en", "--out", str(tmp_path / "ev"),
                 "--backend", "hf", "--beam", "1", "--max-length", "8", "--paired-ar"]) == 0
    out = capsys.readouterr().out.splitlines()
    # random weights write Chinese pieces: the script warning comes once per system, not once per score
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("base: ")] == [
        "base: the target of zh->en is en but the text is mostly Chinese characters"]  # no --tgt-lang was given
    assert out[0] == "# base" and out[1].startswith("BLEU = ") and "\tnrefs:1|case:mixed|eff:no|tok:13a|" in out[1]
    report = json.loads((tmp_path / "ev" / "eval.json").read_text())
    hyps = Translator(a, backend="hf", src_lang="zh", tgt_lang="en").translate([zh for zh, *_ in ROWS], max_length=8)
    refs = [en for _, en, *_ in ROWS]
    assert report["systems"]["base"]["chrf"]["score"] == CHRF(word_order=2).corpus_score(hyps, [refs]).score
    assert report["comparison"]["method"] == "ar" and "bs:1000|ar:10000|" in report["comparison"]["signatures"]["bleu"]

    card = tmp_path / "model_cards" / "b.md"
    assert main(["card", "--model-dir", str(b), "--eval", str(tmp_path / "ev" / "eval.json"), "--system", "tuned",
                 "--out", str(card), "--languages", "zh,en", "--dataset", "mtkit/mps", "--dataset-config", "en-zh"]) == 0
    loaded = ModelCard.load(card)
    assert loaded.data.model_name == "b"
    assert [(r.metric_name, r.metric_value) for r in loaded.data.eval_results] == [
        (m["name"], round(m["score"], 4)) for m in report["systems"]["tuned"].values()]
    assert main(["card", "--model-dir", str(tmp_path), "--eval", str(tmp_path / "ev" / "eval.json"), "--out",
                 str(card), "--languages", "zh,en", "--dataset", "x"]) == 2
    assert "not a saved model (no config.json or adapter_config.json)" in capsys.readouterr().err
    # a LoRA run's final/ holds the models to name, as `mtkit translate` says
    (tmp_path / "run" / "final" / "adapter").mkdir(parents=True)
    assert main(["card", "--model-dir", str(tmp_path / "run" / "final"), "--eval", str(tmp_path / "ev" / "eval.json"),
                 "--out", str(card), "--languages", "zh,en", "--dataset", "x"]) == 2
    assert capsys.readouterr().err.rstrip().endswith(
        "not a saved model (no config.json or adapter_config.json); it holds " + str(tmp_path / "run/final/adapter"))


def test_write_model_card_api_round_trip(tmp_path):
    from huggingface_hub import ModelCard

    from mtkit.evaluate import score_corpus, write_model_card

    results = score_corpus(HYPS["good"], [en for _, en, *_ in ROWS], tgt_lang="en")
    path = write_model_card(tmp_path / "cards" / "m.md", model_name="m", base_model="Helsinki-NLP/opus-mt-zh-en",
                            languages=["zh", "en"], dataset="mtkit/mps", dataset_config="en-zh", results=results,
                            training={"method": "lora", "steps": 40}, intended_use="Police news, zh->en.",
                            limitations="Tiny test model.", training_dataset="mtkit/mps")
    card = ModelCard.load(path)
    r = card.data.eval_results
    assert [(x.task_type, x.dataset_type, x.dataset_split, x.metric_type, x.metric_value) for x in r] == [
        ("translation", "mtkit/mps", "test", key, round(s.score, 4)) for key, s in results.items()]
    assert (card.data.datasets, card.data.tags, card.data.pipeline_tag) == (["mtkit/mps"], ["translation", "mtkit"],
                                                                             "translation")
    for text in ("| method | lora |", "| steps | 40 |", "## Intended use\n\nPolice news, zh->en.",
                 "## Limits\n\nTiny test model."):
        assert text in card.text


def test_a_cards_hub_metadata_holds_hub_ids_only(tmp_path, caplog):
    """base_model, datasets and model-index's dataset are Hub ids: finetune's cards carried the local folders of
    the base model and the dataset (home folders' names included). Local folders stay in the text; the license is
    the base model's card's (a Hub download has one), else unknown, or as given."""
    from huggingface_hub import ModelCard

    from mtkit.evaluate import score_corpus, write_model_card

    base, data = tmp_path / "opus-mt-zh-en", tmp_path / "build" / "mps"
    base.mkdir()
    data.mkdir(parents=True)
    (base / "README.md").write_text("---\nlicense: cc-by-4.0\n---\n# opus-mt-zh-en\n")
    (data / "README.md").write_text("---\npretty_name: MPS news (zh-id-en)\n---\n# mps\n")
    results = score_corpus(HYPS["good"], [en for _, en, *_ in ROWS], tgt_lang="en")
    common = dict(model_name="m", languages=["zh", "en"], dataset=str(data), dataset_config="en-zh", results=results,
                  training={"method": "full"})
    with caplog.at_level("WARNING", logger="mtkit.evaluate"):
        path = write_model_card(tmp_path / "m.md", base_model=str(base), training_dataset=str(data), **common)
    card = ModelCard.load(path)
    assert (card.data.base_model, card.data.datasets, card.data.license) == (None, None, "cc-by-4.0")
    # model-index: the folder's name as the id, the pretty name its dataset card states
    assert [(r.dataset_type, r.dataset_name) for r in card.data.eval_results] == [
        ("mps", "MPS news (zh-id-en)")] * len(results)
    assert str(tmp_path) not in path.read_text().split("\n---\n")[0]
    assert f"Translation zh-en, fine-tuned from `{base}` on `{data}`." in card.text
    assert caplog.messages == [f"{path}: the card's Hub metadata leaves out local folders (base model {base}; "
                               f"training dataset {data}; evaluation dataset {data}); give their Hub ids (mtkit card "
                               "--base-model, --trained-on, --dataset) before publishing it"]
    caplog.clear()
    with caplog.at_level("WARNING", logger="mtkit.evaluate"):
        path = write_model_card(tmp_path / "m.md", base_model="Helsinki-NLP/opus-mt-zh-en", training_dataset="org/mps",
                                license="CC-BY-NC-4.0", **{**common, "dataset": "org/mps"})
    card = ModelCard.load(path)
    assert (card.data.base_model, card.data.datasets, card.data.license) == (
        "Helsinki-NLP/opus-mt-zh-en", ["org/mps"], "cc-by-nc-4.0")
    assert not caplog.messages
    # a Hub id names no local folder: its license is not known here
    assert ModelCard.load(write_model_card(tmp_path / "m.md", base_model="Helsinki-NLP/opus-mt-zh-en",
                                           **common)).data.license == "unknown"


def test_card_of_a_model_that_was_not_trained_here(tmp_path, capsys):
    """A downloaded model saved as is records its Hub name in config.json: its card named it the base the model was
    "fine-tuned from" and listed the evaluation set as training data. Only given facts make those claims."""
    from huggingface_hub import ModelCard

    from mtkit.evaluate import score_corpus

    model = tmp_path / "opus-mt-en-zh"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"_name_or_path": "Helsinki-NLP/opus-mt-en-zh"}))
    results = score_corpus(HYPS["good"], [en for _, en, *_ in ROWS], tgt_lang="en")
    (tmp_path / "eval.json").write_text(json.dumps({"systems": {"m": {k: dataclasses.asdict(v) for k, v in results.items()}}}))
    args = ["card", "--model-dir", str(model), "--eval", str(tmp_path / "eval.json"), "--languages", "en,zh",
            "--dataset", "org/mps", "--dataset-config", "en-zh"]
    assert main([*args, "--out", str(tmp_path / "a.md")]) == 0
    card = ModelCard.load(tmp_path / "a.md")
    assert (card.data.base_model, card.data.datasets) == (None, None)
    assert card.data.eval_results[0].dataset_type == "org/mps"
    # this eval.json records no split and none was given: no split claimed (was: "test split", by default)
    assert "Translation en-zh, `Helsinki-NLP/opus-mt-en-zh`.\n\n## Results (`org/mps` (en-zh))\n" in card.text
    assert card.data.eval_results[0].dataset_split is None
    # nor training in the default text (was: "in the domain of the training data", "Trained and evaluated on")
    assert card.text.endswith(
        "## Intended use\n\nTranslating en-zh; the results above show how it does on the evaluation data.\n\n"
        "## Limits\n\nEvaluated on a small news corpus only: expect errors on other domains, names and numbers; "
        "check outputs before publication.")
    assert main([*args, "--out", str(tmp_path / "b.md"), "--base-model", "Helsinki-NLP/opus-mt-en-zh",
                 "--trained-on", "org/news"]) == 0
    card = ModelCard.load(tmp_path / "b.md")
    assert (card.data.base_model, card.data.datasets) == ("Helsinki-NLP/opus-mt-en-zh", ["org/news"])
    assert "Translation en-zh, fine-tuned from `Helsinki-NLP/opus-mt-en-zh` on `org/news`." in card.text
    assert "## Limits\n\nTrained and evaluated on a small news corpus: " in card.text


def test_models_with_the_same_folder_name(dataset):
    """runs/a/final and runs/b/final are both named `final`: the second silently replaced the first."""
    with pytest.raises(ConfigError, match=r"^system names repeat \(good, good\); give distinct names with --systems$"):
        evaluate_dataset(dataset, config_name="en-zh", direction="zh->en", models=["runs/a/good", "runs/b/good"],
                         translator_factory=lambda model: StubTranslator(model.split("/")[-1]))


def test_a_dataset_that_is_not_there(monkeypatch):
    """Offline, datasets takes a missing folder for a Hub name and raises ConnectionError (after its retries, which
    the stub skips): a DataError, not a traceback."""
    import datasets

    def offline(path, *args, **kwargs):
        raise ConnectionError(f"Couldn't reach '{path}' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError, match=r"^nowhere: no dataset there \(Couldn't reach 'nowhere' on the Hub "
                                        r"\(LocalEntryNotFoundError\)\)$"):
        evaluate_dataset("nowhere", config_name="en-zh", direction="zh->en", models=["good"],
                         translator_factory=StubTranslator)


def test_eval_json_records_what_the_scores_are_of_and_the_card_follows_it(dataset, tmp_path, capsys, caplog):
    from huggingface_hub import ModelCard

    ev = tmp_path / "ev"
    report = evaluate_dataset(dataset, config_name="en-zh", split="test", direction="zh->en", models=["good", "bad"],
                              out_dir=ev, translator_factory=StubTranslator, beam_size=2, max_length=64)
    assert report.evaluated == {
        "dataset": str(dataset), "config": "en-zh", "split": "test", "direction": "zh->en", "src_lang": "zh",
        "tgt_lang": "en", "models": {"good": "good", "bad": "bad"}, "decoding": {"beam_size": 2, "max_length": 64},
        "hypotheses": {"good": "good.hyp", "bad": "bad.hyp"}}
    # the models' translations are kept beside the report, to re-score without translating again
    assert (ev / "bad.hyp").read_text(encoding="utf-8") == "\n".join(HYPS["bad"]) + "\n"
    assert json.loads((ev / "eval.json").read_text())["evaluated"] == report.evaluated
    md = (ev / "eval.md").read_text()
    assert f"Scored on `{dataset}` (en-zh), test split, zh->en.\n\nModels decoded with beam size 2 and at most 64 " \
           "tokens.\n" in md
    # split, dataset, config and languages come from eval.json; the decoding is stated
    card = tmp_path / "card.md"
    with caplog.at_level("WARNING", logger="mtkit.evaluate"):
        assert main(["card", "--eval", str(ev / "eval.json"), "--out", str(card), "--model-name", "m"]) == 0
    # a local folder is no Hub id: the text names it, model-index has only its name, and the warning says so
    assert caplog.messages == [f"{card}: the card's Hub metadata leaves out local folders (evaluation dataset "
                               f"{dataset}); give their Hub ids (mtkit card --base-model, --trained-on, --dataset) "
                               "before publishing it"]
    loaded = ModelCard.load(card)
    r = loaded.data.eval_results[0]
    assert (r.task_name, r.dataset_type, r.dataset_name, r.dataset_config, r.dataset_split, loaded.data.language) == (
        "Translation zh-en", "mps", "mps", "en-zh", "test", ["zh", "en"])
    assert str(dataset) not in card.read_text().split("\n---\n")[0]
    assert loaded.data.license == "unknown"  # no --license, and no base model folder whose card states one
    assert r.metric_args == {"signature": r.metric_config, "beam_size": 2, "max_length": 64}
    assert f"## Results (`{dataset}` (en-zh), test split)" in loaded.text
    assert "Translations decoded with beam size 2 and at most 64 tokens (`mtkit evaluate --beam 2 --max-length 64`)." \
        in loaded.text
    # a Hub id for the local folder is taken; what contradicts eval.json is not
    assert main(["card", "--eval", str(ev / "eval.json"), "--out", str(card), "--model-name", "m", "--dataset",
                 "org/mps", "--languages", "zh-CN,en"]) == 0
    assert ModelCard.load(card).data.eval_results[0].dataset_type == "org/mps"
    capsys.readouterr()
    for extra, message in (
            (["--split", "train"], "--split train contradicts {e}, whose scores are of test"),
            (["--dataset-config", "id-zh"], "--dataset-config id-zh contradicts {e}, whose scores are of en-zh"),
            (["--languages", "en,zh"], "--languages en,zh contradicts {e}, whose scores are of zh,en"),
            (["--languages", "en,zh,id"], "--languages en,zh,id: give two codes, source and target, e.g. zh,en")):
        assert main(["card", "--eval", str(ev / "eval.json"), "--out", str(card), "--model-name", "m", *extra]) == 2
        assert capsys.readouterr().err == f"mtkit card: error: {message.format(e=ev / 'eval.json')}\n"


def test_a_missing_model_is_found_before_any_model_translates(dataset, tmp_path, monkeypatch):
    from mtkit.errors import BackendError
    from mtkit.testing import build_tiny_marian
    from mtkit.translate import Translator

    good = build_tiny_marian(tmp_path / "good")
    monkeypatch.setattr(Translator, "translate", lambda *a, **k: pytest.fail("translated before the models were checked"))
    with pytest.raises(BackendError, match=r"^cannot load translation model '.*nope': no such model folder"):
        evaluate_dataset(dataset, config_name="en-zh", direction="zh->en", models=[str(good), str(tmp_path / "nope")])


def test_a_bad_out_is_found_before_any_model_translates(dataset, tmp_path):
    (tmp_path / "afile").write_text("x")

    def never(model):
        pytest.fail("translated before --out was checked")

    with pytest.raises(ConfigError, match=r"^cannot write .*afile: .*afile is a file, not a folder$"):
        evaluate_dataset(dataset, config_name="en-zh", direction="zh->en", models=["good"], out_dir=tmp_path / "afile",
                         translator_factory=never)
    with pytest.raises(ConfigError, match=r"^the BLEU tokenizer ja-mecab needs the MeCab package"):
        evaluate_dataset(dataset, config_name="en-zh", direction="zh->en", models=["good"], bleu_tokenize="ja-mecab",
                         translator_factory=never)


def test_bead_types_in_the_evaluated_direction(tmp_path):
    """Bead types were the stored row's (en-first 3-1) whatever the direction; now source first."""
    from mtkit.publish import DatasetCardInfo, export_corpus
    from mtkit.records import SentencePair

    pairs = [SentencePair("a", "en", "zh", "It rained. It poured. Floods.", "下大雨了。", 0.9, "3-1", "enA", "zhA",
                          (0, 1, 2), (0,), ((0, 10), (11, 20), (21, 28)), ((0, 5),), "s1", "test"),
             SentencePair("b", "zh", "en", "你好。", "Hello.", 0.8, "1-1", "zhB", "enB", (0,), (0,), ((0, 3),),
                          ((0, 6),), "s2", "test")]
    export_corpus(pairs, tmp_path / "ds", card=DatasetCardInfo(name="m", pretty_name="M", languages=["en", "zh"]),
                  formats=("parquet",))
    (tmp_path / "hyp.en").write_text("It rained a lot.\nHello.\n", encoding="utf-8")
    (tmp_path / "hyp.zh").write_text("下雨了。\n你好。\n", encoding="utf-8")
    for direction, hyp, expected in (("zh->en", "hyp.en", ["1-1", "1-3"]), ("en->zh", "hyp.zh", ["1-1", "3-1"])):
        report = evaluate_dataset(tmp_path / "ds", config_name="en-zh", split="test", direction=direction,
                                  hyp_paths=[str(tmp_path / hyp)], out_dir=tmp_path / direction.replace(">", ""))
        rows = report.breakdown[hyp]["bead type"]
        assert sorted(rows) == expected
        md = (tmp_path / direction.replace(">", "") / "eval.md").read_text()
        src, tgt = direction.split("->")
        bleu = rows[expected[1]]["bleu"]
        assert (f"## {hyp}: by bead type\n\nBead type: sentences in the source ({src}) - in the reference ({tgt})."
                f"\n\n| bead type | segments | BLEU | {'chrF2' if tgt == 'zh' else 'chrF2++'} | TER |\n"
                "|---|---|---|---|---|\n") in md
        assert f"| {expected[1]} | 1 | {bleu:.2f} | {rows[expected[1]]['chrf']:.2f} | " in md


def test_a_models_translations_never_overwrite_a_hyp_input_and_card_reads_the_folder(dataset, tmp_path, capsys):
    """Re-evaluating into last run's folder, comparing a model with that run's saved good.hyp, overwrote it with the
    new model's output (and eval.json then named it as the earlier system). A folder as --eval is read as its
    eval.json; a folder as the card's --out is one error line, not a traceback."""
    ev = tmp_path / "ev"
    evaluate_dataset(dataset, config_name="en-zh", split="test", direction="zh->en", models=["good"], out_dir=ev,
                     translator_factory=StubTranslator)
    before = (ev / "good.hyp").read_bytes()
    with pytest.raises(ConfigError) as raised:
        evaluate_dataset(dataset, config_name="en-zh", split="test", direction="zh->en", models=["good"],
                         hyp_paths=[str(ev / "good.hyp")], system_names=["good", "previous"], out_dir=ev,
                         translator_factory=StubTranslator)
    assert str(raised.value) == (f"{ev / 'good.hyp'} is a --hyp input, and this run would write a model's "
                                 "translations there; use another --out or another --systems name")
    assert (ev / "good.hyp").read_bytes() == before
    with pytest.raises(ConfigError, match=r"^two systems would write one translations file in .*\(a_b.hyp, a_b.hyp\)"):
        evaluate_dataset(dataset, config_name="en-zh", split="test", direction="zh->en", models=["good", "bad"],
                         system_names=["a/b", "a_b"], out_dir=tmp_path / "other", translator_factory=StubTranslator)
    assert main(["card", "--eval", str(ev), "--out", str(tmp_path / "card.md"), "--model-name", "m",
                 "--dataset", "org/mps"]) == 0
    assert main(["card", "--eval", str(ev), "--out", str(tmp_path), "--model-name", "m", "--dataset", "org/mps"]) == 2
    assert capsys.readouterr().err.endswith(f"mtkit card: error: cannot write {tmp_path}: a folder; give the output "
                                            "file's name\n")


def test_one_result_record_with_or_without_a_report_folder(dataset, tmp_path):
    """The result was eval.json's dict plus a private `_scores` with --out, and another dict without (its comparison
    an object, not a dict): one EvalResult now, whose report_path names the eval.json written."""
    kwargs = dict(config_name="en-zh", split="test", direction="zh->en", models=["good", "bad"],
                  translator_factory=StubTranslator)
    bare = evaluate_dataset(dataset, **kwargs)
    written = evaluate_dataset(dataset, out_dir=tmp_path / "ev", **kwargs)
    assert isinstance(bare, EvalResult) and isinstance(written, EvalResult)
    assert (bare.report_path, written.report_path) == (None, tmp_path / "ev" / "eval.json")
    for field in ("tgt_lang", "scores", "comparison", "breakdown", "worst_segments", "notes"):
        assert getattr(bare, field) == getattr(written, field), field
    # the report folder adds the models' saved translations to what was evaluated, nothing else
    assert bare.evaluated == {**written.evaluated, "hypotheses": {}}
    assert written.evaluated["hypotheses"] == {"good": "good.hyp", "bad": "bad.hyp"}
    assert json.loads(written.report_path.read_text()) == json.loads(json.dumps(written.to_report()))
    assert list(bare.scores) == ["good", "bad"] and bare.comparison.systems == ["good", "bad"]


def test_evaluating_leaves_the_record_of_what_was_evaluated_as_given(dataset, tmp_path):
    """_evaluate wrote the saved .hyp file names into the `evaluated` dict it was given."""
    from mtkit.evaluate.run import _evaluate

    refs = [en for _, en, *_ in ROWS]
    evaluated = {"tgt_lang": "en", "models": {"good": "good"}, "hypotheses": {}}
    result = _evaluate({"good": HYPS["good"]}, [refs], tgt_lang="en", evaluated=evaluated, out_dir=str(tmp_path))
    assert evaluated == {"tgt_lang": "en", "models": {"good": "good"}, "hypotheses": {}}
    assert result.evaluated == {"tgt_lang": "en", "models": {"good": "good"}, "hypotheses": {"good": "good.hyp"}}


def test_the_direction_is_required(dataset, capsys):
    """Without a direction the config's alphabetical order was taken: en-zh translated en->zh with a zh->en model,
    with only script warnings."""
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'direction'"):
        evaluate_dataset(dataset, config_name="en-zh", models=["good"], translator_factory=StubTranslator)
    with pytest.raises(ConfigError) as error:
        evaluate_dataset(dataset, config_name="en-zh", direction=None, models=["good"],
                         translator_factory=StubTranslator)
    assert str(error.value) == "give the direction, SRC->TGT (en->zh or zh->en): config 'en-zh' holds both directions"
    assert main(["evaluate", "--dataset", str(dataset), "--config", "en-zh", "--hyp", __file__]) == 2
    assert capsys.readouterr().err == ("mtkit evaluate: error: --dataset needs --direction SRC->TGT (en->zh or zh->en): "
                                       "config en-zh holds both directions\n")


@pytest.mark.parametrize("config_name, message", [
    (["en", "zh"], "config_name must be a dataset config name, a language pair such as 'en-zh' (a str), not list"),
    (None, "config_name must be a dataset config name, a language pair such as 'en-zh' (a str), not NoneType"),
])
def test_config_name_must_be_a_config_name(dataset, config_name, message):
    with pytest.raises(ConfigError) as error:
        evaluate_dataset(dataset, config_name=config_name, direction="zh->en", models=["good"],
                         translator_factory=StubTranslator)
    assert str(error.value) == message


def test_the_beam_default_is_stated():
    """evaluate decodes with beam 4, translate with 1: both --help and the docstring say so."""
    from mtkit.cli import build_parser

    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["evaluate"].format_help().split())
    assert ("--beam BEAM beam size for --model (default 4, where `mtkit translate` defaults to 1, greedy: give --beam 1 "
            "to score what it writes); eval.json and the card record it") in help_text
    assert "--direction DIRECTION SRC->TGT, e.g. zh->en; required with --dataset" in help_text
    doc = " ".join(evaluate_dataset.__doc__.split())
    assert "Models decode with ``beam_size`` 4 by default, not the greedy search" in doc
