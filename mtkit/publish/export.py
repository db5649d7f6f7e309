"""Export parallel pairs: JSONL, TSV, Moses text, Parquet (Hub layout) and a ``datasets.DatasetDict`` on disk.

Writers are datatrove-style blocks: ``write(pair)`` / ``close()``, one open file per (config, split). The
output folder is itself a Hub-ready dataset: ``README.md`` (the card) + ``data/<config>/<split>-*.parquet``.
Every file is written under a temporary name and renamed into place, and nothing time-dependent goes in, so
the same pairs give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import ConfigError, DataError
from ..records import HUB_SPLIT, SPLITS, SentencePair
from ..utils import AtomicFiles, make_signature, one_line, stable_hash

logger = logging.getLogger("mtkit.publish")

ROW_SHARD = "00000-of-00001"


def config_languages(config: str) -> list[str]:
    return config.split("-")


def features_for(config: str):
    from datasets import Features, List, Translation, Value

    return Features({
        "id": Value("string"),
        "translation": Translation(languages=config_languages(config)),
        "score": Value("float32"),
        "bead_type": Value("string"),
        "src_lang": Value("string"),
        "tgt_lang": Value("string"),
        "src_doc": Value("string"),
        "tgt_doc": Value("string"),
        "src_idx": List(Value("int32")),
        "tgt_idx": List(Value("int32")),
        "src_offsets": List(List(Value("int64"))),
        "tgt_offsets": List(List(Value("int64"))),
        "story": Value("string"),
        "role": Value("string"),
        "pivot": Value("string"),
    })


def pair_row(pair: SentencePair) -> dict:
    return {
        "id": pair.id,
        "translation": {pair.src_lang: pair.src, pair.tgt_lang: pair.tgt},
        "score": float(pair.score),
        "bead_type": pair.bead_type,
        "src_lang": pair.src_lang,
        "tgt_lang": pair.tgt_lang,
        "src_doc": pair.src_doc,
        "tgt_doc": pair.tgt_doc,
        "src_idx": list(pair.src_idx),
        "tgt_idx": list(pair.tgt_idx),
        "src_offsets": [list(o) for o in pair.src_offsets],
        "tgt_offsets": [list(o) for o in pair.tgt_offsets],
        "story": pair.story,
        "role": pair.role,
        "pivot": pair.meta.get("pivot"),
    }


class Writer:
    """One output format; files are keyed by (config, split)."""

    name = ""
    root = ""  # the folder of OUT_DIR this format owns

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.written: set[Path] = set()

    def remove_stale(self) -> None:
        """Delete files a previous export left under this format's folder (a split or config that is now
        empty): they would otherwise be published, or read as part of the dataset."""
        folder = self.out_dir / self.root
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path not in self.written:
                logger.info("removing %s (not part of this export)", path)
                path.unlink()

    def write(self, pair: SentencePair) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """Drop the temp files of a failed export: nothing half-written is renamed into place."""

    def signature(self) -> str:
        return make_signature(f"export-{self.name}")


class TextWriter(Writer):
    """Keeps one atomic text file open per (config, split, suffix)."""

    def __init__(self, out_dir):
        super().__init__(out_dir)
        self._files = AtomicFiles()

    def _file(self, key: tuple, path: Path):
        self.written.add(path)
        return self._files.get(key, path)

    def close(self):
        self._files.close()

    def abort(self):
        self._files.abort()


class JsonlWriter(TextWriter):
    name = root = "jsonl"

    def write(self, pair):
        fh = self._file((pair.config, pair.split), self.out_dir / "jsonl" / pair.config / f"{pair.split}.jsonl")
        fh.write(json.dumps(pair_row(pair), ensure_ascii=False, sort_keys=True) + "\n")


class TsvWriter(TextWriter):
    name = root = "tsv"

    def write(self, pair):
        first, second = config_languages(pair.config)
        text = {pair.src_lang: pair.src, pair.tgt_lang: pair.tgt}
        fh = self._file((pair.config, pair.split), self.out_dir / "tsv" / pair.config / f"{pair.split}.tsv")
        fields = (text[first], text[second], f"{pair.score:.6f}", pair.bead_type, pair.id)
        fh.write("\t".join(one_line(x) for x in fields) + "\n")


class MosesWriter(TextWriter):
    """``text/<config>/<split>.<lang>``: line-parallel plain text, one segment per line."""

    name = "moses"
    root = "text"

    def write(self, pair):
        text = {pair.src_lang: pair.src, pair.tgt_lang: pair.tgt}
        for lang in config_languages(pair.config):
            fh = self._file((pair.config, pair.split, lang),
                            self.out_dir / "text" / pair.config / f"{pair.split}.{lang}")
            fh.write(one_line(text[lang]) + "\n")


class ParquetWriter(Writer):
    """Buffers rows per (config, split) in Arrow record batches and writes ``data/<config>/<split>-*.parquet``
    with the ``datasets`` features in the schema, so that ``load_dataset`` rebuilds the Translation feature.

    A split with no rows gets no file: datasets 5.2's Parquet builder fails on a shard with no rows
    ("BatchSize must be greater than 0"), so the card declares only the splits that have rows."""

    name = "parquet"
    root = "data"
    BATCH = 10_000
    COMPRESSION = "zstd"

    def signature(self) -> str:
        return make_signature("export-parquet", compression=self.COMPRESSION, row_group=self.BATCH)

    def __init__(self, out_dir):
        super().__init__(out_dir)
        self._rows: dict[tuple, list] = defaultdict(list)
        self._writers: dict[tuple, tuple] = {}
        self.counts: Counter = Counter()

    def write(self, pair):
        key = (pair.config, pair.split)
        self._rows[key].append(pair_row(pair))
        self.counts[key] += 1
        if len(self._rows[key]) >= self.BATCH:
            self._flush(key)

    def _flush(self, key):
        import pyarrow as pa
        import pyarrow.parquet as pq

        config, split = key
        features = features_for(config)
        schema = features.arrow_schema
        if key not in self._writers:
            path = self.out_dir / "data" / config / f"{HUB_SPLIT[split]}-{ROW_SHARD}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            self.written.add(path)
            writer = pq.ParquetWriter(tmp, schema, compression=self.COMPRESSION, write_statistics=True)
            self._writers[key] = (writer, tmp, path)
        rows = self._rows.pop(key, [])
        if rows:
            table = pa.Table.from_pylist([features.encode_example(r) for r in rows], schema=schema)
            self._writers[key][0].write_table(table)

    def close(self):
        for key in list(self._rows):
            self._flush(key)
        for writer, tmp, path in self._writers.values():
            writer.close()
            os.replace(tmp, path)
        self._writers.clear()

    def abort(self):
        for writer, tmp, _ in self._writers.values():
            writer.close()
            tmp.unlink(missing_ok=True)
        self._writers.clear()
        self._rows.clear()


WRITERS = {w.name: w for w in (ParquetWriter, JsonlWriter, TsvWriter, MosesWriter)}
DEFAULT_FORMATS = ("parquet", "jsonl", "tsv", "moses", "hf")


@dataclass(slots=True)
class ExportSummary:
    """The folder an export wrote and its pair counts per config and split."""

    out_dir: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> split -> pairs

    @property
    def total(self) -> int:
        return sum(n for splits in self.counts.values() for n in splits.values())


def check_formats(formats) -> None:
    """ConfigError for a format name no writer has."""
    unknown = [f for f in formats if f not in DEFAULT_FORMATS]
    if unknown:
        raise ConfigError(f"unknown export format(s) {', '.join(unknown)}; allowed: {', '.join(DEFAULT_FORMATS)}")


def export_pairs(pairs: Iterable[SentencePair], out_dir: str | Path, *, formats=DEFAULT_FORMATS) -> ExportSummary:
    """Stream ``pairs`` (each with ``.split`` set) into every format; returns counts per config and split.

    Parquet (``data/``, the Hub layout the card describes) is always written. A format's folder that an earlier
    export left and this one does not write is removed, with a warning: a rebuild with other splits left the old
    ``hf/`` and ``text/`` splits beside the new ones, where load_from_disk, publish --include and finetune read them
    (rows now in dev were trained on)."""
    out_dir = Path(out_dir)
    check_formats(formats)
    writers = [WRITERS[f](out_dir) for f in formats if f in WRITERS]
    parquet = next((w for w in writers if isinstance(w, ParquetWriter)), None) or ParquetWriter(out_dir)
    if parquet not in writers:
        writers.append(parquet)
    try:
        for pair in pairs:
            if pair.split not in SPLITS:
                raise DataError(f"pair {pair.id!r} has split {pair.split!r}; allowed: {', '.join(SPLITS)}")
            for writer in writers:
                writer.write(pair)
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    for writer in writers:
        writer.close()
        writer.remove_stale()
    _remove_unwritten_formats(out_dir, formats, written={w.root for w in writers})
    counts: dict[str, dict[str, int]] = {}
    for (config, split), n in sorted(parquet.counts.items()):
        counts.setdefault(config, {})[split] = n
    summary = ExportSummary(out_dir, counts)
    if "hf" in formats:
        save_dataset_dicts(summary)
    logger.info("exported %d pairs (%s) to %s", summary.total, ", ".join(formats), out_dir)
    return summary


def _remove_unwritten_formats(out_dir: Path, formats, written: set[str]) -> None:
    import shutil

    roots = {name: cls.root for name, cls in WRITERS.items()} | {"hf": "hf"}
    for name, root in sorted(roots.items()):
        folder = out_dir / root
        if root in written or name in formats or not folder.is_dir():
            continue
        logger.warning("removing %s: an earlier export's %s files, which this one (formats: %s) does not write and "
                       "would leave out of date", folder, name, ", ".join(formats))
        shutil.rmtree(folder)


def save_dataset_dicts(summary: ExportSummary) -> None:
    """``hf/<config>/``: a DatasetDict per config via ``save_to_disk`` (loadable with ``load_from_disk``).

    Fingerprints are derived from the data, not drawn at random, so re-runs write identical files.
    """
    import shutil

    import pyarrow.parquet as pq
    from datasets import Dataset, DatasetDict, DatasetInfo
    from datasets.table import InMemoryTable

    for config, splits in summary.counts.items():
        features = features_for(config)
        parts = {}
        # An empty split is left out, as in the Parquet layout: datasets 5.2's save_to_disk writes no Arrow file
        # for a dataset with no rows, and load_from_disk then fails on it (IndexError in concat_tables).
        for split in splits:
            path = summary.out_dir / "data" / config / f"{HUB_SPLIT[split]}-{ROW_SHARD}.parquet"
            data = path.read_bytes()
            parts[HUB_SPLIT[split]] = Dataset(InMemoryTable(pq.read_table(path)), info=DatasetInfo(features=features),
                                              fingerprint=stable_hash(config, split, len(data),
                                                                      hashlib.sha256(data).hexdigest()))
        target = summary.out_dir / "hf" / config
        tmp = target.with_name(f".{config}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        from datasets.utils.logging import disable_progress_bar, enable_progress_bar, is_progress_bar_enabled

        was_enabled = is_progress_bar_enabled()
        disable_progress_bar()  # one bar per split of a small corpus is noise; the build has its own progress
        try:
            DatasetDict(parts).save_to_disk(str(tmp))
        finally:
            if was_enabled:
                enable_progress_bar()
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    for stale in sorted((summary.out_dir / "hf").glob("*")):
        if stale.name in summary.counts:
            continue
        # a config a previous export had and this one has not
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
