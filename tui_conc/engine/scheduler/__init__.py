"""The controlled scheduler: one actor at a time, each step chosen (step mode, exploration)."""

#: The backends a controlled scheduler drives: threads, and gevent's greenlets.
EXPLORABLE = ("thread", "gevent")
