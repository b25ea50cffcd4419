"""The D-Bus objects nmstated exports: one module per object."""
