"""Observability of the training loop (models/_training.py, _progress.py): verbose levels,
progress bars on stderr, the "autorec_fast" logger, the callbacks list, and plot_history."""

import logging

import numpy as np
import pytest

import autorec_fast as af
from helpers import GRADIENT_SMALL, data_for, small_datasets
from autorec_fast import _progress

SMALL = GRADIENT_SMALL


@pytest.fixture(scope="module")
def datasets():
    return small_datasets()


@pytest.mark.parametrize("name", [*sorted(SMALL), "ease", "popularity", "itemknn", "bias"])
def test_verbose_0_prints_nothing(name, datasets, capsys):
    options = SMALL.get(name, {})
    data = data_for(name, datasets)
    af.train(name, data, **({"epochs": 2} if name in SMALL else {}), **options)
    af.train(name, data, verbose=0, **({"epochs": 2} if name in SMALL else {}), **options)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("verbose", [-1, 3, 1.5, "yes", None])
def test_verbose_must_be_0_1_2_or_a_bool(verbose):
    with pytest.raises((TypeError, ValueError), match="verbose"):
        af.AutoRec(verbose=verbose)
    with pytest.raises((TypeError, ValueError), match="verbose"):
        af.EASE(verbose=verbose)


def test_verbose_1_draws_a_progress_bar_on_stderr(datasets, capsys):
    train, val = af.random_split(datasets[0], 0.2, seed=3)
    model = af.train("autorec", train, validation=val, epochs=3, verbose=1, **SMALL["autorec"])
    out, err = capsys.readouterr()
    assert out == ""
    assert "AutoRec" in err and "3/3" in err and "epoch" in err  # the bar: n/total and the unit
    assert "loss=" in err and "val_rmse=" in err  # the postfix: loss and the validation metric
    assert "<" in err  # tqdm's elapsed<remaining (the ETA)
    assert err.count("\n") <= 2  # one bar redrawn, not a line per epoch
    assert model.verbose == 1 and af.AutoRec(verbose=True).verbose == 1


def test_verbose_2_adds_a_line_per_epoch_and_batch_bars(datasets, capsys):
    af.train("multdae", datasets[1], epochs=3, verbose=2, **SMALL["multdae"])
    _, err = capsys.readouterr()
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("[autorec_fast] MultDAE")]
    assert [line.split()[3] for line in lines] == ["1/3", "2/3", "3/3"]  # "epoch N/total"
    assert "batch" in err  # the bar over each epoch's batches


def test_without_tqdm_verbose_writes_one_line_per_epoch(datasets, capsys, monkeypatch):
    monkeypatch.setattr(_progress, "_tqdm", None)
    af.train("cdae", datasets[1], epochs=3, verbose=1, **SMALL["cdae"])
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 3 and all(line.startswith("[autorec_fast] CDAE epoch ") for line in lines)
    assert "epoch 3/3" in lines[-1] and "loss" in lines[-1] and "ETA 00:00" in lines[-1]


def test_ease_and_baselines_report_on_stderr_when_verbose(datasets, capsys):
    af.train("ease", datasets[1], l2=10.0, verbose=True)
    af.train("itemknn", datasets[1], verbose=1)
    out, err = capsys.readouterr()
    assert out == ""
    assert "[autorec_fast] EASE: fitted in" in err and "[autorec_fast] ItemKNN:" in err


def test_logging_one_info_record_per_epoch(datasets, caplog):
    train, val = af.random_split(datasets[0], 0.2, seed=3)
    with caplog.at_level(logging.INFO, logger="autorec_fast"):
        model = af.train("autorec", train, validation=val, epochs=3, **SMALL["autorec"])
    records = [r for r in caplog.records if r.name == "autorec_fast"]
    assert [r.levelno for r in records] == [logging.INFO] * 3
    assert [r.entry for r in records] == model.history  # the history entry rides on the record
    assert all(r.model == "AutoRec" for r in records)
    assert "AutoRec epoch 2/3" in records[1].getMessage() and "val_rmse" in records[1].getMessage()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="autorec_fast"):
        af.train("autorec", train, validation=val, epochs=3, **SMALL["autorec"])
        af.train("ease", datasets[1], l2=10.0)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("training on" in m for m in debug) and any("restored the parameters" in m for m in debug)
    assert any(m.startswith("EASE:") and "users x" in m for m in debug)  # EASE's stages
    assert any(r.levelno == logging.INFO and r.getMessage().startswith("EASE: fitted in") for r in caplog.records)


def test_the_library_adds_only_a_null_handler():
    handlers = logging.getLogger("autorec_fast").handlers
    assert handlers and all(type(h) is logging.NullHandler for h in handlers)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_callbacks_run_in_order_and_false_stops(name, datasets):
    calls = []

    def first(model, entry):
        calls.append(("first", entry["epoch"]))
        entry["loss"] = "changed"  # a copy: the history keeps its own

    def second(model, entry):
        calls.append(("second", entry["epoch"]))
        return entry["epoch"] < 2  # False after epoch 2: stop

    model = af.train(name, data_for(name, datasets), epochs=5, callbacks=[first, second], **SMALL[name])
    assert calls == [("first", 1), ("second", 1), ("first", 2), ("second", 2)]
    assert [h["epoch"] for h in model.history] == [1, 2] and isinstance(model.history[0]["loss"], float)
    assert model.fit_info["stopped"] == "callback"


def test_callbacks_returning_none_or_true_continue_and_legacy_callback_still_stops_on_true(datasets):
    seen = []
    model = af.train("autorec", datasets[0], epochs=4, callbacks=[lambda m, e: None, lambda m, e: True],
                     **SMALL["autorec"])
    assert len(model.history) == 4
    model = af.train("autorec", datasets[0], epochs=4, callback=lambda m, e: e["epoch"] == 3,
                     callbacks=lambda m, e: seen.append(e["epoch"]), **SMALL["autorec"])
    assert len(model.history) == 3 and seen == [1, 2, 3]  # a single callable is a list of one


def test_callbacks_must_be_callables(datasets):
    for bad in (3, [print, 3], "f"):
        with pytest.raises(TypeError, match="callbacks"):
            af.train("autorec", datasets[0], epochs=1, callbacks=bad, **SMALL["autorec"])


def test_a_raising_callback_propagates_with_the_epoch_in_a_note(datasets):
    def fails_at_3(model, entry):
        if entry["epoch"] == 3:
            raise KeyError("boom")

    with pytest.raises(KeyError, match="boom") as info:  # the original type and message
        af.train("multdae", datasets[1], epochs=5, callbacks=[fails_at_3], **SMALL["multdae"])
    notes = getattr(info.value, "__notes__", [])
    assert any("after epoch 3" in n and "fails_at_3" in n and "MultDAE" in n for n in notes)
    with pytest.raises(ZeroDivisionError) as info:
        af.train("autorec", datasets[0], epochs=2, callback=lambda m, e: 1 / 0, **SMALL["autorec"])
    assert any("after epoch 1" in n for n in info.value.__notes__)


def test_train_routes_callbacks_to_fit(datasets):
    with pytest.raises(ValueError, match="unknown option"):
        af.train("ease", datasets[1], callbacks=[print])  # EASE has no epochs
    model = af.train("svae", datasets[1], epochs=3, callbacks=[lambda m, e: False], **SMALL["svae"])
    assert len(model.history) == 1


def test_plot_history_writes_a_png(datasets, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    split = af.strong_generalization_split(af.synthetic(n_users=120, n_items=60, density=0.15, implicit=True,
                                                        seed=5), n_heldout_users=20, seed=0)
    model = af.train("multdae", split.train, validation=split.validation, epochs=4, metric="ndcg@10",
                     **SMALL["multdae"])
    ax = model.plot_history()
    labels = [line.get_label() for line in ax.get_legend().get_lines()]
    assert labels[0] == "loss" and "ndcg@10" in labels and any("best epoch" in x for x in labels)
    path = tmp_path / "history.png"
    ax.figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig, own = plt.subplots()
    assert model.plot_history(["loss"], ax=own) is own
    with pytest.raises(ValueError, match="not in the history"):
        model.plot_history(["val_rmse"])
    with pytest.raises(ValueError, match="no training history"):
        af.train("ease", split.train, l2=10.0).plot_history()
    plt.close("all")


def test_plot_history_names_the_extra_when_matplotlib_is_missing(datasets, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    model = af.train("autorec", datasets[0], epochs=2, **SMALL["autorec"])
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"autorec_fast\[plot\]"):
        model.plot_history()


def test_fit_info_after_a_patience_stop(datasets):
    train, val = af.random_split(datasets[0], 0.2, seed=3)
    model = af.train("autorec", train, validation=val, epochs=40, patience=2, lr=0.05, hidden=16, batch_size=8)
    assert len(model.history) < 40 and model.fit_info["stopped"] == "patience"
    assert model.fit_info["best_epoch"] == model.best_epoch == len(model.history) - 2
    assert np.isfinite(model.fit_info["seconds"])
