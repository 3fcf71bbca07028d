"""hazardloop.tools"""
