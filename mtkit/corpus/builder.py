"""``mtkit build``: raw pages -> cleaned, segmented, aligned, filtered, split, exported dataset with card and report.

The run streams story by story. Ingest, segmentation and alignment are executor steps (:mod:`.steps`), run in
this process or on a Ray cluster (:mod:`mtkit.scale`); their results come back here in story order and this
module writes every file. Per-pair alignments are cached under ``OUT/.cache/align`` keyed on the two
sentence lists and the aligner's signature, so an interrupted run resumes without re-aligning finished pairs.
Aligned pairs are spooled per language pair to ``OUT/.cache/pairs`` and streamed twice: once to fit the
filters that learn from data, once to filter, split and export. Outputs are written atomically and hold no
timestamps: the same input and settings give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Iterator

import yaml

from .. import __version__
from ..errors import ConfigError, DataError
from ..records import SPLITS, Alignment, Bead, Document, SentencePair
from ..publish.export import TextWriter
from ..utils import absolute_if_local, atomic_write, make_signature, progress, StrictConfig, stable_hash, write_json
from ..scale import Executor, LocalExecutor
from ..segment import join_sentences
from .filters import DEFAULT_FILTERS, build_filter
from ..ingest.manifest import Manifest, load_manifest
from .steps import (AlignPairs, PairJob, PrepareStories, StoryWork, pair_jobs, pair_key,
                    story_tasks)

logger = logging.getLogger("mtkit.corpus")



@dataclass
class BuildConfig(StrictConfig):
    """Everything a build depends on; saved resolved as ``OUT/build_config.yaml``."""

    KEY_NAME = "build config key"

    encoder: str = "auto"
    seed: int = 13
    to_simplified: bool = True
    split_ratios: dict = field(default_factory=lambda: {"train": 0.8, "dev": 0.1, "test": 0.1})
    min_stories_for_heldout: int = 3
    filters: list = field(default_factory=lambda: [dict(f) for f in DEFAULT_FILTERS])
    aligner: dict = field(default_factory=dict)  # max_align, top_k, win, skip, margin, len_penalty
    pivot: bool = False
    pair_unlabelled: bool = False  # pair documents that no manifest story groups, by document similarity
    pairing_threshold: float = 0.5
    formats: list = field(default_factory=lambda: ["parquet", "jsonl", "tsv", "moses", "hf"])
    align_batch_pairs: int = 64

    def validate(self) -> None:
        if set(self.split_ratios) - set(SPLITS) or abs(sum(self.split_ratios.values()) - 1) > 1e-6:
            raise ConfigError(f"split_ratios must give {', '.join(SPLITS)} summing to 1, got {self.split_ratios}")
        for spec in self.filters:
            if not isinstance(spec, dict) or "name" not in spec or set(spec) - {"name", "params"}:
                raise ConfigError(f"a filter is {{name: NAME, params: {{...}}}}, got {spec!r}")
            build_filter(spec["name"], spec.get("params"))
        from ..align import Aligner
        from ..publish.export import check_formats

        Aligner(**self.aligner)
        check_formats(self.formats)  # here, not after ingest and alignment have run

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class BuildResult:
    """What :func:`build_corpus` made: the output folder, the report (as written to ``OUT/report.json``), the
    exported pairs per config and split, and the seconds each stage took."""

    out_dir: Path
    report: dict
    counts: dict
    # seconds per stage, kept out of the written files, which must not change from run to run: ingest+segment
    # and align are worker seconds (summed over workers), collect is the driver's share of them, steps (wall)
    # the time they all took; then filter+split+export and report
    timings: dict = field(default_factory=dict)


# ------------------------------------------------------------------ stages


def pair_role(*roles: str) -> str:
    """One pair's role from its sentences' (or its two parent pairs') roles: "body" when all are."""
    named = sorted({part for role in roles for part in role.split("+")} - {"body"})
    return "+".join(named) or "body"


def beads_to_pairs(job: PairJob, alignment: Alignment) -> tuple[list[SentencePair], int]:
    """Sentence pairs from the beads with both sides; returns them and the number of unaligned sentences."""
    pairs, unaligned = [], 0
    for bead in alignment.beads:
        if not bead.src or not bead.tgt:
            unaligned += len(bead.src) + len(bead.tgt)
            continue
        src = [job.src_sents[i] for i in bead.src]
        tgt = [job.tgt_sents[j] for j in bead.tgt]
        key = f"{job.src.id}:{','.join(map(str, bead.src))}={job.tgt.id}:{','.join(map(str, bead.tgt))}"
        pairs.append(SentencePair(
            id=stable_hash(key),
            src_lang=job.src.lang, tgt_lang=job.tgt.lang,
            src=join_sentences((s.text for s in src), job.src.lang),
            tgt=join_sentences((s.text for s in tgt), job.tgt.lang),
            score=bead.score, bead_type=bead.type, src_doc=job.src.id, tgt_doc=job.tgt.id,
            src_idx=bead.src, tgt_idx=bead.tgt,
            src_offsets=tuple((s.start, s.end) for s in src), tgt_offsets=tuple((t.start, t.end) for t in tgt),
            story=job.story, role=pair_role(*(s.meta.get("role", "body") for s in src + tgt)),
        ))
    return pairs, unaligned


def derive_pivot_pairs(pairs_by_config: dict[str, list[SentencePair]]) -> list[SentencePair]:
    """A-B pairs through a pivot language P: a 1-1 pair A-P and a 1-1 pair P-B on the same P sentence."""
    by_pivot: dict[tuple[str, int, str], list[tuple[str, SentencePair]]] = defaultdict(list)
    for pairs in pairs_by_config.values():
        for p in pairs:
            if p.bead_type != "1-1" or p.meta.get("pivot"):
                continue
            by_pivot[(p.tgt_doc, p.tgt_idx[0], p.tgt_lang)].append(("src", p))
            by_pivot[(p.src_doc, p.src_idx[0], p.src_lang)].append(("tgt", p))
    derived = []
    for (_doc, _idx, pivot_lang), members in by_pivot.items():
        others = []
        for side, p in members:
            if side == "src":  # the pivot sentence is p's target: the other language is p's source
                others.append((p.src_lang, p.src, p.src_doc, p.src_idx, p.src_offsets, p))
            else:
                others.append((p.tgt_lang, p.tgt, p.tgt_doc, p.tgt_idx, p.tgt_offsets, p))
        for a, b in combinations(sorted(others, key=lambda o: o[0]), 2):
            if a[0] == b[0]:
                continue
            key = f"pivot:{pivot_lang}:{a[2]}:{a[3]}={b[2]}:{b[3]}"
            derived.append(SentencePair(
                id=stable_hash(key), src_lang=a[0], tgt_lang=b[0], src=a[1], tgt=b[1],
                score=min(a[5].score, b[5].score), bead_type="1-1", src_doc=a[2], tgt_doc=b[2],
                src_idx=a[3], tgt_idx=b[3], src_offsets=a[4], tgt_offsets=b[4], story=a[5].story,
                role=pair_role(a[5].role, b[5].role), meta={"pivot": pivot_lang}))
    return derived


def assign_splits(story_pairs: dict[str, int], *, ratios: dict, seed: int,
                  min_stories: int) -> tuple[dict[str, str], list[str]]:
    """Story -> split, so that a document (and every version of its story) feeds one split only.

    Stories are taken in an order fixed by the seed; test, then dev, take stories until they hold their share
    of the pairs; the rest is train. With fewer than ``min_stories`` stories that have pairs, all go to train.
    """
    stories = [s for s, n in story_pairs.items() if n > 0]
    warnings = []
    if len(stories) < min_stories:
        warnings.append(f"only {len(stories)} {'story' if len(stories) == 1 else 'stories'} with aligned pairs "
                        f"(fewer than {min_stories}): every pair is in train; dev and test are empty")
        return {s: "train" for s in story_pairs}, warnings
    order = sorted(stories, key=lambda s: stable_hash(seed, s))
    total = sum(story_pairs[s] for s in stories)
    assignment, filled = {}, Counter()
    for story in order:
        for split in ("test", "dev"):
            if filled[split] < ratios.get(split, 0) * total:
                assignment[story] = split
                break
        else:
            assignment[story] = "train"
        filled[assignment[story]] += story_pairs[story]
    for story in story_pairs:
        assignment.setdefault(story, "train")
    return assignment, warnings


# ------------------------------------------------------------------ the run


def build_corpus(corpus_dir: str | Path, out_dir: str | Path, config: BuildConfig | None = None, *,
                 show_progress: bool = False, executor: Executor | None = None) -> BuildResult:
    """Build the dataset of ``corpus_dir`` into ``out_dir``.

    ``executor`` decides where ingest, segmentation and alignment run (:mod:`mtkit.scale`; this process by
    default, or a Ray cluster). It is not a build setting: this function writes every file itself, in story
    order, so the outputs do not depend on it.
    """
    from ..align import Aligner, get_encoder
    from ..publish.dataset_card import license_warning, write_card
    from .report import write_report

    config = config or BuildConfig()
    config.validate()
    executor = executor or LocalExecutor()
    executor.start()  # a cluster that cannot be had fails here, before the encoder loads
    manifest = load_manifest(corpus_dir)
    out = Path(out_dir)

    # a local model folder by its absolute path: the align step's workers load it in other working directories
    encoder_name = absolute_if_local(config.encoder)
    encoder = get_encoder(encoder_name)
    align_signature = Aligner(**config.aligner).signature(encoder)
    aligned = _AlignedStories(out / ".cache", align_signature, pivot=config.pivot)
    if getattr(encoder, "fallback_reason", None):
        # for the report only: get_encoder has logged it
        aligned.warnings.append(f"the lexical encoder was used because LaBSE could not be loaded "
                                f"({encoder.fallback_reason})")

    timings: Counter = Counter()
    clock = time.perf_counter
    started = clock()
    _align_stories(manifest, config, executor, encoder, encoder_name, aligned, timings, show_progress=show_progress)
    timings["steps (wall)"] += clock() - started
    if not aligned.doc_stats:  # skipping is for a bad page among good ones; with no good one there is no corpus
        first = aligned.skipped_pages[0]
        raise DataError(f"{manifest.path}: no page gives text to align ({len(aligned.skipped_pages)} skipped); the "
                        f"first, {first['file']}: {first['reason']}")
    aligned.finish_spool()

    started = clock()
    filters = _fitted_filters(config.filters, aligned.spool_dir)
    split_of, split_warnings = assign_splits(dict(aligned.story_pairs), ratios=config.split_ratios, seed=config.seed,
                                             min_stories=config.min_stories_for_heldout)
    for warning in split_warnings:
        aligned.warn(warning)
    card = _card_info(manifest, config, align_signature)
    if license_warning(card):
        aligned.warn(license_warning(card))
    # The card needs the filter counts, which are known only after the export stream: export, then write it.
    tally = _FilterTally()
    summary = _export_kept_pairs(_read_spool(aligned.spool_dir), filters, split_of, tally, out,
                                 formats=tuple(config.formats))
    card.filter_counts = tally.dropped_per_config()
    card.warnings = list(dict.fromkeys(aligned.warnings))
    write_card(out, card, summary)
    _write_build_config(out, config, card.signature)
    report = _report(manifest, encoder, card, aligned, tally, summary, split_of)
    timings["filter+split+export"] += clock() - started
    started = clock()
    write_report(out, report, tally.scores)
    shutil.rmtree(aligned.spool_dir, ignore_errors=True)
    timings["report"] += clock() - started
    return BuildResult(out, report, summary.counts, dict(timings))


class _AlignedStories:
    """What the driver keeps of the steps' results, story by story: the alignment cache (``cache/align``), the
    aligned pairs spooled per config (``cache/pairs``, emptied here: a spool holds one run), the report's
    per-document and per-pair tables, the pages skipped, the warnings and each story's pair count (for the
    splits)."""

    def __init__(self, cache: Path, align_signature: str, *, pivot: bool):
        self.align_dir = cache / "align"
        self.align_dir.mkdir(parents=True, exist_ok=True)
        self.spool_dir = cache / "pairs"
        shutil.rmtree(self.spool_dir, ignore_errors=True)
        self.spool_dir.mkdir(parents=True)
        self.align_signature = align_signature
        self.pivot = pivot
        self.doc_stats: dict[str, dict] = {}
        self.skipped_pages: list[dict] = []
        self.pair_stats: list[dict] = []
        self.warnings: list[str] = []
        self.story_pairs: Counter = Counter()
        # every aligned pair by config, in memory, for derive_pivot_pairs only
        self.config_pairs: dict[str, list[SentencePair]] = defaultdict(list) if pivot else {}
        self._spools: dict[str, object] = {}

    def cached_keys(self) -> frozenset[str]:
        return frozenset(path.stem for path in self.align_dir.glob("*.json"))

    def warn(self, warning: str) -> None:
        """A warning for the log (stderr) and the report, once each: the steps leave these to the driver."""
        logger.warning(warning)
        self.warnings.append(warning)

    def add_story(self, work: StoryWork) -> None:
        """A prepared story's documents, skipped pages and warnings (its alignments go to :meth:`add_alignments`)."""
        self.doc_stats.update(work.stats)
        for doc_id in work.stats:
            self.doc_stats[doc_id]["sentences"] = None
        self.skipped_pages += work.skipped
        for warning in work.warnings:
            self.warn(warning)

    def add_alignments(self, work: StoryWork) -> None:
        """A story's aligned pairs into the cache, the report's tables and the spool."""
        for job, key, fresh in zip(work.jobs, work.keys, work.alignments):
            self.doc_stats[job.src.id]["sentences"] = len(job.src_sents)
            self.doc_stats[job.tgt.id]["sentences"] = len(job.tgt_sents)
            cache_file = self.align_dir / f"{key}.json"
            if fresh is not None:
                write_json(cache_file, fresh)
            cached = fresh if fresh is not None else json.loads(cache_file.read_text(encoding="utf-8"))
            alignment = Alignment([Bead(tuple(s), tuple(t), sc) for s, t, sc in cached["beads"]], self.align_signature)
            pairs, unaligned = beads_to_pairs(job, alignment)
            for warning in cached["warnings"]:
                self.warn(f"{job.src.id} / {job.tgt.id}: {warning}")
            self.pair_stats.append(_pair_stat(job, alignment, unaligned))
            for pair in pairs:
                self._spool(pair)
                if self.pivot:
                    self.config_pairs[pair.config].append(pair)

    def finish_spool(self) -> None:
        """Spool the pivot pairs (with ``pivot``) and close the spool files: they are read from here on."""
        if self.pivot:
            for pair in derive_pivot_pairs(self.config_pairs):
                self._spool(pair)
        for fh in self._spools.values():
            fh.close()

    def _spool(self, pair: SentencePair) -> None:
        if pair.config not in self._spools:
            self._spools[pair.config] = open(self.spool_dir / f"{pair.config}.jsonl", "w", encoding="utf-8")
        self._spools[pair.config].write(json.dumps(dataclasses.asdict(pair), ensure_ascii=False) + "\n")
        self.story_pairs[pair.story] += 1


def _align_stories(manifest: Manifest, config: BuildConfig, executor: Executor, encoder, encoder_name: str,
                   aligned: _AlignedStories, timings: Counter, *, show_progress: bool) -> None:
    """Run ingest, segmentation and alignment over the manifest's stories, then (with ``pair_unlabelled``) align
    the documents no story groups with the pairs :func:`~.docpair.pair_documents` finds; every result goes to
    ``aligned`` in story order. Adds each stage's seconds to ``timings``."""
    clock = time.perf_counter
    # Stories go to the steps in batches of a few (a story holds one to three pairs): small enough that a pool
    # of workers shares even a small corpus and a lost worker costs little, big enough that an embedding call
    # sees hundreds of sentence windows. Both steps take the same batches, so every executor makes the same
    # align calls.
    batch = max(1, config.align_batch_pairs // 8)
    align_step = AlignPairs(encoder_name, config.aligner, aligned.align_signature,
                            batch_pairs=config.align_batch_pairs, cached=aligned.cached_keys(), batch_size=batch)
    steps = [PrepareStories(config.to_simplified, aligned.align_signature, batch_size=batch), align_step]
    unpaired: list[Document] = []
    tasks = list(story_tasks(manifest))  # the manifest's page list (already in memory), not page text
    works = executor.map(steps, tasks)
    for work in progress(works, enabled=show_progress, total=len(tasks), desc="stories", unit="story"):
        collected = clock()
        for stage, seconds in work.seconds.items():
            timings[stage] += seconds
        aligned.add_story(work)
        if config.pair_unlabelled and not work.jobs:
            unpaired.extend(work.unpaired)
        aligned.add_alignments(work)
        timings["collect"] += clock() - collected
    if unpaired:
        auto = _unlabelled_stories(unpaired, encoder, config.pairing_threshold, aligned)
        for work in executor.map([align_step], auto):
            timings["align"] += work.seconds.get("align", 0.0)
            aligned.add_alignments(work)


def _unlabelled_stories(unpaired: list[Document], encoder, threshold: float,
                        aligned: _AlignedStories) -> list[StoryWork]:
    """A story ``auto:A+B`` of its own for each document pair found by similarity, ready for the align step;
    the two documents' report rows name it."""
    from .docpair import pair_documents

    auto = []
    for a, b, score in pair_documents(unpaired, encoder, threshold=threshold):
        story = f"auto:{a.id}+{b.id}"
        for doc in (a, b):
            doc.story = story
            aligned.doc_stats[doc.id]["story"] = story
        jobs = list(pair_jobs(story, [a, b]))
        for job in jobs:
            job.doc_score = score
        auto.append(StoryWork(story, {}, jobs, [pair_key(job, aligned.align_signature) for job in jobs]))
    return auto


def _fitted_filters(specs: list[dict], spool_dir: Path) -> list[tuple[str, object]]:
    """The configured filters by name, each fitted on the spooled pairs (a no-op for those that learn nothing)."""
    filters = [(spec["name"], build_filter(spec["name"], spec.get("params"))) for spec in specs]
    for _, f in filters:
        f.fit(_read_spool(spool_dir))
    return filters


@dataclass
class _FilterTally:
    """The filters' verdicts, counted as the export stream passes: ``input``, ``kept`` and
    ``dropped_<filter>`` per config and per aligned document pair (for the report's per-pair table; pivot pairs
    have no aligned document pair of their own and are counted per config only), and every pair's score, kept
    or not, for the report's histogram."""

    per_config: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    per_doc_pair: dict[tuple[str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    scores: list[float] = field(default_factory=list)

    def add(self, pair: SentencePair, rejected_by: str | None) -> None:
        counted = [self.per_config[pair.config]]
        if not pair.meta.get("pivot"):
            counted.append(self.per_doc_pair[(pair.src_doc, pair.tgt_doc)])
        for counts in counted:
            counts["input"] += 1
            counts["kept" if rejected_by is None else f"dropped_{rejected_by}"] += 1
        self.scores.append(pair.score)

    def dropped_per_config(self) -> dict[str, dict[str, int]]:
        """Config -> filter -> pairs it dropped, as the dataset card lists them."""
        return {c: {k.removeprefix("dropped_"): v for k, v in sorted(n.items()) if k.startswith("dropped_")}
                for c, n in sorted(self.per_config.items())}


def _kept_pairs(pairs: Iterator[SentencePair], filters: list[tuple[str, object]], split_of: dict[str, str],
                tally: _FilterTally, rejects: RejectsWriter) -> Iterator[SentencePair]:
    """The pairs every filter accepts, each with its story's split; the first filter that drops a pair writes it
    to ``rejects``. Every verdict goes to ``tally``."""
    for pair in pairs:
        verdict = None
        for name, f in filters:
            score = f.score([pair])[0]
            if not f.accept(score):
                verdict = (name, score)
                break
        tally.add(pair, verdict[0] if verdict else None)
        if verdict:
            rejects.write(pair, *verdict)
            continue
        pair.split = split_of.get(pair.story, "train")
        yield pair


def _export_kept_pairs(pairs: Iterator[SentencePair], filters: list[tuple[str, object]], split_of: dict[str, str],
                       tally: _FilterTally, out: Path, *, formats: tuple[str, ...]):
    """Filter, split and export in one stream; returns the export's summary. The rejects are written beside
    the export, and only when it completes."""
    from ..publish import export_pairs

    rejects = RejectsWriter(out)
    try:
        summary = export_pairs(_kept_pairs(pairs, filters, split_of, tally, rejects), out, formats=formats)
    except BaseException:
        rejects.abort()
        raise
    rejects.close()
    rejects.remove_stale()
    return summary


def _write_build_config(out: Path, config: BuildConfig, signature: str) -> None:
    """``OUT/build_config.yaml``: the resolved settings, with the build's signature and mtkit's version."""
    with atomic_write(out / "build_config.yaml") as fh:
        yaml.safe_dump({"mtkit": __version__, "signature": signature, **config.to_dict()}, fh,
                       allow_unicode=True, sort_keys=True)


def _report(manifest: Manifest, encoder, card, aligned: _AlignedStories, tally: _FilterTally, summary,
            split_of: dict[str, str]) -> dict:
    """The report's content (``OUT/report.json``); each aligned document pair's row gets its filter counts."""
    for stats in aligned.pair_stats:
        stats["filters"] = dict(sorted(tally.per_doc_pair[(stats["src_doc"], stats["tgt_doc"])].items()))
    return {
        "signature": card.signature,
        "corpus": manifest.name,
        "encoder": encoder.signature(),
        "documents": dict(sorted(aligned.doc_stats.items())),
        "skipped_pages": aligned.skipped_pages,
        "pairs": aligned.pair_stats,
        "filters": {c: dict(sorted(n.items())) for c, n in sorted(tally.per_config.items())},
        "splits": {c: s for c, s in summary.counts.items()},
        "story_splits": dict(sorted(split_of.items())),
        "warnings": card.warnings,
    }


class RejectsWriter(TextWriter):
    """``rejects/<config>.jsonl``: each pair a filter dropped, with the filter and its score. An export writer,
    so that ``remove_stale`` deletes the files of an earlier run into the same folder (a config that now has
    no rejects, or no pairs at all), as it does for data/, jsonl/, ...: their rows would contradict this run's
    splits."""

    name = root = "rejects"

    def write(self, pair: SentencePair, rejected_by: str, filter_score) -> None:
        row = dataclasses.asdict(pair) | {"rejected_by": rejected_by, "filter_score": filter_score}
        fh = self._file(pair.config, self.out_dir / "rejects" / f"{pair.config}.jsonl")
        fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def build_signature(config: BuildConfig, align_signature: str) -> str:
    from ..ingest import signature as ingest_signature
    from ..segment import signature as segment_signature

    filters = "+".join(f["name"] for f in config.filters)
    return make_signature("build", ingest=ingest_signature(to_simplified=config.to_simplified).split("|")[0],
                          segment=segment_signature().split("|")[0], align=align_signature.split("|mtkit")[0],
                          filters=filters, seed=config.seed, cfg=stable_hash(_output_settings(config), length=8))


def _output_settings(config: BuildConfig) -> dict:
    """The settings that can change the outputs: how many pairs go to one align call does not (a resumed
    run with a different batch size writes the same files, tested), so it stays out of the signature."""
    settings = config.to_dict()
    settings.pop("align_batch_pairs", None)
    return settings


def _method_text(config: BuildConfig, align_signature: str) -> str:
    return "\n".join([
        "1. **Ingest**: pages decoded (UTF-8, UTF-16, GBK/Big5 detected), boilerplate removed by general rules "
        "(language menus, bylines, copyright footers, related-reading lists, HTML remnants, junk tokens, photo "
        "credits, repeated paragraphs, page frame around the article body), language and script detected per "
        "paragraph (lingua; Hans/Hant by OpenCC), bilingual pages split into their language parts"
        + (", Traditional Chinese converted to Simplified with OpenCC." if config.to_simplified else "."),
        "2. **Segment**: sentencex for Latin-script languages; a rule splitter on 。！？ with closing quotes for "
        "Chinese.",
        f"3. **Align**: every two language versions of a story, with the two-pass method of bertalign "
        f"(`{align_signature}`).",
        "4. **Filter**: " + ", ".join(f["name"] for f in config.filters) + ".",
        "5. **Split**: by story (all versions of a story in one split), deterministic from the seed.",
    ])


def _pair_stat(job: PairJob, alignment: Alignment, unaligned: int) -> dict:
    """The report's row for one aligned document pair (its filter counts are added after the export)."""
    types = Counter(b.type for b in alignment.beads)
    scored = [b.score for b in alignment.beads if b.src and b.tgt]
    return {
        "story": job.story, "config": job.config, "src_doc": job.src.id, "tgt_doc": job.tgt.id,
        "src_sentences": len(job.src_sents), "tgt_sentences": len(job.tgt_sents),
        "beads": dict(sorted(types.items())), "unaligned_sentences": unaligned,
        "mean_score": round(sum(scored) / len(scored), 6) if scored else None,
        "scores": [round(s, 6) for s in scored],
        **({"document_pairing_score": job.doc_score} if job.doc_score is not None else {}),
    }


def _card_info(manifest: Manifest, config: BuildConfig, align_signature: str):
    """The dataset card's content known before the export (its filter counts and warnings come after it)."""
    from ..publish import DatasetCardInfo

    sources = [{"id": d.id, "outlet": d.outlet, "date": d.date, "languages": list(d.languages),
                "file": str(Path(d.file).relative_to(manifest.root))} for d in manifest.documents]
    limitations = [
        "Sentences come from scraped news pages; cleaning is rule-based and may leave or drop a line it should not "
        "(every removal is listed by `mtkit ingest --explain`).",
        "Versions of one story are not strict translations: unaligned sentences are left out, and merged beads "
        "(2-1, 1-2, ...) join sentences.",
        "Splits are by story, so a held-out split shares no document with train; with few stories some splits "
        "are empty.",
    ]
    return DatasetCardInfo(
        name=manifest.name, pretty_name=manifest.pretty_name or manifest.name, description=manifest.description,
        license=manifest.license, license_name=str(manifest.extra.get("license_name") or ""),
        license_link=str(manifest.extra.get("license_link") or ""), languages=manifest.languages, sources=sources,
        method=_method_text(config, align_signature), signature=build_signature(config, align_signature),
        filter_counts={}, warnings=[], limitations=limitations)


def _read_spool(spool_dir: Path) -> Iterator[SentencePair]:
    for path in sorted(spool_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                data = json.loads(line)
                for key in ("src_idx", "tgt_idx"):
                    data[key] = tuple(data[key])
                for key in ("src_offsets", "tgt_offsets"):
                    data[key] = tuple(tuple(o) for o in data[key])
                yield SentencePair(**data)


__all__ = ["BuildConfig", "BuildResult", "build_corpus", "assign_splits", "derive_pivot_pairs",
           "pair_jobs", "beads_to_pairs"]
