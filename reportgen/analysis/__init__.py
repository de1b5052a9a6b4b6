"""Analyses over the metric tables: findings, and later comparisons and error analysis."""
