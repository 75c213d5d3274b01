"""`python -m fashionseg`: the same as the `fashionseg` command."""
from fashionseg.cli import entry

entry()
