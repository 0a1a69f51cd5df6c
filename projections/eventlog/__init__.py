"""The event log: the recorder writing events and their hash chain in one transaction, the
chain itself, durability and existence checks, bulk row writing."""
