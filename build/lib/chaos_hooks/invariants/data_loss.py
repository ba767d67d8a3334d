"""no_data_loss: every acknowledged operation was kept, by key (or key+seq) and by the id the system returned;
nothing was kept that nobody attempted, or that every attempt was told failed."""
import numpy as np

from chaos_hooks.invariants.registry import register
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, Result, sample
from chaos_hooks.invariants.sets import EVIDENCE_LIMIT, analysis_for, history_texts, row_texts


@register("no_data_loss", needs={"persisted": "rows"})
def no_data_loss(history, reads, params) -> Result:
    a = analysis_for(history, reads)
    rows = reads.get("persisted")
    acked = a.acked
    if acked == 0:
        return Result("no_data_loss", UNKNOWN, "undecided: nothing was acknowledged, so nothing can be lost",
                      figure=None)
    extra_ids = a.lost_ids_kept_key
    figure = len(a.lost) + len(extra_ids)
    lost_names = history_texts(history, a.lost, among=history.ok_mask())
    id_rows = np.isin(history.columns["id"], extra_ids[:EVIDENCE_LIMIT]) & history.ok_mask() \
        if len(extra_ids) else None
    lost_id_pairs = [f"{k} -> {i}" for k, i in history.texts(np.flatnonzero(id_rows)[:EVIDENCE_LIMIT])] \
        if id_rows is not None else []
    unexpected = row_texts(rows, a.unexpected, history.has_seq and rows.has("seq"))
    parts = [f"lost {figure} of {acked} acknowledged"]
    if len(extra_ids):
        parts[0] += f" ({len(a.lost)} never persisted, {len(extra_ids)} acknowledged ids not kept)"
    parts.append(f"unexpected {len(a.unexpected)}")
    parts.append(f"recovered {len(a.recovered)} of {a.indeterminate} unknown-outcome")
    if len(a.lost_worker_recovered):
        parts.append(f"{len(a.lost_worker_recovered)} kept from a lost load generator (outcome unknown)")
    if not a.ids_checked and a.acked_ids:
        parts.append("ids not checked (the persisted read has no id column)")
    if len(a.lost):
        parts.append(f"lost e.g. {sample(lost_names)}")
    elif lost_id_pairs:
        parts.append(f"ids not kept e.g. {sample(lost_id_pairs)}")
    if len(a.unexpected):
        parts.append(f"unexpected e.g. {sample(unexpected)}")
    evidence = {"lost": lost_names, "lost_ids": lost_id_pairs, "unexpected": unexpected,
                "recovered": history_texts(history, a.recovered),
                "kept_from_lost_generators": row_texts(rows, a.lost_worker_recovered, False),
                "unattributed": row_texts(rows, a.unattributed, False)}
    if figure or len(a.unexpected):
        status = INVALID
    elif len(a.unattributed):
        status = UNKNOWN
        parts.append(f"undecided: {len(a.unattributed)} kept rows have keys no load generator can be told from "
                     f"(tag keys with history.new_key() so a lost generator's rows can be attributed)")
    else:
        status = VALID
    return Result("no_data_loss", status, "; ".join(parts), figure=figure, evidence=evidence)
