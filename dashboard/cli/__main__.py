"""`python -m dashboard.cli`: the `reviewdeck` command without the installed script (the tests
and benches start subprocesses this way, with the interpreter they run under)."""

from dashboard.cli import main

main()
