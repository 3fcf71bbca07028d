"""hazardloop.privacy"""
