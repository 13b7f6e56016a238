"""Ids of decisions, cases and reports: time-ordered, so that new ones file at
the end of their tables."""

from __future__ import annotations

import os
import time

# The millisecond and the counter of the last decision id this process made.
_last_stamp = [0, 0]


def time_ordered_id() -> str:
    """A UUID in the version-7 layout: 48 bits of Unix milliseconds, a 12-bit
    counter, then random bits (RFC 9562 §6.2, method 1: the counter starts at a
    random value below 2,048 each millisecond and counts on within it). A process
    therefore never makes two ids with the same first 60 bits, which is the number
    a decision is filed under (``adapters.db.rows.decision_number``); logged decisions
    get increasing ids and file at the end of their table (Python 3.11 has no
    ``uuid.uuid7``)."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    last_millis, counter = _last_stamp
    if millis > last_millis:
        counter = (rand >> 62) & 0x7FF
    else:  # the same millisecond (or the clock went back): count on, into the next if need be
        millis, counter = last_millis, counter + 1
        if counter > 0xFFF:
            millis, counter = millis + 1, (rand >> 62) & 0x7FF
    _last_stamp[0], _last_stamp[1] = millis, counter
    value = (millis << 80) | (0x7 << 76) | (counter << 64)
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    # str(uuid.UUID(int=value)), spelt out: every check makes one (a test holds them equal).
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


__all__ = ["time_ordered_id"]
