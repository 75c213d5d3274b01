"""What differs between tasks: the figures and console extras after evaluation."""
from . import classification

TASKS = {"classification": classification}


def task_module(name: str):
    return TASKS[name]
