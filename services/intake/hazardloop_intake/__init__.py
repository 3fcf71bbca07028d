"""Intake: employees file hazard reports; the report's read model for reporters."""
