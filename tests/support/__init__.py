"""Helpers the tests share: a real broker, real databases, running apps and tokens."""
