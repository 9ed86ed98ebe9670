"""Synthetic respondent files generated from each wave's published figures (the real files
are confidential)."""
