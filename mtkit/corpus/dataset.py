"""Reading a parallel dataset back, the same way for translate, evaluate and finetune.

A dataset is a `mtkit build` folder (the Hub layout: README.md configs + Parquet), one of its ``hf/<config>``
copies or any ``save_to_disk`` folder, a folder of such copies (``hf/``), or a Hub dataset id. Rows carry a
``translation`` column ``{lang: text}``. Every failure is a :class:`DataError` or :class:`ConfigError` that
names the dataset, never datasets' traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import ConfigError, DataError
from ..utils import names_a_local_path

# mtkit's dev split is the Hub's validation: the Parquet layout uses the Hub's name, the hf/<config> copies mtkit's
SPLIT_ALIASES = {"dev": "validation", "validation": "dev"}


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
    try:
        # the expanded path when there is one: datasets takes "~/build/X" for a Hub id (and says it is not one)
        return datasets.load_dataset(str(path) if path.exists() else str(dataset), config)
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
