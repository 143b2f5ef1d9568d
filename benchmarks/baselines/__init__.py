"""The pure-PyTorch baselines of the benchmarks, one module per model, on one trainer (base.py).

Imported as ``baselines.<model>`` with the ``benchmarks`` folder on ``sys.path`` (see
benchmarks/common.py).
"""
