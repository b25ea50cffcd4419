"""nmstated: declarative host networking as a system service."""

__version__ = "0.1.0"
