"""CPU inference helpers: oneDNN linear layers with packed weights, glibc malloc reuse."""

import os
import platform
import subprocess
import sys

import pytest
import torch

from mtkit.cpu import PackedLinears, reuse_freed_memory


@pytest.fixture(autouse=True)
def seeded():
    """The same random layers and inputs on every run: the comparisons below have tolerances."""
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def pack_any_size(request, monkeypatch):
    """The tests' layers are small; packing is checked on them as on real ones (see the size test)."""
    if "default_size" not in request.node.name:
        monkeypatch.setattr(PackedLinears, "MIN_MACS", 0)


def test_small_products_go_to_f_linear_at_the_default_size():
    """Below about a million multiply-adds oneDNN's call overhead outweighs its faster GEMM."""
    linears, small, big = PackedLinears(), torch.nn.Linear(64, 64), torch.nn.Linear(512, 2048)
    with torch.no_grad():
        assert not linears.packs(torch.randn(16, 64), small.weight)  # 65k multiply-adds
        assert linears.packs(torch.randn(1, 512), big.weight)  # 1M
        assert linears.module(small, torch.randn(2, 3, 64)).shape == (2, 3, 64)
        linears.module(big, torch.randn(1, 512))
    assert list(linears._packed) == [id(big.weight)]


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


def test_a_weight_onednn_refuses_goes_to_f_linear_with_one_warning(monkeypatch, caplog):
    """The oneDNN ops are private to torch: a weight they refuse is served by F.linear (a warning, once), and
    other weights stay packed; an empty layer never reaches them."""
    real = torch.ops.mkldnn._reorder_linear_weight
    refused = torch.nn.Linear(8, 4)

    def reorder(weight, batch_size=None):
        if weight.shape == refused.weight.shape:
            raise RuntimeError("no oneDNN format for this one")
        return real(weight, batch_size)

    monkeypatch.setattr(torch.ops.mkldnn, "_reorder_linear_weight", reorder)
    monkeypatch.setattr(PackedLinears, "_warned", False)
    linears, other, empty = PackedLinears(), torch.nn.Linear(8, 6), torch.nn.Linear(8, 0)
    x = torch.randn(2, 8)
    with torch.no_grad(), caplog.at_level("WARNING", logger="mtkit"):
        for _ in range(2):
            assert torch.equal(linears.module(refused, x), refused(x))
            torch.testing.assert_close(linears.module(other, x), other(x), rtol=1e-5, atol=1e-5)
            assert linears.module(empty, x).shape == (2, 0)
    assert caplog.text.count("no oneDNN format for this one") == 1
    assert linears._packed[id(refused.weight)][2] is None and linears._packed[id(other.weight)][2] is not None
    assert id(empty.weight) not in linears._packed


def test_packed_linears_follow_new_storage_and_forget_dead_weights():
    """``p.data = ...`` (and ``.to(dtype)`` and back) keeps the Parameter and its version: the storage tells; a
    weight that is gone takes its packed copy with it."""
    import gc

    linears, layer = PackedLinears(), torch.nn.Linear(16, 8)
    x = torch.randn(3, 16)
    with torch.no_grad():
        linears.module(layer, x)
        layer.weight.data = layer.weight.data * 3
        torch.testing.assert_close(linears.module(layer, x), layer(x), rtol=1e-5, atol=1e-5)
        layer.to(torch.bfloat16).to(torch.float32)
        torch.testing.assert_close(linears.module(layer, x), layer(x), rtol=1e-5, atol=1e-5)
    assert len(linears._packed) == 1
    del layer
    gc.collect()
    assert linears._packed == {}


def test_new_storage_at_the_old_storages_address_is_repacked():
    """New storage with the old one's address, version and shape (the allocator reusing a freed block after
    ``.to(bf16).to(fp32)``; forced here with a second storage over the same memory): the packed copy was stale."""
    linears, layer = PackedLinears(), torch.nn.Linear(16, 8)
    x = torch.randn(3, 16)
    with torch.no_grad():
        linears.module(layer, x)
        array = layer.weight.data.numpy()
        alias = torch.from_numpy(array)  # another storage over the same memory
        array *= 3  # new values, no version bump
        layer.weight.data = alias
        torch.testing.assert_close(linears.module(layer, x), layer(x), rtol=1e-5, atol=1e-5)


def test_applied_to_overlapping_blocks_restore_once_the_last_ends():
    """Two threads translating with one model: blocks over one module overlap; the layers stay patched until the
    last block ends, then none is left with an instance forward (before, the second exit raised AttributeError)."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    first, second = PackedLinears().applied_to(model), PackedLinears().applied_to(model)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first thread is done while the second still translates
    assert all("forward" in vars(m) for m in (model[0], model[2]))
    x = torch.randn(2, 4)
    with torch.no_grad():
        torch.testing.assert_close(model(x), torch.nn.functional.linear(torch.relu(
            torch.nn.functional.linear(x, model[0].weight, model[0].bias)), model[2].weight, model[2].bias))
    second.__exit__(None, None, None)
    assert not any("forward" in vars(m) for m in model.modules())
    with PackedLinears().applied_to(model, "cuda:0"):  # off the CPU: nothing changes
        assert not any("forward" in vars(m) for m in model.modules())


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
    a time with 4 KiB pages) unless told to keep freed blocks; with reuse_freed_memory the blocks are reused."""
    def faults(tuned: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "THP_MEM_ALLOC_ENABLE"}
        run = subprocess.run([sys.executable, "-c", _FAULTS, tuned], capture_output=True, text=True, check=True,
                             env=env)
        changed, count = run.stdout.split()
        return changed, int(count)

    changed, tuned = faults("1")
    if changed != "True":
        pytest.skip("this glibc takes no mmap threshold of that size")
    untuned = faults("0")[1]
    assert untuned > 0 and tuned * 10 < untuned


def test_reuse_freed_memory_leaves_a_users_malloc_settings(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert reuse_freed_memory.__wrapped__() is False  # past the once-a-process cache
