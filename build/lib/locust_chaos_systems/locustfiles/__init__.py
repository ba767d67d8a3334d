"""The reference systems' locustfiles (and the worked example's, examples/holds): plain Locust user classes
that record each operation with chaos_hooks.history. `locust -f locustfiles/shop.py ...`."""
