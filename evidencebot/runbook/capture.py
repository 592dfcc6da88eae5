"""The wrapper's output as a run keeps it: whole up to the one limit of a log, else its
first and last halves and, between them, every line the evidence is read from."""

from __future__ import annotations

from collections import deque

from ..defaults import MAX_LOG_BYTES
from ..ibkr.codes import crash_frame, telling

_MARKER_ROOM = 320  # bytes kept for the line saying what was left out


class Capture:
    """The wrapper's output as a run keeps it: all of it up to ``limit`` bytes (the one
    limit of a log, `record --log`'s too); past that its first lines and its last, each
    within half the limit, with a line between them saying how much was left out (the
    end, which says how the session ended, is always kept). Memory stays within the limit
    however much is written. ``append`` is given the output a line at a time (a long
    line in pieces); only whole ones are left out, but for a last one longer than the room.

    Of what is left out, the lines that tell how the session went (`codes.telling`: an
    IBKR code, a crash report; a PowerShell record's message above its frame) are kept
    between the two, in order, within a quarter of the limit taken from the last lines'
    room: the run's failure and its disconnections are read from the kept log, by `run`
    and again by `verify` (adversary 48: a 1102 restoration in a dropped middle made a
    code failure a lost connection; a 1100 there went uncounted). Past that room they
    are counted, and the line between says how many: each counts as a disconnection, and
    none lets a failure pass for a lost connection (`codes.untold`)."""

    def __init__(self, limit: int | None = None) -> None:
        limit = MAX_LOG_BYTES if limit is None else limit
        # (the line between the halves fits in the limit too: `record --log` reads as much)
        self.half = (limit - _MARKER_ROOM) // 2 if limit > 2 * _MARKER_ROOM else limit // 2
        self.head = bytearray()
        self.open = True  # whether the head takes the next line
        self.tail: deque[bytes] = deque()
        self.tail_size = self.dropped = 0
        self.kept: list[bytes] = []
        self.kept_size = self.untold = 0
        self._held: bytes | None = None  # the line left out last, whole

    def append(self, data: bytes) -> None:
        if self.open and len(self.head) + len(data) <= self.half:
            self.head += data
            return
        self.open = False
        self.tail.append(data)
        self.tail_size += len(data)
        while self.tail_size > 2 * self.half - len(self.head) - self.kept_size:
            first = self.tail[0]
            if len(self.tail) == 1:  # (the end is kept, what fits of it)
                cut = self.tail_size - (2 * self.half - len(self.head) - self.kept_size)
                self.tail[0] = first[cut:]
                self.tail_size -= cut
                self.dropped += cut
                self._held = None
                break
            self.tail.popleft()
            self.tail_size -= len(first)
            self._leave_out(first)

    def _leave_out(self, line: bytes) -> None:
        """``line``, no longer among the last: kept when it tells, else dropped."""
        if not telling(line):
            self.dropped += len(line)
            self._held = line
            return
        # (a PowerShell record's message is the line above its frame: `before_crash`)
        with_it = [self._held] if self._held is not None and crash_frame(line) else []
        size = sum(map(len, with_it)) + len(line)
        self._held = None
        if self.kept_size + size > self.half // 2:
            self.dropped += len(line)
            self.untold += 1
            return
        self.dropped -= size - len(line)
        self.kept += [*with_it, line]
        self.kept_size += size

    def value(self) -> bytes:
        kept = b"".join(self.kept)
        if not self.dropped:
            return bytes(self.head) + kept + b"".join(self.tail)
        among = (f", but for the {len(self.kept)} line(s) with an IBKR code or a crash "
                 "report, below") if self.kept else ""
        untold = (f"; {self.untold} line(s) with an IBKR code or a crash report left out "
                  "too") if self.untold else ""
        said = (f"\n[evidencebot: {self.dropped} bytes of the wrapper's output left out here"
                f"{among}; a run's log keeps its first and last lines, {2 * self.half} "
                f"bytes in all{untold}]\n")
        return bytes(self.head) + said.encode() + kept + b"".join(self.tail)
