"""nmstatectl: the thin D-Bus client of nmstated (never imports the daemon)."""
