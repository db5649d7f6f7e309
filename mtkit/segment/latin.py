"""sentencex (offline, rule-based, per-language abbreviation lists) for Latin-script languages."""

from __future__ import annotations

import functools
import re

from .base import SEGMENTERS, SentenceSplitter, trimmed

__all__ = ["SentencexSplitter"]

# Abbreviations sentencex does not know, in three kinds by what follows them. sentencex takes no extra list,
# so a piece it ends after one of these is joined to the next piece when the kind says the sentence goes on.
#
# Before a name: sentencex's Indonesian/Malay lists lack the common titles and abbreviations of news text (it
# splits "Ir. Joko", "Jend. Listyo", "Irjen Pol. Karyoto", "Kab. Bogor", "dkk. pada"); its English list lacks
# "Ms.". Only words that stand before a name (titles, ranks, "Pol." after a police rank, administrative units):
# "dll." / "dsb." / "tsb." often end a sentence, so they are left to sentencex. These always continue.
_BEFORE_NAME = {
    "id": ("Ir", "Bpk", "Bp", "Jend", "Brigjen", "Irjen", "Kombes", "AKBP", "Kapt", "Kol", "Letjen", "Mayjen",
           "Jl", "Jln", "dkk", "Sdr", "Sdri", "Drs", "Dra", "Hj", "KH", "Yth", "Tn", "Ny", "Pol", "Pdt", "Ust",
           "Kab", "Kec", "Kel", "Prov"),
    "en": ("Ms",),
}
# Before a number ("Rp. 5.000", "tgl. 5 Mei", "hal. 12", "Vol. 3", "approx. 50"): they continue only into a
# piece that starts with a digit, since "hal" is also a word that can end a sentence.
_BEFORE_NUMBER = {"id": ("Rp", "tgl", "Tgl", "hal", "Hal"), "en": ("Vol", "vol", "approx")}
# After a time or a place, and also at the end of a sentence: "at 3 p.m. on Tuesday", "at 3 p.m. Beijing time",
# "at 10 a.m. Monday", but "left at 3 p.m. The police then ...". Which one a capitalised word starts is
# ambiguous; the rule (sentencex's own for the abbreviations it knows, "U.S. Embassy" / "the U.S. He ..."):
# the sentence goes on unless the next word is one that opens sentences (a pronoun, determiner, conjunction or
# sentence adverb). A name after the abbreviation is read as continuing: "at 3 p.m. Police arrived" stays one
# sentence, which costs less than a fragment "Beijing time on Thursday." (sentencex does not split that one
# either). sentencex splits after every "a.m."/"p.m.", even before a lowercase word or a digit.
_SENTENCE_FINAL_TOO = {"en": ("a.m", "p.m", "A.M", "P.M")}
_SENTENCE_OPENERS = {
    "en": frozenset("""The A An This That These Those It Its He She They We I You His Her Their Our My Your There
        Here But And Or So Yet However Meanwhile Also Then In On At After Before When While As If Although Since
        During According""".split()),
}
# Malay news shares Indonesian's titles and abbreviations.
_BEFORE_NAME["ms"], _BEFORE_NUMBER["ms"] = _BEFORE_NAME["id"], _BEFORE_NUMBER["id"]


# sentencex splits at a full stop with no space after it, where scraping lost the space between two sentences
# ("dunia.Menjalin", "Monday.The"). A word of capitals glued to the dot is the second part of a name instead
# ("ASP.NET", "VB.NET"): a lost space before a sentence that opens with an acronym ("said.NATO ...") is the rarer
# case in news text. A capitalised word ("WhatsApp.Web") looks like a sentence opener and is still split: nothing
# in the text tells the two apart.
_GLUED_CAPITALS = re.compile(r"(?<=[^\W\d_]\.)[A-Z]{2,}(?![^\W\d_])")


def _ending_abbreviation(words: tuple[str, ...]) -> re.Pattern | None:
    """A pattern for a piece that ends in one of ``words`` plus its full stop; None for no words."""
    if not words:
        return None
    return re.compile(rf"(?<![\w.])(?:{'|'.join(re.escape(w) for w in words)})\.$")


def _ends_with(pattern: re.Pattern | None, piece: str) -> bool:
    return pattern is not None and pattern.search(piece) is not None


class SentencexSplitter(SentenceSplitter):
    """sentencex for one language, with three repairs on top.

    sentencex already handles a full stop with the space missing (``dunia.Menjalin``), numbers (``50.000``,
    ``5.3``) and its own abbreviations (``P. R. China``, ``No.``, ``Dr.``, ``U.S.``). Repairs: a piece that starts
    with a lowercase letter or a comma continues the sentence before it (``diluncurkan., dan``, ``terkait. ,``);
    so does one that starts with a word of capitals glued to the dot (``ASP.NET``, see ``_GLUED_CAPITALS``); and
    a piece that ends in an abbreviation sentencex does not know continues into the next one where the
    abbreviation's kind says so (see ``_BEFORE_NAME``, ``_BEFORE_NUMBER``, ``_SENTENCE_FINAL_TOO``).
    """

    version = 5

    def __init__(self, lang: str):
        self.lang = lang
        self.name = f"sentencex-{lang}"
        self._before_name = _ending_abbreviation(_BEFORE_NAME.get(lang, ()))
        self._before_number = _ending_abbreviation(_BEFORE_NUMBER.get(lang, ()))
        self._sentence_final_too = _ending_abbreviation(_SENTENCE_FINAL_TOO.get(lang, ()))
        self._openers = _SENTENCE_OPENERS.get(lang, frozenset())

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
            glued = merged and merged[-1][1] == s and _GLUED_CAPITALS.match(text, s) is not None
            if merged and (glued or text[s].islower() or text[s] in ",;:)"
                           or self._continues(text[merged[-1][0]:merged[-1][1]], text[s:e])):
                merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        return merged

    def _continues(self, piece: str, next_piece: str) -> bool:
        """Whether ``piece``, ending in an abbreviation, runs on into ``next_piece``."""
        if _ends_with(self._before_name, piece):
            return True
        if next_piece[:1].isdigit() and _ends_with(self._before_number, piece):
            return True
        return _ends_with(self._sentence_final_too, piece) and not self._opens_sentence(next_piece)

    def _opens_sentence(self, piece: str) -> bool:
        first_word = re.match(r"[^\W\d_]+", piece)
        return first_word is not None and first_word.group(0) in self._openers


for _code in ("id", "en", "ms"):
    SEGMENTERS.register(_code)(functools.partial(SentencexSplitter, _code))
