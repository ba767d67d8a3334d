"""Loss, split three ways when the consumer did not catch up: an acknowledged operation that is not kept is
  lost       — not queued either (or the backlog is empty): counted;
  stuck      — queued in a backlog that stopped moving: counted as lost, with that reason;
  in flight  — queued in a backlog still draining: unknown, never lost.
Which are queued comes from the keys the backlog read (or an `in_flight` read) names; with only a count,
lost is at least missing − backlog, and said so.

One unit throughout: acknowledged ids when the kept rows carry ids (two acks with different ids for one key
are two sales), else keys (or key+seq)."""
from dataclasses import dataclass

import numpy as np

from chaos_hooks.common.sorted_sets import isin, unique
from chaos_hooks.common.table import hash_strs


@dataclass
class LossSplit:
    unit: str            # "ids" | "keys"
    acked: int           # acknowledged, in that unit
    missing: int         # acknowledged and not kept
    lost: int            # missing and not queued (a lower bound when `at_least`)
    stuck: int           # missing and queued in a stuck backlog (counted as lost)
    in_flight: int       # missing and queued in a draining backlog (unknown)
    at_least: bool = False
    lost_items: np.ndarray | None = None   # elements (keys unit) or ids (ids unit), when known
    stuck_items: np.ndarray | None = None
    in_flight_items: np.ndarray | None = None

    @property
    def figure(self) -> int:
        return self.lost + self.stuck


def missing_items(h, a) -> tuple[str, int, np.ndarray]:
    """(unit, acknowledged count, missing items) of a set analysis."""
    if a.ids_checked and a.acked_ids:
        return "ids", a.acked_ids, a.lost_ids
    return "keys", a.acked, a.lost


def _item_keys(h, unit: str, items: np.ndarray) -> np.ndarray:
    """The key hash of each missing item, from the acknowledged operations."""
    ok = h.ok_mask()
    if unit == "ids":
        col = h.columns["id"]
        rows = np.flatnonzero(ok & isin(col, np.sort(items)))
        order = np.argsort(col[rows], kind="stable")
        rows = rows[order]
        pos = np.searchsorted(col[rows], items)
        return h.columns["key"][rows[np.minimum(pos, len(rows) - 1)]] if len(rows) else np.empty(0, np.int64)
    return h.columns["key"][h.rows_of(items, among=ok)]


def split_loss(h, a, seen) -> LossSplit:
    """seen: the catch-up observation (or None when none was made)."""
    unit, acked, items = missing_items(h, a)
    n = len(items)
    split = LossSplit(unit, acked, n, n, 0, 0, lost_items=items)
    if seen is None or seen.caught_up or seen.state not in ("stuck", "draining") or not n:
        return split
    if seen.in_flight_keys is not None:
        queued_keys = unique(hash_strs([str(k) for k in seen.in_flight_keys]))
        queued = isin(_item_keys(h, unit, items), queued_keys)
        split.lost, split.lost_items = int((~queued).sum()), items[~queued]
        q_items, q = items[queued], int(queued.sum())
    else:  # a count only: at most `backlog` of the missing are queued (unread: any of them may be)
        q = n if seen.backlog is None else min(n, seen.backlog)
        split.lost, split.at_least, split.lost_items, q_items = n - q, True, None, None
    if seen.state == "stuck":
        split.stuck, split.stuck_items = q, q_items
    else:
        split.in_flight, split.in_flight_items = q, q_items
    return split


def describe(split: LossSplit, seen) -> str:
    """'lost 5 of 100 acknowledged ids (3 not kept and not queued, 2 stuck: stuck at 16 for 8.0s ...)'."""
    unit = "" if split.unit == "keys" else " ids"
    head = f"lost {'at least ' if split.at_least else ''}{split.figure} of {split.acked} acknowledged{unit}"
    parts = []
    if split.stuck:
        parts.append(f"{split.lost}{'+' if split.at_least else ''} not kept and not queued, {split.stuck} stuck in "
                     f"the backlog ({seen.reason})")
    elif split.at_least and split.lost:
        parts.append(f"{split.missing} not kept − backlog {seen.backlog}")
    if split.in_flight:
        parts.append(f"{split.in_flight} in flight, not counted: {seen.reason}")
    return head + (f" ({'; '.join(parts)})" if parts else "")
