"""``tui-conc trace``: any Python program, unmodified, with its threads, locks and queues
reported as the scenarios' runs are (no Textual here)."""
