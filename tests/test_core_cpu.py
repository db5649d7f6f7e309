"""CPU inference helpers: oneDNN linear layers with packed weights, glibc malloc reuse."""

import os
import platform
import subprocess
import sys

import pytest
import torch

from mtkit.cpu import PackedLinears, reuse_freed_memory


def test_packed_linears_equal_f_linear_and_repack_a_changed_weight():
    torch.manual_seed(0)
    layer = torch.nn.Linear(48, 40)
    x = torch.randn(5, 3, 48)
    linears = PackedLinears()
    with torch.no_grad():
        torch.testing.assert_close(linears.module(layer, x), layer(x), rtol=1e-5, atol=1e-5)
        assert len(linears._packed) == 1
        packed = linears._packed[id(layer.weight)][2]
        linears.module(layer, x)
        assert linears._packed[id(layer.weight)][2] is packed  # packed once
        layer.weight.mul_(2)  # an in-place change (a training step) is seen
        torch.testing.assert_close(linears.module(layer, x), layer(x), rtol=1e-5, atol=1e-5)
        assert linears._packed[id(layer.weight)][2] is not packed
    # what it leaves to F.linear: gradients wanted, other dtypes
    assert not linears.packs(x, layer.weight)  # grad mode on, weight requires grad
    assert not linears.packs(x.double(), layer.weight.double().detach())
    with torch.no_grad():
        assert linears.packs(x, layer.weight)


def test_packed_linears_fall_back_to_f_linear_when_the_ops_fail(monkeypatch, caplog):
    """The oneDNN ops are private to torch: if they are missing or fail, F.linear takes over for the process."""
    def missing(*args, **kwargs):
        raise RuntimeError("no oneDNN here")

    monkeypatch.setattr(PackedLinears, "_broken", False)
    monkeypatch.setattr(PackedLinears, "_packed_weight", missing)
    layer = torch.nn.Linear(8, 4)
    x = torch.randn(2, 8)
    with torch.no_grad(), caplog.at_level("INFO", logger="mtkit"):
        assert torch.equal(PackedLinears()(x, layer.weight, layer.bias), layer(x))
    assert PackedLinears._broken and "no oneDNN here" in caplog.text


_FAULTS = """
import resource, sys
import torch
from mtkit.cpu import reuse_freed_memory
print(reuse_freed_memory() if sys.argv[1] == "1" else False)
for _ in range(10):  # the heap settles first (glibc places the first aligned blocks past the freed ones)
    torch.empty(64 << 18).fill_(1.0)  # 64 MB
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    torch.empty(64 << 18).fill_(1.0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_reuse_freed_memory_stops_page_faults_on_large_tensors():
    """A 64 MB tensor allocated and freed again and again: glibc maps and unmaps it each time (16,384 page faults
    a time) unless told to keep freed blocks; with reuse_freed_memory the blocks are reused (no new faults)."""
    def faults(tuned: str):
        run = subprocess.run([sys.executable, "-c", _FAULTS, tuned], capture_output=True, text=True, check=True,
                             env={k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")})
        changed, count = run.stdout.split()
        return changed, int(count)

    assert faults("1")[0] == "True"
    assert faults("1")[1] < 2_000
    assert faults("0")[1] > 100_000  # what the tuning saves: 10 x 64 MB / 4 KiB pages


def test_reuse_freed_memory_leaves_a_users_malloc_settings(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert reuse_freed_memory.__wrapped__() is False  # past the once-a-process cache
