"""Jepsen's set analysis over operations and the rows the system kept, vectorised with numpy.

An operation's element is its key (or key+seq). Per element: ok if any operation was acknowledged, else info
if any outcome is unknown, else fail. lost = acknowledged but not persisted; unexpected = persisted but never
attempted, or persisted although every attempt definitely failed; recovered = unknown outcome but persisted.
Ids: an acknowledged id that no persisted row carries is lost too (two acks with different ids for one key
are two sales, and only one may have been kept).
"""
from dataclasses import dataclass

import numpy as np

from chaos_hooks.history.view import HistoryView, elements
from chaos_hooks.common.sorted_sets import group_starts, isin, unique, unique_counts
from chaos_hooks.common.table import NO_VALUE, Table

EVIDENCE_LIMIT = 1000  # evidence lists name at most this many items; the counts are always exact


@dataclass
class SetAnalysis:
    """Counts, and the (few) elements evidence names; the large per-operation arrays are not kept."""
    attempted: int
    acked: int
    failed: int
    indeterminate: int
    persisted: int               # distinct elements kept
    persisted_rows: int
    lost: np.ndarray
    unexpected: np.ndarray
    recovered: np.ndarray
    duplicated: np.ndarray       # elements with more than one persisted row
    duplicated_rows: np.ndarray  # their row counts
    acked_ids: int
    lost_ids: np.ndarray         # acked ids absent from the rows' ids (empty when rows carry no id)
    lost_ids_kept_key: np.ndarray  # lost ids whose element (key) was kept: an acknowledgement lost beyond the keys
    ids_checked: bool
    multi_id: np.ndarray         # elements acknowledged with more than one distinct id
    unattributed: np.ndarray     # persisted, never seen, from a lost generator or not attributable
    lost_worker_recovered: np.ndarray


def analyse(h: HistoryView, rows: Table) -> SetAnalysis:
    """Large intermediates are dropped as soon as they are used: a million operations need ~60 MB here."""
    elem = h.elements()
    # Group the operations by element once; every per-element fact is a reduction over the groups.
    order = np.argsort(elem, kind="stable")
    sorted_elem = elem[order]
    starts = group_starts(sorted_elem)
    uniq = sorted_elem[starts]
    del sorted_elem
    any_ok = np.logical_or.reduceat(h.ok_mask()[order], starts) if len(starts) else np.zeros(0, bool)
    any_info = np.logical_or.reduceat(h.info_mask()[order], starts) if len(starts) else np.zeros(0, bool)
    acked, indeterminate, failed = uniq[any_ok], uniq[~any_ok & any_info], uniq[~any_ok & ~any_info]
    del any_ok, any_info

    # Ids: every acknowledged id must be kept; one element acknowledged with two ids is two sales.
    ids_sorted = h.columns["id"][order]  # only acknowledged operations carry an id; NO_VALUE is the least int64
    del order
    multi_id = np.empty(0, np.int64)
    if len(starts):
        most = np.maximum.reduceat(ids_sorted, starts)
        ids_sorted[ids_sorted == NO_VALUE] = np.iinfo(np.int64).max  # for the minimum, "no id" must not count
        differs = (most != NO_VALUE) & (np.minimum.reduceat(ids_sorted, starts) != most)
        ids_sorted[ids_sorted == np.iinfo(np.int64).max] = NO_VALUE
        multi_id = uniq[differs]
        del most, differs
    del starts
    acked_ids = unique(ids_sorted[ids_sorted != NO_VALUE])
    del ids_sorted

    use_seq = h.has_seq and rows.has("seq")
    p_elem = elements(rows.columns["key"], rows.columns["seq"] if use_seq else None)
    p_uniq, p_counts = unique_counts(p_elem)
    lost = acked[~isin(acked, p_uniq)]
    never_attempted = p_uniq[~isin(p_uniq, uniq)]
    unexpected = np.union1d(never_attempted, failed[isin(failed, p_uniq)])
    recovered = indeterminate[isin(indeterminate, p_uniq)]
    counts = {"attempted": len(uniq), "acked": len(acked), "failed": len(failed),
              "indeterminate": len(indeterminate), "persisted": len(p_uniq)}
    del uniq, acked, failed
    duplicated, duplicated_rows = p_uniq[p_counts > 1], p_counts[p_counts > 1]
    del p_uniq, p_counts

    ids_checked = rows.has("id")
    lost_ids = acked_ids[~isin(acked_ids, unique(rows.columns["id"]))] if ids_checked else np.empty(0, np.int64)
    lost_ids_kept_key = np.empty(0, np.int64)
    if len(lost_ids):  # rare: find which of them belong to kept keys
        hit = isin(h.columns["id"], lost_ids) & ~isin(elem, np.sort(lost))
        lost_ids_kept_key = unique(h.columns["id"][hit])

    # Persisted rows nobody reported: from a load generator lost mid-run, their outcome is unknown.
    unattributed = lost_recovered = np.empty(0, np.int64)
    if h.lost_tags and len(never_attempted):
        keys = rows.strings("key", _rows_of(p_elem, never_attempted))
        from_lost = np.array([_tag(k) in h.lost_tags for k in keys], bool)
        attributable = np.array([_tag(k) in h.known_tags for k in keys], bool)
        lost_recovered = never_attempted[from_lost]
        unattributed = never_attempted[~attributable]
        unexpected = np.setdiff1d(unexpected, np.union1d(lost_recovered, unattributed), assume_unique=True)
    return SetAnalysis(**counts, persisted_rows=rows.n, lost=lost, unexpected=unexpected, recovered=recovered,
                       duplicated=duplicated, duplicated_rows=duplicated_rows, acked_ids=len(acked_ids),
                       lost_ids=lost_ids, lost_ids_kept_key=lost_ids_kept_key, ids_checked=ids_checked,
                       multi_id=multi_id, unattributed=unattributed, lost_worker_recovered=lost_recovered)


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
