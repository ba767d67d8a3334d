"""rabbitmq.close_connections: every client connection of the datastore's vhost (only `user`'s when given)
force-closed through RabbitMQ's management API — the broker-side connection kill; the harness's own
connections are left alone. Instant: nothing stays applied, the clients reconnect by themselves or not.

    - {name: drop-consumers, action: rabbitmq.close_connections, target: bus, at: 5s}
"""
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.datastores.connections import Datastores, ReadFailed
from chaos_hooks.faults.datastore import _InstantFault
from chaos_hooks.faults.registry import register


@register
class RabbitCloseConnections(_InstantFault):
    action = "rabbitmq.close_connections"
    datastore_kind = "amqp"
    params = {"user": "str"}

    def describe(self) -> str:
        who = f"{self.spec.params['user']}'s" if self.spec.params.get("user") else "every"
        return f"close {who} client connection to RabbitMQ {self.spec.target} but the harness's"

    def _call(self, fn):
        stores = Datastores({self.spec.target: self.url})
        try:
            return stores.amqp_call(self.spec.target, fn)
        except ReadFailed as err:
            raise TargetUnreachable(f"fault {self.spec.name}: {err}") from None

    def preflight(self) -> None:
        self._call(lambda broker: broker.connections())  # the management API answers, with these credentials

    def inject(self) -> dict:
        user = self.spec.params.get("user")
        return {"connections_closed": self._call(lambda broker: broker.close_connections(user=user))}
