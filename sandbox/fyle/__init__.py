"""Simulator of the Fyle platform (authorization server and admin API), faithful to Fyle's published OpenAPI."""

from sandbox.fyle.simulator import FyleSimulator

__all__ = ["FyleSimulator"]
