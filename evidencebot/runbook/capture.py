"""The wrapper's output as a run keeps it: whole up to the one limit of a log, else its
first and last lines and, between them, every line the evidence is read from."""

from __future__ import annotations

import re
from collections import Counter, deque

from ..defaults import MAX_LOG_BYTES
from ..ibkr.codes import code_occurrences, crash_frame, crash_told, left_out, telling
from ..ledger.messages import KeptStream, log_encoding

_MARKER_ROOM = 320  # bytes kept for the line saying what was left out
_DECIDE = 64  # bytes of output that say its encoding (`log_encoding`)
_PIECE = 32 * 1024  # characters of a line without an end passed on at a time (a default)
_OVERLAP = 64  # bytes of a line's piece read with the next one (a code across the two)
_SEPARATOR = 3  # the most bytes put between two kept parts (`Capture._end_part`)


class Capture:
    """The wrapper's output as a run keeps it: all of it up to ``limit`` bytes (the one
    limit of a log, `record --log`'s too); past that its first lines and its last, with a
    line between them saying how much was left out (the end, which says how the session
    ended, is always kept). Memory stays within the limit however much is written.
    ``append`` is given the output as it comes; it is kept as a run commits it
    (`messages.KeptStream`, `kept_log` a piece at a time: escapes and control characters
    removed, account numbers redacted, UTF-16 from Windows PowerShell 5.1 as UTF-8), a
    line at a time (a long one in pieces), and what is left out is chosen on that text
    (adversaries 49, 51, 52: the line between read as UTF-8 in a UTF-16 log; a coloured
    code chosen on the bytes as written; an escape left open in a kept part took the
    next). Only whole pieces are left out, but for a last one longer than the room.

    Of what is left out, the pieces that tell how the session went (`codes.telling`: an
    IBKR code, a crash report; read with the end of the piece before, when it continues a
    line: a code across two pieces; and a PowerShell record's message, the line above its
    frame) are kept between the two, in order, within a quarter of the limit taken from
    the last lines' room: the run's failure and its disconnections are read from the kept
    log, by `run` and again by `verify` (adversary 48: a 1102 restoration in a dropped
    middle made a code failure a lost connection; a 1100 there went uncounted). Past that
    room their messages are counted, and the line between says how many: each counts as a
    disconnection, and no failure is then the infrastructure's (`codes.untold`)."""

    def __init__(self, limit: int | None = None, *, piece: int = _PIECE) -> None:
        limit = MAX_LOG_BYTES if limit is None else limit
        self.piece = piece  # (characters of a line without an end passed on at a time)
        # (the line between the halves fits in the limit too: `record --log` reads as much)
        self.half = (limit - _MARKER_ROOM) // 2 if limit > 2 * _MARKER_ROOM else limit // 2
        self.head = bytearray()
        self._head_open = True  # whether the head takes the next line
        self.tail: deque[bytes] = deque()
        self.tail_size = self.dropped = 0
        self.kept: list[bytes] = []
        self.kept_size = self.untold = 0
        self._held: bytes | None = None  # the piece left out last
        self._last: bytes | None = None  # the piece that left the last lines last
        self._open = False  # whether the last piece kept ends without its line's end
        # The pieces left out since the last one kept: the first's start, the last two's
        # ends, and whether a line ended among them (`_end_part`)
        self._after_kept = b""
        self._gap: deque[bytes] = deque(maxlen=2)
        self._parted = False
        self._first: bytearray | None = bytearray()  # the output until its encoding is known
        self._stream = KeptStream(None)  # (its encoding's, once known)
        self._text = ""  # the output as kept after its last line end

    def append(self, data: bytes) -> None:
        if self._first is not None:
            self._first += data
            if len(self._first) < _DECIDE:
                return
            data = self._decided()
        self._feed(data)

    def _decided(self) -> bytes:
        """The output held until its encoding was known, that encoding now known."""
        data, self._first = bytes(self._first or b""), None
        self._stream = KeptStream(log_encoding(data))
        return data

    def _feed(self, data: bytes, *, final: bool = False) -> None:
        """``data`` as kept, taken a line (or a piece of one) at a time."""
        self._text += self._stream.feed(data, final=final)
        *lines, self._text = self._text.split("\n")
        for line in (f"{line}\n" for line in lines):
            for at in range(0, len(line), self.piece):
                self._take(line[at:at + self.piece].encode())
        while len(self._text) > self.piece or (final and self._text):
            self._take(self._text[:self.piece].encode())
            self._text = self._text[self.piece:]

    def _flush(self) -> None:
        """What is held back, taken: output too short to say its encoding, the end of a
        line without one."""
        self._feed(self._decided() if self._first is not None else b"", final=True)

    def _take(self, data: bytes) -> None:
        if self._head_open and len(self.head) + len(data) <= self.half:
            self.head += data
            return
        if self._head_open:  # (a line the head holds in part is one kept in part, read
            self._open = bool(self.head) and not _ended(bytes(self.head[-1:]))  # with the
            self._last = bytes(self.head[-_OVERLAP:]) or None  # first left out after it)
            self._head_open = False
        self.tail.append(data)
        self.tail_size += len(data)
        while (cut := self.tail_size - self._room()) > 0:
            first = self.tail[0]
            if len(self.tail) == 1:  # (the end is kept, what fits of it: whole characters)
                while cut < len(first) and first[cut] & 0xC0 == 0x80:
                    cut += 1
                self.tail[0] = first[cut:]
                self.tail_size -= cut
                self._dropped(first[:cut])
                self.untold += _messages(first[:cut + _OVERLAP])  # (no room for any)
                self._held = None
                break
            self.tail.popleft()
            self.tail_size -= len(first)
            self._leave_out(first, before_frame=crash_frame(self.tail[0]))

    def _room(self) -> int:
        """The room of the last lines: what the head and the kept lines leave, and what
        may go between a kept part and the rest of its line (`_end_part`)."""
        return 2 * self.half - len(self.head) - self.kept_size - _SEPARATOR * self._open

    def _leave_out(self, piece: bytes, *, before_frame: bool) -> None:
        """``piece``, no longer among the last: kept when it tells, else dropped. A piece
        that continues a line is read with the end of the one before (a code, a crash
        report's first words, across the two: adversary 50); a line kept in part ends
        where its kept part does, so that the next line kept is not glued onto it."""
        last, self._last = self._last, piece
        end = last[-_OVERLAP:] if last is not None and not _ended(last) else b""
        held = self._held if end else None  # (the piece before, left out)
        self._held = piece
        across = _added(end, piece) if end else 0  # (what tells starts in the piece before)
        if not (before_frame or across or telling(piece)):
            self._dropped(piece)
            return
        with_it = [held] if held is not None and across else []
        size = sum(map(len, with_it)) + len(piece)
        if self.kept_size + size + _SEPARATOR > self.half // 2:
            self._dropped(piece)  # (a crash record's message is one too)
            self.untold += max(_messages(piece) + across, int(before_frame))
            return
        if with_it:  # (no longer left out)
            self.dropped -= len(held or b"")
            self._gap.pop()
        self._end_part()
        self.kept += [*with_it, piece]
        self.kept_size += size
        self._held = None
        self._open = not _ended(piece)

    def _dropped(self, piece: bytes) -> None:
        self.dropped += len(piece)
        if not self._gap:
            self._after_kept = piece[:_OVERLAP]
        self._gap.append(piece[-_OVERLAP:])
        self._parted = self._parted or _ended(piece)

    def _end_part(self) -> None:
        """What goes between a line kept in part and the next kept when pieces were left
        out between them: a line end when one was among them (adversary 50: glued, two
        lines read as one), and on either side a character that reads as what was left
        out there does, a word character or not (adversary 51: glued, "...restored" and
        "warning: 1300" made one word and the code was gone, where a word character glued
        on would have stayed one), so that a code at either edge reads as it does whole.
        Parts of one line with nothing left out between them stay one."""
        if self._open and self._gap:
            last = self._gap[-1]  # (the next kept goes on its line, unless it ended one)
            between = _edge(self._after_kept, last=False) + (
                b"\n" if self._parted else b".") + (b"" if _ended(last) else _edge(last))
            self.kept.append(between)
            self.kept_size += len(between)
        self._open = self._parted = False
        self._gap.clear()

    def value(self) -> bytes:
        self._flush()
        if self.tail:
            held = self._held  # (left out last; when its line goes on in the last lines,
            if held is not None and not _ended(held):  # what tells across the two is not
                self.untold += _added(held[-_OVERLAP:], self.tail[0][:_OVERLAP])  # kept)
            self._end_part()
        kept = b"".join(self.kept)
        if not self.dropped:
            return bytes(self.head) + kept + b"".join(self.tail)
        said = left_out(self.dropped, len(self.kept), 2 * self.half, self.untold)
        head, moved = bytes(self.head), b""
        after = self.kept[0] if self.kept else self.tail[0] if self.tail else b""
        if head and not _ended(head):  # (the line the head holds in part goes on below)
            cut = head.rfind(b"\n") + 1
            head, moved = head[:cut], head[cut:]
        elif crash_frame(after) and head:  # (a crash record's message stays the line
            cut = head.rfind(b"\n", 0, len(head) - 1) + 1  # above its frame)
            head, moved = head[:cut], head[cut:]
        return head + f"\n{said}\n".encode() + moved + kept + b"".join(self.tail)


def _edge(piece: bytes, *, last: bool = True) -> bytes:
    """A character that reads as the last (or first) of ``piece`` does: a word character,
    or not one (what a code's edge asks of its neighbour)."""
    text = piece.decode("utf-8", "replace")
    return b"_" if _WORD.fullmatch(text[-1:] if last else text[:1]) else b"."


_WORD = re.compile(r"\w")


def _ended(piece: bytes) -> bool:
    """Whether ``piece`` ends a line (else the next piece continues it; kept, a carriage
    return is a line feed)."""
    return piece.endswith(b"\n")


def _messages(piece: bytes) -> int:
    """How many messages that tell a piece left out holds: its codes, once per line, or
    one for a crash report."""
    if not telling(piece):
        return 0
    return max(1, len(code_occurrences(piece.decode("utf-8", "replace"))))


def _added(before: bytes, after: bytes) -> int:
    """How many messages ``before`` and ``after`` tell read as one that neither tells
    alone: a code or a crash report's first words across the two (adversaries 50, 51)."""
    both = before + after
    if not telling(both):
        return 0
    return sum((_told(both) - _told(before) - _told(after)).values())


def _told(piece: bytes) -> Counter[int | str]:
    """What a piece tells: its codes, once per line, and a crash report's start."""
    text = piece.decode("utf-8", "replace")
    told: Counter[int | str] = Counter(code_occurrences(text))
    if crash_told(text):
        told["crash"] += 1
    return told
