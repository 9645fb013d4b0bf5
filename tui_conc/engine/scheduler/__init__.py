"""The controlled scheduler: one actor at a time, each step chosen (step mode, exploration)."""
