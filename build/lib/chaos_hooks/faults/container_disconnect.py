"""container.disconnect: a container component taken off a named Docker network (a partition no proxy sits in);
healed by connecting it again with the aliases and IPv4 address it had, read before the disconnect.

    - {name: isolate-worker, action: container.disconnect, target: worker, network: shop_default, at: 5s,
       heal_after: 10s}
"""
from chaos_hooks.common.errors import ScenarioError
from chaos_hooks.faults.base import Fault
from chaos_hooks.faults.container import heal_container_record
from chaos_hooks.faults.registry import register
from chaos_hooks.targets.container import ContainerTarget


@register
class ContainerDisconnect(Fault):
    action = "container.disconnect"
    params = {"network": "str"}

    def __init__(self, spec, target):
        super().__init__(spec, target)
        self.component = target.component(spec.target, f"faults.{spec.name}.target")
        if not isinstance(self.component, ContainerTarget):
            raise ScenarioError(f"faults.{spec.name}.target: container.disconnect acts on a container component "
                                f"({{container: NAME}} or {{service: S}}); {spec.target!r} is a process")
        if not spec.params.get("network"):
            raise ScenarioError(f"faults.{spec.name}.network: container.disconnect needs the network to leave")
        self.record: dict | None = None

    def describe(self) -> str:
        return f"disconnect {self.component.name} ({self.component.locator()}) from {self.spec.params['network']}"

    def preflight(self) -> None:
        self.component.state()  # the container exists and the daemon answers

    def heal_record(self) -> dict:
        self.record = self.component.disconnect_record(self.spec.params["network"])  # journaled before acting
        return self.record

    def inject(self) -> dict:
        self.record = self.component.disconnect(self.spec.params["network"], self.record)
        return {"container_id": self.record["container_id"][:12], "network": self.record["network"],
                "ipv4_address": self.record.get("ipv4_address")}

    def heal(self) -> None:
        if self.record is not None:
            heal_container_record(self.record)

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        heal_container_record(record)
