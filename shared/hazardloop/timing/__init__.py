"""hazardloop.timing"""
