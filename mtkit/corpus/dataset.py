"""Reading a parallel dataset back, the same way for translate, evaluate and finetune.

A dataset is a `mtkit build` folder (the Hub layout: README.md configs + Parquet), one of its ``hf/<config>``
copies or any ``save_to_disk`` folder, a folder of such copies (``hf/``), or a Hub dataset id. Rows carry a
``translation`` column ``{lang: text}``. Every failure is a :class:`DataError` or :class:`ConfigError` that
names the dataset, never datasets' traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError, DataError
from ..records import HUB_SPLIT
from ..utils import names_a_local_path

# mtkit's dev split is the Hub's validation: the Parquet layout uses the Hub's name, the hf/<config> copies mtkit's
SPLIT_ALIASES = {**{hub: mtkit for mtkit, hub in HUB_SPLIT.items() if hub != mtkit},
                 **{mtkit: hub for mtkit, hub in HUB_SPLIT.items() if hub != mtkit}}


def open_translation_dataset(dataset: str | Path, config: str):
    """The ``datasets.DatasetDict`` of ``config``."""
    import datasets

    path = Path(dataset).expanduser()
    if (path / "dataset_dict.json").is_file():  # a save_to_disk folder (one config): build/X/hf/en-zh
        return datasets.load_from_disk(str(path))
    if (path / config / "dataset_dict.json").is_file():  # a folder of them: build/X/hf
        return datasets.load_from_disk(str(path / config))
    if path.is_dir() and not (path / "README.md").is_file():
        known = sorted(p.name for p in path.iterdir() if p.joinpath("dataset_dict.json").is_file())
        if known:
            raise ConfigError(f"{dataset}: no config {config!r}; available: {', '.join(known)}")
    if path.is_file() or not path.exists() and names_a_local_path(str(dataset)):
        raise DataError(f"{dataset}: no such dataset folder")
    # A local folder is prepared anew on every load: datasets (5.2) keys its cache of a local Hub-layout folder
    # by the folder's name and the config, not by its files, so a rebuilt build/X, or another folder named X,
    # gave the rows cached from the first one read. Preparing a local corpus's Parquet files takes seconds; the
    # split sizes datasets would check them against come from that same stale cache, hence no checks.
    fresh = {"download_mode": "force_redownload", "verification_mode": "no_checks"} if path.exists() else {}
    try:
        # the expanded path when there is one: datasets takes "~/build/X" for a Hub id (and says it is not one)
        return datasets.load_dataset(str(path) if path.exists() else str(dataset), config, **fresh)
    except ValueError as exc:  # datasets names the available configs in its message
        raise ConfigError(f"{dataset}: no config {config!r} ({exc})") from None
    except (FileNotFoundError, ConnectionError) as exc:  # no data files there; no such Hub dataset (offline)
        raise DataError(f"{dataset}: no dataset there ({exc})") from None


def translation_split(dataset: str | Path, config: str, split: str, langs: Sequence[str], dataset_dict=None):
    """Split ``split`` (``dev`` and ``validation`` name the same split) of ``config``, checked to have the
    ``translation`` column with every language of ``langs``; ``dataset_dict``: the config already opened."""
    dd = open_translation_dataset(dataset, config) if dataset_dict is None else dataset_dict
    name = split if split in dd else SPLIT_ALIASES.get(split, split)
    if name not in dd:
        # a split that a build left empty has no Parquet file, so the card does not declare it
        # named as typed: the alias in the message ("no split 'dev'" for --split validation) read as a typo
        raise DataError(f"{dataset} ({config}): no split {split!r} (empty splits are not declared); splits: "
                        f"{', '.join(dd) or 'none'}")
    ds = dd[name]
    if "translation" not in ds.column_names:
        raise DataError(f"{dataset} ({config}): no `translation` column ({{lang: text}}); columns: "
                        f"{', '.join(ds.column_names)}")
    if len(ds):
        have = ds[0]["translation"]
        missing = [lang for lang in langs if lang not in have]
        if missing:
            raise DataError(f"{dataset} ({config}): no {', '.join(missing)} text; languages: {', '.join(have)}")
    return ds


def direction_choices(config_name: str) -> str:
    """The two directions of a config, for messages that ask for one: ``en->zh or zh->en``."""
    langs = config_name.split("-")
    return f"{langs[0]}->{langs[1]} or {langs[1]}->{langs[0]}" if len(langs) == 2 else "e.g. zh->en"


def parse_direction(direction: str | None, config_name: str) -> tuple[str, str]:
    """``(src, tgt)`` of a direction ``zh->en``, checked against the languages of ``config_name`` (``en-zh``).

    There is no default: a config holds both directions of its pair, and taking its (alphabetical) order
    translated en->zh with a zh->en model."""
    if not isinstance(config_name, str):
        raise ConfigError(f"config_name must be a dataset config name, a language pair such as 'en-zh' (a str), not "
                          f"{type(config_name).__name__}")
    if direction is not None and not isinstance(direction, str):
        raise ConfigError(f"direction must be a str SRC->TGT such as 'zh->en', not {type(direction).__name__}")
    langs = config_name.split("-")
    if not direction:
        raise ConfigError(f"give the direction, SRC->TGT ({direction_choices(config_name)}): config {config_name!r} "
                          "holds both directions")
    try:
        src, tgt = (x.strip() for x in direction.split("->"))
    except ValueError:
        raise ConfigError(f"direction {direction!r} is not of the form SRC->TGT, e.g. zh->en") from None
    if {src, tgt} != set(langs):
        raise ConfigError(f"direction {direction!r} does not fit config {config_name!r} "
                          f"(languages: {', '.join(langs)})")
    return src, tgt


@dataclass(slots=True)
class ParallelSplit:
    """One split of a dataset in one direction, as parallel lists: line k of each is row k of the split.

    ``targets`` is None when no target language was asked for (translate reads the sources only). ``documents``
    and ``bead_types`` are per row and turned to the direction (see :func:`parallel_split`); empty strings where
    the dataset has no such columns."""

    src_lang: str
    tgt_lang: str | None
    split: str
    sources: list[str]
    targets: list[str] | None
    documents: list[str]
    bead_types: list[str]

    def __len__(self) -> int:
        return len(self.sources)


# the provenance columns parallel_split reads beside `translation` when a dataset has them
_PROVENANCE = ("src_lang", "src_doc", "tgt_doc", "doc_id", "bead_type")


def parallel_split(dataset: str | Path, config_name: str, split: str, src_lang: str, tgt_lang: str | None = None, *,
                   dataset_dict=None) -> ParallelSplit:
    """Split ``split`` of ``config_name`` as a :class:`ParallelSplit` from ``src_lang`` to ``tgt_lang``, both
    checked to be in the ``translation`` column; ``dataset_dict``: the config already opened. An empty split is
    returned empty (the caller decides whether that is an error)."""
    langs = (src_lang,) if tgt_lang is None else (src_lang, tgt_lang)
    ds = translation_split(dataset, config_name, split, langs, dataset_dict)
    rows = ds.select_columns(["translation", *(c for c in _PROVENANCE if c in ds.column_names)]).to_list()
    where = f"{dataset} ({config_name}, {split})"
    return ParallelSplit(src_lang=src_lang, tgt_lang=tgt_lang, split=split,
                         sources=_texts(rows, src_lang, where),
                         targets=None if tgt_lang is None else _texts(rows, tgt_lang, where),
                         documents=[_source_document(r, src_lang) for r in rows],
                         bead_types=[_source_bead_type(r, src_lang) for r in rows])


def parallel_splits(dataset: str | Path, config_name: str, src_lang: str, tgt_lang: str) -> dict[str, ParallelSplit]:
    """Every split of ``config_name``, by the dataset's own split names, opened once."""
    dd = open_translation_dataset(dataset, config_name)
    return {name: parallel_split(dataset, config_name, name, src_lang, tgt_lang, dataset_dict=dd) for name in dd}


def _texts(rows: list[dict], lang: str, where: str) -> list[str]:
    """The rows' ``lang`` texts. A row without one (a null in the Parquet struct) is a DataError naming the
    dataset and the row: the data's content, which translate, evaluate and finetune would otherwise refuse as a
    TypeError about their argument (:func:`~mtkit.utils.checked_texts`), naming neither."""
    texts = [row["translation"][lang] for row in rows]
    for k, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(f"{where}: row {k} has no {lang} text ({text!r:.40}, not a string)")
    return texts


def _source_bead_type(row: dict, src: str) -> str:
    """The row's bead type (sentences on its src_lang side - on the other) turned to the direction, source first:
    a 3-1 row stored en-first is 1-3 for zh->en. Per row, as :func:`_source_document`."""
    bead = row.get("bead_type") or ""
    if row.get("src_lang", src) != src and bead.count("-") == 1:
        bead = "-".join(reversed(bead.split("-")))
    return bead


def _source_document(row: dict, src: str) -> str:
    """The document of the row's ``src`` side when the row says which side that is (src_doc/tgt_doc with
    src_lang); doc_id in other datasets. Decided per row: a config's rows need not share one orientation
    (``export_corpus`` writes each pair as aligned, zh->en and en->zh rows side by side)."""
    if "src_doc" in row:
        return (row["src_doc"] if row.get("src_lang", src) == src else row.get("tgt_doc")) or ""
    return row.get("doc_id") or ""
