"""Smoke test of an installed autorec_fast wheel (run from outside the checkout)."""
import os
import sys

import autorec_fast as af

assert "site-packages" in af.__file__, af.__file__          # the installed package, not a checkout
print("autorec_fast", af.__version__, "from", os.path.dirname(af.__file__), "HAS_CUDA", af.HAS_CUDA)

data = af.synthetic("ml-100k", n_users=300, seed=0)
split = af.strong_generalization_from_ratings(data, n_heldout_users=50)
ease = af.train("ease", split.train, l2=200.0)
m = af.evaluate(ease, split.test)
print("EASE", m)
assert 0.0 < m["ndcg@100"] <= 1.0

train, test = af.random_split(data, test_fraction=0.1, seed=0)
autorec = af.train("autorec", train, epochs=3, hidden=50)
r = af.evaluate(autorec, test, metrics=["rmse", "mae"])
print("AutoRec", r)
assert 0.0 < r["rmse"] < 3.0

with open("/proc/self/maps") as f:
    gomp = sorted({line.split()[-1] for line in f if "libgomp" in line})
print("libgomp loaded:", gomp)
if "--expect-bundled-gomp" in sys.argv:
    assert gomp and all("autorec_fast.libs" in p for p in gomp), gomp
print("smoke test passed")
