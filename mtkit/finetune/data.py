"""Parallel splits for fine-tuning: a built dataset folder, a ``save_to_disk`` folder or a Hub dataset."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import ConfigError, DataError

logger = logging.getLogger("mtkit.finetune")


def load_parallel_splits(dataset: str | Path, config: str, direction: str) -> tuple[dict, str, str]:
    """``({split: (sources, targets)}, src, tgt)``; wrong config, direction or an empty train split raise."""
    import datasets

    from ..evaluate.run import parse_direction

    src, tgt = parse_direction(direction, config)
    path = Path(dataset)
    if (path / "dataset_dict.json").is_file():
        dd = datasets.load_from_disk(str(path))
    elif (path / config / "dataset_dict.json").is_file():  # `mtkit build`'s hf/<config>/ folders
        dd = datasets.load_from_disk(str(path / config))
    elif path.is_dir() and any(p.joinpath("dataset_dict.json").is_file() for p in path.iterdir()):
        known = sorted(p.name for p in path.iterdir() if p.joinpath("dataset_dict.json").is_file())
        raise ConfigError(f"{dataset}: no config {config!r}; available: {', '.join(known)}")
    else:
        try:
            dd = datasets.load_dataset(str(dataset), config)
        except ValueError as exc:  # datasets names the available configs in its message
            raise ConfigError(f"{dataset}: no config {config!r} ({exc})") from None
    splits = {}
    for name, ds in dd.items():
        rows = ds["translation"]
        if len(rows) and not {src, tgt} <= set(rows[0]):
            raise ConfigError(f"{dataset} ({config}) {name}: translation has languages {sorted(rows[0])}, "
                              f"not {src} and {tgt}")
        splits[name] = ([r[src] for r in rows], [r[tgt] for r in rows])
    if not splits.get("train") or not splits["train"][0]:
        raise DataError(f"{dataset} ({config}): the train split is empty")
    logger.info("%s (%s): %s", dataset, config, ", ".join(f"{k}={len(v[0])}" for k, v in splits.items()))
    return splits, src, tgt


def encode_pairs(tokenizer, sources: list[str], targets: list[str], *, max_source_length: int,
                 max_target_length: int) -> list[dict]:
    """Tokenized features (input_ids, attention_mask, labels), truncated to the length limits."""
    enc = tokenizer(sources, text_target=targets, truncation=True, max_length=max_source_length)
    return [dict(input_ids=i, attention_mask=a, labels=l[:max_target_length])
            for i, a, l in zip(enc["input_ids"], enc["attention_mask"], enc["labels"])]
