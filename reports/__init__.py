"""Result files (results.py, their one writer) and what reads them: run data, targets,
acceptance, and the report renderers."""
