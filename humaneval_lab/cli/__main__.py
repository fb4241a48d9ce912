"""`python -m humaneval_lab.cli`."""

from humaneval_lab.cli import main

main()
