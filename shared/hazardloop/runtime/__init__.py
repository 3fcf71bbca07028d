"""hazardloop.runtime"""
