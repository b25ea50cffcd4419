"""``nmstated``: the daemon's entry point."""

from nmstated.daemon import main

if __name__ == "__main__":
    raise SystemExit(main())
