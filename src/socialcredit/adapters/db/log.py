"""The transparency log's tables: its leaves (written by every repository in
the transaction that writes the entry, through ``Database.append_leaves``),
the kept hashes of its complete subtrees, and the heads published; and
``verify``'s reading of them against the entries they commit to.

A write's leaves go into one row (their digests end to end), and subtree
hashes are made when a head or a proof is asked for, not when an entry is
written: the log costs an import batch one row and no hashing, and a check
one small row. Until subtree hashes are made, a tree reads the leaves
instead (``domain.ledger.merkle.TiledTree``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from socialcredit.adapters.db.database import Database
from socialcredit.adapters.db.entries import ENTRY_SOURCES
from socialcredit.domain.ledger.merkle import STRIDE, Frontier, TiledTree, fold, leaf_hash
from socialcredit.domain.ledger.transparency import TreeHead, leaf_bytes
from socialcredit.errors import StoreError

# Subtree hashes made per write transaction: the write lock is held for a
# moment at a time, however far behind the log is.
_NODES_PER_TRANSACTION = 256
_ROWS_READ = 64  # log rows read per query when the log is read whole (up to 640,000 leaves)
_DIGEST = 64  # hex characters a leaf's digest takes in a row
Progress = Callable[[int], None]


class LogRows:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._db = database.connection

    def size(self) -> int:
        row = self._db.execute(
            "SELECT n + count FROM log_leaves ORDER BY n DESC LIMIT 1"
        ).fetchone()
        return int(row[0]) if row else 0

    def entries(self, start: int, stop: int) -> list[tuple[str, str]]:
        """The (kind, digest) of leaves ``start`` to ``stop`` - 1, from the rows
        that hold them."""
        row = self._db.execute("SELECT MAX(n) FROM log_leaves WHERE n <= ?", (start,)).fetchone()
        first = row[0] if row and row[0] is not None else start
        found: list[tuple[str, str]] = []
        rows = self._db.execute(
            "SELECT n, count, kind, digests FROM log_leaves WHERE n >= ? AND n < ? ORDER BY n",
            (first, stop),
        )
        expected = first
        for n, count, kind, digests in rows:
            if n != expected:
                break
            found += _unpacked(kind, digests, max(start - n, 0), min(stop - n, count))
            expected = n + count
        if len(found) != stop - start:
            raise StoreError(
                f"the transparency log is missing leaves between {start} and {stop}: "
                "run `socialcredit verify`"
            )
        return found

    # -- the tree, as domain.ledger.merkle.NodeSource --------------------------------

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        return [leaf_hash(leaf_bytes(kind, digest)) for kind, digest in self.entries(start, stop)]

    def nodes(self, level: int, start: int, stop: int) -> list[bytes | None]:
        kept = dict(
            self._db.execute(
                "SELECT idx, hash FROM log_nodes WHERE level = ? AND idx >= ? AND idx < ?",
                (level, start, stop),
            )
        )
        return [bytes.fromhex(kept[i]) if i in kept else None for i in range(start, stop)]

    def tree(self, size: int) -> TiledTree:
        return TiledTree(self, size)

    def catch_up(self) -> int:
        """Make and keep the hash of every complete subtree of every STRIDE-th
        level not kept yet; the log's size they cover."""
        size = self.size()
        level = STRIDE
        while size >> level:
            while self._catch_up_level(level, size):
                pass
            level += STRIDE
        return size

    def _catch_up_level(self, level: int, size: int) -> bool:
        """Keep the next few subtree hashes at ``level``; whether any were missing."""
        made: list[bool] = []

        def append() -> None:
            (kept,) = self._db.execute(
                "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_nodes WHERE level = ?", (level,)
            ).fetchone()
            wanted = min(size >> level, kept + _NODES_PER_TRANSACTION)
            if kept >= wanted:
                return
            width = 1 << STRIDE
            start, stop = kept * width, wanted * width
            if level == STRIDE:
                below: list[bytes] = self.leaf_hashes(start, stop)
            else:
                found = self.nodes(level - STRIDE, start, stop)
                if any(h is None for h in found):
                    raise StoreError(
                        f"the log's subtree hashes at level {level - STRIDE} have gaps"
                    )
                below = [h for h in found if h is not None]
            rows = [
                (level, kept + i, fold(below[i * width : (i + 1) * width]).hex())
                for i in range(wanted - kept)
            ]
            self._db.executemany("INSERT OR IGNORE INTO log_nodes VALUES (?, ?, ?)", rows)
            made.append(True)

        self._database.audit_transaction(append)
        return bool(made)

    # -- entries and their leaves ------------------------------------------------------

    def record_leaf(self, record_id: str) -> tuple[int, str] | None:
        """A record's leaf number and the digest its leaf holds."""
        row = self._db.execute("SELECT leaf FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        found = self.leaf(int(row[0]))
        return (int(row[0]), found[1]) if found and found[0] == "record" else None

    def leaf(self, n: int) -> tuple[str, str] | None:
        if not 0 <= n < self.size():
            return None
        [found] = self.entries(n, n + 1)
        return found

    # -- published heads -----------------------------------------------------------------

    def add_published(self, head: TreeHead, target: str) -> None:
        with self._database.transaction():
            self._db.execute(
                "INSERT INTO log_heads VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    head.size,
                    head.root.hex(),
                    head.time,
                    head.origin,
                    head.key.hex(),
                    head.signature.hex(),
                    target,
                ),
            )

    def published(self) -> list[tuple[TreeHead, str]]:
        rows = self._db.execute(
            "SELECT size, root, at, origin, key, signature, target FROM log_heads ORDER BY size, at"
        )
        return [
            (
                TreeHead(
                    origin,
                    int(size),
                    bytes.fromhex(root),
                    at,
                    bytes.fromhex(key),
                    bytes.fromhex(sig),
                ),
                target,
            )
            for size, root, at, origin, key, sig, target in rows
        ]

    # -- verify -------------------------------------------------------------------------

    def problems(self, progress: Progress | None = None) -> list[str]:
        """Everything wrong with the log: leaves missing or out of number, an
        entry without its leaf (or a leaf without its entry), kept subtree
        hashes or published heads that the leaves do not give."""
        problems = self._numbering() + self._records() + self._other_entries()
        return problems + self._tree(progress)

    def _numbering(self) -> list[str]:
        expected, broken = 0, 0
        for n, count, digests in self._db.execute(
            "SELECT n, count, length(digests) FROM log_leaves ORDER BY n"
        ):
            if n != expected or count < 1 or digests != _DIGEST * count:
                broken += 1
            expected = n + count
        if broken:
            return [
                f"the log's leaves are not numbered 0 to {expected - 1} without a gap or overlap: "
                f"{broken} rows out of place or cut"
            ]
        return []

    def _records(self) -> list[str]:
        (unnumbered,) = self._db.execute(
            "SELECT COUNT(*) FROM records WHERE leaf IS NULL"
        ).fetchone()
        (records,) = self._db.execute("SELECT COUNT(*) FROM records").fetchone()
        (leaves,) = self._db.execute(
            "SELECT COALESCE(SUM(count), 0) FROM log_leaves WHERE kind = 'record'"
        ).fetchone()
        # Each record against the leaf it names, both read in leaf order.
        logged = self._leaves_of("record")
        wrong, current = 0, next(logged, None)
        for leaf, digest in self._db.execute(
            "SELECT leaf, hash FROM records WHERE leaf IS NOT NULL ORDER BY leaf"
        ):
            while current is not None and current[0] < leaf:
                current = next(logged, None)
            if current is None or current != (leaf, digest):
                wrong += 1
        problems = []
        if unnumbered:
            problems.append(f"{unnumbered} records have no leaf in the log")
        if wrong:
            problems.append(
                f"{wrong} records name a leaf that is not theirs: the record or the leaf was edited"
            )
        if records != leaves:
            problems.append(f"the log holds {leaves} record leaves for {records} records")
        return problems

    def _other_entries(self) -> list[str]:
        problems = []
        for source in ENTRY_SOURCES:
            if source.kind == "record":
                continue
            held = Counter(source.digests(self._db.execute(source.select)))
            logged = Counter(digest for _, digest in self._leaves_of(source.kind))
            missing, extra = held - logged, logged - held
            if missing:
                problems.append(
                    f"{sum(missing.values())} {source.table} rows have no leaf in the log "
                    "(written around it, or edited since)"
                )
            if extra:
                problems.append(
                    f"{sum(extra.values())} {source.kind} leaves match no row of {source.table} "
                    "(a row removed or edited)"
                )
        return problems

    def _tree(self, progress: Progress | None) -> list[str]:
        """The whole tree made again from its leaves, against the kept subtree
        hashes and every published head."""
        kept = {
            (int(level), int(idx)): bytes.fromhex(digest)
            for level, idx, digest in self._db.execute("SELECT level, idx, hash FROM log_nodes")
        }
        problems: list[str] = []
        made: set[tuple[int, int]] = set()

        def compare(level: int, index: int, digest: bytes) -> None:
            made.add((level, index))
            found = kept.get((level, index))
            if found is not None and found != digest:
                problems.append(f"the log's kept hash of subtree {index} at level {level} is wrong")

        frontier = Frontier(compare)
        heads = sorted(self.published(), key=lambda pair: pair[0].size)
        for leaf in self._all_leaf_hashes(progress):
            while heads and heads[0][0].size == frontier.size:
                problems += _head_problems(heads.pop(0), frontier.root())
            frontier.append(leaf)
        while heads and heads[0][0].size == frontier.size:
            problems += _head_problems(heads.pop(0), frontier.root())
        for head, target in heads:
            problems.append(
                f"a head published to {target} is of {head.size} entries, the log has {frontier.size}: "
                "entries were removed"
            )
        stray = set(kept) - made
        if stray:
            problems.append(f"the log keeps {len(stray)} subtree hashes beyond its leaves")
        return problems

    def _all_leaf_hashes(self, progress: Progress | None) -> Iterator[bytes]:
        for _, count, kind, digests in self._rows_in_order():
            for _, digest in _unpacked(kind, digests, 0, count):
                yield leaf_hash(leaf_bytes(kind, digest))
            if progress:
                progress(count)

    def _leaves_of(self, kind: str) -> Iterator[tuple[int, str]]:
        """(number, digest) of every leaf of ``kind``, in order."""
        for n, count, found_kind, digests in self._rows_in_order(kind):
            for i, (_, digest) in enumerate(_unpacked(found_kind, digests, 0, count)):
                yield n + i, digest

    def _rows_in_order(self, kind: str | None = None) -> Iterator[tuple[int, int, str, str]]:
        """Every row of the log (of ``kind``), in order, a few at a time."""
        after = -1
        where = "" if kind is None else " AND kind = ?"
        while True:
            rows = self._db.execute(
                f"SELECT n, count, kind, digests FROM log_leaves WHERE n > ?{where} "
                f"ORDER BY n LIMIT {_ROWS_READ}",
                (after,) if kind is None else (after, kind),
            ).fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]


def _unpacked(kind: str, digests: str, start: int, stop: int) -> list[tuple[str, str]]:
    """Leaves ``start`` to ``stop`` - 1 of a row, counted from its first."""
    return [(kind, digests[i * _DIGEST : (i + 1) * _DIGEST]) for i in range(start, stop)]


def _head_problems(published: tuple[TreeHead, str], root: bytes) -> list[str]:
    head, target = published
    problems = []
    if head.root != root:
        problems.append(
            f"the head of {head.size} entries published to {target} at {head.time} has root "
            f"{head.root.hex()}, the log gives {root.hex()}: the log was rewritten"
        )
    try:
        head.check()
    except ValueError as error:
        problems.append(f"the head of {head.size} entries published to {target}: {error}")
    return problems


__all__ = ["LogRows"]
