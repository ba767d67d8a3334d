"""Jepsen's set analysis over operations and the rows the system kept, vectorised with numpy.

An operation's element is its key (or key+seq). Per element: ok if any operation was acknowledged, else info
if any outcome is unknown, else fail. lost = acknowledged but not persisted; unexpected = persisted but never
attempted, or persisted although every attempt definitely failed; recovered = unknown outcome but persisted.
Ids: an acknowledged id that no persisted row carries is lost too (two acks with different ids for one key
are two sales, and only one may have been kept).
"""
from dataclasses import dataclass

import numpy as np

from ..history_view import HistoryView, elements
from ..table import NO_VALUE, Table

EVIDENCE_LIMIT = 1000  # evidence lists name at most this many items; the counts are always exact


@dataclass
class SetAnalysis:
    attempted: np.ndarray
    acked: np.ndarray
    failed: np.ndarray
    indeterminate: np.ndarray
    persisted: np.ndarray        # distinct persisted elements
    persisted_rows: int
    lost: np.ndarray
    unexpected: np.ndarray
    recovered: np.ndarray
    duplicated: np.ndarray       # elements with more than one persisted row
    duplicated_rows: np.ndarray  # their row counts
    acked_ids: int
    lost_ids: np.ndarray         # acked ids absent from the rows' ids (empty when rows carry no id)
    lost_id_elements: np.ndarray  # the element of each lost id
    ids_checked: bool
    multi_id: np.ndarray         # elements acknowledged with more than one distinct id
    unattributed: np.ndarray     # persisted, never seen, from a lost generator or not attributable
    lost_worker_recovered: np.ndarray


def _isin(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.isin(a, b, assume_unique=True) if len(a) and len(b) else np.zeros(len(a), bool)


def analyse(h: HistoryView, rows: Table) -> SetAnalysis:
    cols = h.columns
    elem = h.elements()
    uniq, inverse = np.unique(elem, return_inverse=True)
    any_ok = np.bincount(inverse, weights=h.ok_mask(), minlength=len(uniq)) > 0
    any_info = np.bincount(inverse, weights=h.info_mask(), minlength=len(uniq)) > 0
    acked, indeterminate, failed = uniq[any_ok], uniq[~any_ok & any_info], uniq[~any_ok & ~any_info]

    use_seq = h.has_seq and rows.has("seq")
    p_elem = elements(rows.columns["key"], rows.columns["seq"] if use_seq else None)
    p_uniq, p_counts = np.unique(p_elem, return_counts=True)
    lost = acked[~_isin(acked, p_uniq)]
    never_attempted = p_uniq[~_isin(p_uniq, uniq)]
    unexpected = np.union1d(never_attempted, failed[_isin(failed, p_uniq)])
    recovered = indeterminate[_isin(indeterminate, p_uniq)]

    # Persisted rows nobody reported: from a load generator lost mid-run, their outcome is unknown.
    unattributed = lost_recovered = np.empty(0, np.int64)
    if h.lost_tags and len(never_attempted):
        rows_idx = _rows_of(p_elem, never_attempted)
        keys = rows.strings("key", rows_idx)
        from_lost = np.array([_tag(k) in h.lost_tags for k in keys], bool)
        attributable = np.array([_tag(k) in h.known_tags for k in keys], bool)
        lost_recovered = never_attempted[from_lost]
        unattributed = never_attempted[~attributable]
        unexpected = np.setdiff1d(unexpected, np.union1d(lost_recovered, unattributed), assume_unique=True)

    ok_id = h.ok_mask() & (cols["id"] != NO_VALUE)
    pair_elem, pair_id = elem[ok_id], cols["id"][ok_id]
    acked_ids = np.unique(pair_id)
    ids_checked = rows.has("id")
    if ids_checked:
        missing = ~_isin(acked_ids, np.unique(rows.columns["id"]))
        lost_ids = acked_ids[missing]
    else:
        lost_ids = np.empty(0, np.int64)
    lost_id_elements = np.empty(0, np.int64)
    if len(lost_ids):
        first = np.unique(pair_id, return_index=True)
        lost_id_elements = pair_elem[first[1][np.searchsorted(first[0], lost_ids)]]
    multi_id = np.empty(0, np.int64)
    if len(pair_elem):
        order = np.lexsort((pair_id, pair_elem))
        se, si = pair_elem[order], pair_id[order]
        distinct = np.ones(len(se), bool)
        distinct[1:] = (se[1:] != se[:-1]) | (si[1:] != si[:-1])
        e_of_pairs = se[distinct]
        counts = np.unique(e_of_pairs, return_counts=True)
        multi_id = counts[0][counts[1] > 1]
    return SetAnalysis(attempted=uniq, acked=acked, failed=failed, indeterminate=indeterminate, persisted=p_uniq,
                       persisted_rows=rows.n, lost=lost, unexpected=unexpected, recovered=recovered,
                       duplicated=p_uniq[p_counts > 1], duplicated_rows=p_counts[p_counts > 1],
                       acked_ids=len(acked_ids), lost_ids=lost_ids, lost_id_elements=lost_id_elements,
                       ids_checked=ids_checked, multi_id=multi_id, unattributed=unattributed,
                       lost_worker_recovered=lost_recovered)


def _tag(key: str | None) -> str | None:
    return key.split("-", 1)[0] if key and "-" in key else None


def _rows_of(row_elems: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    order = np.argsort(row_elems, kind="stable")
    return order[np.searchsorted(row_elems[order], wanted)]


def analysis_for(h: HistoryView, reads) -> SetAnalysis:
    """The shared analysis against the `persisted` read (computed once per verification)."""
    rows = reads.get("persisted")
    return h.memo(("sets", rows), lambda: analyse(h, rows))


def history_texts(h: HistoryView, elems: np.ndarray, limit: int = EVIDENCE_LIMIT, among=None) -> list[str]:
    """Readable names of elements from the history: key, or key#seq."""
    elems = elems[:limit]
    if not len(elems):
        return []
    rows = h.rows_of(elems, among)
    seqs = h.columns["seq"][rows]
    return [k if s == NO_VALUE else f"{k}#{s}" for (k, _), s in zip(h.texts(rows), seqs)]


def row_texts(rows: Table, elems: np.ndarray, use_seq: bool, limit: int = EVIDENCE_LIMIT) -> list[str]:
    """Readable names of elements from the persisted rows."""
    elems = elems[:limit]
    if not len(elems):
        return []
    p_elem = elements(rows.columns["key"], rows.columns["seq"] if use_seq else None)
    idx = _rows_of(p_elem, elems)
    keys = rows.strings("key", idx)
    if not use_seq:
        return [str(k) for k in keys]
    return [f"{k}#{s}" for k, s in zip(keys, rows.columns["seq"][idx])]
