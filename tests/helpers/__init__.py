"""Helpers shared by the tests (a package on the tests' `pythonpath`, see pyproject.toml):
where real data is (`data`), the tiny trained runs the session fixtures train (`runs`), generated
image/mask folders (`seg_folders`) and class folders (`image_folders`), and callbacks that stop a
fit on cue (`callbacks`)."""
