"""The recipe: one experiment's components (by name) and settings (`schema.Recipe`), and input-size
schedules (`sizes`). No torch; finding recipes by name is the registry's (`fashionseg.registry.recipes`)."""
