"""What every bench prints: the median of interleaved rounds with their min-max, and the last `NAME: value` line."""
import statistics


def spread(values, fmt="{:.0f}") -> str:
    """'median (min-max)' of one figure's rounds."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def last_line(name: str, value: float, fmt="{:.3f}") -> None:
    print(f"{name}: {fmt.format(value)}", flush=True)
