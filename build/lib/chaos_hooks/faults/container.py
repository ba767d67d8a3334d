"""Process faults on a container component, through the Docker API (targets/container.py): when a profile's
component is `{container: NAME}` or `{service: S}`, the process.* actions and datastore.outage act on that
container instead of a pid, so every preset that names a role runs unchanged against a compose deployment.

    process.kill      docker kill; heal: start. A container whose restart policy brings it back by itself
                      (always, unless-stopped, on-failure) has its main process SIGKILLed instead, as a crash
                      would end it: Docker restarts it, the fault records when, and the heal leaves it running
    process.term      docker stop; heal: start
    process.pause     docker pause; heal: unpause
    process.restart   docker restart; heal: make sure it runs
    datastore.outage  docker stop (mode kill) or docker pause (mode pause)

The container's ID (never its name) is journaled before the action, so a heal after a crash of the harness acts
on exactly that container; one that no longer exists is reported, not an error.
"""
from chaos_hooks.common.errors import TargetUnreachable
from chaos_hooks.faults.base import Fault
from chaos_hooks.targets import container as docker_target

DOCKER_ACTIONS = {"process.kill": "kill", "process.term": "stop", "process.pause": "pause",
                  "process.restart": "restart"}


def is_container_record(record: dict) -> bool:
    return record.get("target") == "container"


def heal_container_record(record: dict) -> str:
    try:
        return docker_target.heal_from_record(record)
    except TimeoutError as err:
        raise TargetUnreachable(str(err)) from None


class ContainerFault(Fault):
    """One Docker action on one container; built by the process and datastore families for container components."""

    def __init__(self, spec, target, component, action: str, docker_action: str):
        super().__init__(spec, target)
        self.action = action
        self.component = component
        self.docker_action = docker_action
        self.record: dict | None = None
        self.facts: dict = {}

    def describe(self) -> str:
        return f"docker {self.docker_action} {self.component.name} ({self.component.locator()})"

    def preflight(self) -> None:
        state = self.component.state()
        if not state["running"] or state["paused"]:
            raise TargetUnreachable(f"fault {self.spec.name}: {self.component.locator()} is {state['status']}, "
                                    f"not running")

    def heal_record(self) -> dict:
        info = docker_target.inspect(self.component.client, self.component.resolve())
        state = docker_target.state_from_inspect(info)
        action = self.docker_action
        if action == "kill" and state["restart_policy"] in docker_target.SELF_RESTARTING:
            action = "crash"  # let Docker's restart policy do what it is there for
        self.record = {"target": "container", "action": action, "container_id": state["id"], "name": state["name"],
                       "component": self.component.name, "docker_url": self.component.url,
                       "before": {k: state[k] for k in ("status", "pid", "started_at", "restart_count")}}
        return self.record

    def inject(self) -> dict:
        if self.record is None:
            self.heal_record()
        done = getattr(self.component, self.record["action"])()
        if done["container_id"] != self.record["container_id"]:  # compose recreated it in between
            raise TargetUnreachable(f"{self.component.locator()} changed from {self.record['container_id'][:12]} "
                                    f"to {done['container_id'][:12]} while the fault was being applied")
        self.facts = {"container": self.record["name"], "container_id": self.record["container_id"][:12],
                      "docker": self.record["action"], "pid": self.record["before"]["pid"]}
        return self.facts  # the scheduler keeps this dict: what the heal learns is added to it

    def heal(self) -> None:
        if self.record is None:
            return
        if self.record["action"] == "crash":
            noted = docker_target.note_docker_restart(self.record, self.component.client)
            self.facts["docker_restarted_at"] = noted["docker_restarted_at"]
            self.facts["restart_count"] = noted["restart_count"]
        self.facts["heal"] = heal_container_record(self.record)

    @classmethod
    def heal_from_record(cls, record: dict) -> None:
        heal_container_record(record)


def container_fault(cls, spec, target, docker_action: str | None = None):
    """The ContainerFault for a process-family class when its target component is a container, else None."""
    component = target.component(spec.target, f"faults.{spec.name}.target")
    if not isinstance(component, docker_target.ContainerTarget):
        return None
    return ContainerFault(spec, target, component, cls.action, docker_action or DOCKER_ACTIONS[cls.action])
