"""Benchmarks for nmstated's kernel monitor, signals and Show (``make bench``)."""
