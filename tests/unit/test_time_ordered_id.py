"""Decision ids: valid version-7 UUIDs that grow with time."""

from __future__ import annotations

import time
import uuid

from socialcredit.app import time_ordered_id


def test_decision_ids_are_version_7_uuids_in_time_order() -> None:
    earlier = time_ordered_id()
    time.sleep(0.002)
    later = time_ordered_id()
    for text in (earlier, later):
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert earlier < later  # the millisecond prefix orders them
    assert len({time_ordered_id() for _ in range(1000)}) == 1000
