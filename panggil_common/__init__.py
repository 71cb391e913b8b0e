"""What the server, the TV display and the counter client share: value rules and reading YAML.

Standard library and PyYAML only (the project's base dependency), so a Raspberry Pi that installs
just the `display` or `counter` extra can import it without Flask or pydantic.
"""
