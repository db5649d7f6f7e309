"""Language codes as mtkit compares them: ISO 639-1 where there is one (``zh``, ``id``, ``en``), else 639-3.

Every stage takes codes in their usual spellings (``ZH``, ``zh-CN``, ``zh_Hans``, ``zho``, M2M100's ``__zh__``)
and compares them through these helpers, which rest on pycountry's tables; model-specific codes (NLLB's
``zho_Hans``, Marian's ``>>cmn_Hans<<``) are translate's (:mod:`mtkit.translate.languages`).
"""

from __future__ import annotations

from .errors import ConfigError


def known_language(code: str):
    """pycountry's record of an ISO 639-1 (two-letter) or ISO 639-3 (three-letter) lower-case code, else None."""
    import pycountry

    if not isinstance(code, str) or not code.isascii() or not code.islower() or len(code) not in (2, 3):
        return None
    return pycountry.languages.get(**{"alpha_2" if len(code) == 2 else "alpha_3": code})


def iso_code(code: str | None) -> str | None:
    """The ISO 639-1 code (else the 639-3 one) of a language code in its usual spellings: ``zh``, ``ZH``,
    ``zh-CN``, ``zh_TW``, ``zho``, ``zho_Hans``, ``zh_CN``, ``__zh__``; None when it names no language."""
    code = str(code or "").strip()
    if len(code) > 4 and code.startswith("__") and code.endswith("__"):  # M2M100's language tokens
        code = code[2:-2]
    language = known_language(code.replace("_", "-").split("-")[0].lower())
    return (getattr(language, "alpha_2", None) or language.alpha_3) if language is not None else None


# Macrolanguage members (ISO 639-3) to their macrolanguage's code: opus-mt's Marians name cmn, yue or zsm where
# the rest of mtkit says zh or ms, and Cantonese or Wu text is scored as Chinese is (no spaces between words).
MACROLANGUAGE = {"cmn": "zh", "yue": "zh", "wuu": "zh", "nan": "zh", "hak": "zh", "gan": "zh", "hsn": "zh",
                 "lzh": "zh", "zsm": "ms"}


def macrolanguage(code: str | None) -> str | None:
    """:func:`iso_code` of ``code``, a macrolanguage's member given as its macrolanguage (yue, cmn_Hant -> zh)."""
    iso = iso_code(code)
    return MACROLANGUAGE.get(iso, iso)


def is_language_code(code: str) -> bool:
    """True for an ISO 639-1 (two-letter) or ISO 639-3 code that pycountry knows."""
    return known_language(code) is not None


def language_code(code: str | None, what: str = "language") -> str | None:
    """``ZH``, ``zh-CN``, ``zh_Hans``, ``zho`` -> ``zh``; None or blank -> None; not a language: ConfigError.

    Languages are compared with the ISO 639-1 codes that language detection gives, and the lexical encoder
    picks its Indonesian lexicon and number format by them: ``--tgt-lang ID`` used to turn both off, with only a
    warning that the side "looks like id, not ID".
    """
    if code is None or not str(code).strip():
        return None
    iso = iso_code(code)
    if iso is None:
        raise ConfigError(f"{what} {code!r} is not a language code; give an ISO 639-1 code such as zh, id or en")
    return iso
