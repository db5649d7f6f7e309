"""The per-story work of ``mtkit build`` as executor steps (:mod:`mtkit.scale`): what may run on other machines.

- :class:`PrepareStories`: a story's pages -> cleaned documents, their sentences, the document pairs to align
  and each pair's alignment-cache key.
- :class:`AlignPairs`: the pairs whose alignment is not cached yet -> beads, one encoder load per worker.

Both are pure functions of their inputs. Workers write nothing: the driver (:func:`~mtkit.corpus.builder.
build_corpus`) fills the cache and writes every output, in story order, whichever executor ran the steps.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from textwrap import shorten
from typing import Callable, Iterator

from ..errors import BackendError, DataError
from ..records import Document, Sentence, config_name
from ..scale import Step
from ..utils import option_text, stable_hash
from ..ingest.manifest import Manifest


@dataclass(slots=True)
class Page:
    """One raw page of a story, as a worker reads it: the corpus folder must be at the same path on every
    node (a shared filesystem or a copy)."""

    doc_id: str
    file: str  # absolute path
    rel: str  # path relative to the corpus folder, as the report shows it
    languages: tuple[str, ...]


@dataclass(slots=True)
class StoryTask:
    story: str
    pages: list[Page]


@dataclass
class PairJob:
    story: str
    src: Document
    tgt: Document
    src_sents: list[Sentence]
    tgt_sents: list[Sentence]
    doc_score: float | None = None  # document-pairing score, for pairs found without the manifest

    @property
    def config(self) -> str:
        return config_name(self.src.lang, self.tgt.lang)


@dataclass
class StoryWork:
    """A story on its way through the steps and back to the driver."""

    story: str
    stats: dict[str, dict]  # per document, as the report shows them
    jobs: list[PairJob]
    keys: list[str]  # the alignment-cache key of each job
    # per job: {"beads": [[src, tgt, score], ...], "warnings": [...]} aligned in this run (the cache file's
    # content), or None where the cache holds it
    alignments: list[dict | None] = field(default_factory=list)
    unpaired: list[Document] = field(default_factory=list)  # its documents when it has no pair to align
    skipped: list[dict] = field(default_factory=list)  # its pages that gave nothing to align, as the report lists them
    warnings: list[str] = field(default_factory=list)  # about its pages, for the driver to log and report
    seconds: dict[str, float] = field(default_factory=dict)  # worker time per stage (the driver sums them)


class HeldLog(logging.Filter):
    """Holds back the records logger ``name`` emits inside ``with``; on leaving, passes on those that
    ``covered`` does not claim (every one, after an exception).

    A step's warnings travel to the driver in its result, and the driver logs them once, naming the page or
    document pair, in story order, also for alignments read back from the cache. Without this, mtkit.align
    and mtkit.ingest logged them a second time, on the worker, without saying which pair or page they are about.
    """

    def __init__(self, name: str):
        super().__init__()
        self.logger = logging.getLogger(name)
        self.records: list[logging.LogRecord] = []
        self.covered: Callable[[logging.LogRecord], bool] = lambda record: False

    def filter(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return False

    def __enter__(self) -> "HeldLog":
        self.logger.addFilter(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.logger.removeFilter(self)
        for record in self.records:
            if exc_type is not None or not self.covered(record):
                self.logger.handle(record)


def story_tasks(manifest: Manifest) -> Iterator[StoryTask]:
    """Stories in manifest order; documents outside every story form stories of their own."""
    by_id = {d.id: d for d in manifest.documents}
    groups = [(s.id, list(s.documents)) for s in manifest.stories]
    grouped = {d for _, docs in groups for d in docs}
    groups += [(d.id, [d.id]) for d in manifest.documents if d.id not in grouped]
    for story, doc_ids in groups:
        yield StoryTask(story, [Page(by_id[d].id, str(by_id[d].file),
                                     str(Path(by_id[d].file).relative_to(manifest.root)), tuple(by_id[d].languages))
                                for d in doc_ids])


def ingest_story(task: StoryTask, *, to_simplified: bool) -> tuple[list[Document], dict[str, dict], list[dict],
                                                                  list[str]]:
    """The story's Documents, per-document stats, the pages skipped and warnings about its pages.

    A page that gives no text to align (empty, undecodable, nothing left after cleaning, or only text of
    undetermined language) is skipped with a warning: one failed download must not stop a corpus build, and
    an ``und`` document aligned against a real version only adds noise and a fake ``und-xx`` config. A page
    whose detected languages are not the manifest's is kept, with a warning (the manifest may be wrong, or
    the page).
    """
    from ..ingest import ingest_file
    from ..ingest.decode import guessed_encoding

    documents, stats, skipped, warnings = [], {}, [], []
    for page in task.pages:
        reason, result = None, None
        with HeldLog("mtkit.ingest") as held:
            try:
                result = ingest_file(page.file, doc_id=page.doc_id, languages=page.languages,
                                     to_simplified=to_simplified, story=task.story)
            except DataError as exc:  # the page's bytes are unusable; the warning names the file already
                reason = str(exc).removeprefix(f"{page.file}: ")
            if result is not None:
                reason = _unusable(result)
            # ingest's warning about a page skipped here ("no article text left") is what the skip warning says;
            # a guessed encoding is said below, with the page's name, and goes into the report
            held.covered = lambda record: (reason is not None and record.levelno == logging.WARNING
                                           or hasattr(record, "encoding_guess"))
        if reason is not None:
            skipped.append({"document": page.doc_id, "file": page.rel, "languages": list(page.languages),
                            "story": task.story, "reason": reason})
            warnings.append(f"{_page_name(page)}: skipped: {reason}")
            continue
        if guessed_encoding(result.encoding):
            warnings.append(f"{_page_name(page)}: not UTF-8; read as {result.encoding}, a guess from its bytes "
                            "(check its text in the export, or convert the page to UTF-8)")
        detected = [_detected_language(doc) for doc in result.documents]
        if sorted(detected) != sorted(page.languages):
            warnings.append(f"{_page_name(page)}: holds {', '.join(detected)} text, not the declared "
                            f"{', '.join(page.languages)}")
        removed = Counter(r.rule for r in result.removed)
        for doc in result.documents:
            documents.append(doc)
            # the script as published, and as written on the page where ingest converted it
            script = doc.script + (f" (from {doc.meta['converted_from']})" if doc.meta.get("converted_from") else "")
            stats[doc.id] = {"lang": doc.lang, "script": script, "paragraphs": len(doc.paragraphs), "file": page.rel,
                             "story": task.story, "removed": dict(sorted(removed.items()))}
    return documents, stats, skipped, warnings


def _page_name(page: Page) -> str:
    """A page as warnings name it: its id, file and the languages the manifest declares for it."""
    return f"{page.doc_id} ({page.rel}, declared {', '.join(page.languages)})"


def _detected_language(doc: Document) -> str:
    """The document's language as detection alone sees it. ``doc.lang`` is not that: ingest prefers the
    manifest's languages wherever lingua gives them any chance, so an English page declared ``id`` comes back
    as an ``id`` document. As the aligner's check does, a sample under 40 characters is not trusted."""
    from ..ingest.langid import document_language

    return document_language([p.text for p in doc.paragraphs], min_chars=40) or doc.lang


def _unusable(result) -> str | None:
    """Why an ingested page gives nothing to align, or None when it does."""
    if not result.documents:
        return f"no article text left after cleaning ({len(result.removed)} blocks removed)"
    if all(doc.lang == "und" for doc in result.documents):
        # ingest makes an und document only when no paragraph has a language: a menu line, a code
        left = " / ".join(p.text for doc in result.documents for p in doc.paragraphs)
        return f"no article text in a known language: cleaning left {shorten(left, 80)!r}, language undetermined (und)"
    return None


def pair_jobs(story: str, documents: list[Document]) -> Iterator[PairJob]:
    """Every two language versions of one story, oriented so that the source is the config's first language."""
    from ..segment import segment_document

    sentences = {d.id: segment_document(d) for d in documents}
    for a, b in combinations(documents, 2):
        if a.lang == b.lang:
            continue
        src, tgt = (a, b) if a.lang < b.lang else (b, a)
        yield PairJob(story, src, tgt, sentences[src.id], sentences[tgt.id])


def pair_key(job: PairJob, align_signature: str) -> str:
    """The alignment-cache key: the two sentence lists, their languages and the aligner's settings."""
    return stable_hash([s.text for s in job.src_sents], [s.text for s in job.tgt_sents], job.src.lang, job.tgt.lang,
                       align_signature)


@dataclass
class PrepareStories(Step):
    """Ingest and segment a story's pages and list its document pairs."""

    NAME = "prepare"

    to_simplified: bool
    align_signature: str
    batch_size: int = 1

    def __call__(self, tasks: list[StoryTask]) -> list[StoryWork]:
        return [self.prepare(task) for task in tasks]

    def prepare(self, task: StoryTask) -> StoryWork:
        started = time.perf_counter()
        documents, stats, skipped, warnings = ingest_story(task, to_simplified=self.to_simplified)
        jobs = list(pair_jobs(task.story, documents))
        return StoryWork(task.story, stats, jobs, [pair_key(job, self.align_signature) for job in jobs],
                         unpaired=[] if jobs else documents, skipped=skipped, warnings=warnings,
                         seconds={"ingest+segment": time.perf_counter() - started})


@dataclass
class AlignPairs(Step):
    """Align the stories' pairs that ``cached`` (the cache's keys when the run started) does not hold.

    Pairs of one language pair are aligned together, ``batch_pairs`` to an embedding call. ``encoder`` is the
    name the driver was given; a worker whose encoder signs differently from ``align_signature`` (``auto``
    found LaBSE on one machine and not on the other) stops the run rather than mix two encoders in one corpus.
    """

    NAME = "align"
    STATEFUL = True

    encoder: str
    aligner: dict
    align_signature: str
    cached: frozenset[str] = frozenset()
    batch_pairs: int = 64
    batch_size: int = 1

    def setup(self) -> None:
        from ..align import Aligner, get_encoder

        self._encoder = get_encoder(self.encoder)
        found = Aligner(**self.aligner).signature(self._encoder)
        if found != self.align_signature:
            raise BackendError(f"this worker's aligner signs {found!r}, the driver's {self.align_signature!r}: "
                               f"encoder {self.encoder!r} resolves differently here; give every node the same "
                               f"models, or name the encoder ({option_text('encoder')} lexical, labse, ...)")

    def __call__(self, works: list[StoryWork]) -> list[StoryWork]:
        import mtkit.align  # through the module, so that tests can stand in for align_many

        started = time.perf_counter()
        by_langs: dict[tuple[str, str], list[tuple[StoryWork, int]]] = defaultdict(list)
        for work in works:
            work.alignments = [None] * len(work.jobs)
            for k, (job, key) in enumerate(zip(work.jobs, work.keys)):
                if key not in self.cached:
                    by_langs[(job.src.lang, job.tgt.lang)].append((work, k))
        carried: set[str] = set()  # the warnings the results take to the driver
        with HeldLog("mtkit.align") as held:
            for (src_lang, tgt_lang), group in by_langs.items():
                texts = [([s.text for s in w.jobs[k].src_sents], [s.text for s in w.jobs[k].tgt_sents])
                         for w, k in group]
                results = mtkit.align.align_many(texts, encoder=self._encoder, src_lang=src_lang, tgt_lang=tgt_lang,
                                                 batch_pairs=self.batch_pairs, **self.aligner)
                for (work, k), alignment in zip(group, results):
                    work.alignments[k] = {"beads": [[list(b.src), list(b.tgt), b.score] for b in alignment.beads],
                                          "warnings": alignment.meta.get("warnings", [])}
                    carried.update(work.alignments[k]["warnings"])
            held.covered = lambda record: record.getMessage() in carried
        if works:  # the driver only sums these: the batch's time goes to its first story
            works[0].seconds["align"] = works[0].seconds.get("align", 0.0) + time.perf_counter() - started
        return works
