"""Coordination (Baustein 1): organisations, funding, forwarding, positions, supervision."""
