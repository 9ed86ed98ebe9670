"""Survey statistics: raking to population margins, design effects, linearised variance."""
