"""Decision ids: valid version-7 UUIDs that grow with time."""

from __future__ import annotations

import time
import uuid

from socialcredit.adapters.db.rows import decision_number
from socialcredit.services.ids import time_ordered_id


def test_decision_ids_are_version_7_uuids_in_time_order() -> None:
    earlier = time_ordered_id()
    time.sleep(0.002)
    later = time_ordered_id()
    for text in (earlier, later):
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert earlier < later  # the millisecond prefix orders them
    assert len({time_ordered_id() for _ in range(1000)}) == 1000


def test_a_process_never_makes_two_ids_with_the_same_decision_number() -> None:
    """The number a decision is filed under (the id's millisecond and counter)
    grows strictly within a process, however many ids a millisecond sees."""
    numbers = [decision_number(time_ordered_id()) for _ in range(20_000)]
    assert None not in numbers
    assert numbers == sorted(set(numbers))  # type: ignore[type-var]
    for _ in range(100):
        text = time_ordered_id()
        number = decision_number(text)
        assert number is not None and number >> 12 == uuid.UUID(text).int >> 80
