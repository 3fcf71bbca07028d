"""The command line and what only it may do: know every service (run, rebuild, audit, demo, contracts)."""
