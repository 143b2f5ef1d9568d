"""Reference code shared by test files in different folders (a kernel test and a
model test, or several split tests). Imported as ``helpers``: tests/conftest.py
puts this folder on ``sys.path`` (pytest runs with ``--import-mode=importlib``)."""

import numpy as np
import scipy.sparse as sp


# ----------------------------------------------------------- multinomial (Mult-VAE)

def log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


# ------------------------------------------------------------------------- EASE

def ease_reference(X, l2):
    """G = XᵀX + λI; P = G⁻¹; B = −P / diag(P) (column j by P_jj); B_jj = 0 (float64)."""
    X = sp.csr_matrix(X, dtype=np.float64)
    G = (X.T @ X).toarray() + l2 * np.eye(X.shape[1])
    P = np.linalg.inv(G)
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    return B


def random_interactions(rng, n_users, n_items, density, ratings=False):
    X = sp.random(n_users, n_items, density=density, format="csr", random_state=rng,
                  data_rvs=(lambda n: rng.integers(1, 6, n).astype(float)) if ratings else np.ones)
    return X


# ----------------------------------------------------------------------- splits

def keyed(inter):
    """{entry_order: (user_id, item_id, value, timestamp)} of an Interactions."""
    u, i, v, t = inter.to_coo_arrays()
    t = t if t is not None else np.zeros_like(u)
    return {
        int(o): (inter.user_ids[a].item(), inter.item_ids[b].item(), float(c), int(d))
        for o, a, b, c, d in zip(inter.entry_order, u, i, v, t)
    }


def row_counts(inter):
    return np.diff(inter.matrix.indptr)


# ------------------------------------------------ small settings of every model
#: small options of the gradient-trained models, without epochs (each test sets its own)
GRADIENT_SMALL = {
    "autorec": dict(hidden=8, batch_size=16),
    "cdae": dict(hidden=8, batch_size=16),
    "multvae": dict(layers=[12, 6], batch_size=16),
    "multdae": dict(layers=[8], batch_size=16),
    "deeprec": dict(layers=[8], batch_size=16, dropout=0.2),
    "svae": dict(embedding=6, gru=5, hidden=4, latent=3, batch_size=8),
}
#: small options of every model in MODELS (two epochs for the gradient-trained ones)
SMALL = {
    "ease": dict(l2=10.0),
    **{name: {**options, "epochs": 2} for name, options in GRADIENT_SMALL.items()},
    "popularity": {},
    "bias": dict(iterations=3),
    "itemknn": dict(neighbors=5),
}
#: the models that predict ratings (trained on explicit data)
RATING_MODELS = {"autorec", "deeprec", "bias"}


def small_datasets():
    """(explicit, implicit) synthetic data, 60 users x 40 items."""
    import autorec_fast as af

    return (af.synthetic(n_users=60, n_items=40, density=0.2, implicit=False, seed=1),
            af.synthetic(n_users=60, n_items=40, density=0.2, implicit=True, seed=2))


def data_for(name, datasets):
    """The explicit or the implicit part of ``small_datasets()`` for model ``name``."""
    return datasets[0] if name in RATING_MODELS else datasets[1]
