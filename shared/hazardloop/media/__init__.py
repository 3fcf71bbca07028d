"""hazardloop.media"""
