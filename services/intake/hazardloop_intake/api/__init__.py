"""hazardloop_intake.api.reports"""
