"""`locust -f LOCUSTFILE --help` lists the chaos options. Locust prints its help before it imports the
locustfile that would add them (locust/argument_parser.py, parse_locustfile_option), so the package installs a
one-line hook, locust_chaos_help.pth, which calls install() at interpreter start only when the program is
`locust` asked for help; any other start costs one string comparison."""
from . import locust_options


def install() -> None:
    from locust import events

    from .scenario import preset_names

    @events.init_command_line_parser.add_listener
    def _add_arguments(parser):
        locust_options.add_to(parser, preset_names())
