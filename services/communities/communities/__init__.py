"""Agora's communities service: the registry of every community, internal and external."""
