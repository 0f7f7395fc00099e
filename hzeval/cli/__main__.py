"""``python -m hzeval.cli``: the command line."""

from hzeval.cli.main import main

main()
