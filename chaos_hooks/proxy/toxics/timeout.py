"""timeout: drops data and closes the connection after `timeout` ms (0: never closes, data stays dropped)."""
from .registry import DROP, ToxicKind, register


@register("timeout", "timeout")
class Timeout(ToxicKind):
    def chunk(self, toxic, pipe, arrived, pieces):
        return [], DROP  # the connection's timer closes it

    def closes_after(self, toxic):
        return toxic.attr("timeout") / 1000.0 if toxic.attr("timeout") > 0 else None
