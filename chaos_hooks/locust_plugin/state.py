"""What the plugin holds for the one run of this Locust process: the controller (master or local runner),
the target profile and journal loaded at init, and the shipping and watching greenlets."""
from chaos_hooks.common.home import state_dir


class PluginState:
    def __init__(self):
        self.active = False   # the locustfile or the command line asked for a chaos run
        self.controller = None
        self.profile = None
        self.journal = None
        self.shipper = None
        self.watcher = None

    def error_dir(self) -> str:
        return self.controller.report_dir if self.controller is not None else state_dir()

    def heal_everything(self) -> None:
        if self.controller is not None:
            self.controller.heal_all()


state = PluginState()

