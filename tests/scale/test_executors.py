"""Executors without a cluster: the local executor's batches and order, names and options, a missing ray."""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mtkit.cli import main
from mtkit.corpus.steps import AlignPairs
from mtkit.errors import BackendError, ConfigError
from mtkit.scale import LocalExecutor, Step, get_executor
from mtkit.translate import TranslatorSpec


@dataclass
class Tag(Step):
    NAME = "tag"
    label: str
    batch_size: int = 2

    def __post_init__(self):
        self.calls: list[list] = []

    def __call__(self, items):
        self.calls.append(list(items))
        return [f"{item}{self.label}" for item in items]


def test_local_executor_streams_batches_in_order():
    first, second = Tag("a", batch_size=2), Tag("b", batch_size=3)
    out = LocalExecutor().map([first, second], iter(["x", "y", "z", "w", "v"]))
    assert next(out) == "xab" and first.calls == [["x", "y"], ["z", "w"]]  # pulled only what the first result needed
    assert list(out) == ["yab", "zab", "wab", "vab"]
    assert second.calls == [["xa", "ya", "za"], ["wa", "va"]]


@pytest.mark.parametrize("name, options, message", [
    ("local", {"address": "auto"}, "address= / --address only apply to the ray executor (name='ray' / --executor ray)"),
    ("local", {"num_workers": 2, "num_gpus": 1}, "num_workers= / --num-workers, num_gpus= / --num-gpus only apply "
     "to the ray executor (name='ray' / --executor ray)"),
    ("local", {"num_workers": 0}, "num_workers= / --num-workers only apply"),  # 0 was taken as not given
    ("local", {"address": ""}, "address= / --address only apply"),
    ("ray", {"address": " "}, "address= / --address is empty"),
    ("slurm", {}, "unknown executor 'slurm'; known: local, ray"),
    ("ray", {"num_workers": 0}, "num_workers=0 / --num-workers 0 must be >= 1"),
    ("ray", {"num_workers": 3, "num_gpus": 2}, "with num_gpus=2 / --num-gpus 2 there is one worker per GPU; "
     "num_workers=3 / --num-workers 3 does not match"),
])
def test_executor_options_are_checked(name, options, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        get_executor(name, **options)


def test_ray_options_and_defaults():
    assert get_executor("local").gpu is None  # this process looks for a GPU itself
    ray = get_executor("ray", num_gpus=2, address="auto")
    assert (ray.num_workers, ray.gpu, ray.describe()) == (2, True, "ray(auto, 2 workers, 2 GPUs)")
    assert get_executor("ray").num_workers == 1


def test_a_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray.data", None)  # import ray.data raises ImportError
    with pytest.raises(BackendError, match=r'ray\[data\] is not installed; pip install "mtkit\[ray\]"'):
        get_executor("ray")


def test_no_cluster_at_the_address_is_a_clear_error(monkeypatch, tmp_path, capsys):
    import ray

    def no_cluster(address=None, **kwargs):  # what ray.init says when nothing runs at the address
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # as in a fresh `mtkit` process
    monkeypatch.setattr(ray, "init", no_cluster)
    (tmp_path / "in.txt").write_text("公安部\n", encoding="utf-8")
    assert main(["translate", str(tmp_path / "in.txt"), "--model", "m", "--out", str(tmp_path / "o.txt"),
                 "--executor", "ray", "--address", "auto"]) == 2
    assert capsys.readouterr().err == ("mtkit translate: error: cannot join the Ray cluster at 'auto': Could not find "
                                       "any running Ray instance. (start it with `ray start --head` on the head and "
                                       "`ray start --address=HEAD:6379` on the others)\n")


def test_an_address_where_nothing_answers_fails_in_seconds(monkeypatch):
    import socket

    import ray

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: pytest.fail("ray.init retries such an address for 14 minutes"))
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(BackendError, match=f"cannot join the Ray cluster at '{address}': nothing answers there"):
            get_executor("ray", address=address).start()


def test_a_malformed_address_is_a_config_error(monkeypatch):
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # Ray itself refuses the format, at once
    with pytest.raises(ConfigError, match=re.escape("address='nonsense' / --address nonsense: Invalid address "
                                                    "format: nonsense; give auto, HOST:PORT or ray://HOST:PORT")):
        get_executor("ray", address="nonsense").start()


@pytest.mark.parametrize("flags, level", [([], "WARNING"), (["-q"], "WARNING"), (["-v"], "INFO")])
def test_ray_logs_at_mtkits_verbosity(monkeypatch, tmp_path, flags, level):
    import logging

    import ray

    levels = []

    def init(**kwargs):
        levels.append(logging.getLevelName(kwargs["logging_level"]))
        raise ConnectionError("no Ray here")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    (tmp_path / "in.txt").write_text("公安部\n", encoding="utf-8")
    assert main([*flags, "translate", str(tmp_path / "in.txt"), "--model", "m", "--out", str(tmp_path / "o.txt"),
                 "--executor", "ray"]) == 2
    assert levels == [level]  # Ray's INFO lines outnumbered mtkit's own output at the default level


def test_a_worker_whose_encoder_differs_stops_the_run():
    step = AlignPairs("lexical", {}, "align:bertalign|max_align:5|top_k:3|win:5|skip:-0.1|margin:yes|len_penalty:yes|"
                                     "enc:labse|mtkit:0.1.0")
    with pytest.raises(BackendError, match=r"this worker's aligner signs .*enc:lexical-v2.*, the driver's .*enc:labse"):
        step.setup()


@pytest.mark.parametrize("spec, gpu, expected", [
    (TranslatorSpec("models/opus-mt-zh-en"), True, ("cuda", "bf16", "mtkit")),
    (TranslatorSpec("models/opus-mt-zh-en"), False, ("cpu", "fp32", "mtkit")),
    (TranslatorSpec("m", backend="hf", device="cuda:1", dtype="fp16"), False, ("cuda:1", "fp16", "hf")),
])
def test_a_translator_spec_is_resolved_before_any_model_loads(spec, gpu, expected):
    resolved = spec.resolved(gpu=gpu)
    assert (resolved.device, resolved.dtype, resolved.backend) == expected
    assert resolved.resolved(gpu=not gpu) == resolved  # decided once: a worker loads what the driver signed
    assert resolved.signature(beam_size=4).startswith(f"translate:{expected[2]}|model:{Path(spec.model).name}|beam:4|"
                                                      f"dtype:{expected[1]}|src:-|tgt:-|mtkit:")


def test_a_translator_spec_with_a_bad_setting_fails_before_any_worker_starts():
    with pytest.raises(ConfigError, match="unknown dtype 'fp8'"):
        TranslatorSpec("m", dtype="fp8").resolved(gpu=False)
    with pytest.raises(ConfigError, match="unknown backend 'vllm'"):
        TranslatorSpec("m", backend="vllm").resolved(gpu=False)
