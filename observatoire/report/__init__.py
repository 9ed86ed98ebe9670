"""The auditor's report: one page per wave, trends, methodology, links into the Data Docs."""
