"""Runs under the controlled scheduler: one run judged, a search for a failing
schedule, schedules saved and replayed, and the story of a run."""
