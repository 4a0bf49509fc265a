"""``python -m pvpp_kg``: the ``pvpp-kg`` command line, for environments without the console script."""

from pvpp_kg.cli import main

main()
