"""What every HTTP surface shares: authentication, sign-in, refusals, validation at the edge, labels, assets, docs."""
