"""The network as data: layer kinds, the graph, layer strings, presets, torch models read, and what is
computed over a whole network (check, summary, receptive fields, tables)."""
