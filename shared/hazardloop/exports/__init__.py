"""Files people open: the hazard ledger and spreadsheets Excel reads."""
