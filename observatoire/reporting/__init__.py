"""Parts of the auditor's report (observatoire/report.py builds the pages)."""
