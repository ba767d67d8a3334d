"""The compact encoding of a column of strings in a shipped batch: what a worker sends and the master keeps as
text. Keys made by history.new_key() (and most ids: uuids, hex digests) are a fixed prefix and a hex tail:
those ship as the prefix once and the tails as raw bytes (16 bytes for 32 hex digits). Anything else ships
joined by NUL (one msgpack string, not a list of them); a column with a NUL in it, as a plain list.

An encoded column is a tuple-like list: ["h", prefix, tail_hex_digits, bytes] | ["j", joined] | ["l", list],
with an optional mask (bytes, 1 = present) when some values are None.
"""
_HEX = frozenset("0123456789abcdef")


def _hex_tail(s: str) -> int:
    """Length of the even-length run of lowercase hex digits that ends s."""
    n = 0
    for ch in reversed(s):
        if ch not in _HEX:
            break
        n += 1
    return n - n % 2


def encode(values: list) -> list:
    mask = None
    if None in values:
        mask = bytes(v is not None for v in values)
        values = [v for v in values if v is not None]
    return _encode_present(values) + ([mask] if mask is not None else [])


def _encode_present(strs: list) -> list:
    if strs:
        first = strs[0]
        width = len(first)
        tail = _hex_tail(first)
        if tail >= 8:
            prefix = first[:width - tail]
            cut = len(prefix)
            if all(len(s) == width and s.startswith(prefix) for s in strs):
                digits = "".join([s[cut:] for s in strs])
                try:
                    packed = bytes.fromhex(digits)
                except ValueError:
                    packed = None
                if packed is not None and packed.hex() == digits:  # lowercase only: decodes back the same
                    return ["h", prefix, tail, packed]
    joined = "\0".join(strs)
    if joined.count("\0") == max(0, len(strs) - 1) and all(strs):  # "" would be ambiguous with a missing row
        return ["j", joined, len(strs)]
    return ["l", list(strs)]


def decode(column: list, n: int) -> list:
    """The column's n values (None where the mask says missing)."""
    kind = column[0]
    if kind == "h":
        _, prefix, tail, packed = column[:4]
        digits = packed.hex()
        values = [prefix + digits[i:i + tail] for i in range(0, len(digits), tail)]
    elif kind == "j":
        values = column[1].split("\0") if column[2] else []
    else:
        values = list(column[1])
    mask = column[_MASK_AT[kind]] if len(column) > _MASK_AT[kind] else None
    if mask is None:
        return values
    it = iter(values)
    return [next(it) if present else None for present in mask]


_MASK_AT = {"h": 4, "j": 3, "l": 2}
