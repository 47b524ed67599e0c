"""The gateway: one entry point that routes `/api/<service>/...` to each service."""
