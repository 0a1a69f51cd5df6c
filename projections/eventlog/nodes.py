"""Stored RFC 6962 subtree hashes: roots and inclusion proofs in O(log n) reads.

Every complete, aligned subtree of the log's Merkle tree (2^level leaves starting at a
multiple of 2^level, level >= 1) gets one row, written in the transaction that appends
its last leaf; the leaves themselves are the log's `leaf_hash` column. Any tree size's
root and audit path are then a few dozen of these rows, however long the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from sqlalchemy import BigInteger, Column, Connection, Engine, MetaData, String, Table, select

from projections.eventlog.bulk import insert_rows
from projections.eventlog.ledger import log
from projections.eventlog.merkle import EMPTY_ROOT, node_hash

metadata = MetaData()

nodes = Table(
    "policy_merkle",
    metadata,
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
)
LEVEL_BITS = 6
"""A node's key is index << 6 | level: one integer column, levels up to 63."""
BACKFILL_BATCH = 10_000

Key = tuple[int, int]
"""(level, index): the subtree of leaves [index * 2^level, (index + 1) * 2^level)."""


def key(level: int, index: int) -> int:
    """The stored key of a node."""
    return index << LEVEL_BITS | level


def peaks(size: int) -> list[Key]:
    """The complete subtrees a tree of `size` leaves ends with, largest first."""
    return [(lv, (size >> lv) - 1) for lv in range(size.bit_length() - 1, -1, -1) if size >> lv & 1]


def grown(size: int, peak_hashes: Mapping[Key, bytes], leaves: Sequence[bytes]) -> dict[Key, bytes]:
    """The subtrees (level >= 1) that appending `leaves` to a tree of `size` completes."""
    known = dict(peak_hashes)
    made: dict[Key, bytes] = {}
    for offset, leaf in enumerate(leaves):
        index = size + offset
        known[(0, index)] = leaf
        level = 0
        while index & 1:  # a right child: its parent is complete now
            parent = node_hash(known[(level, index - 1)], known[(level, index)])
            level, index = level + 1, index >> 1
            known[(level, index)] = made[(level, index)] = parent
    return made


def append(conn: Connection, size: int, last_leaf: bytes | None, leaves: Sequence[bytes]) -> None:
    """Store the subtrees completed by appending `leaves` after `size` leaves (in-transaction).

    `last_leaf` is leaf `size - 1` (the caller read it with the head); the other peaks of
    the tree are read here, one statement."""
    if not leaves:
        return
    wanted = [k for k in peaks(size) if k[0] >= 1]
    have = fetch(conn, wanted, size)
    if last_leaf is not None and size & 1:
        have[(0, size - 1)] = last_leaf
    made = grown(size, have, leaves)
    insert_rows(conn, nodes, [{"node": key(*k), "hash": h.hex()} for k, h in made.items()])


def fetch(conn: Connection, wanted: Iterable[Key], size: int) -> dict[Key, bytes]:
    """The hashes of these subtrees: stored nodes and leaves, in at most two statements.

    A node missing from the table (a store older than the table, or rows deleted) is
    computed from its leaves instead, so proofs stay right; `verify` reports the gap."""
    wanted = set(wanted)
    leaves = sorted(i for lv, i in wanted if lv == 0)
    inner = {key(lv, i): (lv, i) for lv, i in wanted if lv > 0}
    found: dict[Key, bytes] = {}
    if leaves:
        rows = conn.execute(
            select(log.c.position, log.c.leaf_hash).where(
                log.c.position.in_([i + 1 for i in leaves])
            )
        )
        found.update(((0, int(p) - 1), bytes.fromhex(h)) for p, h in rows)
    if inner:
        rows = conn.execute(select(nodes.c.node, nodes.c.hash).where(nodes.c.node.in_(list(inner))))
        found.update((inner[int(n)], bytes.fromhex(h)) for n, h in rows)
    for lv, i in wanted - found.keys():
        found[(lv, i)] = _from_leaves(conn, i << lv, min((i + 1) << lv, size))
    return found


def _from_leaves(conn: Connection, start: int, end: int) -> bytes:
    from projections.eventlog.merkle import root

    rows = conn.execute(
        select(log.c.leaf_hash)
        .where(log.c.position > start, log.c.position <= end)
        .order_by(log.c.position)
    ).scalars()
    return root([bytes.fromhex(h) for h in rows])


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _pieces(start: int, end: int) -> list[Key]:
    """The aligned complete subtrees that make up MTH(D[start:end]) as RFC 6962 splits it."""
    out: list[Key] = []
    while end - start > 0:
        n = end - start
        if n & (n - 1) == 0:  # a power of two at an aligned start: one stored node
            out.append((n.bit_length() - 1, start >> (n.bit_length() - 1)))
            break
        k = _split(n)
        out.append((k.bit_length() - 1, start >> (k.bit_length() - 1)))
        start += k
    return out


def _combine(pieces: list[Key], hashes: Mapping[Key, bytes]) -> bytes:
    """MTH of consecutive pieces: each piece is the left child of the rest (right to left)."""
    result = hashes[pieces[-1]]
    for piece in reversed(pieces[:-1]):
        result = node_hash(hashes[piece], result)
    return result


def _path_ranges(index: int, size: int) -> Iterator[tuple[int, int]]:
    """The leaf ranges whose roots form PATH(index, D[0:size]), from the leaf up."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return reversed(ranges)


def inclusion(conn: Connection, index: int, size: int) -> tuple[bytes, bytes, list[bytes]]:
    """(leaf hash, root, audit path) for leaf `index` of the tree of the first `size` leaves."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges = list(_path_ranges(index, size))
    split = [_pieces(a, b) for a, b in ranges]
    top = _pieces(0, size)
    wanted = {(0, index), *top, *(p for pieces in split for p in pieces)}
    hashes = fetch(conn, wanted, size)
    path = [_combine(pieces, hashes) for pieces in split]
    return hashes[(0, index)], _combine(top, hashes), path


def tree_root(conn: Connection, size: int) -> bytes:
    """MTH of the first `size` leaves of the log."""
    if size == 0:
        return EMPTY_ROOT
    pieces = _pieces(0, size)
    return _combine(pieces, fetch(conn, pieces, size))


def create(engine: Engine) -> None:
    """Create the table; fill it from the log when it is empty and the log is not."""
    nodes.create(engine, checkfirst=True)
    with engine.begin() as conn:
        if conn.execute(select(nodes.c.node).limit(1)).first() is not None:
            return
        if conn.execute(select(log.c.position).where(log.c.position == 2)).first() is None:
            return  # fewer than two events: no subtree to fill yet
        if engine.dialect.name == "postgresql":  # writers wait until the tree covers the log
            conn.exec_driver_sql("LOCK TABLE policy_log IN EXCLUSIVE MODE")
        backfill(conn)


def backfill(conn: Connection) -> None:
    """Compute and store every complete subtree of the log, streaming its leaf hashes."""
    size, after = 0, 0
    frontier: dict[Key, bytes] = {}
    while True:
        batch = [
            bytes.fromhex(h)
            for h in conn.execute(
                select(log.c.leaf_hash)
                .where(log.c.position > after)
                .order_by(log.c.position)
                .limit(BACKFILL_BATCH)
            ).scalars()
        ]
        made = grown(size, frontier, batch)
        insert_rows(conn, nodes, [{"node": key(*k), "hash": h.hex()} for k, h in made.items()])
        size, frontier = _advance(size, frontier, made, batch)
        after = size
        if len(batch) < BACKFILL_BATCH:
            return


def _advance(
    size: int, frontier: dict[Key, bytes], made: dict[Key, bytes], leaves: list[bytes]
) -> tuple[int, dict[Key, bytes]]:
    """The new size and the peaks' hashes after appending `leaves`."""
    everything = {**frontier, **made}
    size += len(leaves)
    if leaves:
        everything[(0, size - 1)] = leaves[-1]
    return size, {k: everything[k] for k in peaks(size)}


def check(engine: Engine, batch: int = BACKFILL_BATCH) -> tuple[int, str] | None:
    """Recompute every node from the leaves: None, or (first bad leaf position, problem)."""
    size = 0
    frontier: dict[Key, bytes] = {}
    with engine.connect() as conn:
        after = 0
        while True:
            leaves = [
                bytes.fromhex(h)
                for h in conn.execute(
                    select(log.c.leaf_hash)
                    .where(log.c.position > after)
                    .order_by(log.c.position)
                    .limit(batch)
                ).scalars()
            ]
            made = grown(size, frontier, leaves)
            stored = fetch_stored(conn, [key(lv, i) for lv, i in made])
            for (lv, i), h in made.items():
                if stored.get(key(lv, i)) != h.hex():
                    what = "missing" if key(lv, i) not in stored else "differs from its leaves"
                    return (i << lv) + 1, (
                        f"the stored subtree hash of leaves {(i << lv) + 1}..{(i + 1) << lv} "
                        f"is {what}"
                    )
            size, frontier = _advance(size, frontier, made, leaves)
            after = size
            if len(leaves) < batch:
                return None


def fetch_stored(conn: Connection, keys: list[int]) -> dict[int, str]:
    """Stored node hashes by key (absent keys left out)."""
    found: dict[int, str] = {}
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        rows = conn.execute(select(nodes.c.node, nodes.c.hash).where(nodes.c.node.in_(chunk)))
        found.update((int(n), str(h)) for n, h in rows)
    return found
