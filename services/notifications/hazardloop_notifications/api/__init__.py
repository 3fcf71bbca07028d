"""hazardloop_notifications.api.inbox"""
