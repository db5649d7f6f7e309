"""Language codes: ISO 639-1 (zh, id, en) to what each model family's tokenizer calls them."""

from __future__ import annotations

from ..errors import ConfigError

NLLB = {"zh": "zho_Hans", "id": "ind_Latn", "en": "eng_Latn", "ms": "zsm_Latn", "th": "tha_Thai", "my": "mya_Mymr",
        "fr": "fra_Latn", "de": "deu_Latn", "es": "spa_Latn", "ru": "rus_Cyrl", "ja": "jpn_Jpan", "ko": "kor_Hang",
        "vi": "vie_Latn", "zh-Hant": "zho_Hant"}
MBART50 = {"zh": "zh_CN", "id": "id_ID", "en": "en_XX", "th": "th_TH", "my": "my_MM", "fr": "fr_XX", "de": "de_DE",
           "es": "es_XX", "ru": "ru_RU", "ja": "ja_XX", "ko": "ko_KR", "vi": "vi_VN"}


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


def language_code_for(tokenizer, lang: str, family: str) -> str | None:
    """The tokenizer's code for ISO ``lang``; a ConfigError listing the known codes if it has none.

    Marian models need none (one language pair per model); T5/MADLAD models take a ``<2xx>`` prefix.
    """
    if family == "marian" or not lang:
        return None
    if family == "m2m100":
        if "nllb" in type(tokenizer).__name__.lower():
            code, known = NLLB.get(lang, lang), _additional(tokenizer)
        else:
            code, known = lang, sorted(getattr(tokenizer, "lang_code_to_token", {}) or getattr(tokenizer, "lang_token_to_id", {}))
            known = [k.strip("_") for k in known]
    elif family == "mbart":
        code, known = MBART50.get(lang, lang), _additional(tokenizer)
    elif family in ("t5", "mt5"):
        code = f"<2{lang}>"
        vocab = tokenizer.get_vocab()
        known = sorted(k for k in vocab if k.startswith("<2") and k.endswith(">"))
        if code not in vocab:
            raise ConfigError(f"language {lang!r}: this model has no {code} token; known: {', '.join(known[:50]) or 'none'}")
        return code
    else:
        return lang
    if known and code not in known:
        raise ConfigError(f"language {lang!r} ({code}) is not known to this model; known: {', '.join(known)}")
    return code


def source_prefix(family: str, tgt_code: str | None) -> str:
    """What goes before every source text: T5/MADLAD's ``<2xx> `` target token; nothing for the other families
    (their target language is a forced first token instead). Training and translation must agree on it."""
    return f"{tgt_code} " if family in ("t5", "mt5") and tgt_code else ""


def _additional(tokenizer) -> list[str]:
    """The tokenizer's language-code tokens (zho_Hans, en_XX, ...) among its special tokens."""
    import re

    special = getattr(tokenizer, "all_special_tokens", None) or []
    return sorted(str(t) for t in special if re.fullmatch(r"[a-z]{2,3}_[A-Za-z]{2,4}", str(t)))
