"""no_data_loss: every acknowledged operation was kept, by key (or key+seq) and by the id the system returned;
nothing was kept that nobody attempted, or that every attempt was told failed. Counted in one unit (ids when
the kept rows carry ids, else keys). Not caught up, what is missing is split: lost, stuck in a stuck backlog
(lost, with that reason), or in flight in a draining one (unknown, never lost); see loss_split.py."""
import numpy as np

from chaos_hooks.invariants.registry import register
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, ReadUnavailable, Result, sample
from chaos_hooks.invariants.loss_split import describe, split_loss
from chaos_hooks.invariants.sets import EVIDENCE_LIMIT, analysis_for, history_texts, row_texts


@register("no_data_loss", needs={"persisted": "rows"})
def no_data_loss(history, reads, params) -> Result:
    a = analysis_for(history, reads)
    rows = reads.get("persisted")
    acked = a.acked
    if acked == 0:
        return Result("no_data_loss", UNKNOWN, "undecided: nothing was acknowledged, so nothing can be lost",
                      figure=None)
    try:
        seen = reads.observation("catch_up")
    except ReadUnavailable:
        seen = None
    split = split_loss(history, a, seen)
    extra_ids = a.lost_ids_kept_key
    figure = split.figure
    lost_names = _names(history, split.unit, split.lost_items) if split.lost_items is not None else \
        history_texts(history, a.lost, among=history.ok_mask())
    id_rows = np.isin(history.columns["id"], extra_ids[:EVIDENCE_LIMIT]) & history.ok_mask() \
        if len(extra_ids) else None
    lost_id_pairs = [f"{k} -> {i}" for k, i in history.texts(np.flatnonzero(id_rows)[:EVIDENCE_LIMIT])] \
        if id_rows is not None else []
    unexpected = row_texts(rows, a.unexpected, history.has_seq and rows.has("seq"))
    parts = [describe(split, seen)]
    if len(extra_ids):
        parts[0] += f" ({len(a.lost)} keys never persisted, {len(extra_ids)} ids of kept keys not kept)"
    parts.append(f"unexpected {len(a.unexpected)}")
    parts.append(f"recovered {len(a.recovered)} of {a.indeterminate} unknown-outcome")
    if len(a.lost_worker_recovered):
        parts.append(f"{len(a.lost_worker_recovered)} kept from a lost load generator (outcome unknown)")
    if not a.ids_checked and a.acked_ids:
        parts.append("ids not checked (the persisted read has no id column)")
    if lost_names and split.lost:
        parts.append(f"lost e.g. {sample(lost_names)}")
    elif lost_id_pairs:
        parts.append(f"ids not kept e.g. {sample(lost_id_pairs)}")
    stuck_names = _names(history, split.unit, split.stuck_items)
    if stuck_names:
        parts.append(f"stuck e.g. {sample(stuck_names)}")
    if len(a.unexpected):
        parts.append(f"unexpected e.g. {sample(unexpected)}")
    evidence = {"unit": split.unit, "acked": split.acked, "missing": split.missing, "lost_count": split.lost,
                "stuck": split.stuck, "in_flight": split.in_flight, "lost_at_least": split.at_least,
                "holders": list(seen.holders) if seen is not None else [],
                "stuck_keys": stuck_names,
                "in_flight_keys": _names(history, split.unit, split.in_flight_items),
                "lost": lost_names, "lost_ids": lost_id_pairs, "unexpected": unexpected,
                "recovered": history_texts(history, a.recovered),
                "kept_from_lost_generators": row_texts(rows, a.lost_worker_recovered, False),
                "unattributed": row_texts(rows, a.unattributed, False)}
    if figure or len(a.unexpected):
        status = INVALID
    elif split.in_flight:
        status = UNKNOWN
        parts.append("undecided: acknowledged operations are still queued in a draining backlog")
    elif len(a.unattributed):
        status = UNKNOWN
        parts.append(f"undecided: {len(a.unattributed)} kept rows have keys no load generator can be told from "
                     f"(tag keys with history.new_key() so a lost generator's rows can be attributed)")
    else:
        status = VALID
    return Result("no_data_loss", status, "; ".join(parts), figure=figure, evidence=evidence)


def _names(history, unit: str, items) -> list[str]:
    """Readable keys of missing items (elements, or acknowledged ids mapped to their keys)."""
    if items is None or not len(items):
        return []
    if unit == "keys":
        return history_texts(history, items, among=history.ok_mask())
    rows = np.flatnonzero(history.ok_mask() & np.isin(history.columns["id"], items[:EVIDENCE_LIMIT]))
    return sorted({k for k, _ in history.texts(rows[:EVIDENCE_LIMIT])})
