"""Built-in task plugins: `classification` and `segmentation`, one module (and entry point) each."""
