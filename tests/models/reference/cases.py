"""The reference cases: every model, and the code paths inside each that a
refactoring could change (variants, corruptions, losses, optimizers, tied and
untied layers, re-feeding), trained 2 epochs in float64 from a fixed seed on
small synthetic data.

``make_reference.py`` stored their saved arrays in ``params_2epochs.npz`` with
the pre-redesign build (commit 59074b1); ``tests/models/test_reference_outputs.py``
trains them again and compares. Regenerate only when a change is meant to
alter results, and say so in the commit message.
"""

import autorec_fast as af

EPOCHS = 2


def data():
    ratings = af.synthetic(n_users=90, n_items=70, density=0.15, implicit=False, seed=3)
    implicit = af.synthetic(n_users=90, n_items=70, density=0.15, implicit=True, seed=4)
    return ratings, implicit


#: AutoRec's defaults when the reference outputs were stored (issue 13 changed them)
AUTOREC_BEFORE = dict(init="glorot", l2=1.0, lr=1e-3)
#: DeepRec's defaults when the reference was stored (NVIDIA's settings; issue 13 changed them)
DEEPREC_OLD_DEFAULTS = dict(activation="selu", dropout=0.8, constrained=True, refeed_steps=1,
                            optimizer="momentum", lr=0.005, momentum=0.9, lr_schedule="deeprec",
                            batch_size=128, l2=0.0, last_layer_activation=True, center=None,
                            init_scale=1.0)

CASES = {
    # name: (model, explicit data?, options)
    "autorec_item": ("autorec", True, dict(hidden=12, batch_size=16, **AUTOREC_BEFORE)),
    "autorec_user": ("autorec", True, dict(variant="user", hidden=12, batch_size=16, **AUTOREC_BEFORE)),
    "autorec_dropout_sgd": ("autorec", True, dict(hidden=12, batch_size=16, corruption="dropout",
                                                  noise=0.3, optimizer="sgd", momentum=0.9,
                                                  **{**AUTOREC_BEFORE, "lr": 1e-2})),
    "autorec_gaussian_tanh": ("autorec", True, dict(hidden=12, batch_size=16, corruption="gaussian",
                                                    noise=0.2, hidden_activation="tanh",
                                                    output_activation="sigmoid", **AUTOREC_BEFORE)),
    "autorec_rprop": ("autorec", True, dict(hidden=12, optimizer="rprop", **{**AUTOREC_BEFORE, "lr": 1e-2})),
    "cdae_negatives": ("cdae", False, dict(hidden=10, batch_size=16)),
    "cdae_full_output": ("cdae", False, dict(hidden=10, batch_size=16, negative_ratio=0)),
    "cdae_square_adagrad": ("cdae", False, dict(hidden=10, batch_size=16, loss="square",
                                                output_activation="identity", optimizer="adagrad")),
    "multvae": ("multvae", False, dict(layers=[20, 8], batch_size=16, anneal_steps=5)),
    "multdae": ("multdae", False, dict(layers=[12], batch_size=16)),
    "deeprec_refeed": ("deeprec", True, dict(DEEPREC_OLD_DEFAULTS, layers=[16, 8], batch_size=16,
                                             dropout=0.3)),
    "deeprec_sampled_untied_adam": ("deeprec", True, dict(DEEPREC_OLD_DEFAULTS, layers=[16, 8], batch_size=16,
                                                          dropout=0.3, refeed_steps=0, constrained=False,
                                                          optimizer="adam", lr=1e-3)),
    "deeprec_untied_refeed": ("deeprec", True, dict(DEEPREC_OLD_DEFAULTS, layers=[16], batch_size=16,
                                                    constrained=False, activation="elu", l2=1e-3)),
    "svae": ("svae", False, dict(embedding=8, gru=6, hidden=5, latent=4, batch_size=8,
                                 anneal_steps=5)),
    "ease": ("ease", False, dict(l2=10.0)),
}


def train_case(name):
    """The fitted model of one case (float64, seed 7)."""
    model, explicit, options = CASES[name]
    ratings, implicit = data()
    extra = {} if model == "ease" else dict(epochs=EPOCHS, seed=7)
    return af.train(model, ratings if explicit else implicit, dtype="float64", **extra, **options)
