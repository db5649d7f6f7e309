"""sentencex (offline, rule-based, per-language abbreviation lists) for Latin-script languages."""

from __future__ import annotations

import functools
import re

from .base import SEGMENTERS, SentenceSplitter, trimmed

__all__ = ["SentencexSplitter"]

# sentencex's Indonesian/Malay lists lack the common titles and abbreviations of news text (it splits
# "Ir. Joko", "Jend. Listyo", "Irjen Pol. Karyoto", "Kab. Bogor", "dkk. pada"), and sentencex takes no extra
# list, so a piece ending in one of these continues into the next piece. Only words that stand before a name
# (titles, ranks, "Pol." after a police rank, administrative units): "dll." / "dsb." / "tsb." often end a
# sentence, so they are left to sentencex.
_EXTRA_ABBREVIATIONS = {
    "id": ("Ir", "Bpk", "Bp", "Jend", "Brigjen", "Irjen", "Kombes", "AKBP", "Kapt", "Kol", "Letjen", "Mayjen",
           "Jl", "Jln", "dkk", "Sdr", "Sdri", "Drs", "Dra", "Hj", "KH", "Yth", "Tn", "Ny", "Pol", "Pdt", "Ust",
           "Kab", "Kec", "Kel", "Prov"),
}
_EXTRA_ABBREVIATIONS["ms"] = _EXTRA_ABBREVIATIONS["id"]
# Abbreviations that stand before a number ("Rp. 5.000", "tgl. 5 Mei", "hal. 12"): they continue into the next
# piece only when it starts with a digit, since "hal" is also a word that can end a sentence.
_NUMBER_ABBREVIATIONS = {"id": ("Rp", "tgl", "Tgl", "hal", "Hal")}
_NUMBER_ABBREVIATIONS["ms"] = _NUMBER_ABBREVIATIONS["id"]


class SentencexSplitter(SentenceSplitter):
    """sentencex for one language, with two repairs on top.

    sentencex already handles a full stop with the space missing (``dunia.Menjalin``), numbers (``50.000``,
    ``5.3``) and its own abbreviations (``P. R. China``, ``No.``, ``Dr.``). Repairs: a piece that starts with a
    lowercase letter or a comma continues the sentence before it (``diluncurkan., dan``, ``terkait. ,``), and a
    piece that ends in an abbreviation sentencex does not know continues into the next one.
    """

    version = 3

    def __init__(self, lang: str):
        self.lang = lang
        self.name = f"sentencex-{lang}"
        words = _EXTRA_ABBREVIATIONS.get(lang, ())
        self._abbreviation = re.compile(rf"(?<![\w.])(?:{'|'.join(words)})\.$") if words else None
        before_number = _NUMBER_ABBREVIATIONS.get(lang, ())
        self._number_abbreviation = (re.compile(rf"(?<![\w.])(?:{'|'.join(before_number)})\.$")
                                     if before_number else None)

    def split(self, text):
        from sentencex import segment

        spans = []
        pos = 0
        for piece in segment(self.lang, text):
            if not piece:
                continue
            found = text.find(piece, pos)
            start = pos if found < 0 else found
            end = start + len(piece)
            spans.append((start, min(end, len(text))))
            pos = end
        if pos < len(text):
            spans.append((pos, len(text)))
        merged: list[tuple[int, int]] = []
        for s, e in trimmed(text, spans):
            if merged and (text[s].islower() or text[s] in ",;:)"
                           or self._continues(text[merged[-1][0]:merged[-1][1]], text[s])):
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        return merged

    def _continues(self, piece: str, next_char: str) -> bool:
        if self._abbreviation is not None and self._abbreviation.search(piece) is not None:
            return True
        return (next_char.isdigit() and self._number_abbreviation is not None
                and self._number_abbreviation.search(piece) is not None)


for _code in ("id", "en", "ms"):
    SEGMENTERS.register(_code)(functools.partial(SentencexSplitter, _code))
