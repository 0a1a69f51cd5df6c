"""The read models: the projector, its tables and handlers, the queries that read them,
rebuilds and the PostgreSQL projection worker."""
