"""`python -m api.cli`: the same as the `policy-timeline` command."""

from api.cli.main import main

main()
