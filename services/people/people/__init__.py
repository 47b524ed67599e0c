"""The people service: departments, people, their skills, roles and community experience."""
