"""Alignment quality against gold, with vecalign's definitions (as bertalign's evaluation also uses them).

Precision counts every output bead; recall counts gold beads with both sides non-empty (and output beads
likewise). A bead is a strict match when it equals a gold bead, a lax match when it shares at least one
source-target link with a gold bead. Counts are summed over documents (micro-average) before dividing.
"""

from __future__ import annotations

import ast
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence, Union

from ..errors import DataError
from ..records import Alignment, Bead

__all__ = ["AlignScore", "score_alignments", "read_beads", "parse_bead"]

logger = logging.getLogger("mtkit.align")


@dataclass(frozen=True, slots=True)
class AlignScore:
    """Strict and lax precision, recall and F1 of alignments against gold; ``table()`` prints them."""

    strict_p: float
    strict_r: float
    strict_f1: float
    lax_p: float
    lax_r: float
    lax_f1: float

    def table(self) -> str:
        return "\n".join([
            "            strict    lax",
            f"precision   {self.strict_p:.3f}   {self.lax_p:.3f}",
            f"recall      {self.strict_r:.3f}   {self.lax_r:.3f}",
            f"F1          {self.strict_f1:.3f}   {self.lax_f1:.3f}",
        ])


def parse_bead(line: str, *, where: str = "") -> Bead:
    """``[0, 1]:[2]`` -> Bead((0, 1), (2,))."""
    try:
        left, right = line.strip().split(":")
        sides = ast.literal_eval(left.strip()), ast.literal_eval(right.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        sides = None
    # literal_eval also reads (0,), "01", [0.5], [True] and [-1]; int() would turn them into indices that the
    # file never meant, so each side must be a list of sentence indices (integers >= 0)
    # (``[]:[]``, a bead of no sentence, is no bead: vecalign never writes one)
    if not (isinstance(sides, tuple) and all(isinstance(side, list) for side in sides)
            and all(type(i) is int and i >= 0 for side in sides for i in side) and any(sides)):
        raise DataError(f"{where}: not an alignment bead like [0, 1]:[2] (0-based sentence indices): "
                        f"{line.strip()!r}")
    return Bead(tuple(sides[0]), tuple(sides[1]))


def read_beads(path: str | os.PathLike) -> list[Bead]:
    """The beads of a vecalign alignment file: one bead a line, ``[0, 1]:[2]`` (0-based sentence indices, a side
    may be empty: ``[3]:[]``), blank lines skipped, a UTF-8 byte order mark allowed. A DataError names the file
    (and the line of a bead it cannot read) for a missing file, a folder, text that is not UTF-8 or a bad bead."""
    path = Path(path)
    try:
        # utf-8-sig: a byte-order mark (Windows editors write one) is not part of the first bead
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not an alignment file") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start}); expected one bead like [0, 1]:[2] "
                        "per line") from None
    # A sentence in two beads is not refused: the published Text+Berg gold has one (002, lines 190 and 197, source
    # sentence 218), and vecalign's scorer reads such files as they are.
    return [parse_bead(line, where=f"{path}:{n}") for n, line in enumerate(lines, 1) if line.strip()]


def _counts(gold: Iterable[Bead], test: Iterable[Bead]) -> tuple[int, int, int, int]:
    """(strict true positives, strict false positives, lax true positives, lax false positives) of ``test``."""
    gold_set = {(b.src, b.tgt) for b in gold if b.src or b.tgt}
    test_set = {(b.src, b.tgt) for b in test if b.src or b.tgt}
    links = defaultdict(set)
    for src, tgt in gold_set:
        for s in src:
            links[s].update(tgt)
    tp_strict = fp_strict = tp_lax = fp_lax = 0
    for src, tgt in test_set:
        if (src, tgt) in gold_set:
            tp_strict += 1
            tp_lax += 1
            continue
        fp_strict += 1
        linked = set().union(*(links[s] for s in src)) if src else set()
        if linked & set(tgt):
            tp_lax += 1
        else:
            fp_lax += 1
    return tp_strict, fp_strict, tp_lax, fp_lax


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


# Below this many sentences a side's last index says little about its length (one skipped ending is half of it).
SHORT_DOCUMENT = 10


def _check_same_document(test: Sequence[Bead], gold: Sequence[Bead], name: str) -> None:
    """A TEST that is not an alignment of GOLD's document (files given in the wrong order, the gold of another
    document, an aligner's empty output) scores near zero with no hint why: say so.

    One side empty is an error. GOLD has no sentence counts, so its highest indices stand for them (the gold
    sets we know reach the last sentence of both sides): a TEST reaching past them gets a warning, not an error,
    since a gold may leave its last sentences out of every bead and vecalign's definitions still apply. A TEST
    that stops a little short of them is normal (some aligners leave out 1-0 beads); one that ends before half
    of GOLD's sentences on both sides is another, shorter document: a warning.
    """
    if bool(test) != bool(gold):
        empty, other, count = ("TEST", "GOLD", len(gold)) if not test else ("GOLD", "TEST", len(test))
        raise DataError(f"{name}: {empty} holds no beads but {other} holds {count}")

    def highest(beads: Sequence[Bead]) -> tuple[int, int]:
        return (max((i for b in beads for i in b.src), default=-1), max((j for b in beads for j in b.tgt), default=-1))

    test_top, gold_top = highest(test), highest(gold)
    for side, t, g in (("source", test_top[0], gold_top[0]), ("target", test_top[1], gold_top[1])):
        if t > g:
            logger.warning("%s: TEST aligns %s sentence %d but GOLD's %s sentences end at %d: indices out of range; "
                           "are TEST and GOLD alignments of one document, given in order?", name, side, t, side, g)
    if all(g >= SHORT_DOCUMENT and t < g / 2 for t, g in zip(test_top, gold_top)):
        logger.warning("%s: TEST's sentences end at source %d, target %d but GOLD's at %d, %d: less than half of "
                       "GOLD's document; are TEST and GOLD alignments of one document, given in order?", name,
                       *test_top, *gold_top)


# What score_alignments takes for one document's alignment, TEST or GOLD.
AlignmentLike = Union[Alignment, Sequence[Bead], str, os.PathLike]
_EXPECTED = "an Alignment, a list of Beads or the path of a vecalign file"


def _as_beads(entry: AlignmentLike, where: str) -> list[Bead]:
    """One document's beads: an :class:`Alignment`'s, a list's, or a vecalign file's (:func:`read_beads`)."""
    if isinstance(entry, Alignment):
        return list(entry.beads)
    if isinstance(entry, (str, os.PathLike)):
        return read_beads(entry)
    if isinstance(entry, Bead):
        raise TypeError(f"score_alignments takes one alignment per document; {where} is a Bead: give each "
                        "document's beads as one list, score_alignments([beads], [gold_beads])")
    try:
        beads = list(entry)
    except TypeError:
        raise TypeError(f"score_alignments takes, for each document, {_EXPECTED}; {where} is "
                        f"{type(entry).__name__}") from None
    for k, bead in enumerate(beads):
        if not isinstance(bead, Bead):
            raise TypeError(f"score_alignments takes, for each document, {_EXPECTED}; {where}[{k}] is "
                            f"{type(bead).__name__}, not a Bead")
    return beads


def _documents(entries: Iterable[AlignmentLike], side: str) -> list:
    """The list of one side's alignments, one per document; one alignment given alone is a TypeError."""
    if isinstance(entries, (Alignment, str, os.PathLike)):
        raise TypeError(f"score_alignments takes a list of {side} alignments, one per document, not one "
                        f"{type(entries).__name__}: score_alignments([test], [gold])")
    try:
        return list(entries)
    except TypeError:
        raise TypeError(f"score_alignments takes a list of {side} alignments, one per document ({_EXPECTED} "
                        f"each), not {type(entries).__name__}") from None


def score_alignments(tests: Iterable[AlignmentLike], golds: Iterable[AlignmentLike], *,
                     names: Sequence[str] | None = None) -> AlignScore:
    """Micro-averaged scores of ``tests[k]`` against ``golds[k]``; ``names[k]`` names the pair in errors.

    Each entry is one document's alignment: an :class:`~mtkit.records.Alignment` (what :func:`mtkit.align.align`
    returns), a list of :class:`~mtkit.records.Bead`, or the path (str or Path) of a vecalign file, read with
    :func:`read_beads`. Without ``names`` a pair of paths is named ``"TEST vs GOLD"``, another pair
    ``"document K"`` (1-based). Anything else is a TypeError naming what is expected.
    """
    tests, golds = _documents(tests, "test"), _documents(golds, "gold")
    # each entry read first: one document's beads given as the list of documents (read_beads' result, twice) is
    # a TypeError that says so, not a count mismatch between "14 test alignments" and "3 gold alignments"
    test_beads = [_as_beads(test, f"tests[{k}]") for k, test in enumerate(tests)]
    gold_beads = [_as_beads(gold, f"golds[{k}]") for k, gold in enumerate(golds)]
    if len(tests) != len(golds):
        raise DataError(f"{len(tests)} test alignments but {len(golds)} gold alignments")
    if names is None:
        names = [f"{test} vs {gold}" if isinstance(test, (str, os.PathLike)) and isinstance(gold, (str, os.PathLike))
                 else f"document {k + 1}" for k, (test, gold) in enumerate(zip(tests, golds))]
    names = list(names)
    tests, golds = test_beads, gold_beads
    if not any(tests) and not any(golds):  # all-zero scores would read as a result
        raise DataError(f"nothing to score: no bead in any TEST or GOLD ({', '.join(names) or 'none given'})")
    p = [0, 0, 0, 0]
    r = [0, 0, 0, 0]
    for test, gold, name in zip(tests, golds, names):
        _check_same_document(test, gold, name)
        p = [a + b for a, b in zip(p, _counts(gold, test))]
        both_test = [b for b in test if b.src and b.tgt]
        both_gold = [b for b in gold if b.src and b.tgt]
        # recall is precision of the gold against the output, insertions and deletions left out
        r = [a + b for a, b in zip(r, _counts(both_test, both_gold))]
    sp, lp = _ratio(p[0], p[0] + p[1]), _ratio(p[2], p[2] + p[3])
    sr, lr = _ratio(r[0], r[0] + r[1]), _ratio(r[2], r[2] + r[3])
    return AlignScore(sp, sr, _ratio(2 * sp * sr, sp + sr), lp, lr, _ratio(2 * lp * lr, lp + lr))
