"""The data-steward web console."""
