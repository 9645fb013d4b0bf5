"""The Textual app: screens, one widget per file, one stylesheet."""
