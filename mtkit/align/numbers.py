"""Numbers in any of our languages as values: ``50.000`` (id), ``50,000`` (en), ``5万`` and ``五万`` (zh), ``十九``.

Shared by the lexical encoder (a number is a language-neutral feature) and the corpus builder's numbers filter.
"""

from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_CJK_NUMBER = re.compile(r"[零〇一二两兩三四五六七八九十拾百佰千仟]+[万萬亿億]?")
# Arabic numbers with , or . group separators or a decimal part, optionally followed by a Chinese multiplier.
_ARABIC = re.compile(r"(?<!\d)(?<!\d[.,])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)(?![\d])\s*([万萬亿億])?")
_YEARISH = re.compile(r"^(1[89]|20)\d\d$")
# With ``scales``: Chinese multipliers after a number, compound ones too ("3千" = 3000, "5百万" = 5e6, "1.5万亿" =
# 1.5e12), and Latin-script scale words after one ("1,5 juta" = 150万, "1.5 billion" = 15亿, "Rp 2 triliun").
_ARABIC_SCALED = re.compile(
    r"(?<!\d)(?<!\d[.,])(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)(?![\d])"
    r"(?:\s*([千仟百佰][万萬亿億]{0,2}|[万萬亿億]{1,2})"
    r"|\s+(thousand|million|billion|trillion|ribu|juta|miliar|milyar|triliun)\b)?",
    re.IGNORECASE,
)
_SCALE_WORDS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
                "ribu": 1e3, "juta": 1e6, "miliar": 1e9, "milyar": 1e9, "triliun": 1e12}
_CJK_NUMERALS = frozenset(_DIGITS) | frozenset(_UNITS) | frozenset(_BIG)
# Measure words and units that make a lone Chinese numeral a count ("三名", "十分钟", "第四届", "十多起"), longest
# first so that "分钟" wins over a bare "分". Left out on purpose: "分" ("十分" is "very"), "方" (千方百计),
# "国"/"方"/"边" (中缅泰三国, 三方, 三边: groups of parties that English and Indonesian spell out, never as digits),
# "成" ("三成" is 30%, not 3).
_MEASURE_WORDS = (
    "名", "人", "个", "個", "位", "元", "美元", "块", "塊", "亿", "億", "万", "萬", "次", "起", "家", "岁", "歲",
    "年", "月", "日", "号", "號", "天", "周", "週", "星期", "小时", "小時", "时", "時", "点", "點", "分钟", "分鐘",
    "秒", "公里", "千米", "米", "吨", "噸", "公斤", "斤", "件", "条", "條", "项", "項", "架", "辆", "輛", "艘", "批",
    "份", "种", "種", "类", "類", "倍", "户", "戶", "届", "屆", "期", "轮", "輪", "场", "場", "支", "队", "隊", "座",
    "所", "部", "台", "臺", "张", "張", "层", "層", "季度", "%", "％", "余", "餘", "多", "来", "來",
)
_MEASURE_WORD = re.compile("|".join(sorted(_MEASURE_WORDS, key=len, reverse=True)))


def parse_cjk_number(text: str) -> int | None:
    """``十九`` -> 19, ``五万`` -> 50000, ``二〇二四`` -> 2024 (digit by digit); None if not a number."""
    if not text:
        return None
    if all(ch in _DIGITS for ch in text) and len(text) > 1:
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            section += (digit if digit is not None else 1) * _UNITS[ch]
            digit = None
        elif ch in _BIG:
            section += digit or 0
            total += section * _BIG[ch]
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def extract_numbers(text: str, lang: str | None = None, *, scales: bool = False,
                    numerals_in_context: bool = False) -> list[float]:
    """Every number in ``text`` as a value, in order of appearance.

    Group separators follow the language: ``50.000`` is fifty thousand in Indonesian and in Chinese text
    (where the sources copy European formats), ``5.3`` is a decimal; ``50,000`` is fifty thousand in English.
    With ``scales``, scale words and compound multipliers count too (``1,5 juta`` = ``150万``, ``1.5万亿``). With
    ``numerals_in_context``, Chinese numerals count only where they read as a number (:func:`_reads_as_number`:
    not 百姓, 十分, 千方百计, 千家万户). The lexical encoder leaves both off, so that its number features stay
    those of ``lexical-v1``.
    """
    values: list[float] = []
    taken: set[int] = set()  # characters read as part of an Arabic number ("3千": the 千 is not also 1000)
    for m in (_ARABIC_SCALED if scales else _ARABIC).finditer(text):
        raw, mult = m.group(1), m.group(2)
        taken.update(range(m.start(), m.end()))
        factor = 1.0
        for ch in mult or "":
            factor *= _UNITS.get(ch) or _BIG[ch]
        if scales and m.group(3):
            factor = _SCALE_WORDS[m.group(3).lower()]
        values.append(_arabic_value(raw, lang) * factor)
    for m in _CJK_NUMBER.finditer(text):
        if m.start() in taken:
            continue
        value = parse_cjk_number(m.group(0))
        # a lone 一 is mostly the article "a/one" inside words (一系列, 一年来): not a number worth matching
        if value is None or m.group(0) in ("一",):
            continue
        if numerals_in_context and not _reads_as_number(text, m.start(), m.end()):
            continue
        values.append(float(value))
    return values


def _reads_as_number(text: str, start: int, end: int) -> bool:
    """Whether the Chinese numerals ``text[start:end]`` are a number here, not part of a word.

    A number has numeral context: it is next to a digit, is a compound of numerals (十九, 五万) or is followed by
    a measure word or unit (三名, 十分钟, 第四届); a lone numeral without one is a word's character (百姓, 十分 "very",
    金三角, 三方). And a dictionary word that covers the numerals and reaches past that reading makes it a word
    after all (千家万户 past 千家, 百年大计 past 百年); 十年, 十九 or 百万 stay numbers.
    """
    measure = _MEASURE_WORD.match(text, end)
    reading_end = measure.end() if measure else end
    next_to_digit = text[start - 1:start].isdigit() or text[end:end + 1].isdigit()
    if not (next_to_digit or end - start > 1 or measure):
        return False
    return not _inside_word(text, start, end, reading_end)


def _inside_word(text: str, start: int, end: int, reading_end: int) -> bool:
    """A word of more than numerals covers part of ``text[start:end]`` and ends after ``reading_end``.

    The words are CC-CEDICT's (the lexical encoder's dictionary, already a dependency): a real word list knows
    the thousands of idioms and names with numerals in them (千家万户, 百年大计, 九龙, 五角大楼) that a hand list
    here would keep missing. No segmenter (jieba) ships with mtkit.
    """
    from .encoders import chinese_dictionary  # the encoder imports this module

    words, longest = chinese_dictionary()
    for s in range(max(0, start - longest + 1), end):
        for e in range(max(s + 2, reading_end + 1), min(len(text), s + longest) + 1):
            word = text[s:e]
            if word in words and not set(word) <= _CJK_NUMERALS:
                return True
    return False


def _arabic_value(raw: str, lang: str | None) -> float:
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        seps = set(re.findall(r"[.,]", raw))
        if len(seps) == 1 and len(raw.split(next(iter(seps)))) == 2:
            # one separator and three digits after it: a thousands group, except an English/Chinese decimal point
            sep = next(iter(seps))
            if sep == "." and lang in ("en",):
                return float(raw)
            if sep == "," and lang in ("id", "de", "fr", "es", "it", "pt", "nl"):
                return float(raw.replace(",", "."))
        return float(re.sub(r"[.,]", "", raw))
    if "," in raw:
        decimal_comma = lang in ("id", "de", "fr", "es", "it", "pt", "nl")
        return float(raw.replace(",", ".")) if decimal_comma else float(raw.replace(",", ""))
    return float(raw)


def number_keys(text: str, lang: str | None = None) -> set[str]:
    """Numbers as canonical strings (``50000``, ``5.3``, ``1.5e+06`` for ``1,5 juta`` and ``150万``) for set
    comparison."""
    return {f"{v:g}" for v in extract_numbers(text, lang, scales=True, numerals_in_context=True)}
