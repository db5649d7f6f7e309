"""Bytes -> text for scraped pages: UTF-8 first, then UTF-16 by its BOM, then charset detection (GBK, Big5, ...).

Offsets everywhere in mtkit index the decoded ``str``; nothing is normalised here, so that
``text[start:end]`` is always what the page said. A UTF-8 page with a few damaged bytes (a download cut off
mid-character) is read as UTF-8 with U+FFFD for the damaged bytes, and a warning names them.
"""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

from ..errors import DataError

logger = logging.getLogger("mtkit.ingest")

# Share of control characters (other than tab/newline/CR/form feed) above which text is not a page.
MAX_CONTROL_SHARE = 0.01

# "Valid UTF-8 but for a handful of bad bytes": at most MAX_BAD_UTF8 invalid sequences (more on a long page: one
# per BYTES_PER_BAD_UTF8 bytes), and at least MIN_VALID_PER_BAD well-formed non-ASCII characters for each. Damage
# to a UTF-8 page is local (a truncated last character, stray bytes pasted in from a Windows-1252 editor), while
# the page's other non-ASCII characters are still well-formed. A page in a legacy encoding is the reverse: its
# bytes form a valid UTF-8 sequence only by chance, so GBK and Big5 pages give about one well-formed "character"
# per four invalid sequences (the seed pages re-encoded: 362 / 1,555 to 624 / 2,622), and a Windows-1252 page
# almost none ("é" followed by a letter is never valid UTF-8). A ratio of 1 is four times what those reach and
# still takes an English page with two en dashes and one stray byte (at 3 it went to charset detection, which
# read it as mac_iceland: every dash garbled). The cap keeps a page with a long damaged stretch (or a GBK one
# pasted in) from being read with dozens of U+FFFD: it goes to charset detection as before.
MAX_BAD_UTF8 = 8
BYTES_PER_BAD_UTF8 = 500
MIN_VALID_PER_BAD = 1


def decode_bytes(data: bytes, *, name: str = "<bytes>") -> tuple[str, str]:
    """Return ``(text, encoding)``; raise DataError for binary or undecodable input."""
    if not data:
        return "", "utf-8"
    data_in = data
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _checked(_decode(data, encoding, name), encoding, name)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return _checked(data.decode("utf-8"), "utf-8", name)
    except UnicodeDecodeError:
        pass
    damaged = _damaged_utf8(data)
    if damaged is not None:
        text, bad = damaged
        offset = len(data_in) - len(data)  # a UTF-8 BOM was cut off: name offsets into the file
        where = ", ".join(f"{start + offset} ({data[start:end].hex(' ')})" for start, end in bad)
        truncated = " (the page ends mid-character: a truncated download?)" if bad[-1][1] == len(data) else ""
        logger.warning("%s: not valid UTF-8 at byte offset%s %s%s; read as UTF-8 with U+FFFD in place of the bad "
                       "bytes", name, "s" if len(bad) > 1 else "", where, truncated)
        return _checked(text, "utf-8", name)
    if b"\x00" in data:
        # UTF-16 without a BOM shows NULs in every other byte; anything else with NULs is binary.
        guess = _utf16_without_bom(data)
        if guess is not None:
            return _checked(guess[0], guess[1], name)
        raise DataError(f"{name}: binary file (NUL bytes), not a text page")
    from charset_normalizer import from_bytes

    # Text without NUL bytes is not UTF-16 or UTF-32 (their newlines and ASCII hold NULs; the NUL case returned
    # above), but charset_normalizer ranks them first for some short texts: two lines of GBK came out as
    # utf_16_le, one Chinese line of mojibake where two lines were.
    matches = [match for match in from_bytes(data) if not match.encoding.startswith(("utf_16", "utf_32"))]
    if not matches:
        raise DataError(f"{name}: cannot decode: not UTF-8, UTF-16, GBK, Big5 or another known text encoding")
    encoding = _preferred_encoding(matches)
    # GB2312 and GBK are subsets of GB18030: decode with the superset so that rare characters survive.
    if encoding in ("gb2312", "gbk"):
        encoding = "gb18030"
    text, encoding = _checked(_decode(data, encoding, name), encoding, name)
    # a guess can be wrong without any error (a Latin-1 page read as cp1250 mojibake): say so, once per file
    logger.warning("%s: not UTF-8 text (line %d: %s); read as %s, a guess from its bytes (check the text, or "
                   "convert the file to UTF-8)", name, *_first_bad_utf8_line(data), encoding,
                   extra={"encoding_guess": encoding})
    return text, encoding


# What a tie goes to, in this order: charset_normalizer ranks the readings by a "mess" measure that short text
# leaves tied, and then took the first, often a rare code page: a Windows-1252 page read as cp775 ("Café" ->
# "Cafķ", "São" -> "SŃo") or cp1250 ("Ministère" -> "Ministčre"), one line of GBK as Korean cp949. Windows-1252
# is the web's default for a Latin page that declares nothing (the WHATWG Encoding Standard reads even
# "iso-8859-1" as windows-1252); GB18030 and Big5 are this field's Chinese legacy encodings.
TIE_PREFERENCE = ("cp1252", "gb18030", "big5")


def _preferred_encoding(matches) -> str:
    """Among charset_normalizer's least messy readings, one that TIE_PREFERENCE names (an encoding is named if
    it gives the same text as the reading, ``could_be_from_charset``), else the first."""
    tied = [m for m in matches if m.chaos <= matches[0].chaos]
    for preferred in TIE_PREFERENCE:
        for match in tied:
            same_text = {e.replace("-", "_") for e in match.could_be_from_charset} | {match.encoding}
            if preferred in same_text or (preferred == "gb18030" and same_text & {"gbk", "gb2312"}):
                return preferred
    return matches[0].encoding


def guessed_encoding(encoding: str) -> bool:
    """Whether ``decode_bytes`` read with this encoding by charset detection (a guess, warned about), not UTF-8
    or UTF-16/32 (which it knows by their bytes or BOM)."""
    return not encoding.replace("_", "-").lower().startswith(("utf-8", "utf-16", "utf-32"))


def read_text_file(path: str | Path) -> tuple[str, str]:
    """``(text, encoding)`` of a file, decoded as ``decode_bytes`` does."""
    return decode_bytes(_file_bytes(path), name=str(path))


def _file_bytes(path: str | Path) -> bytes:
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a text file") from None


def read_lines(path: str | Path) -> list[str]:
    """The lines of a line-aligned text file (one sentence, translation or reference a line), as sacrebleu, Moses
    and ``wc -l`` count them: split at ``\\n`` only, a ``\\r`` before it dropped (CRLF files), no final empty line
    for a file that ends with a newline. ``str.splitlines`` also breaks at U+2028, NEL, form feeds and a lone
    ``\\r``, which a translation or a sentence can hold; splitting there shifts every later line against the file
    it is paired with. Decoded as pages are (UTF-8, UTF-16 by its BOM, else a guess from the bytes with a
    warning, since a guess can be wrong without an error); a UTF-8 BOM is not part of the first line.
    """
    text, _ = decode_bytes(_file_bytes(path), name=str(path))
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if lines[-1] == "":
        lines.pop()
    if any("\r" in line for line in lines):
        logger.warning("%s: carriage returns inside lines are read as part of the line, not as line breaks (an old "
                       "Mac file? convert it with mac2unix)", path)
    return lines


def _first_bad_utf8_line(data: bytes) -> tuple[int, str]:
    """(line number, reason) of the first byte that is not UTF-8, for data that is not."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return data[:err.start].count(b"\n") + 1, err.reason
    return 0, "valid UTF-8"


def _damaged_utf8(data: bytes) -> tuple[str, list[tuple[int, int]]] | None:
    """``(text, bad byte spans)`` when ``data`` is UTF-8 but for a handful of bad bytes (see ``MAX_BAD_UTF8``),
    the bad ones each read as one U+FFFD (Python's "replace"); None when it is no such page."""
    bad: list[tuple[int, int]] = []
    pos = 0
    while True:
        try:
            data[pos:].decode("utf-8")
            break
        except UnicodeDecodeError as err:
            bad.append((pos + err.start, pos + err.end))
            if len(bad) > max(MAX_BAD_UTF8, len(data) // BYTES_PER_BAD_UTF8):
                return None
            pos += err.end
    text = data.decode("utf-8", errors="replace")
    valid = sum(1 for ch in text if ord(ch) > 0x7F) - len(bad)
    if valid < MIN_VALID_PER_BAD * len(bad):
        return None
    return text, bad


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    half = len(data) / 2
    for encoding, nuls in (("utf-16-le", odd_nuls), ("utf-16-be", even_nuls)):
        if nuls > 0.3 * half:
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                return None
    return None


def _decode(data: bytes, encoding: str, name: str) -> str:
    """``data.decode(encoding)``, with a DataError that names the file, the encoding and the bad byte."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise DataError(f"{name}: not valid {encoding} at byte {err.start} ({err.reason}); "
                        "expected a text page in UTF-8, UTF-16, GBK/GB18030, Big5 or another text encoding") from None


def _checked(text: str, encoding: str, name: str) -> tuple[str, str]:
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if text and (controls > MAX_CONTROL_SHARE * len(text) or "\x00" in text):
        raise DataError(f"{name}: binary file ({controls} control characters), not a text page")
    return text, encoding
