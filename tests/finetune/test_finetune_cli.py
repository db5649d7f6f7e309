"""The finetune command: YAML settings, resolved settings saved in the run, finished run not redone, errors."""

import json

from mtkit.cli import main
from mtkit.errors import DataError
from mtkit.testing import build_tiny_marian

from test_finetune_runs import write_dataset  # same folder: pytest puts it on sys.path


def test_finetune_command(tmp_path, capsys):
    model = build_tiny_marian(tmp_path / "marian")
    data = write_dataset(tmp_path / "data", n_train=16, n_dev=4, n_test=4)
    cfg = tmp_path / "ft.yaml"
    cfg.write_text("max_steps: 4\neval_steps: 2\nsave_steps: 2\nbatch_max_tokens: 256\neval_max_length: 6\n"
                   "run_name: tiny-zh-en\n")
    argv = ["finetune", "--model", str(model), "--dataset", str(data), "--config", "en-zh", "--direction", "zh->en",
            "--out", str(tmp_path / "run"), "--finetune-config", str(cfg), "--model-cards", str(tmp_path / "cards")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"final model: {tmp_path / 'run' / 'final'}" in out and "steps=4" in out and "eval_split=test" in out
    saved = json.loads((tmp_path / "run" / "finetune_config.json").read_text())
    assert (saved["max_steps"], saved["eval_steps"], saved["method"], saved["direction"]) == (4, 2, "full", "zh->en")
    assert (tmp_path / "cards" / "tiny-zh-en.md").is_file() and (tmp_path / "run" / "README.md").is_file()
    best = json.loads((tmp_path / "run" / "done.json").read_text())["metrics"]["best_checkpoint"]
    card = (tmp_path / "cards" / "tiny-zh-en.md").read_text(encoding="utf-8")
    assert f"| weights_from | {best.rsplit('/', 1)[-1]} |" in card and "| steps | 4 |" in card
    # the local model and dataset folders are named in the text, not in the Hub metadata (base_model:, datasets:)
    metadata = card.split("\n---\n")[0]
    assert str(tmp_path) not in metadata and "base_model" not in metadata and "license: unknown" in metadata
    assert f"fine-tuned from `{model}` on `{data}`" in card
    # the scores change with the decoding settings: `mtkit evaluate`'s defaults gave other numbers
    assert ("Translations decoded with beam size 1 and at most 6 tokens (`mtkit evaluate --beam 1 --max-length 6`)."
            in card)
    # `mtkit card` on the run's final model: the same Training table (the run's settings, not done.json's scores)
    chrf = {"name": "chrF2++", "score": 1.5, "signature": "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.5.1"}
    (tmp_path / "eval.json").write_text(json.dumps({"systems": {"m": {"chrf": chrf}}}))
    assert main(["card", "--model-dir", str(tmp_path / "run" / "final"), "--eval", str(tmp_path / "eval.json"),
                 "--out", str(tmp_path / "card.md"), "--languages", "zh,en", "--dataset", str(data)]) == 0
    training = card[card.index("## Training"):card.index("## Intended use")]
    assert training == ("## Training\n\n| setting | value |\n|---|---|\n| method | full |\n| learning_rate | 5e-05 |\n"
                        f"| steps | 4 |\n| weights_from | {best.rsplit('/', 1)[-1]} |\n| batch_max_tokens | 256 |\n"
                        "| gradient_accumulation | 1 |\n\n")
    assert training in (tmp_path / "card.md").read_text(encoding="utf-8")
    assert main(argv) == 0
    assert "finished already with these settings" in capsys.readouterr().out

    cfg.write_text("max_step: 4\n")
    assert main(argv) == 2
    assert "unknown fine-tuning setting(s) max_step; allowed: method," in capsys.readouterr().err


def test_finetune_command_closes_the_process_group_the_run_opened(tmp_path, monkeypatch):
    """Under torchrun the Trainer opens a process group; left open at exit, a gloo rank aborted there now and then
    (SIGABRT after a successful run). The command closes it, also when the run fails."""
    import types

    import torch.distributed as dist

    import mtkit.finetune

    def run_opening_a_group(*args, fail, **kwargs):
        dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
        if fail:
            raise DataError("dataset has no split 'train'")
        return types.SimpleNamespace(main_process=False)

    argv = ["finetune", "--model", "m", "--dataset", "d", "--config", "en-zh", "--direction", "zh->en",
            "--out", str(tmp_path / "run")]
    for fail in (False, True):
        (tmp_path / "store").unlink(missing_ok=True)
        monkeypatch.setattr(mtkit.finetune, "finetune", lambda *a, fail=fail, **k: run_opening_a_group(*a, fail=fail, **k))
        assert main(argv) == (2 if fail else 0)
        assert not dist.is_initialized()
