"""Placeholder: tests come with this concern."""
