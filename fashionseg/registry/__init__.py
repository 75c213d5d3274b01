"""The component registry: the hooks a plugin implements (`hookspecs`), the components it
contributes (`components`, `task`), the plugin loader and lookups by name (`plugins`), and recipes by
name (`recipes`). Importing it imports no torch."""
