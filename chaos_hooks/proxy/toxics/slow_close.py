"""slow_close: when the source closes, the destination is closed `delay` ms later."""
import time

from .registry import ToxicKind, register


@register("slow_close", "delay")
class SlowClose(ToxicKind):
    def end_of_stream(self, toxic, pipe):
        pipe.conn.wait(time.monotonic() + toxic.attr("delay") / 1000.0, toxic)
