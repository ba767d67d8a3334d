"""The options the plugin adds to `locust`, defined once: the plugin registers them with Locust when a
locustfile imports it, locust_help.py does for `locust --help` (printed before any locustfile is imported), and
`locust-chaos --help` lists them too.

Like Locust's own options, each may also come from an environment variable (LOCUST_ and the flag's name in
capitals: --chaos-target is LOCUST_CHAOS_TARGET) or from a key in locust.conf (the flag without its dashes:
`chaos-target = target.yaml`); the command line wins over the environment, the environment over the file."""


def env_var(flag: str) -> str:
    """LOCUST_ + the flag in capitals, as Locust names its own (--run-time: LOCUST_RUN_TIME)."""
    return "LOCUST_" + flag.lstrip("-").upper().replace("-", "_")


def options(preset_names: list[str]) -> list[tuple[str, dict]]:
    specs = [
        ("--scenario", {"choices": preset_names, "default": "",
                        "help": "chaos scenario preset (scenarios/NAME.yaml; `locust-chaos list` shows them)"}),
        ("--chaos-scenario-file", {"default": "", "include_in_web_ui": False,
                                   "help": "path to a scenario file (instead of --scenario)"}),
        ("--chaos-target", {"default": "", "include_in_web_ui": False,
                            "help": "target profile (JSON/YAML); default: the one `locust-chaos stack up` wrote"}),
        ("--chaos-report-dir", {"default": "", "include_in_web_ui": False,
                                "help": "report directory (default reports/chaos/<scenario>-<UTC time>)"}),
        ("--chaos-seed", {"type": int, "default": None, "include_in_web_ui": False,
                          "help": "seed for the users' random choices"}),
        ("--chaos-plugin", {"action": "append", "default": [], "include_in_web_ui": False,
                            "help": "module to import that registers invariants, faults or read kinds (repeatable; "
                                    "in the environment or locust.conf a list: [a, b])"}),
        ("--chaos-quiet", {"action": "store_true", "default": False, "include_in_web_ui": False,
                           "help": "no live progress line (for CI logs); the verdict table is still printed"}),
    ]
    return [(flag, {**spec, "env_var": env_var(flag)}) for flag, spec in specs]


def describe(preset_names: list[str]) -> str:
    lines = ["Options the plugin adds to `locust -f LOCUSTFILE` (a locustfile that imports chaos_hooks); each also "
             "from the environment variable shown or a locust.conf key (the flag without its dashes):"]
    for flag, spec in options(preset_names):
        lines.append(f"  {flag:<24}{spec['help']} [env {spec['env_var']}]")
    return "\n".join(lines)


def add_to(parser, preset_names: list[str]) -> None:
    """Adds the options to Locust's parser once, whichever of the two ways gets there first."""
    for flag, spec in options(preset_names):
        if flag not in parser._option_string_actions:
            parser.add_argument(flag, **spec)
