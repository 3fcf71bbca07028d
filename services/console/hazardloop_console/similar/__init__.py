"""Similar earlier reports: a blind index of descriptions, and the lookup that ranks them."""
