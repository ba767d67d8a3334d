"""bandwidth: rate KB/s (1 KB = 1000 bytes, as Toxiproxy); 0 means unlimited."""
import time

from .registry import PASS, ToxicKind, register


@register("bandwidth", "rate")
class Bandwidth(ToxicKind):
    def chunk(self, toxic, pipe, arrived, pieces):
        """Each piece of at most 100 ms worth goes when the byte budget allows."""
        if toxic.attr("rate") <= 0:
            return pieces, PASS
        bytes_per_s = toxic.attr("rate") * 1000.0
        step = max(int(bytes_per_s / 10), 1)
        out = []
        pipe.bandwidth_clock = max(pipe.bandwidth_clock, time.monotonic())
        for not_before, data, _ in pieces:
            for i in range(0, len(data), step):
                part = data[i:i + step]
                pipe.bandwidth_clock = max(pipe.bandwidth_clock, not_before) + len(part) / bytes_per_s
                out.append((pipe.bandwidth_clock, part, toxic))
        return out, PASS
