"""Verification: the safety department verifies, grades and closes out reports."""
