"""per_key_order: for every key, the rows were kept in the order the publishes were acknowledged, and no
acknowledged seq is missing (a gap is loss).

The `persisted` read gives rows (key, seq) in the order the system kept them (ORDER BY its own sequence).
Order is required only where real time fixes it: if publish A was acknowledged before publish B of the same
key was sent, A must be kept before B. Operations with unknown outcomes constrain nothing."""
import numpy as np

from chaos_hooks.history.view import elements
from chaos_hooks.common.sorted_sets import isin
from chaos_hooks.common.table import NO_VALUE
from chaos_hooks.invariants.registry import register
from chaos_hooks.invariants.base import INVALID, UNKNOWN, VALID, ReadUnavailable, Result, sample

EXAMPLES = 20


@register("per_key_order", needs={"persisted": "rows"})
def per_key_order(history, reads, params) -> Result:
    rows = reads.get("persisted")
    if not history.has_seq:
        raise ReadUnavailable("the history records no seq (pass seq= to history.operation)")
    if not rows.has("seq"):
        raise ReadUnavailable("the persisted read has no seq column")
    cols = history.columns
    ok = history.ok_mask() & (cols["seq"] != NO_VALUE)
    if not ok.any():
        return Result("per_key_order", UNKNOWN, "undecided: nothing with a seq was acknowledged")
    elem = history.elements()[ok]
    # One entry per acknowledged element: its first invoke and first acknowledgement.
    order = np.lexsort((cols["t1"][ok], elem))
    elem, key = elem[order], cols["key"][ok][order]
    t0, t1, seq = cols["t0"][ok][order], cols["t1"][ok][order], cols["seq"][ok][order]
    first = np.ones(len(elem), bool)
    first[1:] = elem[1:] != elem[:-1]
    invoke = np.minimum.reduceat(t0, np.flatnonzero(first)) if len(elem) else t0
    elem, key, t1, seq = elem[first], key[first], t1[first], seq[first]
    # Where each element was kept first (its position in the rows' order).
    kept_elem, kept_at = np.unique(elements(rows.columns["key"], rows.columns["seq"]), return_index=True)
    found = isin(elem, kept_elem)  # nothing kept: every acknowledged seq is a gap
    pos = np.full(len(elem), -1)
    pos[found] = kept_at[np.searchsorted(kept_elem, elem[found])]

    gaps = np.flatnonzero(~found)
    bad_keys, examples = set(), []
    kept = np.flatnonzero(found)
    by_key = kept[np.lexsort((-pos[kept], key[kept]))]  # per key, latest-kept first
    starts = np.flatnonzero(np.r_[True, key[by_key][1:] != key[by_key][:-1]]) if len(by_key) else []
    bounds = list(starts) + [len(by_key)]
    for s, e in zip(bounds[:-1], bounds[1:]):
        earliest_ack_after = np.inf  # among ops kept later than the current one
        later_seq = None
        for i in by_key[s:e]:
            if earliest_ack_after < invoke[i]:
                bad_keys.add(int(key[i]))
                if len(examples) < EXAMPLES:
                    examples.append((i, later_seq))
            if t1[i] < earliest_ack_after:
                earliest_ack_after, later_seq = t1[i], int(seq[i])
    gap_keys = {int(k) for k in key[gaps]}
    figure = len(bad_keys | gap_keys)
    texts = _names(history, cols, ok, order, first, examples, gaps)
    evidence = {"out_of_order": texts["order"], "gaps": texts["gaps"], "keys_checked": int(len(np.unique(key)))}
    if figure:
        parts = []
        if bad_keys:
            parts.append(f"{len(bad_keys)} keys kept out of acknowledged order, e.g. {sample(texts['order'], 2)}")
        if gap_keys:
            parts.append(f"{len(gaps)} acknowledged seqs missing in {len(gap_keys)} keys, e.g. "
                         f"{sample(texts['gaps'])}")
        return Result("per_key_order", INVALID, "; ".join(parts), figure=figure, evidence=evidence)
    return Result("per_key_order", VALID, f"{len(elem)} acknowledged seqs over {evidence['keys_checked']} keys kept "
                                          f"in acknowledged order, no gaps", figure=0, evidence=evidence)


def _names(history, cols, ok, order, first, examples, gaps) -> dict:
    """Readable evidence: 'key: seq 7 kept before seq 6, which was acknowledged before 7 was sent'."""
    rows = np.flatnonzero(ok)[order][first]
    wanted = [i for i, _ in examples] + list(gaps[:EXAMPLES])
    texts = dict(zip(wanted, (k for k, _ in history.texts(rows[wanted])))) if wanted else {}
    seqs = cols["seq"][rows]
    out_of_order = [f"{texts[i]}: seq {int(seqs[i])} kept before seq {later}, though {later} was acknowledged "
                    f"before {int(seqs[i])} was sent" for i, later in examples]
    return {"order": out_of_order, "gaps": [f"{texts[i]}#{int(seqs[i])}" for i in gaps[:EXAMPLES]]}
