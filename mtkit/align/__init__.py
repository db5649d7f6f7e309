"""Sentence alignment: bertalign's two-pass method over any sentence encoder.

``align(src, tgt)`` aligns one pair; ``align_many(pairs)`` embeds many pairs in shared batches (identical
sentences and windows embedded once, one model load) and aligns each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..errors import ConfigError
from ..ingest.langid import document_language, document_sample
from ..languages import language_code
from ..records import Alignment, Bead, Sentence
from ..utils import checked_texts, make_signature, option_text
from .dp import align_embeddings, overlap_texts
from .encoders import ENCODERS, LABSE, LexicalEncoder, SentenceEncoder, TransformerEncoder, get_encoder
from .scoring import AlignScore, read_beads, score_alignments

__all__ = ["Aligner", "align", "align_many", "language_code", "get_encoder", "SentenceEncoder", "ENCODERS",
           "LexicalEncoder",
           "TransformerEncoder", "LABSE", "score_alignments", "read_beads", "AlignScore"]

logger = logging.getLogger("mtkit.align")

# Above this ratio of sentence counts a pair is most likely not two versions of one text.
LENGTH_RATIO_WARNING = 10.0


@dataclass(frozen=True, slots=True)
class Aligner:
    """Settings of the two-pass aligner; defaults are bertalign's.

    ``max_align``: most sentences in one bead, both sides together (at least 2); ``top_k``: the nearest target
    sentences each source sentence keeps as candidates in the first (1-1) pass; ``win``: how many target
    sentences either side of the first pass's anchors the second pass searches; ``skip``: the score of an
    unaligned sentence (a 1-0 or 0-1 bead); ``margin``: a bead's cosine less the mean similarity of its
    neighbouring sentences; ``len_penalty``: scores times ``log2(1 + shorter / longer)`` of the sides' lengths.
    """

    # the defaults, as class constants: align's and align_many's keywords default to them too
    MAX_ALIGN = 5
    TOP_K = 3
    WIN = 5
    SKIP = -0.1
    MARGIN = True
    LEN_PENALTY = True

    max_align: int = MAX_ALIGN
    top_k: int = TOP_K
    win: int = WIN
    skip: float = SKIP
    margin: bool = MARGIN
    len_penalty: bool = LEN_PENALTY

    def __post_init__(self):
        if self.max_align < 2:
            raise ConfigError(f"max_align must be >= 2, got {self.max_align}")
        if self.top_k < 1 or self.win < 1:
            raise ConfigError(f"top_k and win must be >= 1, got top_k={self.top_k}, win={self.win}")

    def signature(self, encoder: SentenceEncoder | None = None) -> str:
        enc = encoder.signature().split("|")[0].removeprefix("enc:") if encoder else "?"
        return make_signature("align:bertalign", max_align=self.max_align, top_k=self.top_k, win=self.win,
                              skip=self.skip, margin=self.margin, len_penalty=self.len_penalty, enc=enc)

    def align_vectors(self, src_vecs, tgt_vecs, src_lens, tgt_lens) -> list[Bead]:
        n, m = src_vecs.shape[1], tgt_vecs.shape[1]
        if n == 0 or m == 0:
            return [Bead((i,), (), self.skip) for i in range(n)] + [Bead((), (j,), self.skip) for j in range(m)]
        beads = align_embeddings(src_vecs, tgt_vecs, src_lens, tgt_lens, max_align=self.max_align,
                                 top_k_count=self.top_k, win=self.win, skip=self.skip, margin=self.margin,
                                 len_penalty=self.len_penalty)
        return [Bead(s, t, round(score, 6)) for s, t, score in beads]


def embed_overlaps(encoder: SentenceEncoder, sentence_lists: Sequence[Sequence[str]], num_overlaps: int, *,
                   langs: Sequence[str | None] | None = None, show_progress: bool = False):
    """For each sentence list: vectors (num_overlaps, n, dim) and UTF-8 lengths (num_overlaps, n); ``show_progress``
    is the encoder's.

    All windows of all lists go through the encoder in one call per language, each distinct text once.
    """
    langs = list(langs) if langs is not None else [None] * len(sentence_lists)
    windows = [overlap_texts(sents, num_overlaps) for sents in sentence_lists]
    vectors: dict[tuple[str | None, str], np.ndarray] = {}
    for lang in dict.fromkeys(langs):
        distinct = list(dict.fromkeys(t for w, window_lang in zip(windows, langs) if window_lang == lang for t in w))
        if distinct:
            encoded = encoder.encode(distinct, lang=lang, show_progress=show_progress)
            vectors.update(((lang, t), v) for t, v in zip(distinct, encoded))
    out = []
    for sents, w, lang in zip(sentence_lists, windows, langs):
        n = len(sents)
        if n == 0:
            out.append((np.zeros((num_overlaps, 0, 1), np.float32), np.zeros((num_overlaps, 0), np.int64)))
            continue
        vecs = np.stack([vectors[(lang, t)] for t in w]).reshape(num_overlaps, n, -1)
        lens = np.array([len(t.encode("utf-8")) for t in w], dtype=np.int64).reshape(num_overlaps, n)
        out.append((vecs, lens))
    return out


def _embed_pairs(encoder: SentenceEncoder, pair_langs, src_lists, tgt_lists, src_langs, tgt_langs,
                 num_overlaps: int, *, show_progress: bool):
    """:func:`embed_overlaps` of both sides of many pairs, each pair by the encoder that
    ``encoder.for_languages`` gives for its languages (``pair_langs``); the pairs one encoder serves share its
    calls. Returns the source sides' and the target sides' (vectors, lengths), in pair order."""
    pair_encoders = [encoder.for_languages(*langs) for langs in pair_langs]
    src_side: list = [None] * len(pair_encoders)
    tgt_side: list = [None] * len(pair_encoders)
    for pair_encoder in dict.fromkeys(pair_encoders):
        served = [k for k, e in enumerate(pair_encoders) if e is pair_encoder]
        for side, lists, langs in ((src_side, src_lists, src_langs), (tgt_side, tgt_lists, tgt_langs)):
            embedded = embed_overlaps(pair_encoder, [lists[k] for k in served], num_overlaps,
                                      langs=[langs[k] for k in served], show_progress=show_progress)
            for k, vectors_and_lengths in zip(served, embedded):
                side[k] = vectors_and_lengths
    return src_side, tgt_side


def align(src: Sequence[str | Sentence], tgt: Sequence[str | Sentence], *, encoder: str | SentenceEncoder = "auto",
          src_lang: str | None = None, tgt_lang: str | None = None, max_align: int = Aligner.MAX_ALIGN,
          top_k: int = Aligner.TOP_K, win: int = Aligner.WIN, skip: float = Aligner.SKIP,
          margin: bool = Aligner.MARGIN, len_penalty: bool = Aligner.LEN_PENALTY,
          show_progress: bool = False) -> Alignment:
    """Align two versions of one text, sentence by sentence. ``max_align`` to ``len_penalty``: the settings of
    :class:`Aligner`, its defaults; ``show_progress``: a bar while the sentences are embedded.

    Each side is a list of sentences: strings, or the :class:`~mtkit.records.Sentence` records of
    :func:`mtkit.segment.segment_document` (their ``text`` is aligned). A language not given is the records'
    ``lang`` when all the side's records agree on one (``und`` left out), else detected from the text.

    The beads cover every sentence of both sides once, in order. ``Bead.score`` is the score bertalign's second
    pass gave the bead (cosine, margin-modified when ``margin``, times the length penalty when ``len_penalty``);
    an unaligned sentence (a 1-0 or 0-1 bead) scores ``skip`` (-0.1 by default), so a threshold above ``skip``
    drops them. An empty side is not an error: every sentence of the other side comes back unaligned, with a
    warning in ``Alignment.meta["warnings"]`` (as for the other pair checks) and in the log.
    """
    return next(align_many([(src, tgt)], encoder=encoder, src_lang=src_lang, tgt_lang=tgt_lang, max_align=max_align,
                           top_k=top_k, win=win, skip=skip, margin=margin, len_penalty=len_penalty,
                           show_progress=show_progress))


def align_many(pairs: Iterable[tuple[Sequence[str | Sentence], Sequence[str | Sentence]]], *,
               encoder: str | SentenceEncoder = "auto", src_lang: str | None = None, tgt_lang: str | None = None,
               batch_pairs: int = 64, show_progress: bool = False, max_align: int = Aligner.MAX_ALIGN,
               top_k: int = Aligner.TOP_K, win: int = Aligner.WIN, skip: float = Aligner.SKIP,
               margin: bool = Aligner.MARGIN, len_penalty: bool = Aligner.LEN_PENALTY) -> Iterator[Alignment]:
    """Align many document pairs, embedding ``batch_pairs`` pairs at a time in shared batches. Sides, languages,
    settings and ``show_progress`` as for :func:`align`."""
    aligner = Aligner(max_align=max_align, top_k=top_k, win=win, skip=skip, margin=margin, len_penalty=len_penalty)
    src_lang, tgt_lang = language_code(src_lang, "src_lang"), language_code(tgt_lang, "tgt_lang")
    enc = get_encoder(encoder) if isinstance(encoder, str) else encoder
    signature = aligner.signature(enc)
    # (source sentences, target sentences, source language, target language): a language given, else the
    # records' own, else None (detected below)
    batch: list[tuple[list[str], list[str], str | None, str | None]] = []

    def flush():
        # Blank sentences (empty lines of a presegmented file) carry nothing to align: they stay out of the
        # embedding and the DP and come back as unaligned beads in their places.
        kept = [([i for i, s in enumerate(src) if s.strip()], [j for j, t in enumerate(tgt) if t.strip()])
                for src, tgt, _, _ in batch]
        # A language not given is detected once per document, as the CLI does for a raw page: left to the
        # encoder, the lexical one detected it for every window of every sentence, and a 5,000-sentence pair
        # took 60 s instead of 14 s.
        src_langs = [sl or document_language([src[i] for i in ks]) for (src, _, sl, _), (ks, _) in zip(batch, kept)]
        tgt_langs = [tl or document_language([tgt[j] for j in kt]) for (_, tgt, _, tl), (_, kt) in zip(batch, kept)]
        # the languages known for the pair: given, or detected from enough text to trust (a short text's guess
        # still picks the word lists its sentences are embedded with, but not the pair's kind of features)
        known_langs = [(given_sl or _detected_reliably(sl_, src, ks), given_tl or _detected_reliably(tl_, tgt, kt))
                       for (src, tgt, given_sl, given_tl), (ks, kt), sl_, tl_ in zip(batch, kept, src_langs, tgt_langs)]
        src_side, tgt_side = _embed_pairs(enc, known_langs,
                                          [[src[i] for i in ks] for (src, *_), (ks, _) in zip(batch, kept)],
                                          [[tgt[j] for j in kt] for (_, tgt, *_), (_, kt) in zip(batch, kept)],
                                          src_langs, tgt_langs, aligner.max_align - 1, show_progress=show_progress)
        for (src, tgt, given_sl, given_tl), (ks, kt), (sv, sl), (tv, tl), sl_, tl_, known in zip(
                batch, kept, src_side, tgt_side, src_langs, tgt_langs, known_langs):
            warnings = _check_pair([src[i] for i in ks], [tgt[j] for j in kt], given_sl, given_tl)
            if ks and kt:  # with a side empty nothing is matched, whatever the encoder knows
                warnings += _lexical_coverage(enc, *known)
            beads = _restore_blanks(aligner.align_vectors(sv, tv, sl, tl), ks, kt, len(src), len(tgt), aligner.skip)
            # the languages the sides were embedded as (given or detected), for whoever joins a bead's sentences
            meta = {"src_lang": sl_, "tgt_lang": tl_}
            if warnings:
                meta["warnings"] = warnings
            if getattr(enc, "fallback_reason", None):
                meta["encoder_fallback"] = enc.fallback_reason
            yield Alignment(beads, signature, meta)

    for src, tgt in pairs:
        (src, src_records_lang), (tgt, tgt_records_lang) = _sentence_list(src, "src"), _sentence_list(tgt, "tgt")
        batch.append((src, tgt, src_lang or src_records_lang, tgt_lang or tgt_records_lang))
        if len(batch) >= batch_pairs:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def _sentence_list(sentences: Sequence[str | Sentence], side: str) -> tuple[list[str], str | None]:
    """The side's sentence texts as a list, and the language its :class:`Sentence` records agree on (None for
    strings, or records of several languages or none known). A string (which would align character by
    character) or an item that is neither a string nor a Sentence (None from a missing field) is a TypeError
    here (:func:`~mtkit.utils.checked_texts`) rather than a wrong result or an AttributeError deep inside."""
    texts, langs, strings = [], set(), False
    for sentence in checked_texts(sentences, side, items="sentences", also=(Sentence,),
                                  hint="split a text first (mtkit.segment, or one sentence per line)"):
        if isinstance(sentence, Sentence):
            texts.append(sentence.text)
            if sentence.lang not in ("", "und"):  # undetermined: says nothing either way
                langs.add(sentence.lang)
        else:
            texts.append(sentence)
            strings = True
    if strings or not langs:
        return texts, None
    from ..languages import iso_code

    # one language in any spelling (zh, ZH, zh-CN); a code that names none is no language: detected, as for strings
    codes = {iso_code(lang) for lang in langs}
    return texts, codes.pop() if len(codes) == 1 else None


# Fewer characters than this and lingua's guess for Latin-script text is noise ("a b c." reads as German, "a a a"
# as Tagalog). The guess still picks the embedding's word lists (harmless); it only must not be named in a warning.
RELIABLE_DETECTION_CHARS = 20


def _detected_reliably(lang: str | None, sentences: Sequence[str], kept: Sequence[int]) -> str | None:
    """``lang`` (detected from the document's first sentences) when that sample was long enough to trust."""
    return lang if len(document_sample([sentences[i] for i in kept])) >= RELIABLE_DETECTION_CHARS else None


def _restore_blanks(beads: list[Bead], kept_src: list[int], kept_tgt: list[int], n: int, m: int,
                    skip: float) -> list[Bead]:
    """Beads over the kept sentences -> beads over all of them, each blank one unaligned where it stood."""
    if len(kept_src) == n and len(kept_tgt) == m:
        return beads
    blank_src = iter(sorted(set(range(n)) - set(kept_src)))
    blank_tgt = iter(sorted(set(range(m)) - set(kept_tgt)))
    next_src, next_tgt = next(blank_src, n), next(blank_tgt, m)
    out = []
    for bead in beads:
        src = tuple(kept_src[i] for i in bead.src)
        tgt = tuple(kept_tgt[j] for j in bead.tgt)
        # blanks before this bead's first sentence go first, so both sides stay in order
        while next_src < (src[0] if src else -1):
            out.append(Bead((next_src,), (), skip))
            next_src = next(blank_src, n)
        while next_tgt < (tgt[0] if tgt else -1):
            out.append(Bead((), (next_tgt,), skip))
            next_tgt = next(blank_tgt, m)
        out.append(Bead(src, tgt, bead.score))
    out += [Bead((i,), (), skip) for i in ([next_src] if next_src < n else []) + list(blank_src)]
    out += [Bead((), (j,), skip) for j in ([next_tgt] if next_tgt < m else []) + list(blank_tgt)]
    return out


_COVERAGE_LOGGED: set = set()


def _lexical_coverage(encoder: SentenceEncoder, src_lang: str | None, tgt_lang: str | None) -> list[str]:
    """A warning when the lexical encoder aligns a language it has no word list for (logged once per pair of
    languages): there it matches only shared numbers, spellings and sentence length, and on Text+Berg de-fr it
    scores above a length-only aligner but far below LaBSE (bench/RESULTS.md). Quiet for two versions in one
    language, where shared words suffice. The pairs it warns for are those :meth:`LexicalEncoder.for_languages`
    gives the spelling features."""
    unknown = encoder.lacks_word_lists(src_lang, tgt_lang) if isinstance(encoder, LexicalEncoder) else []
    if not unknown:
        return []
    pair = f"{src_lang}-{tgt_lang}" if src_lang and tgt_lang else f"{unknown[0]} text"
    warning = (f"the lexical encoder has word lists for {', '.join(encoder.LANGUAGES)} only, not "
               f"{' or '.join(unknown)}: {pair} is matched by shared numbers, spellings and sentence length "
               f"(expect little better than a length-only aligner); use LaBSE ({option_text('encoder', 'labse')})")
    if (src_lang, tgt_lang) not in _COVERAGE_LOGGED:
        _COVERAGE_LOGGED.add((src_lang, tgt_lang))
        logger.warning(warning)
    return [warning]


def _check_pair(src: Sequence[str], tgt: Sequence[str], src_lang: str | None = None,
                tgt_lang: str | None = None) -> list[str]:
    warnings = []
    n, m = len(src), len(tgt)
    for side, sents in (("source", src), ("target", tgt)):
        repeated = len(sents) - len(set(sents))
        if len(sents) >= 4 and repeated >= 0.3 * len(sents):
            warnings.append(f"{repeated} of the {len(sents)} {side} sentences repeat others: identical sentences "
                            "embed alike, so where they fall into beads is arbitrary")
    for side, sents, lang in (("source", src, src_lang), ("target", tgt, tgt_lang)):
        found = document_language(sents, min_chars=40) if lang else None
        if found not in (lang, None):
            setting = option_text("src_lang" if side == "source" else "tgt_lang")
            warnings.append(f"the {side} side looks like {found}, not {lang}: check {setting}")
    if n == 0 and m == 0:
        warnings.append("both sides are empty (no sentence with text on either side): nothing to align")
    elif n == 0 or m == 0:
        warnings.append(f"one side is empty ({n} source, {m} target sentences with text): every sentence is "
                        "unaligned")
    elif max(n, m) / min(n, m) > LENGTH_RATIO_WARNING:
        warnings.append(f"sentence counts differ {max(n, m) / min(n, m):.0f}x ({n} vs {m}): "
                        "probably not two versions of one text")
    for warning in warnings:
        logger.warning(warning)
    return warnings
