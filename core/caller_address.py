"""Whom a per-caller budget (sign-in attempts, failed webhook deliveries) belongs to.

An IPv6 subscriber is handed a whole /64 and may take a new address per request, so an IPv6 caller is counted by its
/64; an IPv4-mapped IPv6 address is the IPv4 address it maps. Anything that is not an address (a test client's
name) is its own budget.
"""

import ipaddress

from core.constants import CALLER_IPV6_PREFIX


def caller_scope(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{CALLER_IPV6_PREFIX}", strict=False))
    return str(address)
