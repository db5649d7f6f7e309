"""Language and script of a paragraph.

lingua decides the language; it does not tell Simplified from Traditional Chinese, so the script comes from the
characters themselves (OpenCC: which form changes more when converted). lingua often says Malay for Indonesian
news (the two share most of their vocabulary); :func:`malay_or_indonesian` decides between them from the
caller's expected languages or from spellings only one of the two uses, and the page decides as a whole.
"""

from __future__ import annotations

import functools
import re
from typing import Sequence

# Han ideographs (CJK Unified + Extension A + compatibility).
HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")
KANA_RE = re.compile(r"[\u3040-\u30ff]")
HANGUL_RE = re.compile(r"[\uac00-\ud7af]")
CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")


def han_and_latin(text: str) -> tuple[int, int]:
    """Counts of Han ideographs and Latin letters in ``text``: the script checks of the corpus filter and of
    evaluate's target-language warning compare the two."""
    return len(HAN_RE.findall(text)), len(LATIN_RE.findall(text))

# The languages lingua chooses among. A small set keeps lingua fast and its answers sharp on short lines;
# these are the languages of the news we ingest plus the ones most often mixed into such pages.
LINGUA_LANGUAGES = ("ENGLISH", "INDONESIAN", "MALAY", "CHINESE", "FRENCH", "GERMAN", "SPANISH", "PORTUGUESE",
                    "RUSSIAN", "JAPANESE", "KOREAN", "THAI", "VIETNAMESE", "TAGALOG", "DUTCH", "ITALIAN")


@functools.lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in LINGUA_LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


@functools.lru_cache(maxsize=2)
def opencc_converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def han_script_votes(text: str) -> tuple[int, int]:
    """``(Traditional-only, Simplified-only)`` Han characters in ``text``: those that t2s, resp. s2t, changes."""
    han = "".join(HAN_RE.findall(text))
    if not han:
        return 0, 0
    to_simplified = opencc_converter("t2s").convert(han)
    to_traditional = opencc_converter("s2t").convert(han)
    return sum(a != b for a, b in zip(han, to_simplified)), sum(a != b for a, b in zip(han, to_traditional))


def han_script(text: str) -> str:
    """``Hant`` or ``Hans``: the form that the opposite conversion changes more is the one the text is in
    (``Hans`` on a tie: a caller with context should use :func:`han_script_votes`)."""
    if not HAN_RE.search(text):
        return ""
    traditional_only, simplified_only = han_script_votes(text)
    return "Hant" if traditional_only > simplified_only else "Hans"


def script_of(text: str) -> str:
    """ISO 15924 code of the dominant script: Hans/Hant, Latn, Jpan, Kore, Cyrl; "" when there are no letters."""
    counts = {
        "Han": len(HAN_RE.findall(text)),
        "Latn": len(LATIN_RE.findall(text)),
        "Jpan": len(KANA_RE.findall(text)),
        "Kore": len(HANGUL_RE.findall(text)),
        "Cyrl": len(CYRILLIC_RE.findall(text)),
    }
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        return ""
    if best == "Han":
        return "Jpan" if counts["Jpan"] else han_script(text)
    return best


# A document's language is read from its first this many sentences or paragraphs: enough text for lingua, and
# a 5,000-sentence document costs no more than a short one.
DOCUMENT_SAMPLE = 20


def document_sample(texts: Sequence[str]) -> str:
    """The text a document's language is detected from."""
    return " ".join(texts[:DOCUMENT_SAMPLE])


def document_language(texts: Sequence[str], min_chars: int = 0) -> str | None:
    """The language of a document (its sentences or paragraphs); None when undecided or when the sample is under
    ``min_chars`` characters (lingua's guess for a few Latin letters is noise: "a b c." reads as German)."""
    sample = document_sample(texts)
    found = detect_language(sample)[0] if len(sample) >= min_chars else "und"
    return None if found == "und" else found


def detect_language(text: str, *, expected: Sequence[str] | None = None) -> tuple[str, str]:
    """``(ISO 639-1 language, ISO 15924 script)`` of ``text``; ``("und", script)`` when undecidable.

    ``expected`` (e.g. the manifest's languages) breaks ties: a Latin-script paragraph that lingua gives an
    unexpected language is reported as the expected language lingua ranks highest. Malay vs Indonesian is
    decided by :func:`malay_or_indonesian`.
    """
    script = script_of(text)
    if script in ("Hans", "Hant"):
        return "zh", script
    letters = len(LATIN_RE.findall(text)) + len(CYRILLIC_RE.findall(text))
    if script == "" or letters < 3:
        return "und", script
    detector = _detector()
    values = detector.compute_language_confidence_values(text)
    if not values:
        return "und", script
    # lingua's Malay/Indonesian choice is replaced by one rule for the pair (see malay_or_indonesian).
    pair = malay_or_indonesian(text, expected=expected)
    # Languages lingua gives no chance at all (Chinese for a Latin-script line) are never chosen, even if expected.
    ranked = [pair if code in ("ms", "id") else code for code in (_iso(v.language) for v in values if v.value > 0)]
    if not ranked:
        return "und", script
    lang = ranked[0]
    if expected:
        wanted = {pair if code in ("ms", "id") else code for code in expected}
        lang = next((code for code in ranked if code in wanted), lang)
    return lang, script


# Spellings that tell standard Indonesian from standard Malay apart (the two share most words, so lingua's
# choice between them on one news paragraph is close to a coin toss; these words are not).
INDONESIAN_CUES = frozenset("""bahwa karena uang polisi kepolisian bisa yaitu kantor pemerintah tiongkok agustus
desember kamis jumat""".split())
MALAY_CUES = frozenset("bahawa kerana wang polis iaitu kerajaan ogos disember khamis jumaat sahaja mahupun".split())


def malay_or_indonesian(text: str, *, expected: Sequence[str] | None = None) -> str:
    """``id`` or ``ms`` for a paragraph that lingua puts in the Malay/Indonesian pair.

    Rule: a caller that expects exactly one of the two (the manifest's languages) gets that one; otherwise
    Malay-only spellings (``bahawa``, ``kerana``, ``polis``) must outnumber Indonesian-only ones (``bahwa``,
    ``karena``, ``polisi``) for ``ms``; ties go to ``id``, because lingua says Malay for much Indonesian news.
    """
    wanted = {code for code in (expected or ()) if code in ("id", "ms")}
    if len(wanted) == 1:
        return wanted.pop()
    words = re.findall(r"[a-z]+", text.lower())
    indonesian = sum(w in INDONESIAN_CUES for w in words)
    malay = sum(w in MALAY_CUES for w in words)
    return "ms" if malay > indonesian else "id"


def _iso(language) -> str:
    return language.iso_code_639_1.name.lower()
