"""The benchmark suite behind ``convlab bench`` and ``benchmarks/run.py``.

convlab against PyTorch (and, where they apply, SciPy's FFT convolution and a
learner's plain NumPy im2col) on ResNet-18's layers and large single-channel
images, forward and backward, each library in its own worker process.

- :mod:`.cases`: the layers timed and their FLOP counts
- :mod:`.naive`: the learner's im2col, the floor
- :mod:`.peers`: how each library runs a case
- :mod:`.measure`: timing, memory and the process environment inside a worker
- :mod:`.worker`: one (library, case, pass) measurement in a fresh process
- :mod:`.overhead`: Python overhead per call on the lesson's tiny shapes
- :mod:`.runner`: the plan, the alternation over rounds and the JSON result
- :mod:`.machine`: the machine and library versions the numbers belong to
- :mod:`.report`: the markdown tables, the chart and docs/performance.md

Nothing here is imported by ``import convlab``; NumPy, PyTorch, SciPy and
matplotlib are imported only inside the functions that need them.
"""
