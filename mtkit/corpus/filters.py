"""Pair filters, OpusFilter-style: ``score(pairs)`` gives one score per pair, ``accept(score)`` decides.

Scores are kept apart from decisions so that a report can show them and thresholds can be tuned. Filters are
registered by name; a YAML config names them with their parameters (``{name: length_ratio, params: {...}}``)
and an unknown parameter raises. Some filters learn from the data first (``fit``): the length ratio takes the
median character ratio of the pair's language pair.
"""

from __future__ import annotations

import inspect
import re
import statistics
import unicodedata
from typing import Any, Iterable, Sequence

from ..errors import ConfigError
from ..ingest.langid import han_and_latin
from ..records import SentencePair
from ..registry import Registry

FILTERS: Registry = Registry("filter")
_CJK_LANGS = ("zh", "ja")


class PairFilter:
    name = ""

    def fit(self, pairs: Iterable[SentencePair]) -> None:
        """Learn what the filter needs from the pairs (most filters need nothing)."""

    def score(self, pairs: Sequence[SentencePair]) -> list[Any]:
        raise NotImplementedError

    def accept(self, score: Any) -> bool:
        raise NotImplementedError

    def settings(self) -> dict:
        return {k: getattr(self, k) for k in inspect.signature(type(self).__init__).parameters if k != "self"}


def build_filter(name: str, params: dict | None = None) -> PairFilter:
    cls = FILTERS.get(name)
    params = dict(params or {})
    allowed = [k for k in inspect.signature(cls.__init__).parameters if k != "self"]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(f"filter {name!r}: unknown parameter(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(allowed) or 'none'}")
    return cls(**params)


@FILTERS.register("alignment_score")
class AlignmentScore(PairFilter):
    """The aligner's score of the bead (margin-modified cosine x length penalty) is at least ``min_score``."""

    def __init__(self, min_score: float = 0.0):
        self.min_score = min_score

    def score(self, pairs):
        return [p.score for p in pairs]

    def accept(self, score):
        return score >= self.min_score


@FILTERS.register("empty_side")
class EmptySide(PairFilter):
    """Both sides hold some letters or digits."""

    def __init__(self):
        pass

    def score(self, pairs):
        return [int(any(ch.isalnum() for ch in p.src) and any(ch.isalnum() for ch in p.tgt)) for p in pairs]

    def accept(self, score):
        return bool(score)


@FILTERS.register("length")
class Length(PairFilter):
    """Each side has between ``min_chars`` and ``max_chars`` characters."""

    def __init__(self, min_chars: int = 2, max_chars: int = 1500):
        self.min_chars, self.max_chars = min_chars, max_chars

    def score(self, pairs):
        return [(len(p.src.strip()), len(p.tgt.strip())) for p in pairs]

    def accept(self, score):
        return all(self.min_chars <= n <= self.max_chars for n in score)


@FILTERS.register("length_ratio")
class LengthRatio(PairFilter):
    """Character-length ratio (source over target) within ``factor`` of the median ratio of the same language
    pair, learned from the data (Chinese takes about a third of the characters of Indonesian or English)."""

    def __init__(self, factor: float = 2.5, min_pairs: int = 5):
        self.factor, self.min_pairs = factor, min_pairs
        self.medians: dict[tuple[str, str], float] = {}

    def fit(self, pairs):
        ratios: dict[tuple[str, str], list[float]] = {}
        for p in pairs:
            if p.bead_type == "1-1" and p.src.strip() and p.tgt.strip():
                ratios.setdefault((p.src_lang, p.tgt_lang), []).append(len(p.src) / len(p.tgt))
        self.medians = {k: statistics.median(v) for k, v in ratios.items() if len(v) >= self.min_pairs}

    def score(self, pairs):
        out = []
        for p in pairs:
            median = self.medians.get((p.src_lang, p.tgt_lang))
            if median is None or not p.tgt.strip():
                out.append(None)
            else:
                out.append((len(p.src) / len(p.tgt)) / median)
        return out

    def accept(self, score):
        return score is None or 1 / self.factor <= score <= self.factor


@FILTERS.register("language_id")
class LanguageId(PairFilter):
    """Each side is detected (lingua, as in ingest) as the language it claims; short sides pass."""

    def __init__(self, min_chars: int = 20):
        self.min_chars = min_chars

    def score(self, pairs):
        from ..ingest.langid import detect_language

        out = []
        for p in pairs:
            ok = True
            for text, lang in ((p.src, p.src_lang), (p.tgt, p.tgt_lang)):
                if len(text) >= self.min_chars:
                    found, _ = detect_language(text)  # no hint: the hint would steer it to the claim
                    ok = ok and found in (lang, "und")
            out.append(int(ok))
        return out

    def accept(self, score):
        return bool(score)


@FILTERS.register("script")
class Script(PairFilter):
    """At least ``min_share`` of a side's letters are in its language's script (Han for zh, Latin otherwise)."""

    def __init__(self, min_share: float = 0.5):
        self.min_share = min_share

    @staticmethod
    def _share(text: str, lang: str) -> float:
        han, latin = han_and_latin(text)
        if han + latin == 0:
            return 1.0
        return (han if lang in _CJK_LANGS else latin) / (han + latin)

    def score(self, pairs):
        return [min(self._share(p.src, p.src_lang), self._share(p.tgt, p.tgt_lang)) for p in pairs]

    def accept(self, score):
        return score >= self.min_share


@FILTERS.register("numbers")
class Numbers(PairFilter):
    """The numbers of the two sides agree (``50.000`` = ``5万``, ``19`` = ``十九``): the share of the larger
    side's numbers found on the other side is at least ``min_overlap``. A side without numbers passes: news
    often spells them out in one language (``empat aspek`` / ``四个方面``, ``In October`` / ``10月``)."""

    def __init__(self, min_overlap: float = 0.5):
        self.min_overlap = min_overlap

    def score(self, pairs):
        from ..align.numbers import number_keys

        out = []
        for p in pairs:
            a, b = number_keys(p.src, p.src_lang), number_keys(p.tgt, p.tgt_lang)
            out.append(None if not a or not b else len(a & b) / max(len(a), len(b)))
        return out

    def accept(self, score):
        return score is None or score >= self.min_overlap


def _normalise(text: str, *, drop_digits: bool) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    pattern = r"[\W_\d]+" if drop_digits else r"[\W_]+"
    return re.sub(pattern, "", text)


@FILTERS.register("duplicates")
class Duplicates(PairFilter):
    """Exact duplicates (same normalised text on both sides) and near duplicates (the same once digits and
    punctuation are gone) of a pair seen before; the first one is kept."""

    def __init__(self, near: bool = True):
        self.near = near
        self._seen: set[str] = set()

    def score(self, pairs):
        out = []
        for p in pairs:
            key = _normalise(p.src, drop_digits=self.near) + "\x00" + _normalise(p.tgt, drop_digits=self.near)
            out.append(int(key in self._seen))
            self._seen.add(key)
        return out

    def accept(self, score):
        return not score


_BOILERPLATE = re.compile(
    r"https?://|www\.|@\w+\.\w+|copyright|all rights reserved|版权|版權|责任编辑|責任編輯|点击|點擊|扫码|掃碼|"
    r"关注我们|關注我們|share this|follow us|read more|baca juga",
    re.IGNORECASE,
)


# a navigation trail or menu: three or more short items joined by |, >, ›, » or a middle dot ("首页 > 国内 > 正文")
_NAV = re.compile(r"^\s*[^|>›»·]{1,16}(?:\s*[|>›»·]\s*[^|>›»·]{1,16}){2,}\s*$")


@FILTERS.register("boilerplate")
class Boilerplate(PairFilter):
    """Web boilerplate that slipped through cleaning: URLs, e-mail addresses, copyright and share/follow text,
    navigation trails and menus."""

    def __init__(self):
        pass

    @staticmethod
    def _is_boilerplate(text: str) -> bool:
        return bool(_BOILERPLATE.search(text) or _NAV.match(text))

    def score(self, pairs):
        return [int(self._is_boilerplate(p.src) or self._is_boilerplate(p.tgt)) for p in pairs]

    def accept(self, score):
        return not score


DEFAULT_FILTERS = (
    {"name": "empty_side"},
    {"name": "alignment_score", "params": {"min_score": 0.0}},
    {"name": "length", "params": {"min_chars": 2, "max_chars": 1500}},
    {"name": "length_ratio", "params": {"factor": 2.5}},
    {"name": "script", "params": {"min_share": 0.5}},
    {"name": "language_id", "params": {"min_chars": 20}},
    {"name": "numbers", "params": {"min_overlap": 0.5}},
    {"name": "boilerplate"},
    {"name": "duplicates", "params": {"near": True}},
)
