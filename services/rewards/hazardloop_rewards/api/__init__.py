"""Rewards' HTTP routes: each checks role and tenant, calls a command handler or a query, and translates the answer."""
