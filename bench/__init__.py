"""Benchmarks of hazardloop, each beside a raw nats-py baseline from the same run.

Run with ``make bench`` (``python -m bench.run``); nothing here runs on import.
"""
