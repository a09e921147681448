"""The floor the web surfaces stand on: `api`, `webhooks` and `dashboard` share problem+json answers, cursors,
sign-in throttling, the OAuth start and its browser binding, and reading the app's state from here, and never import
one another."""
