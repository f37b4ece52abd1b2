"""Market clearing: spatial price equilibria per product, batched over ensemble members."""
