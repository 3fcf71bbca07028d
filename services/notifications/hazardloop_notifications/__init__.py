"""Notifications: the reporter hears about every step of their report."""
