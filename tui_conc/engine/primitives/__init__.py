"""Instrumented primitives: real locks, queues, events, sockets… that report events."""
