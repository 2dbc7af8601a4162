"""Personal access tokens: create, list and revoke them; authenticate a request by one."""
