"""Deployable processes: each module wires library parts together and holds no logic of its own."""
