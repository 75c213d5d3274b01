"""What differs between tasks: the figures and console extras after evaluation."""
from . import classification, segmentation

TASKS = {"classification": classification, "segmentation": segmentation}


def task_module(name: str):
    return TASKS[name]
