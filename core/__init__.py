"""Shared parts: settings, errors, model factories and their installation."""
