"""hazardloop.web"""
