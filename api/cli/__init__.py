"""The `policy-timeline` command line (typer)."""
