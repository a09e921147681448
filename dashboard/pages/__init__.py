"""One module per dashboard page (and the actions posted from it)."""
