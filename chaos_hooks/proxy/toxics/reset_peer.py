"""reset_peer: after `timeout` ms, closes the connection with a TCP RST."""
import time

from .registry import END, PASS, ToxicKind, register


@register("reset_peer", "timeout")
class ResetPeer(ToxicKind):
    def chunk(self, toxic, pipe, arrived, pieces):
        if pipe.conn.wait(time.monotonic() + toxic.attr("timeout") / 1000.0, toxic):
            pipe.conn.close(reset=True)
            return [], END
        return pieces, PASS  # removed while waiting: the chunk goes on
