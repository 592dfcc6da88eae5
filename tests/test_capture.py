"""`run`'s kept log of a wrapper's output (`runbook.capture.Capture`): whole up to the one
limit of a log; past it the first and last lines, and between them every line the
evidence is read from (adversary 48: a restoration, a disconnection, a crash report left
out with a middle changed what `run` and `verify` read of the session)."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from evidencebot.ibkr.codes import classify_failure, code_occurrences, crash_told, telling, untold
from evidencebot.ledger.messages import KeptStream, kept_log, log_encoding
from evidencebot.runbook.capture import Capture

MARKER = re.compile(rb"\n\[evidencebot: (\d+) bytes of the wrapper's output left out here[^\n]*"
                    rb"\]\n")


def kept(lines: list[bytes], limit: int, piece: int = 32 * 1024) -> tuple[Capture, bytes]:
    capture = Capture(limit, piece=piece)
    for line in lines:
        capture.append(line)
    return capture, capture.value()


# (UTF-8 text: output with NULs every other byte, or a UTF-16 mark, is UTF-16's, read as
# `test_utf16_output_is_kept_as_utf8` says)
CHATTER = st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=(
    "\n", "\x00")), max_size=20).map(lambda t: (t + "\n").encode()), max_size=40)


@settings(max_examples=300)
@given(CHATTER, st.integers(min_value=2, max_value=800))
def test_a_capture_keeps_all_or_its_first_and_last_lines(lines: list[bytes], limit: int) -> None:
    """As a run commits it (`kept_log`: escapes and control characters gone, a carriage
    return a line end), whole or its first and last lines."""
    capture, value = kept(lines, limit)
    whole = kept_log(b"".join(lines)) or b""
    assert kept_log(value) == value  # (kept as committed: reading it again changes nothing)
    room = 2 * capture.half
    if len(whole) <= room:
        assert value == whole
        return
    found = MARKER.search(value)
    assert found is not None
    head, tail = value[:found.start()], value[found.end():]
    assert len(head) + len(tail) <= room  # (and the line between)
    assert whole.startswith(head) and whole.endswith(tail)
    assert int(found.group(1)) == len(whole) - len(head) - len(tail)
    assert head == b"" or head.endswith(b"\n")  # (whole lines: a code is never cut)
    assert tail  # (the end, which says how the session ended)
    assert whole[:len(whole) - len(tail)].endswith(b"\n") or len(tail) < len(lines[-1]) or \
        any(len(line) > room - len(head) for line in lines)  # (one cut to fit)


TOLD = [b"Error 1100, reqId -1: Connectivity between IB and TWS has been lost.\n",
        b"Error 1102, reqId -1: Connectivity restored, data maintained.\n",
        b"Error 2104, reqId -1: Market data farm connection is OK:usfarm\n",
        b"Traceback (most recent call last):\n", b'  File "x.py", line 3, in <module>\n',
        b"Exception: position reconciliation failed\n", b"Line |\n", b"chatter chatter\n",
        b"ValueError: boom\n", b"farm chatter " * 3 + b"\n", b"At C:\\w.ps1:3 char:5\n",
        b"Error 354, reqId 7: Requested market data is not subscribed.\n",
        b"Error 326, reqId -1: Unable to connect as the client id is already in use.\n",
        # (adversary 51: as a logger colours them, and a title left open: read as kept)
        b"ERROR Error \x1b[1;36m1100\x1b[0m, reqId -1: Connectivity lost.\n",
        b"Trace\x1b[0mback (most recent call last):\n", b"\x1b]0;bot\n",
        b"Error 1\xe2\x80\x8b102, reqId -1: Connectivity restored, data maintained.\n"]


def readings(log: bytes) -> tuple[object, ...]:
    """What `run` and `verify` read of a log: its codes, failure, reason, crash, as kept."""
    text = (kept_log(log) or b"").decode()
    cls = classify_failure(exit_code=1, log_text=text, gateway_alive=True)
    return code_occurrences(text), cls.outcome, cls.reason, cls.crashed


@settings(max_examples=400)
@given(st.lists(st.sampled_from(TOLD), max_size=60), st.integers(min_value=300, max_value=3000))
@example([TOLD[0]] + [TOLD[7]] * 40 + [TOLD[1]] + [TOLD[7]] * 40 + [TOLD[5]], 700)  # (01)
@example([TOLD[0]] + [TOLD[7]] * 60 + [TOLD[1], TOLD[5], TOLD[6]] + [TOLD[7]] * 60, 1500)
@example([TOLD[2]] * 40 + [TOLD[3], TOLD[4], TOLD[8]] + [TOLD[2]] * 40 + [TOLD[11]], 1500)
def test_a_cut_log_reads_as_the_whole_one(lines: list[bytes], limit: int) -> None:
    """The codes, the failure and its reason read from the kept log are the whole log's;
    where the lines that tell could not all be kept, the log says how many were left out,
    and no failure passes for a lost connection."""
    capture, value = kept(lines, limit)
    if capture.untold == 0:
        assert readings(value) == readings(b"".join(lines))
    else:  # (adversary 49: a traceback among them, a 354 last, read as market data)
        assert untold(value.decode()) == capture.untold
        assert readings(value)[1] == "failed-code"


@settings(max_examples=200)
@given(st.lists(st.sampled_from(TOLD[:-1]), max_size=60),  # (UTF-16 without its mark is
       st.integers(min_value=300, max_value=3000),  # known by its NULs, not with U+200B
       st.sampled_from(["utf-16-le", "utf-16"]))  # at its start: `log_encoding`)
@example([TOLD[0]] + [TOLD[7]] * 60 + [TOLD[1], TOLD[5], TOLD[6]] + [TOLD[7]] * 60, 1500,
         "utf-16-le")
@example([TOLD[0], TOLD[0], TOLD[1], TOLD[4], TOLD[10], TOLD[0]], 300, "utf-16-le")
def test_utf16_output_is_kept_as_utf8(lines: list[bytes], limit: int, encoding: str) -> None:
    """Adversary 49: Windows PowerShell 5.1's UTF-16 output, cut, had the line between
    written in UTF-8: what followed it read as garbage (a restoration and a crash report
    gone), and the count of lines left out was never read. It is kept as UTF-8, what a
    run commits; cut or not, it reads as the whole does."""
    text = b"".join(lines).decode()
    capture = Capture(limit)
    whole = text.replace("\n", "\r\n")
    for piece in re.findall(rb"[^\n]*\n|[^\n]+$", whole.encode(encoding)):  # (as read: at
        capture.append(piece)  # each 0x0A, whatever the encoding)
    value = capture.value()
    if capture.untold == 0:
        assert readings(value) == readings(whole.encode())
    else:
        assert readings(value)[1] == "failed-code"


def test_a_code_across_two_pieces_of_a_long_line_is_kept() -> None:
    """Adversary 49: a line longer than a read (64 KiB) comes in pieces; an "Error 1100"
    across two of them was in neither, and went with the middle uncounted."""
    chatter = [b"farm chatter chatter\n"] * 40
    pieces = [b"x" * 50 + b" Err", b"or 1100, reqId -1: Connectivity lost.\n"]
    lines = [*chatter, *pieces, *chatter, b"Error 1300 socket dropped\n"]
    capture, value = kept(lines, 1500)
    whole = b"".join(lines)
    assert capture.dropped and capture.untold == 0
    assert code_occurrences(value.decode()) == code_occurrences(whole.decode()) == [1100, 1300]


def test_messages_left_out_are_counted_as_messages_not_as_pieces() -> None:
    """Adversary 49: with lines ended by a carriage return alone, one piece left out held
    fifty disconnections and counted as one."""
    burst = b"Error 1100, reqId -1: lost\r" * 50 + b"\n"
    lines = [b"chatter\n"] * 30 + [burst] * 3 + [b"chatter\n"] * 30
    capture, value = kept(lines, 1400)
    assert capture.untold >= 50 and untold(value.decode()) == capture.untold
    # (none goes uncounted; one cut across may count twice: the worst it could be)
    assert 150 <= len(code_occurrences(value.decode())) + capture.untold <= 160


# (adversary 51: a crash report's first words and a code inside one long line, on either
# side of where the last lines begin, or of a piece left out between two kept)
LONG = (b"q" * 150 + b" Traceback (most recent call last): " + b"r" * 150 +
        b" warning: 13\x1b[0m00 socket reset " + b"s" * 150 + b"\n")


@settings(max_examples=400)
@given(st.lists(st.sampled_from([*TOLD, b"x" * 300 + b"\n", b'{"code": 1100, "pad": "' +
                                 b"y" * 200 + b'"}\n', LONG]), max_size=40),
       st.integers(min_value=64, max_value=400), st.integers(min_value=700, max_value=4000))
@example([b"x" * 300 + b"\n", *TOLD[:2], b"Error 1100 " + b"z" * 200 + b"\n", TOLD[1], TOLD[5]],
         100, 900)
@example([b'{"code": 1100, "pad": "' + b"y" * 200 + b'"}\n', TOLD[10], TOLD[0], TOLD[0]], 64,
         700)  # (the line above a frame kept in parts: one line still)
def test_a_cut_log_read_in_pieces_reads_as_the_whole_one(lines: list[bytes], size: int,
                                                         limit: int) -> None:
    """Adversary 50: a line longer than one read (64 KiB) comes in pieces. A code across
    two pieces, a kept piece with the next kept line glued onto it (one line, its codes
    counted once), a crash report's first words split: cut, the log read otherwise than
    whole. Any output, read as `run` reads it (a line, at most ``size`` bytes at a time),
    cut or not, reads as the whole does."""
    pieces = [line[at:at + size] for line in lines for at in range(0, len(line), size)]
    capture, value = kept(pieces, limit, size)
    if capture.untold == 0:  # (a reason quoting a last line longer than the room quotes
        ours, theirs = readings(value), readings(b"".join(lines))  # what of it is kept)
        assert (ours[0], ours[1], ours[3]) == (theirs[0], theirs[1], theirs[3])
    else:
        assert readings(value)[1] == "failed-code"


CHATTER_LINES = [b"farm chatter chatter\n"] * 40


def _reads_as_whole(lines: list[bytes], limits: range, piece: int = 32 * 1024) -> int:
    """How many of ``limits`` cut ``lines`` (a long line passed on ``piece`` characters at
    a time): every one reads as the whole output does, or says it left lines that tell
    out, and then fails as code."""
    cut = 0
    for limit in limits:
        capture, value = kept(lines, limit, piece)
        cut += capture.dropped > 0
        if capture.untold:
            assert readings(value)[1] == "failed-code", limit
        else:
            assert readings(value)[:2] == readings(b"".join(lines))[:2], limit
    return cut


def test_a_coloured_code_left_out_is_kept() -> None:
    """Adversary 51: a logger colours numbers ("Error ESC[1;36m1100"); what is left out
    was chosen on the bytes as written, where no code is, and the committed log, cleaned,
    would have read one: the disconnection went uncounted, a crash after it too."""
    lines = [*CHATTER_LINES, b"ERROR Error \x1b[1;36m1100\x1b[0m, reqId -1: lost\n",
             *CHATTER_LINES, b"done\n"]
    assert _reads_as_whole(lines, range(600, 1500, 13)) > 50


def test_what_tells_across_where_the_last_lines_begin_is_counted() -> None:
    """Adversary 51: a line read in pieces, the last lines beginning inside it: a crash
    report's first words across the piece left out and the first kept were in neither,
    and a crash with a 354 last read as market data."""
    lines = [b"chatter line here\n"] * 30 + [
        b"z" * 60 + b" Trace" + b"back (most recent call last):\n",
        b"Error 354, reqId 7: Requested market data is not subscribed.\n"]
    assert _reads_as_whole(lines, range(100, 700), piece=66) > 500


def test_parts_of_a_line_kept_read_at_their_edges_as_they_do_whole() -> None:
    """Adversary 51: two kept parts of one line, glued where a piece between them was
    left out, made "restored" and "warning: 1300" one word; a word character glued on
    must stay one (no code there, whole)."""
    for between in (b"q" * 299 + b" ", b"q" * 300):
        line = (b"Error 1102, reqId -1: restored ".ljust(100, b"p") + between +
                b"warning: 1300 socket port reset\n")
        lines = [*CHATTER_LINES, line, *CHATTER_LINES, b"Error 1300 gone\n"]
        assert _reads_as_whole(lines, range(900, 2000, 13), piece=100) > 50


def test_an_escape_left_open_in_a_kept_part_takes_nothing_after_it() -> None:
    """Adversary 52: a kept part of a long line left a title open ("ESC ]0;bot") that the
    piece left out after it closed (BEL): in the kept log it ran on to the line's end and
    took the next kept part, an "Error 1100" or a crash report's first words; a colour
    left open ("ESC[2", "~" left out) took the next part's first letter."""
    for opened, closed in ((b"\x1b]0;bot", b"\x07"), (b"\xc2\x9d0;bot", b"\x07"),
                           (b"\x1b[2", b"~")):
        for after in (b"Error 1100, reqId -1: Connectivity lost.\n",
                      b"Traceback (most recent call last):\n"):
            line = b"Error 2104, reqId -1: farm OK ".ljust(100 - len(opened), b"o") + opened + \
                closed + b"p" * 299 + after
            lines = [*CHATTER_LINES, line, *CHATTER_LINES, b"Error 354, reqId 7: no data\n"]
            assert _reads_as_whole(lines, range(900, 2000, 13), piece=100) > 50


def test_a_carriage_return_in_a_piece_left_out_ends_its_line() -> None:
    """Adversary 52: a lone carriage return inside a piece left out was no line end to the
    capture, but is one to the log as kept: two kept parts glued on one line counted its
    two disconnections as one, and a restoration glued onto the line above a crash
    report's frame was read as part of the crash."""
    line = (b"Error 1100, reqId -1: lost ".ljust(100, b"p") + b"x\rprogress ".ljust(299, b"q") + b" "
            + b"Error 1100, reqId -1: lost again\n")
    lines = [*CHATTER_LINES, line, *CHATTER_LINES, b"done\n"]
    assert _reads_as_whole(lines, range(900, 2000, 13), piece=100) > 50


@settings(max_examples=600)
@given(st.lists(st.sampled_from([
    b"\x1b", b"\xc2\x9b", b"\xc2\x9d", b"\x07", b"\xc2\x9c", b"\\", b"]", b"[", b"0", b";",
    b"m", b"1", b"\n", b"\r", b" ", b"a", b"DU", b"U", b"12345", b"_", b"\xe2\x80\x8b",
    b"\xc3\xa9", b"\xc3", b"\xff\xfe", b"\x00"]), max_size=40),
    st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_the_log_kept_a_piece_at_a_time_is_the_log_kept_whole(parts: list[bytes],
                                                                cuts: list[int]) -> None:
    """`run` keeps a wrapper's output as it comes (`KeptStream`), and chooses what to keep
    of it on that text: however the output is cut into reads (an escape sequence, a
    character, a carriage return and its line feed, an account number across two), it
    is what `kept_log` makes of the whole (adversaries 51, 52)."""
    data = b"".join(parts)
    stream, out, at = KeptStream(log_encoding(data[:64])), "", 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        out += stream.feed(data[at:cut])
        at = cut
    out += stream.feed(data[at:], final=True)
    assert out.encode() == kept_log(data)


@settings(max_examples=500)
@given(st.lists(st.sampled_from([
    "error", "Error", "WARNİNG", "warnıng", "warning", "code", "CODE", "errorCode", "ſ", " ",
    ":", "=", '"', "1100", "١١٠٠", "+", "FullyQualifiedErrorId", "Line |", "\n", "\t",
    "Traceback (most recent call last):", "At C:\\w.ps1:3 char:5"]), max_size=30))
@example(["WARNİNG", ":", " ", "1100"])
@example(["+", "\n", "FullyQualifiedErrorId", " ", ":"])
def test_what_a_log_tells_it_tells_a_line_at_a_time(parts: list[str]) -> None:
    """A run keeps the lines of a long log that tell (`telling`, a line at a time) and the
    log is then read whole: whatever the whole reads, a line of it tells (adversary 53:
    "WARNİNG: 1102" was a code to a Unicode-folding reading and none to the cheap look
    first; a PowerShell record split over two lines was a crash to the whole and to no
    line of it)."""
    text = "".join(parts)
    lines = text.split("\n")
    assert code_occurrences(text) == [c for line in lines for c in code_occurrences(line)]
    assert crash_told(text) == any(crash_told(line) for line in lines)
    for line in lines:
        if code_occurrences(line) or crash_told(line):
            assert telling(line.encode()), line
