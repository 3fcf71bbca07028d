"""What every service shares at run time: the broker, the store, the projection, background rounds, settings, logs."""
