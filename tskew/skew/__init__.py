"""Skew detection: serving data compared with the training statistics an artifact carries."""
