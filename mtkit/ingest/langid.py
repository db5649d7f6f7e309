"""Language and script of a paragraph.

lingua decides the language; it does not tell Simplified from Traditional Chinese, so the script comes from the
characters themselves (OpenCC: which form changes more when converted). lingua often says Malay for Indonesian
news (the two share most of their vocabulary); we map Malay to Indonesian unless the caller expects Malay.
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
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


def han_script(text: str) -> str:
    """``Hant`` or ``Hans``: the form that the opposite conversion changes more is the one the text is in."""
    han = "".join(HAN_RE.findall(text))
    if not han:
        return ""
    to_simplified = _opencc("t2s").convert(han)
    to_traditional = _opencc("s2t").convert(han)
    traditional_only = sum(a != b for a, b in zip(han, to_simplified))
    simplified_only = sum(a != b for a, b in zip(han, to_traditional))
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


def detect_language(text: str, *, expected: Sequence[str] | None = None) -> tuple[str, str]:
    """``(ISO 639-1 language, ISO 15924 script)`` of ``text``; ``("und", script)`` when undecidable.

    ``expected`` (e.g. the manifest's languages) breaks ties: Malay is reported as Indonesian unless ``ms`` is
    expected, and a Latin-script paragraph that lingua gives an unexpected language is reported as the
    expected Latin-script language with the higher confidence.
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
    ranked = [(_iso(v.language), v.value) for v in values]
    lang = ranked[0][0]
    if lang == "ms" and (expected is None or "ms" not in expected):
        lang = "id"
    if expected:
        wanted = {("id" if code == "ms" else code) for code in expected}
        if lang not in wanted:
            for code, _ in ranked:
                code = "id" if code == "ms" and "ms" not in expected else code
                if code in wanted:
                    lang = code
                    break
    return lang, script


def _iso(language) -> str:
    return language.iso_code_639_1.name.lower()
