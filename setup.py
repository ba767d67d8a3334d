"""Everything about the package is in pyproject.toml. This only puts locust_chaos.pth at the top of
site-packages, where Python runs .pth hooks at start: when the program is `locust`, it loads the plugin
(chaos_hooks.locust_plugin.events) before Locust parses its options, so the chaos options work from the command
line, LOCUST_* variables and locust.conf, and `locust -f LOCUSTFILE --help` lists them (Locust prints its help
before it imports the locustfile). Any other interpreter start costs one string comparison."""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HOOK = "locust_chaos.pth"
HOOK_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), HOOK)


class BuildPyWithHelpHook(build_py):
    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            self.copy_file(HOOK_PATH, os.path.join(self.build_lib, HOOK))

    def get_outputs(self, include_bytecode=True):
        hook = [] if getattr(self, "editable_mode", False) else [os.path.join(self.build_lib, HOOK)]
        return super().get_outputs(include_bytecode) + hook


class _AddHook:
    """Wraps setuptools' editable strategy: its own files, and the hook beside them."""
    def __init__(self, strategy):
        self.strategy = strategy

    def __enter__(self):
        self.strategy.__enter__()
        return self

    def __exit__(self, *exc):
        return self.strategy.__exit__(*exc)

    def __call__(self, wheel, files, mapping):
        self.strategy(wheel, files, mapping)
        with open(HOOK_PATH) as f:
            wheel.writestr(HOOK, f.read())


commands = {"build_py": BuildPyWithHelpHook}
try:
    from setuptools.command.editable_wheel import editable_wheel
except ImportError:  # a setuptools without PEP 660 editable installs
    editable_wheel = None
if editable_wheel is not None and hasattr(editable_wheel, "_select_strategy"):
    class EditableWheelWithHelpHook(editable_wheel):
        def _select_strategy(self, *args, **kwargs):
            return _AddHook(super()._select_strategy(*args, **kwargs))

    commands["editable_wheel"] = EditableWheelWithHelpHook

setup(cmdclass=commands)
