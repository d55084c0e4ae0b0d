"""How results show themselves in a notebook: HTML built as plain strings, small PNG plots.

Result classes call these from their ``_repr_html_`` and ``_repr_png_`` methods, so a notebook
(or any front end that asks for rich output) shows tables and pictures; nothing here imports IPython.
"""
