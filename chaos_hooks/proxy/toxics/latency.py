"""latency: delays each chunk by latency ± jitter ms from when it arrived."""
import random

from .registry import PASS, ToxicKind, register


@register("latency", "latency", "jitter")
class Latency(ToxicKind):
    def chunk(self, toxic, pipe, arrived, pieces):
        pipe.conn.wait(arrived + self.delay(toxic), toxic)
        return pieces, PASS

    @staticmethod
    def delay(toxic) -> float:
        delay, jitter = toxic.attr("latency"), toxic.attr("jitter")
        if jitter > 0:
            delay += random.randint(-jitter, jitter)
        return max(delay, 0) / 1000.0
