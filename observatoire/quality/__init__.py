"""Response quality with Great Expectations: suites per wave, validation, offline Data Docs."""
