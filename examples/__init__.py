"""Example systems that show how to bring your own service to the harness."""
