"""Reads catalog and scenario files (YAML) into validated domain objects; ships built-ins."""
