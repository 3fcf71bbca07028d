"""hazardloop.exports"""
