"""hazardloop.log"""
