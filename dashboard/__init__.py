"""The retry dashboard: server-rendered pages for support engineers and tenant admins."""

from dashboard.router import install_dashboard

__all__ = ["install_dashboard"]
