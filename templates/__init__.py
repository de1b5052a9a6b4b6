"""Jinja templates and CSS of reportgen's renderers, shipped inside the wheel as `reportgen.templates`."""
