"""The wire: events, their encoding in frames, the children's channels, the merge, traces."""
