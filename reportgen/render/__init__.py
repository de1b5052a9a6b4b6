"""Renderers: the model card document to HTML and JSON bytes. They never compute metrics."""
