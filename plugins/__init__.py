"""fashionseg's built-in plugins, registered through the `fashionseg` entry-point group
exactly as a third-party package would be. Folders say what each contributes."""
