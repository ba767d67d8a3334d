"""slicer: splits data into slices of average_size ± size_variation bytes, delay microseconds apart."""
import random
import time

from .registry import PASS, ToxicKind, register


@register("slicer", "average_size", "size_variation", "delay")
class Slicer(ToxicKind):
    def chunk(self, toxic, pipe, arrived, pieces):
        avg, var, delay_us = toxic.attr("average_size"), toxic.attr("size_variation"), toxic.attr("delay")
        if avg <= 0:
            return pieces, PASS
        out = []
        clock = time.monotonic()
        for not_before, data, setter in pieces:
            clock = max(clock, not_before)
            i = 0
            while i < len(data):
                size = max(1, avg + (random.randint(-var, var) if var > 0 else 0))
                out.append((clock, data[i:i + size], setter if i == 0 else toxic))
                clock += delay_us / 1e6
                i += size
        return out, PASS
