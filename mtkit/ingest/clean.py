"""Cleaning rules for scraped news pages.

A page is cut into blocks (non-empty lines, trimmed). Rules run in three kinds, datatrove-filter style, each
registered by name so that ``--explain`` and the stats can say which rule dropped what:

- inline rules cut spans out of a block (HTML remnants, photo credits); the rest of the block stays as pieces,
  each still a verbatim slice of the raw text;
- block rules look at one block (language menus, junk tokens, copyright footers, bylines and datelines);
- page rules look at the blocks in order (related-reading lists, the header and footer around the article body,
  repeated paragraphs, a column label before the title's headline).

Block and page rules judge a block as read (``Block.plain``: character references decoded, ruby pinyin and
undecodable bytes left out, spaces that scraping lost between words put back); cuts and offsets index the raw
text.

The rules are general: they key on the shape of boilerplate (a line of language names, a keyboard-mash token,
copyright vocabulary, a block after the last paragraph of the article), never on the text of one page.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from ..registry import Registry
from ..utils import make_signature
from .langid import HAN_RE

CLEANING_RULES: Registry = Registry("cleaning rule")

WHITESPACE = " \t\r\n\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff"
SENTENCE_END = "。！？!?.…”\"』」)）:：;；"


@dataclass(slots=True)
class Block:
    start: int
    end: int
    text: str
    line: int  # 1-based line number in the raw page
    kept: bool = True
    rule: str = ""
    reason: str = ""
    role: str = "body"  # body, title, heading, source
    meta: dict = field(default_factory=dict)

    def drop(self, rule: str, reason: str = "") -> None:
        self.kept, self.rule, self.reason = False, rule, reason

    @property
    def plain(self) -> str:
        """The block as read (``edited_text``): what rules judge. ``text`` stays the raw slice for the offsets."""
        return edited_text(self.text)[0]


def han_count(text: str) -> int:
    return len(HAN_RE.findall(text))


def word_count(text: str) -> int:
    return len(re.findall(r"[A-Za-z\u00c0-\u024f]+", text))


def is_long(text: str) -> bool:
    """A paragraph of article prose: enough words and at least one sentence end."""
    # A full stop between digits ("50.000", "5.3") ends no sentence.
    has_end = re.search(r"[。！？!?]|(?<!\d)\.|\.(?!\d)", text) is not None
    return has_end and (han_count(text) >= 30 or word_count(text) >= 12)


def is_headline(text: str) -> bool:
    """Long enough to be a title, short enough not to be a paragraph."""
    han, words = han_count(text), word_count(text)
    return (8 <= han <= 80 and words <= 10) or (5 <= words <= 40 and han == 0)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in WHITESPACE:
        start += 1
    while end > start and text[end - 1] in WHITESPACE:
        end -= 1
    return start, end


def split_lines(text: str) -> list[Block]:
    blocks = []
    pos = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        start, end = trim_span(text, pos, pos + len(line))
        if end > start:
            blocks.append(Block(start, end, text[start:end], number))
        pos += len(line)
    return blocks


class Rule:
    """What every cleaning rule has: a registry name, and a version to bump when what it removes changes."""

    name = ""
    version = 1

    def signature(self) -> str:
        return make_signature(f"clean:{self.name}", v=self.version)


# ---------------------------------------------------------------- inline rules: spans cut out of a block


class InlineRule(Rule):
    pattern: re.Pattern

    def spans(self, text: str) -> Iterable[tuple[int, int, str]]:
        for m in self.pattern.finditer(text):
            if m.end() > m.start():
                yield m.start(), m.end(), self.reason(m)

    def reason(self, match: re.Match) -> str:
        return ""


# Inline tags, and the document-structure tags a page dumped with its markup carries (``<html><head><title>``):
# left in, they made a headline of the <title> line and words of "html", "head"
_TAGS = (r"a|img|span|div|p|font|iframe|br|strong|em|b|i|script|style|html|head|title|body|meta|link|h[1-6]"
         r"|header|footer|nav|section|article|ul|ol|li|table|thead|tbody|tr|td|th")


@CLEANING_RULES.register("html_remnant")
class HtmlRemnant(InlineRule):
    """Markup that leaked into the text: real tags, tags whose angle brackets were stripped
    (``a target='_blank' href='/index.html'/a``), and script and style elements with their content. Character
    references (``&amp;``, ``&nbsp;``) are no markup to cut: they are text, decoded in the paragraph's ``text``
    (see ``edited_text``); cut out, they split a sentence in two and left its pieces to the page rules."""

    name = "html_remnant"
    version = 4
    # A stripped closing tag ends where lowercase letters do: "/a8月" and "/aThe" lose "/a", "/about" is a word.
    pattern = re.compile(
        rf"</?(?:{_TAGS})\b[^<>]{{0,300}}>"
        rf"|(?<![A-Za-z0-9])(?:{_TAGS})(?:\s+[\w-]+\s*=\s*(?:'[^']*'|\"[^\"]*\"))+\s*/?\s*(?:(?:{_TAGS})(?![a-z]))?"
    )

    # A script or style element is code, not text: its content goes with its tags. It often spans lines, so
    # it is found on the whole page (``element_spans``) and each line takes its share of the cut. An element
    # without its closing tag (a page cut short) loses the tag only: where its code ends is unknown.
    ELEMENT = re.compile(r"<(script|style)\b[^<>]{0,300}>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)

    def reason(self, match):
        return "markup left in the text"

    def element_spans(self, text: str) -> list[tuple[int, int, str]]:
        return [(m.start(), m.end(), f"{m.group(1).lower()} element (code, not text)")
                for m in self.ELEMENT.finditer(text)]


@CLEANING_RULES.register("photo_credit")
class PhotoCredit(InlineRule):
    """Photo credits: ``新华社记者 殷刚 摄``, ``（記者林志強攝）``, ``(图片来源:视觉中国)``, ``(Photo: Name)``,
    ``Foto: Name``, and an agency credit closing a caption, ``(Xinhua/Li Bo)``."""

    name = "photo_credit"
    version = 3
    pattern = re.compile(
        # A wire agency or "本报" may precede ("新华社记者"); any other Han run before "记者" is the caption's own
        # text ("...下飞机记者 王小明 摄"), which a generic "[Han]{1,5}社" prefix would swallow.
        # Brackets around the credit go with it ("（記者林志強攝）"): a cut inside them strands a "（" in the caption.
        r"(?P<open>[(（〔])?"
        r"(?:新华社|新華社|中新社|中新网|中新網|人民网|人民網|央视网|央視網|本报|本報|本台|本网|本網)?"
        r"(?:记者|記者|通讯员|通訊員|摄影师|攝影師|摄影|攝影)\s*"
        r"[\u4e00-\u9fff·]{2,4}(?:[、\s]+[\u4e00-\u9fff·]{2,4})*\s*(?:摄|攝)(?![\u4e00-\u9fff])(?(open)[)）〕])"
        r"|[(（]\s*(?:Photo|Foto|Photograph|Image|Gambar)\b[^)）]{1,80}[)）]"
        # "(图片来源:视觉中国)", "（图/新华社）", "【供图:公安部】"
        r"|[(（【]\s*(?:图片来源|圖片來源|图片|圖片|图源|圖源|供图|供圖|图|圖)\s*[:：/]\s*[^()（）【】]{1,40}[)）】]"
        r"|(?<![\w])(?:Photo|Foto)\s*(?:by|oleh|:)\s*[A-Z][\w .'-]{1,60}$"
        # An agency/photographer credit closing a caption: "(Xinhua/Li Bo)", "(AP Photo/Andy Wong)",
        # "(ANTARA FOTO/Galih Pradipta)". Only at the end of the block, after the caption's sentence, so that a
        # "(China/Myanmar)" inside prose stays.
        r"|(?<=[.。!?！？])\s*[(（](?:[A-Z][A-Za-z]+)(?:\s+(?:Photo|PHOTO|Foto|FOTO|Images?))?\s*/\s*"
        r"[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,3}[)）]$"
    )

    def reason(self, match):
        return "photo credit"


HTML_REMNANT = HtmlRemnant()
INLINE_RULES: tuple[InlineRule, ...] = (HTML_REMNANT, PhotoCredit())


# ---------------------------------------------------------------- block rules

# Names under which pages list their language versions: endonyms, English names, and the Chinese words for
# "Chinese", "bilingual" and the two scripts. A line made of these is a language menu or an edition bar.
LANGUAGE_NAMES = (
    "English", "Français", "Francais", "Deutsch", "Español", "español", "Italiano", "Português", "Portugues",
    "Русский язык", "Русский", "日本語", "日本语", "한국어", "한어", "中文", "简体中文", "繁體中文", "简体", "繁體",
    "繁体", "双语", "雙語", "العربية", "Ελληνικά", "Nederlands", "Polski", "Türkçe", "Tiếng Việt", "ไทย",
    "Bahasa Indonesia", "Indonesian", "Indonesia", "Bahasa Melayu", "Melayu", "Latina", "Latin", "Suomalainen",
    "Suomi", "Svenska", "Norsk", "Dansk", "Čeština", "Magyar", "Română", "Українська", "עברית", "हिन्दी",
    "Sanskrit", "বাংলা", "Filipino", "Монгол", "Қазақ", "Chinese", "French", "German", "Spanish", "Russian",
    "Japanese", "Korean", "Arabic", "Portuguese", "Italian", "Thai", "Vietnamese", "Malay", "Myanmar", "မြန်မာ",
)
_LANGUAGE_NAME_RE = re.compile("|".join(re.escape(n) for n in sorted(LANGUAGE_NAMES, key=len, reverse=True)))


class BlockRule(Rule):

    def check(self, text: str) -> str | None:
        """A reason to drop the block, or None to keep it."""
        raise NotImplementedError


@CLEANING_RULES.register("language_menu")
class LanguageMenu(BlockRule):
    """A line listing language versions (``EnglishFrançaisIndonesian...``) or an edition bar
    (``Global EditionASIA 中文双语Français``)."""

    name = "language_menu"

    def check(self, text):
        names = _LANGUAGE_NAME_RE.findall(text)
        if len(names) < 2:
            return None
        letters = sum(1 for ch in text if ch.isalpha())
        covered = sum(sum(1 for ch in n if ch.isalpha()) for n in names)
        residue = letters - covered
        if covered >= 0.6 * letters or (len(names) >= 3 and residue <= 20 and not any(c in text for c in "。.!?！？")):
            return f"{len(names)} language names"
        return None


# Adjacent keys on a QWERTY keyboard, for telling a keyboard mash from an acronym.
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_POSITION = {key: (row, col) for row, keys in enumerate(_KEY_ROWS) for col, key in enumerate(keys)}


def is_keyboard_mash(word: str) -> bool:
    """Typed by sliding along key rows: runs of three or more neighbouring keys in one direction on two rows
    (``qwer`` + ``asd``), one run of six (``qwerty``, ``lkjhgf``), or most letter pairs row neighbours
    (``asdasd``). Real words touch neighbouring keys too (``reporter``, ``property`` has ``erty``), but not so."""
    steps = []  # per letter pair: (row, +1/-1) when the two keys are row neighbours, else None
    for a, b in zip(word, word[1:]):
        pa, pb = _KEY_POSITION.get(a), _KEY_POSITION.get(b)
        near = pa and pb and pa[0] == pb[0] and abs(pb[1] - pa[1]) == 1
        steps.append((pa[0], pb[1] - pa[1]) if near else None)
    runs: list[tuple[int, int]] = []  # (row, keys in the run)
    for i, step in enumerate(steps):
        if step is None:
            continue
        if i and steps[i - 1] == step:
            runs[-1] = (step[0], runs[-1][1] + 1)
        else:
            runs.append((step[0], 2))
    long_rows = {row for row, keys in runs if keys >= 3}
    neighbours = sum(1 for step in steps if step is not None)
    return bool(steps) and (len(long_rows) >= 2 or any(keys >= 6 for _, keys in runs)
                            or neighbours >= 0.75 * len(steps))


# Words that gambling and SEO spam glue onto site names in Chinese pages.
_SPAM_WORDS = ("金沙", "娱乐城", "娛樂城", "博彩", "彩票", "赌场", "賭場", "葡京", "威尼斯人", "澳门", "澳門", "真人",
               "棋牌", "总站", "總站")


@CLEANING_RULES.register("junk_token")
class JunkToken(BlockRule):
    """A lone token that is no text: a keyboard mash (``QWERASDZXCRQEFA``) or a spam site name
    (``6165cc金沙总站``)."""

    name = "junk_token"

    def check(self, text):
        if " " in text.strip() or len(text) > 30:
            return None
        letters = text.lower()
        if re.fullmatch(r"[a-z]{6,}", letters):
            if is_keyboard_mash(letters):
                return "keyboard mash"
        # A spam domain stem (``6165cc``) is letters and digits mixed; "G20峰会" or "2024年度回顾" are not spam.
        glued = re.fullmatch(r"([0-9A-Za-z]{3,})[\u4e00-\u9fff]{2,10}", text)
        if glued and len(re.findall(r"\d", glued[1])) >= 2 and len(re.findall(r"[A-Za-z]", glued[1])) >= 2:
            return "site name glued to digits"
        # Two of them: one alone is news vocabulary too (澳门, 赌场 in a headline about casinos).
        if han_count(text) <= 12 and sum(w in text for w in _SPAM_WORDS) >= 2:
            return "gambling spam"
        return None


_COPYRIGHT_STRONG = re.compile(
    r"©|all rights reserved|版权声明|版權聲明|版权所有|版權所有|hak cipta dilindungi|seluruh hak|registration number"
    r"|license for publishing|icp备|icp證|网络传播视听节目许可证",
    re.IGNORECASE,
)
# The bare word also occurs in news about copyright: it marks a notice only at the start of a block or in a
# block that is no article prose.
_COPYRIGHT_WORD = re.compile(r"copyright|hak cipta", re.IGNORECASE)
# Reprint-terms vocabulary; three in one block make a notice ("未经授权不得转载", "Dilarang ... mengambil konten ...
# tanpa izin", "may not be reproduced ... without permission"), one or two occur in news about copyright.
_COPYRIGHT_WEAK = re.compile(
    r"版权|版權|著作权|著作權|转载|轉載|未经|未經|授权|授權|不得|reproduc|republish|redistribut|without (?:prior )?"
    r"(?:written )?permission|prohibited|dilarang|tanpa izin|mengambil konten|menyalin|mengutip|memperbanyak",
    re.IGNORECASE)


@CLEANING_RULES.register("copyright_footer")
class CopyrightFooter(BlockRule):
    """Copyright, licence and registration notices."""

    name = "copyright_footer"
    version = 2

    def check(self, text):
        if _COPYRIGHT_STRONG.search(text):
            return "copyright or licence notice"
        word = _COPYRIGHT_WORD.search(text)
        if word and (word.start() <= 2 or not is_long(text)):
            return "copyright notice"
        if len(_COPYRIGHT_WEAK.findall(text)) >= 3:
            return "reprint/copyright terms"
        return None


_DATE = r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
# A credit is a short line: "记者:" opening article prose is an interview's speaker label, so this one applies
# to blocks that are not long prose only. Pages wrap it in brackets too: "(责任编辑:李四)", "【责任编辑:王五】".
_CREDIT_RE = re.compile(
    r"^[(（【\[]?\s*(?:文|编辑|編輯|责任编辑|責任編輯|责编|校对|校對|审核|審核|资料|資料|来源|來源|作者|撰文|记者|記者"
    r"|原标题|原標題|原题|原題"  # a reprint's original headline: metadata, and it must not pass for the title
    r"|Editor|Editors|Editing|Writer|Writers|Translator|Reporter|Penulis|Pewarta|Penyunting|Redaktur|Oleh)"
    r"\s*[/|｜:：]\s*\S")
_BYLINE_RES = (
    re.compile(r"^By [A-Z][\w .'-]+(?:\s+in\s+[\w .'-]+)?\s*\|", re.UNICODE),
    re.compile(r"\|\s*(?:Updated|Published|Diperbarui|Diterbitkan)\s*:", re.IGNORECASE),
    _CREDIT_RE,
    re.compile(rf"^[^\s。，,.!?！？]{{2,24}}\s+{_DATE}(?:\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?$"),
    # A byline line with no colon: "By Jane Doe and John Roe", "By ZHOU WENTING"; names only, each capitalised,
    # so that a short sentence opening with "By" has lowercase words and stays.
    re.compile(r"^By\s+(?:[A-Z][\w.'-]*\s*){1,4}(?:(?:,|and|&)\s*(?:[A-Z][\w.'-]*\s*){1,4})*$"),
    # A Chinese byline line: "澎湃新闻记者 张三", "本报记者 王煜 李四", "記者林志強／台北報導": reporter names of two to
    # four characters and nothing else on the line, after an outlet ("本报记者王煜"), after a space ("记者 王煜") or
    # before "／台北報導"; a bare "记者探访" (a subheading) has none of the three and stays.
    re.compile(r"^(?:[\u4e00-\u9fff]{1,10}(?:记者|記者|通讯员|通訊員)\s*|(?:记者|記者|通讯员|通訊員)\s+)"
               r"[\u4e00-\u9fff·]{2,4}(?:[、\s]+[\u4e00-\u9fff·]{2,4})*$"
               r"|^(?:记者|記者)\s*[\u4e00-\u9fff·]{2,4}(?:[、\s]+[\u4e00-\u9fff·]{2,4})*\s*[/／]\s*[\u4e00-\u9fff]{0,6}"
               r"(?:报道|報導|報道)$"),
    # Editors' initials closing an Indonesian article: "(rdp/isa)", "(fby/bac)".
    re.compile(r"^[(（][a-z]{2,5}(?:/[a-z]{2,5})+[)）]$"),
)


@CLEANING_RULES.register("byline")
class Byline(BlockRule):
    """Bylines, author and editor credits, and outlet + timestamp lines."""

    name = "byline"
    version = 3

    def check(self, text):
        for pattern in _BYLINE_RES:
            if pattern.search(text) and (pattern is not _CREDIT_RE or not is_long(text)):
                return "byline or credit line"
        return None


@CLEANING_RULES.register("dateline")
class Dateline(BlockRule):
    """A line that is only a date or a timestamp (kept as document metadata, not as text)."""

    name = "dateline"

    def check(self, text):
        if re.fullmatch(rf"{_DATE}(?:\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?", text.strip()):
            return "date line"
        return None


# Cookie and terms consent banners: the site speaking of its cookies, or binding the reader to its terms.
# Button labels ("Accept all cookies") only as a whole line, since news about cookie rules uses the words too.
_CONSENT_RE = re.compile(
    r"\b(?:we|this (?:site|website)|our (?:site|website)s?) uses? cookies\b"
    r"|\byou (?:agree|consent) to (?:our|the)\b.{0,60}\b(?:cookies|terms|privacy)"
    r"|^(?:accept|reject|decline|allow|manage)(?: all)? cookies$"
    r"|^(?:manage (?:preferences|cookies|settings)|cookie settings)$"
    r"|(?:situs|laman) ini menggunakan cookie|(?:本网站|本網站|我们|我們)使用\s*cookie",
    re.IGNORECASE,
)
# A call to action opens the block with an imperative: subscribe, follow, download, watch, scan, share. It is
# dropped when short, or when it also addresses the reader ("our", "your", "-mu", "您"), for a long one
# ("Simak breaking news ... di ponselmu") is the site's promotion; article prose rarely opens with an imperative.
_PROMPT_RE = re.compile(
    r"^(?:sign up|subscribe|follow us|download (?:the|our)|enter your e-?mail|get the (?:latest|top|best)\b"
    r"|join (?:us|our)|click here|like us on|share (?:this|on)|don't miss|(?:watch|listen)(?: now)?:"
    r"|simak|ikuti (?:kami|berita|terus|update)|tonton(?: juga)?|dengarkan|unduh|download aplikasi|klik|gabung"
    r"|baca (?:selengkapnya|berita lainnya)|dapatkan (?:update|informasi|berita)"
    r"|扫一扫|扫码|掃碼|掃一掃|微信扫|微信掃|点我|點我|按我|点击(?:查看|进入|下载|订阅)|點擊(?:查看|進入|下載|訂閱)"
    r"|(?:请|請)?(?:关注|關注).{0,20}(?:公众号|公眾號|微信|微博|帳號|账号|频道|頻道)|订阅|訂閱|更多精彩)"
    r"(?![A-Za-z])",  # "Subscribers ...", "Klikpolisi" are words of their own
    re.IGNORECASE,
)
# Anywhere in the block: newsletter delivery, and "read the news in our app" prompts.
_PROMPT_ANYWHERE_RE = re.compile(
    r"\b(?:delivered )?(?:to|in) your inbox\b|(?:用|在)(?:手机|手機|APP|app|客户端|客戶端)看新[闻聞]", re.IGNORECASE)
_READER_RE = re.compile(r"\b(?:you|your|our|us|kami|anda)\b|\w(?:mu)\b|您|我们|我們|你的", re.IGNORECASE)
# Advertisement labels and pagination links, as a whole line.
_PAGE_FURNITURE_RE = re.compile(
    r"^(?:advertisement|sponsored|iklan|广告|廣告)(?:\s*[·|-].{0,40})?$"
    r"|^(?:halaman (?:selanjutnya|berikutnya|sebelumnya)|next page|previous page|下一页|下一頁|上一页|上一頁)$",
    re.IGNORECASE,
)


@CLEANING_RULES.register("reader_prompt")
class ReaderPrompt(BlockRule):
    """Text addressed to the reader, not part of the story: cookie and terms consent notices, calls to sign up,
    follow, download, watch or share (``Sign up for our Asia newsletter``, ``Simak breaking news ...``,
    ``扫一扫，用手机看新闻！``), advertisement labels and pagination links. Sites put these inside the article body
    too (a newsletter box between paragraphs, a cookie banner above the headline), where ``page_frame`` cannot
    reach them; a cookie banner is long prose and would even pass for the body's first paragraph."""

    name = "reader_prompt"

    def check(self, text):
        if _CONSENT_RE.search(text):
            return "cookie or terms consent notice"
        if _PROMPT_ANYWHERE_RE.search(text) or (
                _PROMPT_RE.match(text) and (not is_long(text) or _READER_RE.search(text))):
            return "call to action (subscribe, follow, download, share)"
        if _PAGE_FURNITURE_RE.match(text):
            return "advertisement label or pagination link"
        return None


BLOCK_RULES: tuple[BlockRule, ...] = (LanguageMenu(), JunkToken(), CopyrightFooter(), Byline(), Dateline(),
                                      ReaderPrompt())


# ---------------------------------------------------------------- page rules

_RELATED_RE = re.compile(
    r"^(?:相关阅读|相關閱讀|延伸阅读|延伸閱讀|推荐阅读|推薦閱讀|相关新闻|相關新聞|相关报道|相關報道|热门推荐|熱門推薦"
    r"|Related(?: (?:news|articles|stories|reading))?|Read more|Read also|See also|More from|Baca juga|Berita terkait"
    r"|Artikel terkait)\s*(?:[:：]\s*(?P<link>\S.*)?)?$",  # a link only after a colon: "Related to this, ..." stays
    re.IGNORECASE,
)


@CLEANING_RULES.register("related_reading")
class RelatedReading(Rule):
    """A "related reading" heading and the list of headlines after it, up to the end of the page or the next
    long paragraph; or a one-line link (``Baca juga: <headline>``) inside the article."""

    name = "related_reading"
    version = 3

    def apply(self, blocks: list[Block]) -> None:
        inside = False
        for block in blocks:
            if not block.kept:
                continue
            match = _RELATED_RE.match(block.plain)
            if match and match.group("link"):
                # "Baca juga: <headline>": one link inline, the article goes on after it.
                if not is_long(block.plain):
                    block.drop(self.name, "related-reading link")
            elif match:
                inside = True
                block.drop(self.name, "related-reading heading")
            elif inside:
                # The list ends at article prose: a long paragraph, or a shorter one that ends like a sentence
                # (headlines do not end with a full stop). Detik's "Baca juga:" heads a one-link list mid-article,
                # and the 21-word paragraph after it is the story going on.
                text = block.plain
                if is_long(text) and (han_count(text) >= 60 or word_count(text) >= 25 or _is_short_prose(text)):
                    inside = False
                else:
                    block.drop(self.name, "related-reading list item")


@CLEANING_RULES.register("page_frame")
class PageFrame(Rule):
    """What stands before the first and after the last paragraph of article prose: menus, section names,
    page titles, widget headings. The last headline-like block before the body is kept as the title;
    parenthesised source lines after the body (``(Reporter ...)``, ``(信息来源:...)``) are kept with role
    ``source``: they are article metadata, but the versions of a story carry them in step (``(信息来源:公安部)`` /
    ``(Source: Ministry ...)``), so they align, and a consumer that wants prose only filters on the role."""

    name = "page_frame"
    version = 3

    def apply(self, blocks: list[Block]) -> None:
        kept = [b for b in blocks if b.kept]
        body = [i for i, b in enumerate(kept) if is_long(b.plain)]
        if not body:
            return
        first, last = body[0], body[-1]
        # An end-of-article mark ("（完）", "■", "(END)") after the body closes the article where the site says it
        # does: the blocks before it are the story's last lines, whatever their length.
        end_mark = next((i for i in range(last + 1, len(kept)) if _END_MARK_RE.fullmatch(kept[i].plain)), None)
        if end_mark is not None and all(not _PROMPTISH_RE.search(b.plain) for b in kept[last + 1:end_mark]):
            last = end_mark - 1
        # A short closing or opening paragraph ("The case is under investigation.") is still article prose:
        # the body extends over neighbouring blocks that read as a full sentence; menus and widget headings do not.
        while last + 1 < len(kept) and _is_short_prose(kept[last + 1].plain, closing=True):
            last += 1
        while first > 0 and _is_short_prose(kept[first - 1].plain):
            first -= 1
        title_index = next((i for i in range(first - 1, -1, -1) if is_headline(kept[i].plain)), None)
        for i in range(first):
            if i == title_index:
                kept[i].role = "title"
            else:
                kept[i].drop(self.name, "before the article body (navigation, section or page title)")
        for block in kept[last + 1:]:
            if _END_MARK_RE.fullmatch(block.plain):
                block.drop(self.name, "end-of-article mark")
            elif _is_source_line(block.plain):
                block.role = "source"
            else:
                block.drop(self.name, "after the article body (navigation, widgets, footer)")
        for block in kept[first:last + 1]:
            if block.kept and not is_long(block.plain):
                plain = block.plain
                block.role = ("source" if _is_source_line(plain)
                              else "heading" if not _ends_sentence(plain) else "body")


def _is_short_prose(text: str, *, closing: bool = False) -> bool:
    """A sentence too short for ``is_long``: it ends with a full stop (headlines and menu items do not; "!" and
    "?" are left out because headlines use them) and has a few words. A ``closing`` line after the body may
    also end with a full-width "！" or "？" when a clause mark comes before it (``公安部提醒广大群众：凡是…的，都是
    诈骗！``): a Chinese headline with "！" separates its parts with spaces, not with "，" or "："."""
    text = text.rstrip("”’\"'」』)） ")
    ends = text.endswith("。") or (text.endswith(".") and not re.search(r"(?:\d|\b[A-Z])\.$", text))
    if closing and not ends and text[-1:] in "！？":
        ends = re.search(r"[，：；]", text[:-1]) is not None
    return ends and (han_count(text) >= 8 or word_count(text) >= 4)


# Marks that wire services and Chinese sites put after an article's last line.
_END_MARK_RE = re.compile(r"[(（]\s*(?:完|全文完|END|end|Ends?)\s*[)）]|■|□|Enditem|ENDITEM|-{2,}\s*END\s*-{2,}")
# Between the body and an end mark, a share prompt or a copyright line means the mark closes something else.
_PROMPTISH_RE = re.compile(r"©|copyright|版权|版權|分享|share", re.IGNORECASE)


def _is_source_line(text: str) -> bool:
    return bool(re.fullmatch(r"[(（][^()（）]{2,120}[)）]", text.strip()))


def _ends_sentence(text: str) -> bool:
    return bool(text) and text.rstrip()[-1] in SENTENCE_END


@CLEANING_RULES.register("duplicate_paragraph")
class DuplicateParagraph(Rule):
    """A block whose text repeats an earlier kept block (repeated photo captions, doubled titles)."""

    name = "duplicate_paragraph"
    version = 2

    def apply(self, blocks: list[Block]) -> None:
        seen: dict[str, int] = {}
        for block in blocks:
            if not block.kept:
                continue
            key = _normalise(block.plain)
            if key in seen:
                block.drop(self.name, f"repeats line {seen[key]}")
            else:
                seen[key] = block.line


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\W_]+", "", text)


# A site's column or channel label before the headline in the page title: "推动高质量发展·权威发布|公安部严打...",
# "两会快讯丨...", "Exclusive | ...". One bar (a second one makes it a navigation trail), a label short and with
# no sentence punctuation, and a headline after it.
_COLUMN_LABEL = re.compile(r"^(?P<label>[^|｜丨。！？!?.,，:：]{2,16}?)\s*[|｜丨]\s*(?=\S)(?P<headline>[^|｜丨]+)$")


@CLEANING_RULES.register("column_label")
class ColumnLabel(Rule):
    """The column label before the page title's headline (``推动高质量发展·权威发布|``): cut off the title block, so
    that the title paragraph is the headline alone and still a verbatim slice of the page (its ``start`` moves
    past the cut, so sentence offsets into the raw page stay exact)."""

    name = "column_label"

    def apply(self, blocks: list[Block]) -> None:
        for block in list(blocks):
            match = _COLUMN_LABEL.match(block.text) if block.kept and block.role == "title" else None
            if match is None or not is_headline(match["headline"]) or len(match["headline"]) <= len(match["label"]):
                continue
            label_text = block.text[:match.start("headline")].rstrip()
            label = Block(block.start, block.start + len(label_text), label_text, block.line)
            label.drop(self.name, "column label before the headline")
            blocks.append(label)
            block.start, block.text = block.start + match.start("headline"), match["headline"]


PAGE_RULES = (RelatedReading(), DuplicateParagraph(), PageFrame(), ColumnLabel())


def split_bilingual_titles(blocks: list[Block]) -> list[Block]:
    """A bilingual page's headline line carries both versions (``中缅泰三国联合打击电诈 Three countries join hands
    to fight telecom fraud``): cut it at the space between the Chinese and the English part into two title
    blocks, each a verbatim slice of the page, so that each language part of the page opens with its own
    headline. Nothing is removed, so this is no cleaning rule. A Chinese headline with a Latin word or two
    ("G20峰会", "APP") has no English part of four words and stays whole. It runs with the page rules and picks
    among their titles: a change here bumps ``page_frame``'s version, so that the ingest signature changes."""
    out = []
    for block in blocks:
        out.append(block)
        if not (block.kept and block.role == "title"):
            continue
        for gap in re.finditer(r"\s+", block.text):
            left, right = block.text[:gap.start()], block.text[gap.end():]
            parts = (left, right)
            han = [han_count(t) >= 6 and word_count(t) <= 2 for t in parts]
            latin = [han_count(t) == 0 and word_count(t) >= 4 for t in parts]
            if (han[0] and latin[1]) or (latin[0] and han[1]):
                right_block = Block(block.start + gap.end(), block.end, right, block.line, role="title")
                block.text, block.end = left, block.start + gap.start()
                out.append(right_block)
                break
    return out


ALL_RULES: tuple[Rule, ...] = INLINE_RULES + BLOCK_RULES + PAGE_RULES


def clean_blocks(text: str) -> tuple[list[Block], list[Block]]:
    """Cut ``text`` into blocks and run every rule; returns ``(kept, dropped)`` in page order.

    Dropped inline spans come back as blocks too, so that kept + dropped + whitespace cover the page.
    """
    pieces: list[Block] = []
    cuts: list[Block] = []
    elements = HTML_REMNANT.element_spans(text)
    for line in split_lines(text):
        # of two cuts from one place the longer goes first and covers the other (a script element its tags;
        # the element also wins a tie, as the sort is stable)
        spans = sorted(
            [(max(s, line.start) - line.start, min(e, line.end) - line.start, HTML_REMNANT.name, why)
             for s, e, why in elements if s < line.end and e > line.start]
            + [(s, e, rule.name, why) for rule in INLINE_RULES for s, e, why in rule.spans(line.text)],
            key=lambda span: (span[0], -span[1]))
        pos = 0
        for s, e, name, why in spans:
            if s < pos:  # overlapping matches: the earlier cut already covers this one
                s = pos
                if s >= e:
                    continue
            _add_piece(pieces, text, line, pos, s)
            a, b = trim_span(text, line.start + s, line.start + e)
            if b > a:
                cut = Block(a, b, text[a:b], line.line)
                cut.drop(name, why)
                cuts.append(cut)
            pos = e
        _add_piece(pieces, text, line, pos, len(line.text))
    for block in pieces:
        plain = block.plain
        for rule in BLOCK_RULES:
            why = rule.check(plain)
            if why:
                block.drop(rule.name, why)
                break
    for page_rule in PAGE_RULES:
        page_rule.apply(pieces)
    pieces = split_bilingual_titles(pieces)
    everything = sorted(pieces + cuts, key=lambda b: b.start)
    return [b for b in everything if b.kept], [b for b in everything if not b.kept]


def _add_piece(pieces: list[Block], text: str, line: Block, s: int, e: int) -> None:
    a, b = trim_span(text, line.start + s, line.start + e)
    # Punctuation left stranded by a cut (a lone "," or "。") is not a paragraph: it goes with the cut.
    if b > a and any(ch.isalnum() for ch in text[a:b]):
        pieces.append(Block(a, b, text[a:b], line.line))
    elif b > a:
        stray = Block(a, b, text[a:b], line.line)
        stray.drop("html_remnant", "punctuation left by a cut")
        pieces.append(stray)


# ---------------------------------------------------------------- text repairs inside kept paragraphs

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
# Pinyin in parentheses right after a Han character: ruby annotations that a scraper flattened into the text
# (``包機(jī)陸續(xù)``). The syllable must carry a tone mark, so that "(a)" enumerations and English glosses stay.
PINYIN_ANNOTATION_RE = re.compile(rf"(?<=[\u3400-\u9fff])[(（](?=[a-z{_TONED}]*[{_TONED}])[a-z{_TONED}]{{1,7}}[)）]")


# A character reference with its ";": named (``&amp;``, ``&nbsp;``), decimal (``&#39;``) or hex (``&#x27;``). The
# ";" is required: ``html.unescape`` on its own also decodes HTML5's legacy names without one, which rewrites prose
# ("&notice" -> "¬ice", "&copy2024"); a name it does not know is left as written.
CHAR_REF_RE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")

# Latin letters: ASCII, Latin-1 (less × and ÷) and Latin Extended-A and -B. Not ``str.isalpha``: Han characters
# are letters to it, and Chinese puts no space after "," ("亓延军指出,近年来").
LATIN_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
# A clause mark glued between two letters ("sama,Mengusulkan", "(Source:Ministry"). Digits are not letters, so
# "1,5" and "10:30" stay. A colon needs three letters before it: "Re:Zero" and "Fw:" subject prefixes are written
# without a space; a double colon ("std::vector") has a colon, not a letter, beside each colon.
_GLUED_MARK_RE = re.compile(rf"(?:(?<=[{LATIN_LETTER}])[,;]|(?<=[{LATIN_LETTER}]{{3}}):)(?=[{LATIN_LETTER}])")
# A run of Latin letters that no other word character precedes: after a digit, an underscore or a letter of
# another script ("2024lagiTindakan", "的macOS") it is part of a code, an identifier or a mixed-script token.
_LATIN_WORD_RE = re.compile(rf"(?<!\w)[{LATIN_LETTER}]+")
# Tokens that are addresses, handles or tags: their marks and capitals are how they are written ("http://a.id",
# "humas@polri.go.id", "#CekFakta", "polri.go.id/berita,lagi").
_NOT_PROSE_TOKEN_RE = re.compile(r"://|www\.|@|#|\w\.[a-z]{2,}/")


def missing_spaces(raw: str) -> list[int]:
    """Where a space the scraper lost goes back, in order: after a clause mark glued between two Latin letters
    (``Pertama,Meningkatkan``, ``(Source:Ministry``), and between a lowercase word and a capitalised one run
    into it (``lagiTindakan``, ``kerasMengingat``; see ``glued_word_end``). A missing space after a full stop
    (``dunia.Menjalin``) is the sentence splitter's to handle; URLs, e-mail addresses and hashtags stay as
    written, and so does a colon in a token with more than one (``urn:isbn:x``, ``fe80::1ff:fe23``)."""
    positions = []
    for token in re.finditer(r"\S+", raw):
        word = token.group()
        if _NOT_PROSE_TOKEN_RE.search(word):
            continue
        for m in _GLUED_MARK_RE.finditer(word):
            if m.group() != ":" or word.count(":") == 1:
                positions.append(token.start() + m.end())
        for m in _LATIN_WORD_RE.finditer(word):
            end = glued_word_end(m.group())
            if end is not None:
                positions.append(token.start() + m.start() + end)
    return sorted(positions)


# Names written lowercase and then capitalised, common in Indonesian news (the outlets' own channel names:
# ``detikNews``, ``detikFinance``, ``kumparanBisnis``): the one case of the rule below that is a name, not a glue.
LOWERCASE_BRANDS = frozenset({"detik", "kumparan"})


def glued_word_end(word: str) -> int | None:
    """Where a lowercase word ends in a run of letters that a capitalised word continues (``lagiTindakan``: 4),
    or None. The run must start lowercase: one that starts with a capital is a name written in CamelCase
    (``WhatsApp``, ``YouTube``, ``McDonald``, ``TikTok``). Three lowercase letters at least before the capital:
    fewer are a brand's prefix (``iPhone``, ``eBay``, ``iOS``); and two lowercase after it: a capital followed
    by capitals is a name's tail (``macOS``), not a word."""
    upper = next((i for i, ch in enumerate(word) if ch.isupper()), None)
    if upper is None or upper < 3 or word[:upper] in LOWERCASE_BRANDS:
        return None
    after = word[upper + 1:upper + 3]
    return upper if len(after) == 2 and after.islower() else None


# (start, end, replacement, kind): a span of the raw paragraph and what its text has in its place; an inserted
# space is an empty span (start == end)
TextEdit = tuple[int, int, str, str]

# Every edit kind and its version: bump a kind's version when what it changes in the text does, so that the
# ingest signature (:func:`mtkit.ingest.signature`) changes with it and cached results are not taken for current.
TEXT_EDIT_VERSIONS = {"html_entity": 1, "pinyin_annotation": 1, "undecodable_byte": 1, "missing_space": 2}


def text_edits(raw: str) -> list[TextEdit]:
    """What turns a raw paragraph into its text, in page order: character references decoded by the standard
    ``html`` module (kind ``html_entity``; ``&nbsp;`` and the other space references read as a plain space, as
    the sentence splitters and the aligners expect between words), ruby pinyin removed (``pinyin_annotation``),
    and U+FFFD removed (``undecodable_byte``: a byte the decoder could not read, see
    :mod:`mtkit.ingest.decode`). The kinds cannot overlap: they match disjoint characters. Last, a space
    that scraping lost between two words goes back in (``missing_space``, see ``missing_spaces``): an empty
    raw span replaced by " "."""
    edits: list[TextEdit] = []
    for m in CHAR_REF_RE.finditer(raw):
        char = html.unescape(m.group())
        if char != m.group():
            edits.append((m.start(), m.end(), " " if char.isspace() else char, "html_entity"))
    edits += [(m.start(), m.end(), "", "pinyin_annotation") for m in PINYIN_ANNOTATION_RE.finditer(raw)]
    edits += [(m.start(), m.end(), "", "undecodable_byte") for m in re.finditer("\ufffd", raw)]
    # The ";" that closes a character reference ("&amp;Polisi") is no clause mark: no space goes in right after
    # (or inside) another edit's span.
    edits += [(p, p, " ", "missing_space") for p in missing_spaces(raw)
              if not any(start < p <= end for start, end, _, _ in edits)]
    return sorted(edits)


def edited_text(raw: str) -> tuple[str, list[TextEdit]]:
    """A raw paragraph's text (see ``text_edits``) and the edits that made it from ``raw``."""
    edits = text_edits(raw)
    if not edits:
        return raw, []
    parts, pos = [], 0
    for start, end, replacement, _ in edits:
        parts += [raw[pos:start], replacement]
        pos = end
    parts.append(raw[pos:])
    return "".join(parts), edits


def raw_offsets(raw: str, edits: list[TextEdit]) -> tuple[list[int], list[int]]:
    """For each character of the edited text, where it starts and ends in ``raw``, so that a span ``s:e`` of the
    text comes from ``raw[starts[s]:ends[e - 1]]``. A decoded reference maps to the whole reference; a removal
    goes with the character before it (an annotation with the character it annotates); an inserted space maps
    to the empty span where it goes in, so that a span starting at it starts at the raw character after it and
    a span ending at it ends after the raw character before it."""
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for start, end, replacement, _ in edits:
        starts += range(pos, start)
        ends += range(pos + 1, start + 1)
        if replacement:
            starts += [start] * len(replacement)
            ends += [end] * len(replacement)
        elif ends and ends[-1] == start:
            ends[-1] = end
        pos = end
    starts += range(pos, len(raw))
    ends += range(pos + 1, len(raw) + 1)
    return starts, ends
