"""Personal access tokens: a user's long-lived, scoped credential for scripts."""
