"""Rewards: every verified report gets exactly one reward decision."""
