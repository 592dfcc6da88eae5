"""Text from outside (the wrapper's log, the report, the health check) made inert before it
reaches Markdown, a commit message or a terminal: control characters (ANSI/OSC escapes,
C0 and C1) removed, table pipes and HTML escaped, code fences longer than any backtick run
inside. Stdlib only; pure."""

from __future__ import annotations

import re

# ESC [ ... final byte (CSI), ESC ] ... BEL or ESC \ (OSC), other ESC sequences, and the
# single-character C1 forms of CSI/OSC. An OSC left open ends with its line: a stray
# "ESC ]" in a wrapper's output took every line after it out of the log a run keeps, a
# crash and its disconnections with them (adversary 51).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b\r\n]*(?:\x07|\x1b\\)?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x1b\x9c\r\n]*(?:\x07|\x9c|\x1b\\)?"
    r"|\x1b[@-Z\\-_]?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, *, keep_newlines: bool = True) -> str:
    """Escape sequences, control characters (but tab and, if asked, newlines) and format
    characters removed; CR LF and lone CR become LF."""
    text = _ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    if not text.isascii():
        # Format characters (Unicode Cf: zero-width, bidi overrides, BOM, tags...) and the
        # line and paragraph separators (Zl, Zp): what `has_unsafe` refuses, so cleaned
        # text always passes it.
        import unicodedata

        text = "".join(ch for ch in text if unicodedata.category(ch) not in _HIDING)
    return text if keep_newlines else " ".join(text.split())


def escapes_only(text: str) -> bool:
    """Whether ``text`` is escape sequences and nothing else (what `clean` removes before it
    reads a carriage return and a line feed as one line end)."""
    return not _ESCAPES.sub("", text)


def line(text: str) -> str:
    """One clean line (for a Markdown field, a cell, a commit subject or a terminal)."""
    return clean(text, keep_newlines=False)


def markdown(text: str) -> str:
    """One clean line that Markdown shows as written: HTML and table pipes escaped."""
    out = line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return out.replace("\\|", "|").replace("|", "\\|")


# Raw HTML (a tag, a comment, a declaration) and character references, outside code
# spans: a rendered page would show what the text does not say (a row or a streak line in
# a comment, "runs&#32;3 of 3"). `&amp;`, `&lt;` and `&gt;` are how `markdown` escapes;
# an autolink (<https://...>, <ops@example.com>) is a link.
_MARKUP = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|[\w.+-]+@[\w.-]+>)[A-Za-z/!?]"
                     r"|&(?!(?:amp|lt|gt);)(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")


def markup(text: str) -> str | None:
    """The first raw HTML or character reference in one line of Markdown outside its code
    spans (what `markdown` never writes), or None."""
    if "<" not in text and "&" not in text:
        return None
    found = _MARKUP.search(_CODE_SPAN.sub("", text) if "`" in text else text)
    return found.group() if found else None


# Letters of other scripts a reader takes for Latin ones (after casefold): the Cyrillic
# and Greek look-alikes of Unicode's confusables that NFKC leaves as they are.
_LOOK_ALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g", "ɩ": "i",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j", "ѵ": "v",
    # Latin small capitals ("ᴄʟᴏꜱᴇᴅ") and the Lisu letters that are Latin capitals' shapes
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h",
    "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p",
    "ꞯ": "q", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y",
    "ᴢ": "z", "ꓮ": "a", "ꓐ": "b", "ꓚ": "c", "ꓓ": "d", "ꓰ": "e", "ꓝ": "f", "ꓖ": "g",
    "ꓧ": "h", "ꓲ": "i", "ꓙ": "j", "ꓗ": "k", "ꓡ": "l", "ꓟ": "m", "ꓠ": "n", "ꓳ": "o",
    "ꓑ": "p", "ꓣ": "r", "ꓢ": "s", "ꓔ": "t", "ꓴ": "u", "ꓦ": "v", "ꓪ": "w", "ꓫ": "x",
    "ꓬ": "y", "ꓜ": "z",
    # Armenian, Coptic and Cherokee letters of Latin shapes (casefold leaves Cherokee's
    # capitals as they are), and Latin's own: a dental click, a dotless i, an alpha
    "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "ⲥ": "c", "ⲟ": "o", "ⲣ": "p",
    "ⲭ": "x", "ⲁ": "a", "ⲉ": "e", "Ꭺ": "a", "Ᏼ": "b", "Ꮯ": "c", "Ꭰ": "d", "Ꭼ": "e",
    "Ꮐ": "g", "Ꮋ": "h", "Ꭵ": "i", "Ꭻ": "j", "Ꮶ": "k", "Ꮮ": "l", "Ꮇ": "m", "Ꮲ": "p",
    "Ꮢ": "r", "Ꮪ": "s", "Ꮤ": "t", "Ꮩ": "v", "Ꮃ": "w", "Ꮓ": "z", "ǀ": "l", "ı": "i",
    "ɑ": "a",
    # strokes and rings of other scripts: a Hebrew paseq, Arabic-Indic ones, a runic isaz,
    # Thai, Devanagari and Bengali zeros
    "\u05c0": "l", "\u0661": "l", "\u06f1": "l", "\u16c1": "l", "\u0e50": "o",
    "\u0966": "o", "\u09e6": "o",
    # and (round 24) an ideographic zero, a divides sign, Tifinagh yan, l with a stroke or
    # a tilde, a Cyrillic e with a descender, the estimated sign, a sideways o, an
    # insular l, Hebrew vav, Arabic alef, a tone five, Cherokee tsu
    "\u3007": "o", "\u2223": "l", "\u2d4f": "l", "ł": "l", "ɫ": "l", "ҽ": "e",
    "\u212e": "e", "ᴑ": "o", "ꞁ": "l", "\u05d5": "l", "\u0627": "l", "ƽ": "s", "Ꮷ": "d",
    # dashes a reader takes for a hyphen ("MO‑2" with a non-breaking one)
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\ufe63": "-", "\uff0d": "-",
    # (round 43) Latin letters of other shapes no mark comes off: a slashed or barred o,
    # a hooked c, a reversed s, an eth
    "ø": "o", "ɵ": "o", "ʘ": "o", "ƈ": "c", "ƨ": "s", "ð": "d", "đ": "d", "ɗ": "d",
    # (round 41) slashes a reader takes for "/" ("3⁄3"), Greek san for an m, rings for an o
    "\u2044": "/", "\u2215": "/", "\u29f8": "/", "ϻ": "m", "Ϻ": "m", "\u25cb": "o",
    "\u25ef": "o", "\u25cf": "o", "\u2b55": "o", "\u26aa": "o", "\u26ab": "o",
    # letters in boxes and circles NFKC leaves as they are (🅲🅻🅾🆂🅴🅳), and regional indicators
    **{chr(first + i): chr(ord("a") + i) for first in (0x1F150, 0x1F170, 0x1F1E6)
       for i in range(26)},
})
# What a reader does not see at all: Unicode's default-ignorable code points (a combining
# grapheme joiner or a variation selector inside a word, the Hangul fillers, ...)
_IGNORABLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                        "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f"
                        "\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
                        "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
# Markdown's inline marks a reader does not see: emphasis, code, a link's brackets
_INLINE = str.maketrans("", "", "*_~`[]")
# A link or an image, inline or by reference ("[MO-2 closed][c]": round 42): its text (an
# image's alt) is what a reader has of it; a "](" with no "[" before it is text, as written
_LINK = re.compile(r"!?\[([^\[\]]*)\](?:\(\s*(?:<[^<>\n]*>|[^\s()\[\]]*)"
                   r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)|\[[^\[\]]*\])")
# ("[text](words with spaces)" is no link, shown as written: adversary 47; no bracket in a
# destination, so a line of "[](" is read once, not once for each "[")
# Struck-out text (GFM's ~~…~~ and ~…~) is text a reader takes as not said: what
# r"(?<!~)(~~?)(?![~\s])(.+?)(?<![~\s])\1(?!~)" (flanking, as GFM) takes out, in one pass
# (`_unstruck`: the pattern tried every "~" against the rest of its line, quadratic)
_TILDES = re.compile(r"~+")
# A comment, then a tag (quoted attribute values may hold ">"): a page shows neither; what
# r"<!--.*?-->|" + _TAG takes out (`_untagged`: comments found in one pass, likewise)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s+[^\s\"'=<>`/]+(?:\s*=\s*"
                  r"(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*\s*/?>")
_CHAR_REF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def skeleton(text: str) -> str:
    """``text`` as a reader of the rendered page takes it, for comparing words: Unicode
    compatibility forms, case, look-alike letters of other scripts and dashes, characters
    no one sees, Markdown's inline marks (emphasis, code, a link's brackets and target) and
    runs of white space aside; raw HTML as a page shows it (tags and comments gone,
    character references read: "CLOSE&#68;" is CLOSED)."""
    literal = _shown_as_written(text) or not text.isascii()
    if literal:  # (what a page shows as written is no mark: adversary 45, "\~x CLOSED x\~")
        text = _literals(text)
    if "<" in text:
        text = _untagged(text)
    if "&" in text and _CHAR_REF.search(text):  # ("P&L" costs no import)
        import html

        literal = True  # ("&#126;" is a "~" that strikes nothing out)
        text = _CHAR_REF.sub(lambda m: html.unescape(m[0]).translate(_INERT), text)
    if "![" in text:  # a picture may show anything ("CLOSED" on a badge): its alt text
        text = text.replace("![", "[") + f" {PICTURE}"  # is read, and a tick (round 41)
    if "](" in text or "][" in text:
        text = _LINK.sub(r"\1", text)
    if "~" in text:
        text = _unstruck(text)
    if ":" in text:  # (":white_check_mark:" is drawn ✅)
        text = _TICK_CODE.sub(PICTURE, text)
    if not text.isascii():
        import unicodedata

        # (the table before NFKC too: it folds some look-alikes into letters that are
        # none, the lunate sigma ϲ into σ)
        text = unicodedata.normalize("NFKC", text.translate(_LOOK_ALIKES)).casefold()
        if not text.isascii():  # marks over letters ("C̲L̲O̲S̲E̲D̲", "CLÓSED", "ό") read as the
            text = "".join(ch for ch in unicodedata.normalize("NFD", text)  # letters
                           if unicodedata.category(ch) not in ("Mn", "Me"))
        text = _IGNORABLE.sub("", text.translate(_LOOK_ALIKES))
    if literal:
        text = text.translate(_AS_WRITTEN)
    return " ".join(text.casefold().translate(_INLINE).split())


# Markdown's punctuation, each with a stand-in no step of `skeleton` reads as a mark (a
# private-use character), put back at its end: what an escape, a code span or a character
# reference writes is shown as written.
_INERT = {c: 0xE000 + c for c in range(0x21, 0x7F) if not chr(c).isalnum()}
_AS_WRITTEN = {v: k for k, v in _INERT.items()}
_CODE_OR_ESCAPE = re.compile(r"(<[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>]*>|<[^\s<>@\\]+@[^\s<>]+>)"
                             r"|\\([!-/:-@\[-`{-~])|`+"  # (an autolink, an escape, backticks)
                             r"|(?<![\w/(<])((?:https?://|www\.)[^\s<`\\()]*)")  # (bare)
_TICKS = re.compile("`+")


def _shown_as_written(text: str) -> bool:
    """Whether ``text`` may hold an escape, a code span or a link `_literals` reads."""
    return "\\" in text or "`" in text or "<" in text or "://" in text or "www." in text


def inert(text: str) -> str:
    """``text`` as a code block shows it: its punctuation no mark `skeleton` reads."""
    return text.translate(_INERT)


def _literals(text: str) -> str:
    """``text`` with what Markdown shows as written made inert (`_INERT`): a backslash's
    punctuation, a code span's (backticks to the next run of as many: nothing inside it is
    a mark, an escape or HTML) and an autolink's. A page shows "\\~x CLOSED x\\~", "`a~1`
    CLOSED `b~2`" and "<https://a/~~x> CLOSED <https://b/x~~>" in plain view; read first as
    struck out, they hid the claim (adversaries 45, 46)."""
    if not _shown_as_written(text):
        return text
    import bisect

    starts: dict[int, list[int]] = {}  # each length of backtick run -> where such runs start
    for m in _TICKS.finditer(text):
        starts.setdefault(len(m[0]), []).append(m.start())
    out, pos = [], 0
    for m in _CODE_OR_ESCAPE.finditer(text):
        if m.start() < pos:
            continue  # (inside a code span already taken)
        if m[1] is not None or m[2] is not None:  # an autolink, shown as written; an escape
            out.append(text[pos:m.start()] + (m[1] or m[2]).translate(_INERT))
            pos = m.end()
            continue
        if m[3] is not None:  # a bare link, GitHub's: its trailing punctuation is no part
            link = m[3].rstrip("?!.,:*_~")  # of it (adversary 47: "https://x/~ops/" ... "~")
            out.append(text[pos:m.start()] + link.translate(_INERT) + m[3][len(link):])
            pos = m.end()
            continue
        same = starts.get(len(m[0]), [])
        k = bisect.bisect_left(same, m.end())
        if k == len(same):
            continue  # (backticks with no closing run: text as written)
        found = same[k]
        out.append(text[pos:m.start()] + m[0] + text[m.end():found].translate(_INERT) + m[0])
        pos = found + len(m[0])
    return "".join(out) + text[pos:]


def _unstruck(text: str) -> str:
    """``text`` without its struck-out spans, paired as GitHub (cmark-gfm) pairs them: a
    run of one or two tildes opens when it is left-flanking, closes when right-flanking
    (CommonMark's rules: white space and punctuation on either side), and a closer takes
    the nearest opener before it on its line, striking only when both are as long (else
    both go: adversary 47) (adversary 46: "~1 ms; MO-2 is CLOSED; ~2~ ms" strikes "2"
    alone on the page, and "x~~"CLOSED"~~x" nothing)."""
    spans: list[tuple[int, int]] = []
    openers: list[tuple[int, int]] = []  # (start, length), the nearest last
    last = 0
    for m in _TILDES.finditer(text):
        start, end = m.span()
        if "\n" in text[last:start]:  # (a span stays on its line)
            openers = []
        last = start
        if end - start > 2:
            continue
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if openers and not before.isspace() and (not _punctuation(before) or after.isspace()
                                                 or _punctuation(after)):  # (it closes)
            opened, length = openers.pop()  # (of another length: both go, nothing struck)
            if length == end - start:
                spans.append((opened, end))
            continue
        if not after.isspace() and (not _punctuation(after) or before.isspace()
                                    or _punctuation(before)):  # (it opens)
            openers.append((start, end - start))
    out, pos = [], 0
    for start, end in sorted(spans):
        if start >= pos:  # (an inner span inside an outer one goes with it)
            out.append(text[pos:start])
            pos = end
        else:
            pos = max(pos, end)
    return "".join(out) + text[pos:]


def _punctuation(ch: str) -> bool:
    """CommonMark's punctuation: ASCII's, and Unicode's P* categories."""
    if ch.isascii():
        return not ch.isalnum() and ch.isprintable() and not ch.isspace()
    if ord(ch) in _AS_WRITTEN:  # (a stand-in is the punctuation it stands for: adversary 47)
        return True
    import unicodedata

    return unicodedata.category(ch).startswith("P")


def _untagged(text: str) -> str:
    """``text`` without its HTML comments (``<!--`` to the first ``-->`` after it on its
    line) and tags (`_TAG`), each "<" tried once, left to right. The search for a "-->"
    is remembered: a line of many "<!--" and no "-->" is read once, not once for each."""
    out, pos, at = [], 0, text.find("<")
    searched = (0, -1, -1)  # (from, up to, the first "-->" there or -1)
    while at != -1:
        end = -1
        if text.startswith("<!--", at):
            line_end = text.find("\n", at)
            line_end = len(text) if line_end == -1 else line_end
            since, until, found = searched
            if not (until == line_end and since <= at + 4 and (found == -1 or found >= at + 4)):
                searched = (at + 4, line_end, text.find("-->", at + 4, line_end))
            if searched[2] != -1:
                end = searched[2] + 3
        else:
            m = _TAG.match(text, at)
            end = m.end() if m else -1
        if end != -1:
            out.append(text[pos:at])
            pos = end
        at = text.find("<", end if end != -1 else at + 1)
    return "".join(out) + text[pos:]


# What an image, or a tick's emoji short code, reads as (`skeleton`): a tick, work done
PICTURE = "\u2705"
_TICK_CODE = re.compile(r":(?:white_check_mark|heavy_check_mark|ballot_box_with_check):",
                        re.IGNORECASE)


def shown(text: str) -> str:
    """``text`` (a table cell) as a reader sees it, case and letters kept: a link's text,
    Markdown's inline marks, Unicode compatibility forms (full-width digits), characters no
    one sees and runs of white space aside. A run id written as a link, in code or with a
    zero-width space reads as the id (found by an adversary: such a row went unread)."""
    if "](" in text or "][" in text:
        text = _LINK.sub(r"\1", text)
    if not text.isascii():
        import unicodedata

        text = _IGNORABLE.sub("", unicodedata.normalize("NFKC", text))
    return " ".join(text.translate(_INLINE).split())


def named_key(cell: str) -> str:
    """A table cell that names a row (a milestone's ID) as a reader takes it: `shown`
    (`**MO-2**` is MO-2), but struck-out text names nothing (`~~MO-2~~`, a withdrawn
    row, is no MO-2: found by an adversary, it made a second MO-2 row and close
    refused)."""
    return "" if "~" in cell else shown(cell)


def whole_number(text: str) -> int | None:
    """``text`` as a whole number when it is ASCII digits and nothing else, else None.
    (`str.isdigit` also takes "²" and "١٢", and `int` refuses the first: a superscript in a
    table cell or a variable would be a traceback.)"""
    return int(text) if text.isascii() and text.isdigit() else None


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in ``text`` (at least three)."""
    runs = [len(m) for m in re.findall(r"`+", text)]
    return "`" * max(3, max(runs, default=0) + 1)


def has_unsafe(text: str) -> str | None:
    """The first control (Unicode Cc other than tab and line endings), format (Cf) or line
    or paragraph separator (Zl, Zp: U+2028 and U+2029 break a line where a terminal or a
    renderer shows them) character in ``text``, as U+XXXX, or None."""
    if text.isascii():
        bad = _ASCII_CONTROL.search(text)
        return f"U+{ord(bad.group()):04X}" if bad else None
    import unicodedata

    for ch in text:
        if ch not in "\t\n\r" and unicodedata.category(ch) in _UNSAFE:
            return f"U+{ord(ch):04X}"
    return None


_HIDING = frozenset(("Cf", "Zl", "Zp"))  # the categories `clean` drops (Cc: by `_CONTROLS`)
_UNSAFE = _HIDING | {"Cc"}


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
