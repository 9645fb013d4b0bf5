"""tui-conc: a terminal playground for Python concurrency."""

__version__ = "0.1.0"
