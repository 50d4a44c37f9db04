"""Relay Process that receives before it sends; two in a ring deadlock."""
