"""hazardloop_rewards.api.rewards"""
