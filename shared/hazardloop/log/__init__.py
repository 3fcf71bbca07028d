"""The event log on NATS JetStream: guarded appends, the one decide path, fast reads, a broker child process."""
