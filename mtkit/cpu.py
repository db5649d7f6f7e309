"""Inference on the CPU: linear layers through oneDNN with each weight packed once (:class:`PackedLinears`), and a
malloc that reuses the blocks it frees (:func:`reuse_freed_memory`). The packed layers made the translation engine
2.1-2.25x faster on the 2-core dev machine (same run, malloc reuse on in both; bench/RESULTS.md).

Why not ``F.linear`` (float32): for float32 on the CPU it is MKL's sgemm, which repacks the weight at every call and,
on AMD processors, runs MKL's AVX2 code. On the 2-core AMD EPYC dev machine (AVX-512) oneDNN with a pre-packed
weight ran the 128 x 512 x 65,001 output layer of an opus-mt-shaped model in 20 ms against 70 ms, the decoder's
512/2,048 layers 2.2x faster and a 7-row output layer 11x (CTranslate2 packs its weights too; that was most of
its 2x lead at beam 4 on this CPU). The ops are the ones torch.compile's CPU backend emits for a frozen model
(``torch.ops.mkldnn._reorder_linear_weight`` / ``_linear_pointwise``); being private, they are looked up
defensively: a torch without them, or a weight or input they refuse, goes to ``F.linear`` (with one warning).
Results differ from MKL's in the last bits (summation order), as any other GEMM kernel's would; the tests check
that the ids stay ``generate``'s.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading

logger = logging.getLogger("mtkit")


class PackedLinears:
    """``linear(x, weight, bias)`` = ``F.linear``, through oneDNN with ``weight`` packed at its first use when ``x``
    is a float32 CPU tensor, no gradient is wanted and the product is big enough (:attr:`MIN_MACS`); ``F.linear``
    otherwise. A weight changed in place (its version counter moves) or given new storage (``p.data = ...``,
    ``.to(dtype)`` and back) is packed again. A packed copy (as much memory again as its weight) lives as long as
    its weight does."""

    enabled = True  # False (on an instance or the class) sends everything to F.linear: the bench's same-run anchor
    # oneDNN's call costs ~14 us to F.linear's ~5 (2 cores): below about a million multiply-adds (rows x in x out)
    # F.linear won (32x32 at 16 rows: 5 vs 14 us; 512x512 at 1 row: 17 vs 23), above it oneDNN (512x2,048 at 1 row:
    # 67 vs 48 us; 256x256 at 64 rows: 53 vs 35); a toy model packed in full decoded at 0.6x F.linear's speed
    MIN_MACS = 1 << 20
    _missing = False  # set for the process when torch lacks the ops or oneDNN
    _warned = False

    def __init__(self):
        # id(weight) -> (weak reference to the weight, its (version, storage, shape) when packed, the packed weight;
        # None there for a weight oneDNN refused, which F.linear then serves)
        self._packed: dict[int, tuple] = {}

    def packs(self, x, weight) -> bool:
        import torch

        return (self.enabled and not PackedLinears._missing and x.device.type == "cpu" and x.dtype == torch.float32
                and weight.dtype == torch.float32 and x.numel() > 0 and weight.numel() > 0
                and x.numel() // x.shape[-1] * weight.numel() >= self.MIN_MACS
                and not (torch.is_grad_enabled() and weight.requires_grad))

    def __call__(self, x, weight, bias=None):
        import torch
        import torch.nn.functional as F

        packed = self._packed_weight(weight) if self.packs(x, weight) else None
        if packed is not None:
            try:
                return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")
            except RuntimeError as exc:  # private ops: whatever they refuse, F.linear computes
                self._warn(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        return F.linear(x, weight, bias)

    def module(self, linear, x):
        return self(x, linear.weight, linear.bias)

    def _packed_weight(self, weight):
        """The packed copy of ``weight``, packed now if it is new or changed; None where it cannot be packed."""
        import weakref

        import torch

        from torch.multiprocessing.reductions import StorageWeakRef

        # an inference tensor has no version counter (and cannot change outside inference mode)
        state = (-1 if weight.is_inference() else weight._version, weight.data_ptr(), tuple(weight.shape))
        storage = weight.untyped_storage()
        key = id(weight)
        held = self._packed.get(key)
        # The storage itself, weakly: `p.data = ...` and `.to(bf16).to(fp32)` give the weight new storage without a
        # new version, and the allocator can hand the new storage the old one's address (a stale packed copy, seen
        # once in CI). While the old storage lives, no other can have its address; once it is gone, repack.
        if (held is not None and held[0]() is weight and held[1] == state and not held[3].expired()
                and held[3].cdata == storage._cdata):
            return held[2]
        if not (hasattr(torch.ops.mkldnn, "_linear_pointwise") and torch.backends.mkldnn.is_available()):
            PackedLinears._missing = True
            self._warn("this torch has no oneDNN packed linear ops")
            return None
        try:
            with torch.no_grad():
                packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach(), None)
        except RuntimeError as exc:
            self._warn(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            packed = None

        def forget(_, packs=self._packed, key=key):  # the weight is gone: so is its packed copy
            packs.pop(key, None)

        self._packed[key] = (weakref.ref(weight, forget), state, packed, StorageWeakRef(storage))
        return packed

    @staticmethod
    def _warn(why: str) -> None:
        if not PackedLinears._warned:
            PackedLinears._warned = True
            logger.warning("oneDNN packed linear layers unavailable (%s): F.linear instead, about half the speed on "
                           "a CPU", why)

    @contextlib.contextmanager
    def applied_to(self, module, device="cpu"):
        """Within the block, every ``nn.Linear`` inside ``module`` computes through this object (for a model's own
        forward, such as an encoder's); their ``forward`` is an instance attribute only meanwhile. Nothing is
        changed when ``device`` (where the caller runs the model) is not the CPU. Blocks over one module may
        overlap (threads sharing a model): the first patches, the last out restores."""
        import torch

        if torch.device(device).type != "cpu":
            yield
            return
        with _PATCH_LOCK:
            users, patched = _PATCHED.get(id(module), (0, []))
            if not users:
                for layer in module.modules():
                    if type(layer) is torch.nn.Linear and "forward" not in vars(layer):
                        layer.forward = (lambda layer: lambda x: self(x, layer.weight, layer.bias))(layer)
                        patched.append(layer)
            _PATCHED[id(module)] = (users + 1, patched)
        try:
            yield
        finally:
            with _PATCH_LOCK:
                users, patched = _PATCHED.pop(id(module))
                if users > 1:
                    _PATCHED[id(module)] = (users - 1, patched)
                else:
                    for layer in patched:
                        del layer.forward


_PATCH_LOCK = threading.Lock()
_PATCHED: dict[int, tuple[int, list]] = {}  # id(module) -> (blocks inside applied_to, the layers it patched)


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@functools.cache
def reuse_freed_memory(limit: int = 256 << 20) -> bool:
    """Let this process keep the blocks of up to ``limit`` bytes it frees for reuse instead of returning each to the
    OS (glibc only; a no-op elsewhere and where the user set glibc's own malloc variables). Returns whether the
    setting is in effect; the work is done once a process.

    Why: glibc serves every allocation above its mmap threshold (at most 32 MB, adjusted as blocks are freed) with a
    fresh mapping and unmaps it on free, so PyTorch's CPU tensors of that size (a 128-row batch's 65k-vocabulary
    logits, an encoder's feed-forward activations) page-fault on every first write: on 2 cores, opus-mt-shaped
    translation spent a quarter of its time in the kernel (1.1 M page faults for 128 sentences). PyTorch's CPU
    allocator has no cache of its own; its tuning guide points to jemalloc/tcmalloc for the same reason.
    The cost: such blocks then come from the heap, and freed heap memory goes back to the OS only from the top of
    the heap (past ``limit`` bytes free there), so resident memory can stay near the process's peak (one test: 8 x
    200 MB allocated, 7 freed, 1.8 GB resident against 0.4 GB by default). Blocks over ``limit`` are still mapped
    and unmapped. Called by a :class:`~mtkit.translate.Translator` and a sentence encoder on the CPU; set
    ``MALLOC_MMAP_THRESHOLD_`` (any value) to keep glibc's own behaviour.
    """
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt, Windows)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    limit = min(limit, 2**31 - 1)  # mallopt takes a C int
    # glibc before 2.26 refuses a threshold over 32 MiB (HEAP_MAX_SIZE / 2): the largest it takes then
    for threshold in (limit, min(limit, 32 << 20)):
        if mallopt(_M_MMAP_THRESHOLD, threshold):
            mallopt(_M_TRIM_THRESHOLD, threshold)
            logger.info("glibc malloc keeps freed blocks of up to %d MiB for reuse "
                        "(set MALLOC_MMAP_THRESHOLD_ to keep your own setting)", threshold >> 20)
            return True
    return False
