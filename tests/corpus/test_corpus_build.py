"""The corpus builder: filters, splits, pivots, config errors, resume, determinism, the shipped corpus end to end."""

import filecmp
import json
import logging
from pathlib import Path

import pytest

from mtkit.cli import main
from mtkit.corpus.builder import BuildConfig, assign_splits, build_corpus, derive_pivot_pairs
from mtkit.corpus.filters import FILTERS, build_filter
from mtkit.errors import ConfigError
from mtkit.records import SentencePair

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpora" / "mps-fraud-2024"


def pair(src, tgt, src_lang="id", tgt_lang="zh", score=0.3, bead_type="1-1", **kw):
    return SentencePair(id="x", src_lang=src_lang, tgt_lang=tgt_lang, src=src, tgt=tgt, score=score,
                        bead_type=bead_type, **kw)


@pytest.mark.parametrize(
    "name, params, p, accepted",
    [
        ("alignment_score", {"min_score": 0.1}, pair("a b", "甲乙", score=0.05), False),
        ("alignment_score", {"min_score": 0.1}, pair("a b", "甲乙", score=0.2), True),
        ("alignment_score", {"min_score": 0.1}, pair("a b", "甲乙", score=0.1), True),  # at the threshold: kept
        ("alignment_score", {}, pair("a b", "甲乙", score=0.0), True),
        ("alignment_score", {}, pair("a b", "甲乙", score=-0.0001), False),
        ("empty_side", {}, pair("...", "甲乙"), False),
        ("empty_side", {}, pair("Polisi", "警察"), True),
        ("length", {"min_chars": 3, "max_chars": 10}, pair("ab", "警察警察"), False),
        ("length", {"min_chars": 3, "max_chars": 10}, pair("abcdef", "警察警察"), True),
        ("script", {}, pair("警察抓获嫌疑人", "警察"), False),
        ("script", {}, pair("Polisi menangkap", "警察抓获"), True),
        ("numbers", {}, pair("menangkap lebih dari 50.000 tersangka", "抓获5万余名嫌疑人"), True),
        ("numbers", {}, pair("menangkap 10 tersangka", "抓获7名嫌疑人"), False),
        ("numbers", {}, pair("dari empat aspek berikut", "从以下四个方面"), True),  # one side spells it out
        ("numbers", {}, pair("Kongres Nasional ke-19", "党的十九大以来"), True),
        ("numbers", {}, pair("kerugian 1,5 juta dolar", "损失150万美元"), True),  # scale words count
        ("numbers", {}, pair("kerugian 1,5 juta dolar", "损失15万美元"), False),
        # 千方百计 and 老百姓 hold no numbers (they read 1000 and 100, and outvoted the real 200)
        ("numbers", {}, pair("Polisi berupaya keras melindungi rakyat dan menangkap 200 tersangka",
                             "警方千方百计保护老百姓,抓获200名嫌疑人"), True),
        ("boilerplate", {}, pair("Baca juga: berita lain", "其他新闻"), False),
        ("boilerplate", {}, pair("Polisi menangkap", "警察抓获"), True),
        ("language_id", {"min_chars": 10}, pair("The police arrested ten suspects today in the north",
                                                "警方今天在北部抓获十名嫌疑人"), False),
        ("language_id", {"min_chars": 10}, pair("Polisi menangkap sepuluh tersangka hari ini di utara",
                                                "警方今天在北部抓获十名嫌疑人"), True),
    ],
)
def test_filters(name, params, p, accepted):
    f = build_filter(name, params)
    assert f.accept(f.score([p])[0]) is accepted


@pytest.mark.parametrize(
    "name, p, score",
    [
        ("empty_side", pair("Polisi", "…"), 0),
        ("length", pair(" Polisi ", "警察"), (6, 2)),  # characters of each side, outer spaces aside
        ("script", pair("Polisi menangkap WNA", "警方抓获TKA"), 4 / 7),  # the weaker side: 4 Han of 7 letters
        ("numbers", pair("menangkap lebih dari 50.000 tersangka", "抓获5万余名嫌疑人"), 1.0),
        ("numbers", pair("pada tahun 2024 ada 19 kasus", "2024年有十九起案件"), 1.0),
        ("numbers", pair("pada tahun 2024 ada 19 kasus", "2023年有十九起案件"), 0.5),
        ("numbers", pair("menangkap 10 tersangka", "抓获7名嫌疑人"), 0.0),
        ("numbers", pair("Polisi menangkap tersangka", "抓获7名嫌疑人"), None),  # one side has none: no verdict
        ("boilerplate", pair("Beranda | Berita | Nasional", "首页 > 新闻 > 国内"), 1),
        ("boilerplate", pair("Lihat di https://example.com", "见网站"), 1),
        ("boilerplate", pair("Hak cipta", "版权所有 未经许可不得转载"), 1),
        ("boilerplate", pair("Polisi menangkap 10 orang | kata dia", "警方抓获10人"), 0),  # one bar is not a menu
        ("boilerplate", pair("Polisi menangkap 10 orang.", "警方抓获10人。"), 0),
    ],
)
def test_filter_scores(name, p, score):
    f = build_filter(name)
    assert f.score([p]) == [score]


@pytest.mark.parametrize(
    "text, keys",
    [
        # numeral characters inside words: no number
        ("保护老百姓的财产安全", set()), ("千方百计打击犯罪", set()), ("这一点十分重要", set()), ("万一发生意外", set()),
        ("走进千家万户", set()), ("“金三角”地区", set()), ("中缅泰三方执法合作", set()), ("其三,加大打击力度", set()),
        # numerals next to a measure word or unit, compounds, digits: numbers
        ("数十名嫌疑人", {"10"}), ("十分钟后", {"10"}), ("第四届警察首脑峰会", {"4"}), ("党的十九大以来", {"19"}),
        ("有三名被解救", {"3"}), ("抓获五万余名嫌疑人", {"50000"}), ("抓获5万余名", {"50000"}),
        ("老百姓损失十亿元", {"1e+09"}),
        # a digit number times a Chinese multiplier, compound ones too: one number, not the digits and 1000 besides
        ("抓获3千人", {"3000"}), ("涉案5百万元", {"5e+06"}), ("涉案2千万元", {"2e+07"}), ("3 千人", {"3000"}),
    ],
)
def test_numbers_filter_reads_chinese_numerals_only_where_they_are_numbers(text, keys):
    from mtkit.align.numbers import number_keys

    assert number_keys(text, "zh") == keys


def test_length_ratio_is_learned_per_language_pair():
    f = build_filter("length_ratio", {"factor": 2.0, "min_pairs": 3})
    training = [pair("x" * 30, "甲" * 10) for _ in range(5)]  # id is three times as long as zh
    f.fit(training)
    assert f.medians == {("id", "zh"): 3.0}
    assert f.accept(f.score([pair("x" * 33, "甲" * 10)])[0])
    assert not f.accept(f.score([pair("x" * 10, "甲" * 10)])[0])  # 1/3 of the usual ratio
    assert f.accept(f.score([pair("x" * 10, "word", src_lang="en", tgt_lang="fr")])[0])  # nothing learned: pass


def test_length_ratio_is_learned_from_one_to_one_pairs_only():
    f = build_filter("length_ratio", {"factor": 2.0, "min_pairs": 5})
    one_to_one = [pair("x" * 30, "甲" * 10) for _ in range(5)]
    # six 2-1 pairs at 6:1 outnumber the five 1-1 pairs at 3:1; merged sentences are not counted
    f.fit(one_to_one + [pair("x" * 60, "甲" * 10, bead_type="2-1") for _ in range(6)])
    assert f.medians == {("id", "zh"): 3.0}
    few = build_filter("length_ratio", {"factor": 2.0, "min_pairs": 5})
    few.fit(one_to_one[:4] + [pair("x" * 30, "甲" * 10, bead_type="1-2") for _ in range(3)])  # 4 1-1 pairs: too few
    assert few.medians == {}


def test_duplicates_keep_the_first():
    f = build_filter("duplicates", {"near": True})
    pairs = [pair("Polisi menangkap 10 orang.", "警方抓获10人。"), pair("polisi menangkap 10 orang", "警方抓获10人"),
             pair("Polisi menangkap 12 orang.", "警方抓获12人。"), pair("Lain.", "别的。")]
    assert [f.accept(s) for s in f.score(pairs)] == [True, False, False, True]


def test_unknown_filter_and_parameter():
    with pytest.raises(ConfigError, match="unknown filter 'lenght'; known: "):
        build_filter("lenght")
    with pytest.raises(ConfigError, match="filter 'length': unknown parameter\\(s\\) max_char; allowed: min_chars, max_chars"):
        build_filter("length", {"max_char": 3})
    assert "length_ratio" in FILTERS


def test_build_config_rejects_unknown_keys_and_bad_ratios(tmp_path):
    with pytest.raises(ConfigError, match="unknown build config key\\(s\\) encodr"):
        BuildConfig.from_dict({"encodr": "lexical"})
    with pytest.raises(ConfigError, match="split_ratios"):
        BuildConfig.from_dict({"split_ratios": {"train": 0.9, "test": 0.2}})
    cfg = tmp_path / "b.yaml"
    cfg.write_text("filters:\n  - name: length\n    params: {min_chars: 5}\nseed: 3\n")
    config = BuildConfig.from_yaml(cfg, encoder="lexical")
    assert (config.seed, config.encoder, config.filters) == (3, "lexical", [{"name": "length", "params": {"min_chars": 5}}])


def test_splits_are_by_story_and_deterministic():
    stories = {f"s{i}": 10 for i in range(10)}
    a, warnings = assign_splits(stories, ratios={"train": 0.8, "dev": 0.1, "test": 0.1}, seed=1, min_stories=3)
    b, _ = assign_splits(stories, ratios={"train": 0.8, "dev": 0.1, "test": 0.1}, seed=1, min_stories=3)
    c, _ = assign_splits(stories, ratios={"train": 0.8, "dev": 0.1, "test": 0.1}, seed=2, min_stories=3)
    assert a == b and warnings == []
    assert sorted(a.values()).count("test") == 1 and sorted(a.values()).count("dev") == 1
    assert a != c
    few, warnings = assign_splits({"s1": 5, "s2": 7}, ratios={"train": 0.8, "dev": 0.1, "test": 0.1}, seed=1, min_stories=3)
    assert few == {"s1": "train", "s2": "train"} and warnings == [
        "only 2 stories with aligned pairs (fewer than 3): every pair is in train; dev and test are empty"]
    _, warnings = assign_splits({"s1": 5, "s2": 0}, ratios={"train": 0.8, "dev": 0.1, "test": 0.1}, seed=1, min_stories=3)
    assert warnings == ["only 1 story with aligned pairs (fewer than 3): every pair is in train; dev and test are empty"]


# numbered, so that every sentence of the synthetic corpus is its own (the lexical encoder reads the numbers)
NUMBERED_PAIRS = [(f"第{k}批{k * 3}名嫌疑人被遣返。", f"Batch {k}: {k * 3} suspects were sent back.") for k in range(1, 101)]


def test_a_build_puts_every_pair_of_a_story_in_the_split_of_its_story(tmp_path):
    """Five two-page stories (synthetic, seed 3; no filters, so every aligned pair is exported): in the order
    seed 13 gives them, test and then dev take stories until each holds a tenth of the 76 pairs, train the rest;
    each story's pairs are in its split's files, and nowhere else."""
    from collections import Counter

    from mtkit.testing import write_synthetic_corpus

    corpus = write_synthetic_corpus(tmp_path / "corpus", 5, NUMBERED_PAIRS, seed=3)
    result = build_corpus(corpus, tmp_path / "out", BuildConfig(encoder="lexical", formats=["jsonl"], filters=[]))
    splits = {"s0": "train", "s1": "dev", "s2": "train", "s3": "train", "s4": "test"}
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["story_splits"] == result.report["story_splits"] == splits
    files = {split: tmp_path / "out" / "jsonl" / "en-zh" / f"{split}.jsonl" for split in ("train", "dev", "test")}
    rows = {split: [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.is_file() else []
            for split, path in files.items()}
    # aligned pairs per story: s4 (18 of 76) fills test, s1 (17) dev
    assert Counter(r["story"] for split_rows in rows.values() for r in split_rows) == {
        "s0": 12, "s1": 17, "s2": 19, "s3": 10, "s4": 18}
    assert {split: sorted({r["story"] for r in split_rows}) for split, split_rows in rows.items()} == {
        "train": ["s0", "s2", "s3"], "dev": ["s1"], "test": ["s4"]}
    assert all(splits[r["story"]] == split for split, split_rows in rows.items() for r in split_rows)
    assert {split: len(split_rows) for split, split_rows in rows.items()} == {"train": 41, "dev": 17, "test": 18}
    assert result.counts == report["splits"] == {"en-zh": {"train": 41, "dev": 17, "test": 18}}


def test_pivot_pairs_through_a_shared_sentence():
    ab = pair("Polisi menangkap.", "警方抓获。", src_doc="s.id", tgt_doc="s.zh", src_idx=(0,), tgt_idx=(0,), story="s")
    cb = pair("Police arrested.", "警方抓获。", src_lang="en", src_doc="s.en", tgt_doc="s.zh", src_idx=(0,),
              tgt_idx=(0,), story="s", score=0.2)
    (derived,) = derive_pivot_pairs({"id-zh": [ab], "en-zh": [cb]})
    assert (derived.src_lang, derived.tgt_lang, derived.src, derived.tgt) == ("en", "id", "Police arrested.", "Polisi menangkap.")
    assert (derived.meta, derived.score, derived.config) == ({"pivot": "zh"}, 0.2, "en-id")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "mps"
    assert main(["-q", "build", str(CORPUS), "--out", str(out), "--encoder", "lexical"]) == 0
    return out


def test_the_shipped_corpus_builds_and_loads(built):
    import datasets

    en_zh = datasets.load_dataset(str(built), "en-zh")
    id_zh = datasets.load_dataset(str(built), "id-zh")
    assert set(en_zh) == {"train"} and set(id_zh) == {"train"}
    assert en_zh["train"].num_rows == 12 and id_zh["train"].num_rows == 11
    first = en_zh["train"][0]
    assert first["translation"] == {"en": "New Developments and Progress in International Law Enforcement "
                                          "Cooperation by Public Security Organs", "zh": "公安机关国际执法合作实现新发展取得新进步"}
    assert (first["src_doc"], first["tgt_doc"], first["story"]) == ("mps-coop-2024.en", "mps-coop-2024.zh", "mps-intl-coop-2024")
    raw = (CORPUS / "raw" / "003_91cde0563d2e864a.txt").read_text(encoding="utf-8")
    (start, end), = first["tgt_offsets"]
    assert raw[start:end] == first["translation"]["zh"]
    assert datasets.load_from_disk(str(built / "hf" / "id-zh"))["train"].num_rows == 11
    moses_en = (built / "text" / "en-zh" / "train.en").read_text(encoding="utf-8").splitlines()
    moses_zh = (built / "text" / "en-zh" / "train.zh").read_text(encoding="utf-8").splitlines()
    assert len(moses_en) == len(moses_zh) == 12
    jsonl = [json.loads(line) for line in (built / "jsonl" / "id-zh" / "train.jsonl").read_text().splitlines()]
    assert {"id", "translation", "score", "bead_type", "src_offsets", "tgt_offsets", "story"} <= set(jsonl[0])
    # page roles reach the rows: the headline pairs and the source-line pair are marked, the rest is prose
    marked = {(r["translation"]["zh"][:8], r["role"]) for ds in (en_zh, id_zh) for r in ds["train"] if r["role"] != "body"}
    assert marked == {("公安机关国际执法", "title"), ("(信息来源:中华", "source"), ("公安部严打电诈跨", "title")}
    assert sum(r["role"] == "body" for r in en_zh["train"]) == 10 and sum(r["role"] == "body" for r in id_zh["train"]) == 10


def test_the_built_id_text_has_the_spaces_scraping_lost(built):
    """The id page glues words ("Pertama,Meningkatkan", "kerasMengingat"): the corpus has them spaced, and its
    offsets still slice the raw page, glued as it is."""
    from mtkit.ingest.clean import edited_text

    train_id = (built / "text" / "id-zh" / "train.id").read_text(encoding="utf-8")
    assert "Pertama, Meningkatkan" in train_id and "keras Mengingat" in train_id
    assert ",M" not in train_id and "kerasMengingat" not in train_id
    raw = (CORPUS / "raw" / "000_63baf882e5e4f05a.txt").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in (built / "jsonl" / "id-zh" / "train.jsonl").read_text().splitlines()]
    assert " ".join(edited_text(raw[s:e])[0] for r in rows for s, e in r["src_offsets"]) == " ".join(
        r["translation"]["id"] for r in rows)
    assert "Pertama,Meningkatkan" in raw


def test_report_counts_and_warnings(built):
    report = json.loads((built / "report.json").read_text())
    assert report["filters"]["id-zh"]["input"] == 14
    assert report["filters"]["id-zh"]["kept"] == 11
    assert sum(v for k, v in report["filters"]["id-zh"].items() if k.startswith("dropped_")) == 3
    pairs = {p["config"]: p for p in report["pairs"]}
    assert (pairs["en-zh"]["src_sentences"], pairs["en-zh"]["tgt_sentences"]) == (24, 12)
    assert pairs["en-zh"]["beads"] == {"1-1": 6, "2-1": 2, "3-1": 2, "4-1": 2}
    # per document pair: the same datatrove-style counters as per config
    assert pairs["id-zh"]["filters"] == {"dropped_alignment_score": 1, "dropped_length_ratio": 2, "input": 14, "kept": 11}
    assert pairs["en-zh"]["filters"] == {"input": 12, "kept": 12}
    assert any("every pair is in train" in w for w in report["warnings"])
    assert (built / "score_hist.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rejects = [json.loads(line) for line in (built / "rejects" / "id-zh.jsonl").read_text().splitlines()]
    assert len(rejects) == 3 and all("rejected_by" in r for r in rejects)
    markdown = (built / "report.md").read_text()
    assert "## Filters" in markdown
    assert ("| mps-presser-2024-08-27 | id-zh | cctv-id-20240827.id | chinadaily-zh-20240827.zh | 17/16 | "
            "1-1: 11, 1-3: 1, 2-1: 1, 3-1: 1 | 0 | 0.170 | 11/14 | alignment_score: 1, length_ratio: 2 |") in markdown
    assert "| bjyouth-zh-20230820.zh | zh | Hans | 39 | not aligned |" in markdown
    assert report["documents"]["xinhua-zh-hant-20250220.zh"]["script"] == "Hans (from Hant)"


def test_the_card_passes_datasets_validation(built):
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard
    import datasets.utils.resources as resources

    card = DatasetCard.load(built / "README.md")
    data = card.data.to_dict()
    resource_dir = Path(resources.__file__).parent
    assert data["size_categories"][0] in json.loads((resource_dir / "size_categories.json").read_text())
    assert data["multilinguality"][0] in json.loads((resource_dir / "multilingualities.json").read_text())
    assert set(data["language"]) <= set(json.loads((resource_dir / "languages.json").read_text()))
    assert (data["task_categories"], data["license"]) == (["translation"], "unknown")
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    assert configs == {"en-zh": {"data_files": [{"split": "train", "path": "data/en-zh/train-*"}]},
                       "id-zh": {"data_files": [{"split": "train", "path": "data/id-zh/train-*"}]}}
    assert "| id-zh |" in card.text and "not declared: en-zh/validation, en-zh/test" in card.text


def test_rerun_resumes_from_the_cache_and_writes_identical_files(built, tmp_path, monkeypatch):
    import shutil

    out = tmp_path / "again"
    shutil.copytree(built / ".cache", out / ".cache")
    calls = []

    def no_alignment(*args, **kwargs):  # every pair is cached: aligning again would be a resume bug
        calls.append(args)
        raise AssertionError("aligned a pair that was in the cache")

    import mtkit.align

    monkeypatch.setattr(mtkit.align, "align_many", no_alignment)
    build_corpus(CORPUS, out, BuildConfig(encoder="lexical"))
    assert calls == []
    comparison = filecmp.dircmp(built, out, ignore=[".cache"])
    assert comparison.diff_files == [] and comparison.left_only == [] and comparison.right_only == []
    for sub in ("data/en-zh", "data/id-zh", "jsonl/en-zh", "text/id-zh"):
        for name in filecmp.dircmp(built / sub, out / sub).common_files:
            assert (built / sub / name).read_bytes() == (out / sub / name).read_bytes()


def test_an_interrupted_run_keeps_finished_alignments(built, tmp_path, monkeypatch):
    import mtkit.align

    real = mtkit.align.align_many
    state = {"pairs": 0}

    def crash_after_first(pairs, **kwargs):
        for result in real(pairs, **kwargs):
            state["pairs"] += 1
            if state["pairs"] == 2:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(mtkit.align, "align_many", crash_after_first)
    config = BuildConfig(encoder="lexical", align_batch_pairs=1)
    with pytest.raises(KeyboardInterrupt):
        build_corpus(CORPUS, tmp_path, config)
    assert len(list((tmp_path / ".cache" / "align").glob("*.json"))) == 1
    assert not (tmp_path / "README.md").exists()
    aligned_again = []

    def counting(pairs, **kwargs):
        pairs = list(pairs)
        aligned_again.extend(pairs)
        return real(pairs, **kwargs)

    monkeypatch.setattr(mtkit.align, "align_many", counting)
    build_corpus(CORPUS, tmp_path, config)
    assert len(aligned_again) == 1  # only the pair the crash cut off; the finished one came from the cache
    assert len(list((tmp_path / ".cache" / "align").glob("*.json"))) == 2
    assert (tmp_path / "README.md").exists()
    # the resumed output equals an uninterrupted build's, byte for byte
    for sub in ("data/en-zh/train-00000-of-00001.parquet", "data/id-zh/train-00000-of-00001.parquet",
                "jsonl/en-zh/train.jsonl", "jsonl/id-zh/train.jsonl", "rejects/id-zh.jsonl", "report.json"):
        assert (tmp_path / sub).read_bytes() == (built / sub).read_bytes(), sub


def test_publish_dry_run_and_errors(built, capsys, monkeypatch):
    assert main(["publish", str(built), "--repo-id", "mtkit/mps-fraud", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("would upload README.md (")
    assert {line.split()[2] for line in out[1:-1]} == {"data/en-zh/train-00000-of-00001.parquet",
                                                       "data/id-zh/train-00000-of-00001.parquet"}
    assert out[-1] == "dry run: nothing sent to mtkit/mps-fraud (3 files)"
    assert main(["publish", str(built), "--repo-id", "not a repo"]) == 2
    assert "is not of the form ORG/NAME" in capsys.readouterr().err
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(built.parent / "hf-home"))
    assert main(["publish", str(built), "--repo-id", "mtkit/mps-fraud"]) == 2
    assert capsys.readouterr().err == ("mtkit publish: error: no Hugging Face token: set HF_TOKEN or run `hf auth "
                                       "login` (or pass dry_run=True / --dry-run)\n")


def test_unlabelled_documents_are_paired_by_similarity(tmp_path):
    """The seeds as a crawl with no stories: the two true pairs are found, a cross-story one is not."""
    import shutil

    from mtkit.ingest import ingest_file

    raw = tmp_path / "crawl" / "raw"
    raw.mkdir(parents=True)
    for doc in ingest_file(CORPUS / "raw" / "003_91cde0563d2e864a.txt").documents:
        (raw / f"coop.{doc.lang}.txt").write_text("\n\n".join(p.raw for p in doc.paragraphs), encoding="utf-8")
    for name in ("000_63baf882e5e4f05a.txt", "001_f0908af97be21bcd.txt", "004_5065d816adfc3ec2.txt"):
        shutil.copy(CORPUS / "raw" / name, raw / name)
    docs = [("coop-zh", "coop.zh.txt", "zh"), ("coop-en", "coop.en.txt", "en"), ("cctv", "000_63baf882e5e4f05a.txt", "id"),
            ("chinadaily", "001_f0908af97be21bcd.txt", "zh"), ("bjyouth", "004_5065d816adfc3ec2.txt", "zh")]
    (tmp_path / "crawl" / "manifest.yaml").write_text("name: crawl\ndocuments:\n" + "".join(
        f"  - {{id: {i}, file: raw/{f}, languages: [{lang}]}}\n" for i, f, lang in docs))
    result = build_corpus(tmp_path / "crawl", tmp_path / "out",
                          BuildConfig(encoder="lexical", pair_unlabelled=True, pairing_threshold=0.3))
    found = {(p["src_doc"], p["tgt_doc"]): p["document_pairing_score"] for p in result.report["pairs"]}
    assert set(found) == {("coop-en.en", "coop-zh.zh"), ("cctv.id", "chinadaily.zh")}
    assert all(score >= 0.3 for score in found.values())
    assert {p["story"] for p in result.report["pairs"]} == {"auto:coop-en.en+coop-zh.zh", "auto:cctv.id+chinadaily.zh"}
    rows = [line for line in (tmp_path / "out" / "report.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| auto:") or line.startswith("| story | document pairing score |")]
    assert len(rows) == 3 and rows[0].startswith("| story | document pairing score | config | source |")
    assert {row.split(" | ")[0][2:]: row.split(" | ")[1] for row in rows[1:]} == {
        p["story"]: f"{p['document_pairing_score']:.3f}" for p in result.report["pairs"]}


def test_a_three_language_story_builds_all_pairs_and_pivot_pairs(tmp_path):
    """Three versions of one story: every two are aligned directly; the pivot pairs that only repeat a direct
    pair are dropped as duplicates (the direct one is kept) and land in the rejects, marked with their pivot."""
    versions = {
        "zh": "警方在2024年抓获了5万名诈骗嫌疑人。这些嫌疑人已经移交中国警方。公安部表示将继续加强国际执法合作。",
        "en": "Police caught 50,000 fraud suspects in 2024. These suspects have been handed over to the Chinese "
              "police. The Ministry of Public Security said it would keep strengthening international "
              "law-enforcement cooperation.",
        "id": "Polisi menangkap 50.000 tersangka penipuan pada tahun 2024. Para tersangka ini telah diserahkan "
              "kepada polisi Tiongkok. Kementerian Keamanan Publik menyatakan akan terus memperkuat kerja sama "
              "penegakan hukum internasional.",
    }
    (tmp_path / "c" / "raw").mkdir(parents=True)
    for lang, text in versions.items():
        (tmp_path / "c" / "raw" / f"{lang}.txt").write_text(text + "\n", encoding="utf-8")
    (tmp_path / "c" / "manifest.yaml").write_text("name: three\ndocuments:\n" + "".join(
        f"  - {{id: s-{lang}, file: raw/{lang}.txt, languages: [{lang}]}}\n" for lang in versions)
        + "stories:\n  - {id: s, documents: [s-zh, s-en, s-id]}\n")
    result = build_corpus(tmp_path / "c", tmp_path / "out", BuildConfig(encoder="lexical", pivot=True))
    assert result.counts == {"en-id": {"train": 3}, "en-zh": {"train": 3}, "id-zh": {"train": 3}}
    assert result.report["filters"] == {c: {"dropped_duplicates": 3, "input": 6, "kept": 3}
                                        for c in ("en-id", "en-zh", "id-zh")}
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects" / "en-id.jsonl").read_text().splitlines()]
    assert [(r["meta"], r["rejected_by"], r["src"][:14], r["tgt"][:15]) for r in rejects] == [
        ({"pivot": "zh"}, "duplicates", "Police caught ", "Polisi menangka"),
        ({"pivot": "zh"}, "duplicates", "These suspects", "Para tersangka "),
        ({"pivot": "zh"}, "duplicates", "The Ministry o", "Kementerian Kea"),
    ]
    kept = [json.loads(line) for line in (tmp_path / "out" / "jsonl" / "en-id" / "train.jsonl").read_text().splitlines()]
    assert [row["pivot"] for row in kept] == [None, None, None]
    assert kept[0]["translation"] == {"en": "Police caught 50,000 fraud suspects in 2024.",
                                      "id": "Polisi menangkap 50.000 tersangka penipuan pada tahun 2024."}


def test_a_rebuild_into_the_same_folder_leaves_no_rejects_of_the_previous_run(built, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(built, out)
    assert sorted(p.name for p in (out / "rejects").iterdir()) == ["id-zh.jsonl"]
    # without the filters that dropped them, the 3 id-zh rejects of the first run are in train now
    result = build_corpus(CORPUS, out, BuildConfig(encoder="lexical", filters=[{"name": "empty_side"}]))
    assert result.counts == {"en-zh": {"train": 12}, "id-zh": {"train": 14}}
    assert list((out / "rejects").iterdir()) == []


def corpus_with_cctv_page(tmp_path, page: bytes) -> Path:
    """A copy of the shipped corpus whose Indonesian page (the id version of the 2024-08-27 story) is ``page``."""
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "raw" / "000_63baf882e5e4f05a.txt").write_bytes(page)
    return corpus


ONE_ID_SENTENCE = (b"Kementerian Keamanan Publik menyatakan lebih dari 50.000 tersangka penipuan di Myanmar utara "
                   b"telah ditangkap.\n")


def test_build_warnings_are_logged_once_and_stdout_only_sums_up(tmp_path, capsys, caplog):
    corpus = corpus_with_cctv_page(tmp_path, ONE_ID_SENTENCE)
    out = tmp_path / "out"
    expected = ["cctv-id-20240827.id / chinadaily-zh-20240827.zh: sentence counts differ 16x (1 vs 16): probably not "
                "two versions of one text",
                "only 2 stories with aligned pairs (fewer than 3): every pair is in train; dev and test are empty"]
    for run in ("aligned", "from the cache"):
        caplog.clear()
        assert main(["build", str(corpus), "--out", str(out), "--encoder", "lexical"]) == 0, run
        assert capsys.readouterr().out == f"en-zh: train 12\ndataset, card and report in {out} (report.md)\n", run
        logged = [(r.name, r.levelname, r.getMessage()) for r in caplog.records
                  if r.name.startswith("mtkit") and r.levelno >= logging.WARNING]
        assert logged == [("mtkit.corpus", "WARNING", warning) for warning in expected], run
        assert json.loads((out / "report.json").read_text())["warnings"] == expected, run


CCTV = "cctv-id-20240827 (raw/000_63baf882e5e4f05a.txt, declared id)"


@pytest.mark.parametrize("page, reason", [
    (b"", "empty page (0 characters, all whitespace); nothing to ingest"),
    (b"\x00\x01\x02PK\x03\x04" * 20, "binary file (100 control characters), not a text page"),
    # all junk: cleaning leaves only a menu line, of no language, which must not become an und-zh config
    ("Home | About | Contact\nCopyright 2024. All rights reserved.\nShare on Facebook\nQWERASDZXCRQEFA\n"
     "6165cc金沙总站\n".encode(), "no article text in a known language: cleaning left 'Home | About | Contact', "
     "language undetermined (und)"),
    (b"Copyright 2024. All rights reserved.\nShare on Facebook\n", "no article text left after cleaning (2 blocks removed)"),
])
def test_a_page_with_nothing_to_align_is_skipped_with_a_warning_and_the_build_goes_on(tmp_path, caplog, page, reason):
    result = build_corpus(corpus_with_cctv_page(tmp_path, page), tmp_path / "out", BuildConfig(encoder="lexical"))
    assert result.counts == {"en-zh": {"train": 12}}
    expected = [f"{CCTV}: skipped: {reason}",
                "only 1 story with aligned pairs (fewer than 3): every pair is in train; dev and test are empty"]
    assert result.report["warnings"] == expected
    assert [r.getMessage() for r in caplog.records if r.name.startswith("mtkit") and r.levelno >= logging.WARNING] == expected
    assert result.report["skipped_pages"] == [{"document": "cctv-id-20240827", "file": "raw/000_63baf882e5e4f05a.txt",
                                               "languages": ["id"], "story": "mps-presser-2024-08-27", "reason": reason}]
    assert [p["config"] for p in result.report["pairs"]] == ["en-zh"]
    assert not any(doc.startswith("cctv") for doc in result.report["documents"])
    assert list((tmp_path / "out").glob("rejects/*")) == []
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert ("## Skipped pages\n\n| document | file | declared languages | story | reason |\n|---|---|---|---|---|\n"
            f"| cctv-id-20240827 | raw/000_63baf882e5e4f05a.txt | id | mps-presser-2024-08-27 | "
            f"{reason.replace('|', chr(92) + '|')} |\n") in markdown


def test_a_page_in_another_language_than_declared_is_aligned_with_a_warning(tmp_path):
    english = (b"The Ministry of Public Security said on Tuesday that more than 50,000 fraud suspects had been caught "
               b"in northern Myanmar.\nThe suspects were handed over to the Chinese police.\n")
    result = build_corpus(corpus_with_cctv_page(tmp_path, english), tmp_path / "out", BuildConfig(encoder="lexical"))
    # ingest labels it id, as the manifest says, so the aligner sees an id document (and warns too)
    assert result.report["warnings"][:2] == [
        f"{CCTV}: holds en text, not the declared id",
        "cctv-id-20240827.id / chinadaily-zh-20240827.zh: the source side looks like en, not id: check "
        "src_lang= / --src-lang"]
    assert result.report["skipped_pages"] == []
    assert [p["config"] for p in result.report["pairs"]] == ["id-zh", "en-zh"]


def test_a_page_read_by_a_guessed_encoding_is_said_once_with_its_name(tmp_path, caplog):
    """The shipped Indonesian page saved as Windows-1252: read as cp1252 (charset detection's first reading was
    cp1250, which gives the same text here), and the guess is a build warning naming the page, in the report, not
    a second anonymous log line from ingest."""
    page = (CORPUS / "raw" / "000_63baf882e5e4f05a.txt").read_text(encoding="utf-8")
    latin = page.replace("Tiongkok", "Tiôngkok")  # a non-ASCII letter that cp1252 has
    result = build_corpus(corpus_with_cctv_page(tmp_path, latin.encode("cp1252", errors="replace")), tmp_path / "out",
                          BuildConfig(encoder="lexical"))
    warning = (f"{CCTV}: not UTF-8; read as cp1252, a guess from its bytes (check its text in the export, or "
               "convert the page to UTF-8)")
    assert result.report["warnings"][0] == warning
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("mtkit") and r.levelno >= logging.WARNING]
    assert logged.count(warning) == 1 and not any("a guess from its bytes (check the text" in m for m in logged)
    assert "Tiôngkok" in (tmp_path / "out" / "jsonl" / "id-zh" / "train.jsonl").read_text(encoding="utf-8")


def test_a_corpus_with_no_usable_page_is_an_error(tmp_path, capsys):
    corpus = corpus_with_cctv_page(tmp_path, b"  \n")
    for page in (corpus / "raw").iterdir():  # the other four as well
        page.write_bytes(b"  \n")
    assert main(["-q", "build", str(corpus), "--out", str(tmp_path / "out"), "--encoder", "lexical"]) == 2
    assert capsys.readouterr().err.endswith(
        f"mtkit build: error: {corpus.resolve() / 'manifest.yaml'}: no page gives text to align (5 skipped); the first, "
        "raw/001_f0908af97be21bcd.txt: empty page (3 characters, all whitespace); nothing to ingest\n")  # story order
