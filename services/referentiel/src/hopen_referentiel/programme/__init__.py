"""Programme data as versioned, read-only resources; the DNS publishes new versions."""
