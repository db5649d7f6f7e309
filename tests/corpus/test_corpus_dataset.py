"""Reading a dataset back as typed parallel splits (corpus.dataset), the one loader of evaluate, finetune and
translate."""

import pytest

from mtkit.corpus.dataset import ParallelSplit, parallel_split, parallel_splits
from mtkit.errors import DataError


@pytest.fixture
def dataset(tmp_path):
    """A Hub-layout folder whose test rows are stored in both orientations, as export_corpus writes them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path / "ds"
    (root / "data" / "en-zh").mkdir(parents=True)
    rows = {"test": [{"translation": {"en": "It rained. It poured.", "zh": "下大雨了。"}, "src_lang": "en",
                      "src_doc": "enA", "tgt_doc": "zhA", "bead_type": "2-1"},
                     {"translation": {"en": "Hello.", "zh": "你好。"}, "src_lang": "zh", "src_doc": "zhB",
                      "tgt_doc": "enB", "bead_type": "1-1"}],
            "train": [{"translation": {"en": "Police", "zh": "警方"}, "src_lang": "en", "src_doc": "enC",
                       "tgt_doc": "zhC", "bead_type": "1-1"}]}
    for split, table in rows.items():
        pq.write_table(pa.Table.from_pylist(table), root / "data" / "en-zh" / f"{split}-00000-of-00001.parquet")
    (root / "README.md").write_text("---\nconfigs:\n- config_name: en-zh\n  data_files:\n  - split: train\n"
                                    "    path: data/en-zh/train-*\n  - split: test\n    path: data/en-zh/test-*\n---\n",
                                    encoding="utf-8")
    return root


@pytest.mark.parametrize("src, tgt, expected", [
    ("zh", "en", ParallelSplit("zh", "en", "test", ["下大雨了。", "你好。"], ["It rained. It poured.", "Hello."],
                               ["zhA", "zhB"], ["1-2", "1-1"])),
    ("en", "zh", ParallelSplit("en", "zh", "test", ["It rained. It poured.", "Hello."], ["下大雨了。", "你好。"],
                               ["enA", "enB"], ["2-1", "1-1"])),
    # the sources alone (translate): no target asked for, none checked
    ("zh", None, ParallelSplit("zh", None, "test", ["下大雨了。", "你好。"], None, ["zhA", "zhB"], ["1-2", "1-1"])),
])
def test_a_split_in_either_direction(dataset, src, tgt, expected):
    split = parallel_split(dataset, "en-zh", "test", src, tgt)
    assert split == expected and len(split) == 2


def test_every_split_and_missing_languages(dataset):
    splits = parallel_splits(dataset, "en-zh", "zh", "en")
    assert {name: (s.split, s.sources, s.targets) for name, s in splits.items()} == {
        "train": ("train", ["警方"], ["Police"]), "test": ("test", ["下大雨了。", "你好。"], ["It rained. It poured.", "Hello."])}
    with pytest.raises(DataError, match=r"ds \(en-zh\): no id text; languages: en, zh$"):
        parallel_split(dataset, "en-zh", "test", "zh", "id")


def test_a_row_without_text_is_a_data_error_naming_the_row(tmp_path):
    # a null in the translation struct reached translate and evaluate, whose checks of their arguments raise a
    # TypeError (mtkit.utils.checked_texts) that names neither the dataset nor its row; the CLI showed a traceback
    import datasets

    datasets.DatasetDict({"test": datasets.Dataset.from_list([{"translation": {"en": "Hello.", "zh": "你好。"}},
                                                              {"translation": {"en": "Police", "zh": None}}])}
                         ).save_to_disk(str(tmp_path / "en-zh"))
    assert parallel_split(tmp_path / "en-zh", "en-zh", "test", "en").sources == ["Hello.", "Police"]  # no target read
    with pytest.raises(DataError, match=r"^.*en-zh \(en-zh, test\): row 1 has no zh text \(None, not a string\)$"):
        parallel_split(tmp_path / "en-zh", "en-zh", "test", "en", "zh")


def test_a_rebuilt_folder_and_another_folder_of_the_same_name_are_read_as_they_are_now(dataset, tmp_path):
    # datasets keys its cache of a local Hub-layout folder by the folder's name and config: a rebuilt build/X
    # and another folder called X gave the rows of the first one read
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert parallel_split(dataset, "en-zh", "train", "zh", "en").targets == ["Police"]
    train = dataset / "data" / "en-zh" / "train-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist([{"translation": {"en": "Fraud", "zh": "诈骗"}},
                                         {"translation": {"en": "Court", "zh": "法院"}}]), train)
    assert parallel_split(dataset, "en-zh", "train", "zh", "en").targets == ["Fraud", "Court"]
    other = tmp_path / "elsewhere" / "ds"
    (other / "data" / "en-zh").mkdir(parents=True)
    (other / "README.md").write_text((dataset / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    for split, en in (("train", "Border"), ("test", "Phone")):
        pq.write_table(pa.Table.from_pylist([{"translation": {"en": en, "zh": "边境"}}]),
                       other / "data" / "en-zh" / f"{split}-00000-of-00001.parquet")
    assert parallel_split(other, "en-zh", "train", "zh", "en").targets == ["Border"]
