"""Modal screens over the app: help, an actor's details, the knobs form."""
