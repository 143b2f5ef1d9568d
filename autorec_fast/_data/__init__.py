"""Private building blocks of the data layer.

The public modules re-export what users import:
:mod:`autorec_fast.interactions` (the :class:`Interactions` container and
:func:`as_interactions`), :mod:`autorec_fast.splits` and
:mod:`autorec_fast.datasets`.

* :mod:`.coerce`: user arrays (ids, values, timestamps) to validated NumPy arrays;
* :mod:`.csr`: index arithmetic on canonical CSR arrays (row of each entry,
  row pointers from row indices, gathers, per-row ranks, duplicate resolution);
* :mod:`.container`: the :class:`Interactions` class;
* :mod:`.holdout`, :mod:`.heldout_users`, :mod:`.from_ratings`, :mod:`.timesplit`:
  the splitting protocols;
* :mod:`.synthetic`: the synthetic data generator.
"""
