"""Reports: rich tables on the console and report.md (`tables`), every figure (`figures`), runs side
by side (`compare`), where the numbers came from (`provenance`), and analyses' sections merged into a
finished run's report (`sections`)."""
