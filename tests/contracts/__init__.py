"""One contract suite per port, run against the in-memory fake and the SQL adapters."""
