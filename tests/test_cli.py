"""The ``autorec-fast`` command line: every model with its own protocol, checks before any work,
one-line errors with exit code 2, --json, --seed, --save, --help."""

import functools
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autorec_fast as af
from autorec_fast.cli import main

TINY = ["--synthetic", "ml-100k", "--synthetic-users", "150"]
# 1 epoch for the gradient-trained models; DeepRec and SVAE shrunk to keep the file fast
FAST = {"ease": [], "popularity": [], "itemknn": [], "bias": [],
        "autorec": ["--epochs", "1"], "multvae": ["--epochs", "1"], "multdae": ["--epochs", "1"],
        "cdae": ["--epochs", "1"], "deeprec": ["--epochs", "1", "--param", "layers=[64]"],
        "svae": ["--epochs", "1", "--param", "embedding=32", "-p", "gru=32", "-p", "hidden=32"]}
KIND = {"autorec": "rating", "deeprec": "rating", "bias": "rating", "svae": "sequential",
        "ease": "topn", "multvae": "topn", "multdae": "topn", "cdae": "topn", "popularity": "topn",
        "itemknn": "topn"}
GRADIENT = {"autorec", "deeprec", "multvae", "multdae", "cdae", "svae"}


def run_json(capsys, *argv):
    assert main([*TINY, "--quiet", "--json", *argv]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return json.loads(out)


def test_every_model_is_listed():
    assert set(FAST) == set(af.MODELS) == set(KIND)


@pytest.mark.parametrize("model", list(FAST))
def test_every_model_runs_with_its_protocol(model, capsys):
    res = run_json(capsys, "--model", model, *FAST[model])
    kind = KIND[model]
    assert res["model"] == model and res["kind"] == kind and res["seed"] == 0
    expected = {"rating": {"rmse", "mae"}, "topn": {"recall@20", "recall@50", "ndcg@100"},
                "sequential": {"ndcg@100", "recall_nout@100", "recall_nout@10"}}[kind]
    assert set(res["metrics"]["test"]) == expected
    # held-out users are validation data for every top-N model; the rating baseline fits all of train
    parts = {"test"} if model == "bias" else {"validation", "test"}
    assert set(res["metrics"]) == parts
    for values in res["metrics"].values():
        for name, v in values.items():
            assert math.isfinite(v) and v >= 0
            assert v <= (5 if name in ("rmse", "mae") else 1)
    assert res["epochs"] == (1 if model in GRADIENT else None)
    assert {"data", "split", "train", "evaluate"} <= set(res["seconds"])
    assert "random 90/10" in res["protocol"] if kind == "rating" else "strong" in res["protocol"] \
        if kind == "topn" else "temporal" in res["protocol"]


@pytest.mark.parametrize("model,marker", [("autorec", "val_rmse"), ("multdae", "ndcg@100")])
def test_gradient_models_get_the_validation_part(model, marker, capsys):
    """Progress is on by default: one line per epoch, with the validation metric in it."""
    assert main([*TINY, "--model", model, "--epochs", "2"]) == 0
    captured = capsys.readouterr()
    epochs = [line for line in captured.err.splitlines() if " epoch " in line]  # progress: stderr
    assert len(epochs) == 2 and all(marker in line for line in epochs)
    assert "test:" in captured.out


def test_rating_model_stops_early_on_its_validation_ratings(capsys):
    res = run_json(capsys, "--model", "autorec", "--param", "epochs=300", "--param", "patience=2",
                   "--param", "hidden=20", "--param", "lr=0.05")
    assert res["epochs"] < 300


def test_quiet_and_json_keep_stdout_clean(capsys):
    assert main([*TINY, "--model", "multdae", "--epochs", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["model"] == "multdae"  # progress went to stderr
    assert "epoch 1" in err
    assert main([*TINY, "--model", "multdae", "--epochs", "1", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and [line.split(":")[0].strip() for line in out.splitlines()] == ["validation", "test"]


@pytest.mark.parametrize("model", ["autorec", "multvae", "itemknn"])
def test_seed_seeds_the_split_and_the_model(model, capsys):
    a = run_json(capsys, "--model", model, *FAST[model], "--seed", "3")
    b = run_json(capsys, "--model", model, *FAST[model], "--seed", "3")
    assert a["metrics"] == b["metrics"]
    c = run_json(capsys, "--model", model, *FAST[model], "--seed", "4")
    assert c["metrics"] != a["metrics"]


def test_seed_reaches_the_model(monkeypatch, capsys):
    seen = {}
    original = af.MultDAE.__init__

    @functools.wraps(original)  # keeps the signature the CLI checks options against
    def spy(self, *args, **kwargs):
        seen.update(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(af.MultDAE, "__init__", spy)
    run_json(capsys, "--model", "multdae", "--epochs", "1", "--seed", "7")
    assert seen["seed"] == 7


def test_params_reach_the_model(tmp_path, capsys):
    path = tmp_path / "m.npz"
    res = run_json(capsys, "--model", "autorec", "-p", "variant=user", "-p", "hidden=16", "--epochs", "1",
                   "--param", "patience=none", "--save", str(path))
    assert res["options"] == {"variant": "user", "hidden": 16, "epochs": 1, "patience": None}
    model = af.load(path)
    assert isinstance(model, af.AutoRec) and model.variant == "user" and model.hidden == 16


def test_save(tmp_path, capsys):
    path = tmp_path / "model.npz"
    assert main([*TINY, "--quiet", "--save", str(path)]) == 0
    assert isinstance(af.load(path), af.EASE)


def test_custom_metrics(capsys):
    res = run_json(capsys, "--metrics", "mrr", "precision@5")
    assert set(res["metrics"]["test"]) == {"mrr", "precision@5"}
    res = run_json(capsys, "--model", "bias", "--metrics", "mae")
    assert set(res["metrics"]["test"]) == {"mae"}


def test_svae_uses_its_temporal_protocol(capsys):
    assert main(["--model", "svae", *TINY, *FAST["svae"], "--heldout-users", "15"]) == 0
    out = capsys.readouterr().out
    assert "temporal held-out users" in out
    test_line = [line for line in out.splitlines() if line.strip().startswith("test:")][0]
    values = dict(zip(test_line.split()[1::2], map(float, test_line.split()[2::2])))
    assert set(values) == {"ndcg@100", "recall_nout@100", "recall_nout@10"}


def test_help_lists_every_model_with_its_protocol(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, cls in af.MODELS.items():
        line = [line for line in out.splitlines() if line.startswith(f"  {name} ")]
        assert len(line) == 1, name
        assert cls.__doc__.strip().splitlines()[0] in line[0]
        assert ("random 90/10" if KIND[name] == "rating" else "temporal" if KIND[name] == "sequential"
                else "strong generalization") in line[0]


@pytest.mark.parametrize("argv,message", [
    (["--model", "word2vec"], "unknown model 'word2vec'"),
    (["--metrics", "hr@1O"], "unknown metric 'hr@1O'"),
    (["--metrics", "rmse"], "ease ranks items"),                      # wrong kind, both ways
    (["--model", "autorec", "--metrics", "ndcg@100"], "autorec predicts ratings"),
    (["--model", "bias", "--metrics", "rmse", "recall@20"], "bias predicts ratings"),
    (["--model", "multvae", "--param", "hiden=3"], "multvae has no option 'hiden'"),
    (["--model", "multvae", "--param", "layers=[0]"], "multvae: layers"),     # checked by the constructor
    (["--model", "autorec", "--param", "hidden=-3"], "autorec: hidden"),
    (["--model", "cdae", "--param", "hidden"], "expected KEY=VALUE"),
    (["--model", "cdae", "--param", "seed=3"], "--seed"),
    (["--model", "ease", "--epochs", "3"], "ease has no epochs option"),
    (["--model", "autorec", "--heldout-users", "10"], "random 90/10 split"),
    (["--model", "bias", "--synthetic", "ml-20m"], "implicit feedback"),
    (["--heldout-users", "0"], "--heldout-users must be >= 1"),
    (["--synthetic", "ml-2m"], "invalid choice"),
    (["--bogus"], "unrecognized arguments"),
    (["--data", "/nonexistent/ratings.csv"], "does not exist"),
    (["--data", "/dev/null"], "not a regular file"),
    (["--save", "/nonexistent/folder/m.npz"], "--save"),
])
def test_user_errors_are_one_line_and_exit_2_before_any_work(argv, message, monkeypatch, capsys):
    def no_data(*a, **k):
        raise AssertionError("data loaded before the arguments were checked")

    monkeypatch.setattr(af, "synthetic", no_data)
    monkeypatch.setattr(af, "load_movielens", no_data)
    assert main([*TINY, *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("autorec-fast: error: ") and message in err, err


def test_data_dependent_errors_are_one_line(capsys):
    # a cut-off larger than the catalogue is known only once the data is split, still before training
    assert main([*TINY, "--quiet", "--model", "multvae", "--metrics", "recall@100000"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "exceeds" in err and "epoch" not in out


def test_console_script_refuses_a_bad_metric_before_training():
    script = Path(sys.executable).with_name("autorec-fast")
    assert script.exists(), "the console script is not installed next to the interpreter"
    t0 = time.perf_counter()
    proc = subprocess.run([str(script), "--model", "multvae", "--metrics", "hr@1O"],
                          capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("autorec-fast: error: --metrics")
    assert "Traceback" not in proc.stderr
    assert seconds < 10  # the import only: the ML-1M-shaped data would take far longer


def test_json_output_is_strict_json_when_a_value_is_not_finite(capsys, monkeypatch):
    """NaN/inf (an undefined metric, a diverged loss) are written as null, not as the
    bare NaN that strict JSON parsers reject."""
    import autorec_fast.cli as cli

    result = {"model": "ease", "test": {"ndcg@100": float("nan"), "recall@20": 0.25},
              "history": [{"loss": np.float64("inf")}, {"loss": 1.5}]}
    monkeypatch.setattr(cli, "_run", lambda *args: result)
    assert main([*TINY, "--model", "ease", "--json"]) == 0
    out = capsys.readouterr().out
    parsed = json.loads(out, parse_constant=lambda name: pytest.fail(f"bare {name} in the JSON"))
    assert parsed["test"] == {"ndcg@100": None, "recall@20": 0.25}
    assert [h["loss"] for h in parsed["history"]] == [None, 1.5]
