"""Export of a small hand-made corpus: exact file contents, datasets round trips, byte-identical re-export."""

import json

import pytest

from mtkit.errors import ConfigError, DataError
from mtkit.publish import DatasetCardInfo, export_corpus
from mtkit.records import SentencePair


def make_pairs():
    """Two configs; en-zh has train + dev and an empty test, id-zh has train + test; one pivot pair."""
    return [
        SentencePair("p1", "zh", "en", "你好。", "Hello.", 0.91, "1-1", "zh1", "en1", (0,), (0,), ((0, 3),), ((0, 6),),
                     "s1", "train"),
        SentencePair("p2", "zh", "en", "警方 逮捕了\t两人。", "Police arrested two.", 0.5, "1-2", "zh1", "en1", (1,),
                     (1, 2), ((3, 13),), ((7, 20), (21, 27)), "s1", "train"),
        SentencePair("p3", "en", "zh", "It rained.", "下雨了。", 0.75, "1-1", "en2", "zh2", (0,), (0,), ((0, 10),),
                     ((0, 4),), "s2", "dev"),
        SentencePair("p4", "id", "zh", "Halo.", "你好。", 0.8, "1-1", "id1", "zh1", (0,), (0,), ((0, 5),), ((0, 3),),
                     "s1", "train", {"pivot": "en"}),
        SentencePair("p5", "id", "zh", "Hujan.", "下雨了。", 0.625, "1-1", "id3", "zh3", (0,), (0,), ((0, 6),),
                     ((0, 4),), "s3", "test"),
    ]


def card_info():
    return DatasetCardInfo(
        name="tiny", pretty_name="Tiny news", description="A tiny test corpus.", license="cc-by-4.0",
        languages=["zh", "en", "id"], configs=["en-zh", "id-zh"],
        sources=[{"id": "zh1", "outlet": "Outlet A", "date": "2024-01-02", "lang": "zh", "file": "raw/a.html"},
                 {"id": "en1", "outlet": "Outlet B", "date": "2024-01-03", "languages": ["en"], "file": "raw/b.html"}],
        method="Cleaned, segmented, aligned.", signature="build|seed:1|mtkit:test",
        filter_counts={"en-zh": {"score": 2, "length": 1}, "id-zh": {"score": 0}},
        warnings=["the lexical encoder was used"], limitations=["tiny"])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "out"
    summary = export_corpus(iter(make_pairs()), out, card=card_info())
    return out, summary


def test_counts(exported):
    _, summary = exported
    assert summary.counts == {"en-zh": {"dev": 1, "train": 2}, "id-zh": {"test": 1, "train": 1}}
    assert summary.total == 5


def test_files(exported):
    out, _ = exported
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and "hf" not in p.parts)
    assert files == [
        "README.md",
        "data/en-zh/train-00000-of-00001.parquet", "data/en-zh/validation-00000-of-00001.parquet",
        "data/id-zh/test-00000-of-00001.parquet", "data/id-zh/train-00000-of-00001.parquet",
        "jsonl/en-zh/dev.jsonl", "jsonl/en-zh/train.jsonl", "jsonl/id-zh/test.jsonl", "jsonl/id-zh/train.jsonl",
        "text/en-zh/dev.en", "text/en-zh/dev.zh", "text/en-zh/train.en", "text/en-zh/train.zh",
        "text/id-zh/test.id", "text/id-zh/test.zh", "text/id-zh/train.id", "text/id-zh/train.zh",
        "tsv/en-zh/dev.tsv", "tsv/en-zh/train.tsv", "tsv/id-zh/test.tsv", "tsv/id-zh/train.tsv",
    ]
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*"))


@pytest.mark.parametrize("path, expected", [
    ("text/en-zh/train.zh", "你好。\n警方 逮捕了 两人。\n"),
    ("text/en-zh/train.en", "Hello.\nPolice arrested two.\n"),
    ("text/en-zh/dev.en", "It rained.\n"),
    ("text/en-zh/dev.zh", "下雨了。\n"),
    ("text/id-zh/train.id", "Halo.\n"),
    ("text/id-zh/train.zh", "你好。\n"),
    ("tsv/en-zh/train.tsv", "Hello.\t你好。\t0.910000\t1-1\tp1\nPolice arrested two.\t警方 逮捕了 两人。\t0.500000\t1-2\tp2\n"),
    ("tsv/id-zh/test.tsv", "Hujan.\t下雨了。\t0.625000\t1-1\tp5\n"),
])
def test_text_contents(exported, path, expected):
    out, _ = exported
    assert (out / path).read_text(encoding="utf-8") == expected


def test_jsonl_provenance(exported):
    out, _ = exported
    lines = (out / "jsonl/id-zh/train.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == [{
        "id": "p4", "translation": {"id": "Halo.", "zh": "你好。"}, "score": 0.8, "bead_type": "1-1",
        "src_lang": "id", "tgt_lang": "zh", "src_doc": "id1", "tgt_doc": "zh1", "src_idx": [0], "tgt_idx": [0],
        "src_offsets": [[0, 5]], "tgt_offsets": [[0, 3]], "story": "s1", "role": "body", "pivot": "en"}]
    first = json.loads((out / "jsonl/en-zh/train.jsonl").read_text(encoding="utf-8").splitlines()[1])
    assert (first["tgt_idx"], first["tgt_offsets"], first["pivot"]) == ([1, 2], [[7, 20], [21, 27]], None)


def test_load_from_disk(exported):
    from datasets import Translation, load_from_disk

    out, _ = exported
    ds = load_from_disk(str(out / "hf" / "en-zh"))
    # the empty test split is left out (datasets 5.2 cannot load back an empty split saved with save_to_disk)
    assert {k: v.num_rows for k, v in ds.items()} == {"train": 2, "validation": 1}
    assert ds["validation"].features == ds["train"].features
    assert ds["train"].features["translation"] == Translation(languages=["en", "zh"])
    assert ds["train"][1]["translation"] == {"en": "Police arrested two.", "zh": "警方 逮捕了\t两人。"}
    assert ds["validation"][0]["tgt_offsets"] == [[0, 4]]


def test_load_dataset_folder(exported, tmp_path):
    from datasets import Translation, load_dataset

    out, _ = exported
    ds = load_dataset(str(out), "en-zh", cache_dir=str(tmp_path / "cache"))
    assert {k: v.num_rows for k, v in ds.items()} == {"train": 2, "validation": 1}
    assert ds["train"].features["translation"] == Translation(languages=["en", "zh"])
    assert ds["train"]["id"] == ["p1", "p2"]
    ds = load_dataset(str(out), "id-zh", cache_dir=str(tmp_path / "cache"))
    assert {k: v.num_rows for k, v in ds.items()} == {"train": 1, "test": 1}
    assert ds["train"][0]["pivot"] == "en" and ds["test"][0]["pivot"] is None


def test_a_corpus_rebuilt_in_place_loads_its_new_rows(tmp_path):
    """datasets keys a local folder's cache on the card; the card's dataset_info (rows and bytes per split) is
    what tells two builds apart, here with the same configs, splits and row counts."""
    from datasets import load_dataset

    out = tmp_path / "news"
    export_corpus(iter(make_pairs()), out, card=card_info(), formats=("parquet",))
    assert load_dataset(str(out), "en-zh", cache_dir=str(tmp_path / "cache"))["train"]["translation"][0] == \
        {"en": "Hello.", "zh": "你好。"}
    rebuilt = make_pairs()
    rebuilt[0].tgt = "Hello there, everyone."
    export_corpus(iter(rebuilt), out, card=card_info(), formats=("parquet",))
    assert load_dataset(str(out), "en-zh", cache_dir=str(tmp_path / "cache"))["train"]["translation"][0] == \
        {"en": "Hello there, everyone.", "zh": "你好。"}


def test_byte_identical(exported, tmp_path):
    out, _ = exported
    again = tmp_path / "again"
    export_corpus(iter(make_pairs()), again, card=card_info())
    first = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in sorted(again.rglob("*")) if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_formats_subset(tmp_path):
    export_corpus(iter(make_pairs()), tmp_path, card=card_info(), formats=("parquet", "moses"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "data", "text"]


@pytest.mark.parametrize("kwargs, pairs, error, message", [
    ({"formats": ("parquet", "xml")}, make_pairs(), ConfigError, "unknown export format(s) xml; allowed: parquet"),
    ({}, [make_pairs()[0], SentencePair("bad", "en", "zh", "a", "b", split="valid")], DataError,
     "pair 'bad' has split 'valid'; allowed: train, dev, test"),
])
def test_errors_leave_nothing(tmp_path, kwargs, pairs, error, message):
    with pytest.raises(error) as info:
        export_corpus(iter(pairs), tmp_path / "out", card=card_info(), **kwargs)
    assert message in str(info.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # no temp file left, none renamed into place


def test_reexport_removes_stale_files(tmp_path):
    export_corpus(iter(make_pairs()), tmp_path, card=card_info())
    (tmp_path / "report.md").write_text("not the export's\n")
    export_corpus(iter(make_pairs()[:2]), tmp_path, card=card_info())
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                   if p.is_file() and p.parts[len(tmp_path.parts)] != "hf")
    assert files == ["README.md", "data/en-zh/train-00000-of-00001.parquet", "jsonl/en-zh/train.jsonl",
                     "report.md", "text/en-zh/train.en", "text/en-zh/train.zh", "tsv/en-zh/train.tsv"]
    assert sorted(p.name for p in (tmp_path / "hf").iterdir()) == ["en-zh"]


def test_a_reexport_in_fewer_formats_removes_the_others(tmp_path, caplog):
    """A rebuild in fewer formats left the earlier hf/ and text/ splits in place, where load_from_disk, publish
    --include and finetune read rows that the new build had moved to dev. Files that are not an export's stay."""
    export_corpus(iter(make_pairs()), tmp_path, card=card_info())
    (tmp_path / "report.md").write_text("not the export's\n")
    with caplog.at_level("WARNING", logger="mtkit.publish"):
        export_corpus(iter(make_pairs()), tmp_path, card=card_info(), formats=("jsonl",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "data", "jsonl", "report.md"]
    assert caplog.messages == [f"removing {tmp_path / folder}: an earlier export's {name} files, which this one "
                               "(formats: jsonl) does not write and would leave out of date"
                               for folder, name in (("hf", "hf"), ("text", "moses"), ("tsv", "tsv"))]


def test_a_build_config_with_an_unknown_format_fails_before_any_work():
    from mtkit.corpus import BuildConfig

    with pytest.raises(ConfigError, match=r"^unknown export format\(s\) csv; allowed: parquet, jsonl, tsv, moses, hf$"):
        BuildConfig(formats=["parquet", "csv"]).validate()


def test_why_empty_splits_get_no_parquet(tmp_path):
    """Pins the datasets behaviour the export works around: a declared Parquet shard with no rows (schema only)
    makes load_dataset fail, so empty splits are neither written nor declared. If this starts to pass, empty
    splits can be declared again."""
    import pyarrow.parquet as pq
    from datasets import load_dataset
    from datasets.exceptions import DatasetGenerationError

    from mtkit.publish.export import features_for

    export_corpus(iter(make_pairs()), tmp_path, card=card_info(), formats=("parquet",))
    pq.write_table(features_for("en-zh").arrow_schema.empty_table(), tmp_path / "data/en-zh/test-00000-of-00001.parquet")
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    declared = "    path: data/en-zh/validation-*\n"
    (tmp_path / "README.md").write_text(card.replace(declared, declared + "  - split: test\n    path: data/en-zh/test-*\n"),
                                        encoding="utf-8")
    with pytest.raises(DatasetGenerationError):
        load_dataset(str(tmp_path), "en-zh", cache_dir=str(tmp_path / "cache"))


def test_tsv_and_moses_keep_whitespace_that_breaks_no_line(tmp_path):
    """Only tabs and line breaks (every one str.splitlines() knows) become spaces in TSV and Moses text; NBSP, the
    ideographic space and double spaces were squeezed to one ASCII space, unlike the JSONL and Parquet text."""
    zh, en = "共\u00a050\u00a0000  人\u3000落网。", "Police\u2028arrested\x85two\r\nmen."
    pair = SentencePair("q1", "zh", "en", zh, en, 0.9, "1-1", "zh1", "en1", (0,), (0,), ((0, 13),), ((0, 24),), "s1",
                        "train")
    export_corpus(iter([pair]), tmp_path, card=card_info(), formats=("jsonl", "tsv", "moses"))
    assert (tmp_path / "tsv/en-zh/train.tsv").read_bytes().decode("utf-8") == \
        "Police arrested two men.\t共\u00a050\u00a0000  人\u3000落网。\t0.900000\t1-1\tq1\n"
    assert (tmp_path / "text/en-zh/train.zh").read_bytes().decode("utf-8") == "共\u00a050\u00a0000  人\u3000落网。\n"
    assert json.loads((tmp_path / "jsonl/en-zh/train.jsonl").read_text(encoding="utf-8"))["translation"]["zh"] == zh
