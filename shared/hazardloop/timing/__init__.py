"""Time: the clock services read, the closed loop's deadlines, arithmetic that saturates."""
