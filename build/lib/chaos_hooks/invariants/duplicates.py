"""no_duplicates: no key (or key+seq) was kept more than once, and none was acknowledged with more than one
distinct id (two acknowledged sales for one idempotency key)."""
import numpy as np

from chaos_hooks.common.table import NO_VALUE
from chaos_hooks.invariants.registry import register
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, Result, ReadUnavailable, sample
from chaos_hooks.invariants.sets import analysis_for, history_texts, row_texts


@register("no_duplicates", needs={"persisted": "rows"})
def no_duplicates(history, reads, params) -> Result:
    try:
        a = analysis_for(history, reads)
    except ReadUnavailable as err:
        return _history_only(history, str(err))
    rows = reads.get("persisted")
    use_seq = history.has_seq and rows.has("seq")
    dup = row_texts(rows, a.duplicated, use_seq)
    multi = history_texts(history, a.multi_id, among=history.ok_mask())
    figure = len(np.union1d(a.duplicated, a.multi_id))
    evidence = {"kept_more_than_once": dict(zip(dup, (int(n) for n in a.duplicated_rows))),
                "acknowledged_with_several_ids": multi}
    if figure:
        parts = []
        if len(a.duplicated):
            extra = int(a.duplicated_rows.sum() - len(a.duplicated_rows))
            parts.append(f"{len(a.duplicated)} kept more than once ({extra} extra rows), e.g. {sample(dup)}")
        if len(a.multi_id):
            parts.append(f"{len(a.multi_id)} acknowledged with 2+ different ids, e.g. {sample(multi)}")
        return Result("no_duplicates", INVALID, "; ".join(parts), figure=figure, evidence=evidence)
    if a.acked == 0:
        return Result("no_duplicates", UNKNOWN, "undecided: nothing was acknowledged", figure=None)
    return Result("no_duplicates", VALID, f"each of {a.persisted} kept at most once, each acknowledged with "
                                          f"one id ({a.acked_ids} ids)", figure=0, evidence=evidence)


def _history_only(history, why: str) -> Result:
    """Without the rows, acknowledgements with several ids still decide it."""
    cols = history.columns
    ok = history.ok_mask() & (cols["id"] != NO_VALUE)
    elem, ids = history.elements()[ok], cols["id"][ok]
    if len(elem):
        order = np.lexsort((ids, elem))
        e, i = elem[order], ids[order]
        distinct = np.ones(len(e), bool)
        distinct[1:] = (e[1:] != e[:-1]) | (i[1:] != i[:-1])
        u, n = np.unique(e[distinct], return_counts=True)
        multi = u[n > 1]
        if len(multi):
            names = history_texts(history, multi, among=history.ok_mask())
            return Result("no_duplicates", INVALID, f"{len(multi)} acknowledged with 2+ different ids, e.g. "
                                                    f"{sample(names)} (rows unreadable: {why})", figure=len(multi),
                          evidence={"acknowledged_with_several_ids": names})
    return Result("no_duplicates", UNKNOWN, f"undecided: {why}")
