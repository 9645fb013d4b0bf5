"""An exception at the top level: traceback, exit status 1."""

print("before")
raise RuntimeError("at import")
