"""Set operations on int64 arrays by sorting (numpy's hash-based unique is several times slower on a million
64-bit hashes, and uses more memory)."""
import numpy as np


def group_starts(sorted_values: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal values in a sorted array."""
    return np.flatnonzero(_first_flags(sorted_values))


def _first_flags(sorted_values: np.ndarray) -> np.ndarray:
    flags = np.empty(len(sorted_values), bool)
    if len(sorted_values):
        flags[0] = True
        np.not_equal(sorted_values[1:], sorted_values[:-1], out=flags[1:])
    return flags


def unique(values: np.ndarray) -> np.ndarray:
    ordered = np.sort(values)
    return ordered[_first_flags(ordered)]


def unique_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ordered = np.sort(values)
    starts = group_starts(ordered)
    return ordered[starts], np.diff(np.append(starts, len(ordered)))


def isin(values: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """values[i] in sorted_unique, for each i (sorted_unique must be sorted and without repeats)."""
    if not len(sorted_unique) or not len(values):
        return np.zeros(len(values), bool)
    pos = np.searchsorted(sorted_unique, values)
    np.minimum(pos, len(sorted_unique) - 1, out=pos)
    return sorted_unique[pos] == values
