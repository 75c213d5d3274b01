"""Looking inside trained runs: class activation maps, feature maps, embeddings.

Every analysis reopens a finished run folder, writes its figures there, records its
numbers in metrics.json and links both from a section of report.md.
"""
