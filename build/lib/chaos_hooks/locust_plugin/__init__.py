"""The only Locust-aware code: the plugin's event listeners (events.py), the history transport between workers
and the master, the chaos options, the help hook and the Chaos tab. Importing this package registers nothing;
`chaos_hooks.locust_plugin.events` does, and the `locust_chaos_help.pth` hook imports it whenever the program
is `locust`."""
