"""limit_data: passes at most `bytes` on this stream, then closes the connection."""
from .registry import CLOSE_AFTER, PASS, ToxicKind, register


@register("limit_data", "bytes")
class LimitData(ToxicKind):
    def chunk(self, toxic, pipe, arrived, pieces):
        budget = toxic.attr("bytes") - pipe.limit_sent.get(toxic.serial, 0)
        out = []
        for not_before, data, setter in pieces:
            if budget <= 0:
                break
            part = data[:budget]
            out.append((not_before, part, setter))
            budget -= len(part)
        pipe.limit_sent[toxic.serial] = toxic.attr("bytes") - max(budget, 0)
        return out, (CLOSE_AFTER if budget <= 0 else PASS)
