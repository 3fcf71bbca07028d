"""Intake's HTTP routes and pages: each parses, calls a command handler or a query, and translates the answer."""
