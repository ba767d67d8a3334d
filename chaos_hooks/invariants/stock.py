"""no_oversell: the sale never persists more orders than it had stock, and Redis agrees with PostgreSQL."""
from .base import Result


def no_oversell(analysis, state, params) -> Result:
    initial, persisted, stock = state.initial_stock, state.persisted_count, state.redis_stock
    problems = []
    if persisted > initial:
        problems.append(f"oversold by {persisted - initial}: {persisted} orders persisted for {initial} units")
    if stock is not None and stock < 0:
        problems.append(f"Redis stock is negative ({stock})")
    if stock is not None and state.caught_up and stock + persisted != initial:
        problems.append(f"Redis stock {stock} + persisted {persisted} = {stock + persisted}, not the initial {initial}")
    if stock is None:
        problems.append("Redis stock could not be read")
    if problems:
        summary = "; ".join(problems)
    elif state.caught_up:
        summary = f"{persisted} persisted + {stock} left = {initial} units"
    else:
        summary = f"{persisted} persisted, {stock} left of {initial} (not reconciled: the consumer did not catch up)"
    return Result("no_oversell", not problems, summary, figure=max(0, persisted - initial),
                  evidence={"initial": initial, "persisted": persisted, "redis_stock": stock})
