"""The step compiler: a scenario's steps as closures over an actor's frame."""
