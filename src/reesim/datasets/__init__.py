"""Embedded world datasets (CSV files) and the schema that documents them."""
