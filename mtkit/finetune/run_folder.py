"""What a saved model folder says about itself, a fine-tuning run's above all: read by ``mtkit card``.

The run folder is this stage's layout (``finetune_config.json``, ``done.json``, ``final/{merged,adapter}``,
written by :func:`~.trainer.finetune`), so its reader lives here; evaluate, upstream, only writes the card.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import DataError
from ..utils import saved_model_problem
from .config import FinetuneConfig
from .trainer import DONE


def model_dir_info(model_dir: str | Path) -> dict:
    """What a saved model folder says about itself, for the card: its name; for a model trained here (a LoRA
    adapter, a fine-tuning run's ``final`` folder) its ``base_model`` (the run's ``finetune_config.json``, else the
    adapter's ``base_model_name_or_path`` or config.json's ``_name_or_path``), the run's ``training_dataset`` and,
    for a finished run, the Training table of finetune's own card (its settings; steps and best checkpoint from
    ``done.json``); for any other folder only its ``origin``, where config.json says it was loaded from."""
    path = Path(model_dir)
    problem = saved_model_problem(path)
    if problem:
        raise DataError(f"{path}: {problem}")
    run = path.parent if path.name in ("final", "merged", "adapter") else None
    run = run.parent if run is not None and run.name == "final" else run
    info: dict = {"model_name": (run or path).name}
    # a LoRA adapter or a fine-tuning run's folder was trained from its base; any other folder's config.json only
    # says where it was loaded from (a downloaded model saved as is says its Hub name): no training claimed
    trained = (path / "adapter_config.json").is_file() or (run is not None and (run / DONE).is_file())
    for name, key in (("adapter_config.json", "base_model_name_or_path"), ("config.json", "_name_or_path")):
        if (path / name).is_file():
            base = json.loads((path / name).read_text(encoding="utf-8")).get(key)
            if base and Path(base).resolve() != path.resolve():
                info["base_model" if trained else "origin"] = base
                break
    if trained and run is not None and (run / "finetune_config.json").is_file():
        settings = json.loads((run / "finetune_config.json").read_text(encoding="utf-8"))
        info.update({k: settings[key] for k, key in (("base_model", "model"), ("training_dataset", "dataset"))
                     if settings.get(key)})
        if (run / DONE).is_file():  # the table finetune's own card has (not done.json's scores)
            metrics = json.loads((run / DONE).read_text(encoding="utf-8")).get("metrics") or {}
            info["training"] = FinetuneConfig.from_saved(settings).card_training(
                steps=metrics.get("steps"), best=metrics.get("best_checkpoint"))
    return info


__all__ = ["model_dir_info"]
