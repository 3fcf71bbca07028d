"""hazardloop_verification.api.cases"""
