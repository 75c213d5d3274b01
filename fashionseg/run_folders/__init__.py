"""Run folders on disk: the folder and its files (`folder`), and a run's state from status.json
(`state`). No torch."""
