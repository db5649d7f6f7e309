"""The dataset card validated offline: huggingface_hub parsing, datasets' config metadata, allowed values."""

import json
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard

from mtkit.publish import DatasetCardInfo, export_corpus
from mtkit.publish.dataset_card import size_category
from mtkit.publish.export import ExportSummary
from test_publish_export import card_info, make_pairs

RESOURCES = Path(datasets.__file__).parent / "utils" / "resources"


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    out = tmp_path_factory.mktemp("card")
    export_corpus(iter(make_pairs()), out, card=card_info(), formats=("parquet",))
    return DatasetCard.load(out / "README.md", repo_type="dataset")


def test_yaml_fields(card):
    data = card.data.to_dict()
    infos = data.pop("dataset_info")
    assert [(i["config_name"], [(s["name"], s["num_examples"]) for s in i["splits"]]) for i in infos] == [
        ("en-zh", [("train", 2), ("validation", 1)]), ("id-zh", [("train", 1), ("test", 1)])]
    assert [f["name"] for f in infos[0]["features"]][-3:] == ["story", "role", "pivot"]
    assert all(i["download_size"] > 0 and i["dataset_size"] == sum(s["num_bytes"] for s in i["splits"]) for i in infos)
    assert data == {
        "language": ["en", "id", "zh"], "license": "cc-by-4.0", "multilinguality": ["translation"],
        "size_categories": ["n<1K"], "source_datasets": ["original"], "task_categories": ["translation"],
        "pretty_name": "Tiny news", "tags": ["parallel-corpus", "sentence-alignment", "news"],
        "configs": [
            {"config_name": "en-zh", "data_files": [{"split": "train", "path": "data/en-zh/train-*"},
                                                    {"split": "validation", "path": "data/en-zh/validation-*"}]},
            {"config_name": "id-zh", "data_files": [{"split": "train", "path": "data/id-zh/train-*"},
                                                    {"split": "test", "path": "data/id-zh/test-*"}]},
        ],
    }


def test_datasets_reads_configs(card):
    from datasets.utils.metadata import MetadataConfigs

    configs = MetadataConfigs.from_dataset_card_data(card.data)
    assert {name: c["data_files"] for name, c in configs.items()} == {
        "en-zh": [{"split": "train", "path": "data/en-zh/train-*"},
                  {"split": "validation", "path": "data/en-zh/validation-*"}],
        "id-zh": [{"split": "train", "path": "data/id-zh/train-*"}, {"split": "test", "path": "data/id-zh/test-*"}],
    }


def test_values_allowed_by_datasets(card):
    from datasets.utils.metadata import known_task_ids

    data = card.data.to_dict()
    languages = json.loads((RESOURCES / "languages.json").read_text(encoding="utf-8"))
    assert all(lang in languages for lang in data["language"])
    assert set(data["size_categories"]) <= set(json.loads((RESOURCES / "size_categories.json").read_text()))
    assert set(data["multilinguality"]) <= set(json.loads((RESOURCES / "multilingualities.json").read_text()))
    assert all(task in known_task_ids for task in data["task_categories"])


@pytest.mark.parametrize("n, expected", [
    (0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (9_999, "1K<n<10K"), (10_000, "10K<n<100K"),
    (250_000, "100K<n<1M"), (10**12, "n>1T"),
])
def test_size_category(n, expected):
    assert size_category(n) == expected
    assert expected in json.loads((RESOURCES / "size_categories.json").read_text())


@pytest.mark.parametrize("line", [
    "| en-zh | 2 | 1 | 0 |",
    "| id-zh | 1 | 0 | 1 |",
    "Empty splits have no Parquet file and are not declared: en-zh/test, id-zh/validation.",
    "| zh1 | Outlet A | 2024-01-02 | zh | raw/a.html |",
    "| en1 | Outlet B | 2024-01-03 | en | raw/b.html |",
    "| config | length | score |",
    "| en-zh | 1 | 2 |",
    "| id-zh | 0 | 0 |",
    "Signature: `build|seed:1|mtkit:test`",
    "- the lexical encoder was used",
    "`cc-by-4.0`.",
    'ds = load_dataset("<this folder or repo id>", "en-zh")',
])
def test_prose(card, line):
    assert line in card.text.splitlines()


@pytest.mark.parametrize("license, name, link, yaml, text, warning", [
    ("unknown", "", "", {}, "Unknown: the corpus manifest states no license. The sentences are taken from the pages "
                            "listed under Sources, whose publishers' terms apply to them.", None),
    ("other", "", "", {}, "Other: not one of the Hub's license identifiers. The sentences are taken from the pages "
                          "listed under Sources, whose publishers' terms apply to them.",
     "the manifest says license: other without license_name: the Hub asks for license_name (and the text in a file "
     "named by license_link); or give a Hub license id, or unknown"),
    ("other", "news-research", "LICENSE.md", {"license_name": "news-research", "license_link": "LICENSE.md"},
     "Other: `news-research` (LICENSE.md). The sentences are taken from the pages listed under Sources, whose "
     "publishers' terms apply to them.", None),
])
def test_license_unknown_or_other(tmp_path, license, name, link, yaml, text, warning):
    """A scraped corpus usually states no license (the Hub's `unknown`) or its own (`other`): the Hub's
    license_name/license_link when the manifest gives them, a warning when `other` has no name, and a License
    section that says what the id means."""
    from mtkit.publish.dataset_card import license_warning

    info = card_info()
    info.license, info.license_name, info.license_link = license, name, link
    assert license_warning(info) == warning
    export_corpus(iter(make_pairs()), tmp_path, card=info, formats=("parquet",))
    card = DatasetCard.load(tmp_path / "README.md", repo_type="dataset")
    data = card.data.to_dict()
    assert data["license"] == license
    assert {k: data[k] for k in ("license_name", "license_link") if k in data} == yaml
    lines = card.text.splitlines()
    assert lines[lines.index("## License") + 2] == text


def test_declared_config_without_rows_is_not_in_yaml(tmp_path):
    from mtkit.publish.dataset_card import render_card

    info = DatasetCardInfo(name="t", pretty_name="T", languages=["en", "zh", "ms"], configs=["en-zh", "ms-zh"])
    text = render_card(info, ExportSummary(tmp_path, {"en-zh": {"train": 3}}))
    card = DatasetCard(text)
    assert [c["config_name"] for c in card.data.to_dict()["configs"]] == ["en-zh"]
    assert "| ms-zh | 0 | 0 | 0 |" in card.text.splitlines()
