"""Every cookie name, lifetime and page size of the dashboard, in one place."""

from typing import Final

PREFIX: Final = "/dashboard"
STATIC_PATH: Final = "/dashboard/static"

SESSION_COOKIE: Final = "ll_dashboard"
LOGIN_COOKIE: Final = "ll_dashboard_login"
"""Holds the login form's CSRF token before a session exists."""
FLASH_COOKIE: Final = "ll_dashboard_flash"

SESSION_MAX_AGE_SECONDS: Final = 8 * 60 * 60
LOGIN_MAX_AGE_SECONDS: Final = 15 * 60
FLASH_MAX_AGE_SECONDS: Final = 60
CSRF_FIELD: Final = "csrf_token"
CSRF_TOKEN_BYTES: Final = 32
SESSION_TOKEN_BYTES: Final = 32
"""The random token naming a server-side session; only its SHA-256 is stored."""

SESSION_SALT: Final = b"ledgerline.dashboard.session"
LOGIN_SALT: Final = b"ledgerline.dashboard.login"
FLASH_SALT: Final = b"ledgerline.dashboard.flash"

PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200
SEARCH_MAX_LENGTH: Final = 200
SKIP_REASON_MAX_LENGTH: Final = 500
EXPORT_AGAIN_CONFIRMED: Final = "yes"
"""The value of the export-again page's confirmation checkbox; anything else is not a confirmation."""
LIVE_REFRESH_SECONDS: Final = 10
PROGRESS_REFRESH_SECONDS: Final = 2
FAILURE_WINDOW_HOURS: Final = 24
TIMELINE_EXCERPT_CHARS: Final = 2000
MAPPING_CHOICES_LIMIT: Final = 500
SIGN_IN_LINK_PATH: Final = "/sign-in"
"""`{PREFIX}{SIGN_IN_LINK_PATH}/{token}`: a one-time sign-in link (`dashboard.sign_in_links`)."""
SIGN_IN_LINK_KEY: Final = "ledgerline:dashboard:sign-in-link:{digest}"
SIGN_IN_LINK_TTL_SECONDS: Final = 24 * 60 * 60
SIGN_IN_TOKEN_BYTES: Final = 32
