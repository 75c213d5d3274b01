"""The command line's subcommands, one thin module each (`fashionseg <name>` is `<name>.py`), and the
option plumbing every recipe command shares (`_options`)."""
