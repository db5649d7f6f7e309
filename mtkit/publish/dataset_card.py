"""The dataset card (README.md) of an exported corpus, built with huggingface_hub's DatasetCard.

The YAML block carries what the Hub validates (language, license, task_categories, size_categories,
pretty_name, configs with data_files); the prose says where the text comes from, how it was cleaned and
aligned, what each filter dropped, and the known limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..utils import atomic_write
from .export import HUB_SPLIT, ROW_SHARD, SPLITS, ExportSummary

# The buckets datasets accepts for size_categories (datasets/utils/resources/size_categories.json).
SIZE_BUCKETS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"), (1_000_000_000_000, "100B<n<1T"))


@dataclass(slots=True)
class DatasetCardInfo:
    """What the card says beyond the counts the export knows (configs, splits, pair total)."""

    name: str
    pretty_name: str
    description: str = ""
    license: str = "unknown"  # a Hub license id; unknown: none stated
    # the Hub's fields for a license that is not one of its identifiers (license: other)
    license_name: str = ""
    license_link: str = ""
    languages: list[str] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)  # empty: the configs the export wrote
    sources: list[dict] = field(default_factory=list)  # id, outlet, date, lang (or languages), file
    method: str = ""
    signature: str = ""
    filter_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> filter -> dropped
    warnings: list[str] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)


def size_category(n: int) -> str:
    for bound, label in SIZE_BUCKETS:
        if n < bound:
            return label
    return "n>1T"


def dataset_infos(summary: ExportSummary, configs: list[str]):
    """The ``dataset_info`` block, in the layout ``push_to_hub`` writes: per config its features, and per split
    its rows and bytes, with the files' total as ``download_size``. The bytes are the Parquet footers'
    uncompressed sizes, where push_to_hub writes datasets' estimate of the Arrow table (4-9% lower on the shipped
    corpus); only the viewer shows them, and loading checks the rows, not the bytes.

    Beyond the Hub's viewer, this is what makes a rebuilt folder load its new rows: for a local folder, datasets
    5.2 keys its cache on the card's configs and dataset infos, not on the files, so with configs alone a corpus
    rebuilt into the same (or a same-named) folder loaded the previous build's cached rows. It also has
    ``load_dataset`` check the row counts.
    """
    import pyarrow.parquet as pq
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict

    from .export import features_for

    infos = DatasetInfosDict()
    for config in configs:
        splits, download = SplitDict(), 0
        for split in SPLITS:
            path = summary.out_dir / "data" / config / f"{HUB_SPLIT[split]}-{ROW_SHARD}.parquet"
            if not summary.counts.get(config, {}).get(split) or not path.is_file():
                continue
            meta = pq.ParquetFile(path).metadata
            size = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
            splits.add(SplitInfo(HUB_SPLIT[split], num_bytes=size, num_examples=meta.num_rows))
            download += path.stat().st_size
        infos[config] = DatasetInfo(features=features_for(config), splits=splits, download_size=download,
                                    dataset_size=sum(s.num_bytes for s in splits.values()), config_name=config)
    return infos


def render_card(info: DatasetCardInfo, summary: ExportSummary) -> str:
    from huggingface_hub import DatasetCard, DatasetCardData

    configs = []
    for config in info.configs or list(summary.counts):
        splits = summary.counts.get(config, {})
        files = [{"split": HUB_SPLIT[s], "path": f"data/{config}/{HUB_SPLIT[s]}-*"} for s in SPLITS if splits.get(s)]
        if files:  # a config with no rows at all has nothing to load
            configs.append({"config_name": config, "data_files": files})
    data = DatasetCardData(
        language=sorted(info.languages),
        license=info.license,
        task_categories=["translation"],
        size_categories=[size_category(summary.total)],
        pretty_name=info.pretty_name,
        multilinguality=["translation"],
        source_datasets=["original"],  # scraped here, not derived from another Hub dataset
        configs=configs,
        tags=["parallel-corpus", "sentence-alignment", "news"],
        **{k: v for k, v in (("license_name", info.license_name), ("license_link", info.license_link)) if v},
    )
    dataset_infos(summary, [c["config_name"] for c in configs]).to_dataset_card_data(data)
    lines = [f"# {info.pretty_name}", "", info.description.strip(), "", "## Configurations and splits", "",
             "| config | train | validation | test |", "|---|---|---|---|"]
    for config in info.configs or list(summary.counts):
        splits = summary.counts.get(config, {})
        lines.append(f"| {config} | " + " | ".join(str(splits.get(s, 0)) for s in SPLITS) + " |")
    empty = [f"{c}/{HUB_SPLIT[s]}" for c in info.configs or list(summary.counts) for s in SPLITS
             if not summary.counts.get(c, {}).get(s)]
    if empty:
        # datasets 5.2's Parquet builder fails on a shard with no rows ("BatchSize must be greater than 0"),
        # so an empty split has no Parquet file and no data_files entry; hf/<config>/ keeps it, empty.
        lines += ["", f"Empty splits have no Parquet file and are not declared: {', '.join(empty)}."]
    lines += ["", "```python", "from datasets import load_dataset", "",
              f"ds = load_dataset(\"<this folder or repo id>\", \"{next(iter(summary.counts), 'en-zh')}\")",
              "print(ds[\"train\"][0][\"translation\"])", "```", "",
              "Each row has a `translation` column keyed by language code, the alignment `score`, the `bead_type` "
              "(1-1, 2-1, ...), and provenance: document ids, sentence indices and character offsets into the "
              "raw pages, the story id, `role` (`body` for article prose, else the page roles of its lines: `title`, "
              "`heading`, `source`; `ds.filter(lambda r: r[\"role\"] == \"body\")` keeps prose only) and "
              "`pivot` (the pivot language of a derived pair, else null).", "",
              "## Sources", "", "| document | outlet | date | languages | file |", "|---|---|---|---|---|"]
    for src in info.sources:
        lines.append(f"| {src.get('id', '')} | {src.get('outlet', '')} | {src.get('date', '')} | "
                     f"{_source_langs(src)} | {src.get('file', '')} |")
    lines += ["", "## License", "", _license_text(info)]
    lines += ["", "## How it was made", "", info.method.strip(), "", f"Signature: `{info.signature}`", "",
              "## Filters", "", "Pairs dropped per filter (a pair counts under the first filter that drops it):", ""]
    filters = sorted({f for counts in info.filter_counts.values() for f in counts})
    if filters:
        lines += ["| config | " + " | ".join(filters) + " |", "|---" * (len(filters) + 1) + "|"]
        for config, counts in info.filter_counts.items():
            lines.append(f"| {config} | " + " | ".join(str(counts.get(f, 0)) for f in filters) + " |")
    lines += ["", "## Known limits", ""] + [f"- {x}" for x in info.limitations + info.warnings]
    card = DatasetCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n" + "\n".join(lines) + "\n")
    return str(card)


def _license_text(info: DatasetCardInfo) -> str:
    sources = "The sentences are taken from the pages listed under Sources, whose publishers' terms apply to them."
    if info.license == "unknown":
        # a scraped corpus's manifest often declares no license: say so rather than suggest one was given
        return f"Unknown: the corpus manifest states no license. {sources}"
    if info.license != "other":
        return f"`{info.license}`."
    named = f"`{info.license_name}`" if info.license_name else "not one of the Hub's license identifiers"
    link = f" ({info.license_link})" if info.license_link else ""
    return f"Other: {named}{link}. {sources}"


def license_warning(info: DatasetCardInfo) -> str | None:
    """What the Hub asks of a card with ``license: other`` that this one lacks (its docs: a ``license_name``,
    and the text in a LICENSE file that ``license_link`` points to)."""
    if info.license != "other" or info.license_name:
        return None
    return ("the manifest says license: other without license_name: the Hub asks for license_name (and the text in "
            "a file named by license_link); or give a Hub license id, or unknown")


def _source_langs(src: dict) -> str:
    langs = src.get("languages") or [src.get("lang", "")]
    return ", ".join(x for x in langs if x)


def write_card(out_dir: str | Path, info: DatasetCardInfo, summary: ExportSummary) -> Path:
    path = Path(out_dir) / "README.md"
    with atomic_write(path) as fh:
        fh.write(render_card(info, summary))
    return path


__all__ = ["DatasetCardInfo", "render_card", "write_card", "size_category", "ROW_SHARD"]
