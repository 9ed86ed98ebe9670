"""Publication: the read-only snapshot that BI tools read, swapped in atomically."""
