"""The backends: actors as threads, processes, greenlets (gevent, eventlet) or bare greenlets."""
