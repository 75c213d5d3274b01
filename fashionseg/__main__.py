"""`python -m fashionseg`: the same as the `fashionseg` command."""
from .cli import entry

entry()
