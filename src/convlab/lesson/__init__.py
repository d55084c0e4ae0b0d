"""The lesson as a program: labs, explanations of one output cell, exercises, the flatten arithmetic and
the catalogue of common mistakes."""
