"""The transparency log's tables: its leaves (written by every repository in
the transaction that writes the entry, through ``Database.append_leaves``),
the kept hashes of its complete subtrees, and the heads published; and
``verify``'s reading of them against the entries they commit to.

Subtree hashes are made when a head or a proof is asked for, not when an
entry is written, so that the log costs an import and a check one narrow
row each; until they are made, a tree reads the leaves instead
(``domain.ledger.merkle.TiledTree``).
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
_LEAF_ROWS = 100_000  # leaves read per query when the log is read whole
Progress = Callable[[int], None]


class LogRows:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._db = database.connection

    def size(self) -> int:
        (size,) = self._db.execute("SELECT COALESCE(MAX(n) + 1, 0) FROM log_leaves").fetchone()
        return int(size)

    # -- the tree, as domain.ledger.merkle.NodeSource --------------------------------

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        rows = self._db.execute(
            "SELECT kind, digest FROM log_leaves WHERE n >= ? AND n < ? ORDER BY n", (start, stop)
        ).fetchall()
        if len(rows) != stop - start:
            raise StoreError(
                f"the transparency log is missing leaves between {start} and {stop}: "
                "run `socialcredit verify`"
            )
        return [leaf_hash(leaf_bytes(kind, digest)) for kind, digest in rows]

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
        row = self._db.execute(
            "SELECT l.n, l.digest FROM records r JOIN log_leaves l ON l.n = r.leaf WHERE r.id = ?",
            (record_id,),
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def leaf(self, n: int) -> tuple[str, str] | None:
        row = self._db.execute("SELECT kind, digest FROM log_leaves WHERE n = ?", (n,)).fetchone()
        return (str(row[0]), str(row[1])) if row else None

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
        count, top = self._db.execute(
            "SELECT COUNT(*), COALESCE(MAX(n) + 1, 0) FROM log_leaves"
        ).fetchone()
        if count != top or self._db.execute("SELECT 1 FROM log_leaves WHERE n < 0").fetchone():
            return [f"the log's leaves are not numbered 0 to {top - 1} without a gap: {count} held"]
        return []

    def _records(self) -> list[str]:
        (unnumbered,) = self._db.execute(
            "SELECT COUNT(*) FROM records WHERE leaf IS NULL"
        ).fetchone()
        (wrong,) = self._db.execute(
            "SELECT COUNT(*) FROM records r LEFT JOIN log_leaves l ON l.n = r.leaf "
            "WHERE r.leaf IS NOT NULL AND (l.n IS NULL OR l.kind <> 'record' OR l.digest <> r.hash)"
        ).fetchone()
        (records,) = self._db.execute("SELECT COUNT(*) FROM records").fetchone()
        (leaves,) = self._db.execute(
            "SELECT COUNT(*) FROM log_leaves WHERE kind = 'record'"
        ).fetchone()
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
            logged = Counter(
                digest
                for (digest,) in self._db.execute(
                    "SELECT digest FROM log_leaves WHERE kind = ?", (source.kind,)
                )
            )
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
        start = 0
        while True:
            rows = self._db.execute(
                "SELECT kind, digest FROM log_leaves WHERE n >= ? AND n < ? ORDER BY n",
                (start, start + _LEAF_ROWS),
            ).fetchall()
            if not rows:
                return
            for kind, digest in rows:
                yield leaf_hash(leaf_bytes(kind, digest))
            if progress:
                progress(len(rows))
            start += _LEAF_ROWS


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
