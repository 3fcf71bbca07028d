"""Notifications' HTTP routes: inboxes, the directory and the delivery log; each only translates."""
