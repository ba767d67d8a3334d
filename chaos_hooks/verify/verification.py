"""Verification: catch-up, final reads, invariants — each isolated — and the verdict they make.

The reads each invariant needs are made once; a read that fails makes the invariants that need it unknown,
and the others are still decided. A run passes only when every invariant is valid and nothing went wrong in
the harness; an unknown never passes.
"""
import logging

import numpy as np

from chaos_hooks.verify.backlog_watch import CatchUp, CatchUpWatch
from chaos_hooks.datastores.connections import ReadFailed
from chaos_hooks.history.view import HistoryView
from chaos_hooks.invariants import INVARIANTS, ReadUnavailable, run_isolated
from chaos_hooks.invariants.registry import check_params, kind_of, roles_of
from chaos_hooks.invariants.loss_split import split_loss
from chaos_hooks.invariants.sets import analyse, analysis_for
from chaos_hooks.verify.read_results import ReadResults, RoleView

log = logging.getLogger("locust_chaos.verify")


def needed_reads(scenario) -> dict[str, str]:
    """Profile read -> rows|value, over every invariant instance (each may name its own reads)."""
    needs: dict[str, str] = {}
    for name, params in scenario.invariants.items():
        modes = INVARIANTS[kind_of(name)].needs
        needs.update({read: modes[role] for role, read in roles_of(name, params).items()})
    return needs


def make_reads(profile, ctx, needs: dict[str, str], reuse: dict | None = None) -> ReadResults:
    reads = ReadResults()
    for role, mode in needs.items():
        if reuse and role in reuse:
            reads.put(role, reuse[role])
            continue
        read = profile.read(role)
        if read is None:
            reads.fail(role, f"the target profile has no read {role!r}")
            continue
        try:
            reads.put(role, read.rows(ctx) if mode == "rows" else read.value(ctx))
        except ReadFailed as err:
            reads.fail(role, str(err))
            log.error("read %s failed: %s", role, err)
    return reads


def wait_for_catch_up(scenario, profile, ctx, history: HistoryView, watch: CatchUpWatch) -> tuple[CatchUp, dict]:
    """Concludes the catch-up watch. Returns the observation and the rows read last (reused as the final
    `persisted` read when nothing changed since)."""
    params = next((p for n, p in scenario.invariants.items() if kind_of(n) == "catch_up"), {})
    bound, stuck_after = params.get("max", 30.0), params.get("stuck_after", 5.0)
    rows_read = profile.read("persisted")
    last: dict = {}

    def missing_now() -> int:
        if rows_read is None:
            return 0
        rows = rows_read.rows(ctx)
        last["persisted"] = rows
        last["count"] = rows.n
        return int(len(analyse(history, rows).lost))
    log.info("verifying: waiting for the system to catch up (bound %.0fs)", bound)
    seen = watch.conclude(missing_now, bound, stuck_after=stuck_after)
    watch.stop()
    reuse = {}
    if "persisted" in last and watch.samples and watch.samples[-1][2] == last["count"]:
        reuse["persisted"] = last["persisted"]
    return seen, reuse


def decide(scenario, history: HistoryView, reads: ReadResults) -> list:
    results = []
    for name, params in scenario.invariants.items():
        result = run_isolated(INVARIANTS[kind_of(name)], history, RoleView(reads, roles_of(name, params)),
                              check_params(name, params))
        result.name = name
        results.append(result)
    return results


def history_counts(history: HistoryView, reads: ReadResults) -> dict:
    """Counts for the verdict; the set figures need the persisted rows and are left out without them."""
    ops = history.n
    counts = {"ops": ops}
    try:
        reads.get("persisted")
    except ReadUnavailable:
        elem = history.elements()
        acked = np.unique(elem[history.ok_mask()])
        counts.update(attempted=int(len(np.unique(elem))), acked=int(len(acked)))
        return counts
    a = analysis_for(history, reads)
    # Lost as no_data_loss counts it: in its unit, queued operations split off (stuck ones count as lost).
    split = split_loss(history, a, reads.observations.get("catch_up"))
    counts.update(attempted=a.attempted, acked=a.acked, failed=a.failed,
                  indeterminate=a.indeterminate, lost=split.figure, unexpected=len(a.unexpected),
                  recovered=len(a.recovered), duplicated=len(a.duplicated), acked_ids=a.acked_ids,
                  keys_with_multiple_ids=len(a.multi_id), persisted_rows=a.persisted_rows)
    if split.unit == "ids":
        counts["lost_unit"] = "ids"
    if split.stuck or split.in_flight:
        counts.update(stuck=split.stuck, in_flight=split.in_flight)
    return counts
