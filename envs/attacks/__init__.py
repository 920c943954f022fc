"""Attacks: the registry of attack texts and the named slots of the world they are injected into."""
