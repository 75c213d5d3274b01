"""Analysis results in a run folder: merged into metrics.json under a key, and shown in
their own section of report.md, which a later run of the same analysis replaces."""
from __future__ import annotations

import re

from fashionseg.run_folders.folder import RunFolder


def update_metrics(run: RunFolder, key: str, values: dict) -> dict:
    """Merge `values` into metrics.json[key], dicts one level deep; returns the merged record."""
    metrics = run.read_json("metrics.json") if (run.path / "metrics.json").is_file() else {}
    record = dict(metrics.get(key, {}))
    for k, v in values.items():
        record[k] = {**record[k], **v} if isinstance(v, dict) and isinstance(record.get(k), dict) else v
    run.write_json("metrics.json", {**metrics, key: record})
    return record


def set_report_section(run: RunFolder, key: str, markdown: str):
    """Put `markdown` in report.md between markers named `key`, replacing an earlier version."""
    path = run.path / "report.md"
    report = path.read_text() if path.is_file() else ""
    begin, end = f"<!-- analysis:{key} -->", f"<!-- /analysis:{key} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    report = pattern.sub(lambda _: block, report) if pattern.search(report) else report.rstrip("\n") + "\n\n" + block
    run.write_text("report.md", report)
