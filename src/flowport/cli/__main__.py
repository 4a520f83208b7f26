"""`python -m flowport.cli`."""

from .app import main

main()
