"""Language codes: ISO 639-1 (zh, id, en) to what each model family's tokenizer calls them, and back."""

from __future__ import annotations

import re

from ..errors import ConfigError
from ..languages import macrolanguage

NLLB = {"zh": "zho_Hans", "id": "ind_Latn", "en": "eng_Latn", "ms": "zsm_Latn", "th": "tha_Thai", "my": "mya_Mymr",
        "fr": "fra_Latn", "de": "deu_Latn", "es": "spa_Latn", "ru": "rus_Cyrl", "ja": "jpn_Jpan", "ko": "kor_Hang",
        "vi": "vie_Latn", "zh-Hant": "zho_Hant"}
MBART50 = {"zh": "zh_CN", "id": "id_ID", "en": "en_XX", "th": "th_TH", "my": "my_MM", "fr": "fr_XX", "de": "de_DE",
           "es": "es_XX", "ru": "ru_RU", "ja": "ja_XX", "ko": "ko_KR", "vi": "vi_VN"}
# the reverse of both, for a model's own code given as --src-lang/--tgt-lang: the sentence splitter and the joiner
# know ISO codes only (zho_Hant is Chinese to them too); zsm_Latn is here because zsm has no two-letter code
ISO_FOR_MODEL_CODE = {code: iso.split("-")[0] for table in (NLLB, MBART50) for iso, code in table.items()}
# Chinese and Malay are macrolanguages: opus-mt's Marians name a member (cmn, yue, zsm) or the macrolanguage
# (zho), with a script (cmn_Hans, yue_Hant). One language to the pair check (utils.MACROLANGUAGE, which evaluate
# shares); the members zh and ms stand for when a multi-target Marian's target is given as zh or ms.
MACROLANGUAGE_MEMBERS = {"zh": ("zho", "cmn"), "ms": ("zsm", "msa")}
DEFAULT_SCRIPT = {"zh": "Hans"}


def model_family(model) -> str:
    name = type(model).__name__.lower()
    for family in ("marian", "m2m100", "mbart", "mt5", "t5"):
        if family in name:
            return family
    return "other"


def position_limit(model, family: str) -> int | None:
    """The most tokens a source or target may have: Marian's and MBart's position tables (fixed sinusoids or
    learned rows) end at ``max_position_embeddings``, and a longer input fails in the embedding (IndexError).
    None where positions have no end: M2M100/NLLB compute their sinusoids for any length, T5 has relative ones."""
    if family not in ("marian", "mbart"):
        return None
    return getattr(model.config, "max_position_embeddings", None)


def iso_language(code: str | None) -> str | None:
    """The ISO 639-1 code for any spelling of a language code (zh-CN, ZH, zho_Hans, zh_CN, __zh__; zho -> zh),
    where there is one; else ``code`` as given. For the sentence splitter and the joiner, which know ISO codes
    only, and for comparing languages."""
    from ..languages import iso_code

    if not code:
        return code
    return ISO_FOR_MODEL_CODE.get(code) or iso_code(code) or code


def single_language(code: str | None):
    """pycountry's record of ``code`` (any form :func:`iso_language` maps) when it names one language; None for
    group codes (mul, und; ROMANCE of opus-mt's multi-language Marians) and unknown ones."""
    from ..languages import known_language

    record = known_language(iso_language(code) or "")
    return record if record is not None and record.scope != "S" else None  # S: special codes (mul, und)


def marian_pair_conflicts(tokenizer, src: str | None, tgt: str | None) -> dict[str, str]:
    """``{"source_lang": src}`` and/or ``{"target_lang": tgt}`` for each given language that is another one than
    a Marian tokenizer declares for that side (zh, zh-CN, zho, cmn_Hans and yue are Chinese). Declared group
    codes (mul, ROMANCE) and sides not given are not compared; a given code that names no language (xx)
    conflicts with a declared one."""
    conflicts = {}
    for attr, given in (("source_lang", src), ("target_lang", tgt)):
        declared = getattr(tokenizer, attr, None)
        if given and single_language(declared) is not None and macrolanguage(given) != macrolanguage(declared):
            conflicts[attr] = given
    return conflicts


def _script(code: str) -> str | None:
    """The Chinese script a Chinese code asks for: a script subtag (zh-Hant, zho_Hans) or a region that implies
    one (zh-TW); None for other languages (en-HK, ms-SG are English and Malay, in no Han script)."""
    match = re.search(r"[-_](Hant|Hans|TW|HK|MO|CN|SG)$", code, flags=re.IGNORECASE)
    if not match or macrolanguage(code) != "zh":
        return None
    return "Hant" if match[1].upper() in ("HANT", "TW", "HK", "MO") else "Hans"


def marian_target_token(tokenizer, lang: str) -> str | None:
    """A multi-target Marian's ``>>xxx<<`` token for ``lang`` (its tokenizer's ``supported_language_codes``):
    the model's own code as given (cmn_Hant, yue_Hant), else a code of the same language or of a member of its
    macrolanguage (zh: zho, cmn), in the script the code asks for (zh-TW, zho_Hant: Hant; zh: Hans). None for a
    single-target Marian, which has no such tokens. A ConfigError lists the codes if none fits."""
    codes = [c[2:-2] for c in getattr(tokenizer, "supported_language_codes", None) or []]
    if not codes:
        return None
    if lang in codes:
        return f">>{lang}<<"
    iso = iso_language(lang)
    asked = _script(lang)
    script = asked or DEFAULT_SCRIPT.get(iso)
    names = {iso, getattr(single_language(lang), "alpha_3", None), *MACROLANGUAGE_MEMBERS.get(iso, ())} - {None}
    found = [c for c in codes if c.split("_")[0] in names]
    if asked:  # a script asked for is not silently another one (zho_Hant came out Simplified)
        found = [c for c in found if "_" not in c or c.endswith(f"_{asked}")]
    if found:  # a code in the wanted script first, then a code with none, in the vocabulary's order
        return ">>{}<<".format(min(found, key=lambda c: (not c.endswith(f"_{script}") if script else False,
                                                         "_" in c)))
    raise ConfigError(f"language {lang!r} is not a target of this model; known: {', '.join(codes)}")


def needs_target_language(tokenizer, model, family: str) -> bool:
    """Whether a model translates into many languages and so cannot be run without a target: M2M100/NLLB and
    MBart (unless the generation config forces one first token: a model fine-tuned for one target), T5 with
    ``<2xx>`` tokens (MADLAD), and Marian with ``>>xxx<<`` tokens."""
    if family in ("m2m100", "mbart"):
        return getattr(model.generation_config, "forced_bos_token_id", None) is None
    if family in ("t5", "mt5"):
        return any(k.startswith("<2") and k.endswith(">") for k in tokenizer.get_vocab())
    return family == "marian" and bool(getattr(tokenizer, "supported_language_codes", None))


def language_code_for(tokenizer, lang: str, family: str, *, target: bool = False) -> str | None:
    """The tokenizer's code for ISO ``lang`` (its own code passes as is); a ConfigError listing the known codes
    if it has none. ``target``: the code is the target language's.

    Marian models need none for the source; a multi-target Marian's target is a ``>>xxx<<`` token, T5/MADLAD's a
    ``<2xx>`` one, both put before the source text (:func:`source_prefix`).
    """
    if not lang:
        return None
    if family == "marian":
        return marian_target_token(tokenizer, lang) if target else None
    if family == "m2m100":
        if "nllb" in type(tokenizer).__name__.lower():
            code, known = _table_code(NLLB, lang), _additional(tokenizer)
        else:
            table = getattr(tokenizer, "lang_code_to_token", {}) or getattr(tokenizer, "lang_token_to_id", {})
            code, known = lang, sorted(table)
            known = [k.strip("_") for k in known]
            if len(code) > 4 and code.startswith("__") and code.endswith("__"):  # the language token itself
                code = code[2:-2]
    elif family == "mbart":
        code, known = _table_code(MBART50, lang), _additional(tokenizer)
    elif family in ("t5", "mt5"):
        code = f"<2{lang}>"
        vocab = tokenizer.get_vocab()
        known = sorted(k for k in vocab if k.startswith("<2") and k.endswith(">"))
        if code not in vocab:
            raise ConfigError(f"language {lang!r}: this model has no {code} token; "
                              f"known: {', '.join(known[:50]) or 'none'}")
        return code
    else:
        return lang
    if known and code not in known:
        raise ConfigError(f"language {lang!r} ({code}) is not known to this model; known: {', '.join(known)}")
    return code


def _table_code(table: dict[str, str], lang: str) -> str:
    """The model code a table gives ``lang`` in any spelling (ZH, zh-CN, zh-TW, zh-Hant), in the script it asks
    for: zh-TW is NLLB's zho_Hant; a script the table has no code for (MBart-50 has no Traditional Chinese) leaves
    ``lang`` as given, so that the known-codes error follows rather than another script's code. A code the table
    does not map (the model's own) is kept."""
    if lang in table:
        return table[lang]
    iso, script = iso_language(lang), _script(lang)
    if script and script != DEFAULT_SCRIPT.get(iso):
        return table.get(f"{iso}-{script}", lang)
    return table.get(iso, lang)


def source_prefix(family: str, tgt_code: str | None) -> str:
    """What goes before every source text: T5/MADLAD's ``<2xx> `` or a multi-target Marian's ``>>xxx<< `` target
    token; nothing for the other families (their target language is a forced first token instead). Training and
    translation must agree on it, and every backend gets it with the source ids."""
    return f"{tgt_code} " if family in ("t5", "mt5", "marian") and tgt_code else ""


def _additional(tokenizer) -> list[str]:
    """The tokenizer's language-code tokens (zho_Hans, en_XX, ...) among its special tokens."""
    special = getattr(tokenizer, "all_special_tokens", None) or []
    return sorted(str(t) for t in special if re.fullmatch(r"[a-z]{2,3}_[A-Za-z]{2,4}", str(t)))
