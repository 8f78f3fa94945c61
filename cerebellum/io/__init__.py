"""File formats: run directories, the results.json schema, the Markdown report and NWB."""
