"""Inference on the CPU: linear layers through oneDNN with each weight packed once (:class:`PackedLinears`), and a
malloc that reuses the blocks it frees (:func:`reuse_freed_memory`). Together 2.3x the translation engine's speed
on the 2-core dev machine (bench/RESULTS.md).

Why not ``F.linear`` (float32): for float32 on the CPU it is MKL's sgemm, which repacks the weight at every call and,
on AMD processors, runs MKL's AVX2 code. On the 2-core AMD EPYC dev machine (AVX-512) oneDNN with a pre-packed
weight ran the 128 x 512 x 65,001 output layer of an opus-mt-shaped model in 20 ms against 70 ms, the decoder's
512/2,048 layers 2.2x faster and a 7-row output layer 11x (CTranslate2 packs its weights too; that was most of
its 2x lead at beam 4 on this CPU). The ops are the ones torch.compile's CPU backend emits for a frozen model
(``torch.ops.mkldnn._reorder_linear_weight`` / ``_linear_pointwise``); being private, they are looked up
defensively, and the first failure turns them off for the process, leaving ``F.linear``. Results differ from
MKL's in the last bits (summation order), as any other GEMM kernel's would; the tests check that the ids stay
``generate``'s.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os

logger = logging.getLogger("mtkit")


class PackedLinears:
    """``linear(x, weight, bias)`` = ``F.linear``, through oneDNN with ``weight`` packed at its first use when ``x``
    is a float32 CPU tensor and no gradient is wanted; ``F.linear`` otherwise. A weight changed in place (its
    version counter moves) is packed again. Keeps a packed copy of every weight it has seen (as much memory
    again as those weights) for as long as it lives."""

    enabled = True  # False (on an instance or the class) sends everything to F.linear: the bench's same-run anchor
    _broken = False  # set for the process when the private ops are missing or fail

    def __init__(self):
        self._packed: dict[int, tuple] = {}  # id(weight) -> (weight, its version, packed weight)

    def packs(self, x, weight) -> bool:
        import torch

        return (self.enabled and not PackedLinears._broken and x.device.type == "cpu" and x.dtype == torch.float32
                and weight.dtype == torch.float32 and not (torch.is_grad_enabled() and weight.requires_grad))

    def __call__(self, x, weight, bias=None):
        import torch
        import torch.nn.functional as F

        if not self.packs(x, weight):
            return F.linear(x, weight, bias)
        try:
            return torch.ops.mkldnn._linear_pointwise(x, self._packed_weight(weight), bias, "none", [], "")
        except (AttributeError, RuntimeError) as exc:  # a torch without the ops, or without oneDNN
            PackedLinears._broken = True
            logger.info("oneDNN packed linear layers unavailable (%s: %s); using F.linear", type(exc).__name__,
                        str(exc).splitlines()[0] if str(exc) else "")
            return F.linear(x, weight, bias)

    def module(self, linear, x):
        return self(x, linear.weight, linear.bias)

    def _packed_weight(self, weight):
        import torch

        held = self._packed.get(id(weight))
        if held is None or held[0] is not weight or held[1] != weight._version:
            with torch.no_grad():
                packed = torch.ops.mkldnn._reorder_linear_weight(weight.detach(), None)
            held = self._packed[id(weight)] = (weight, weight._version, packed)
        return held[2]

    @contextlib.contextmanager
    def applied_to(self, module, device="cpu"):
        """Within the block, every ``nn.Linear`` inside ``module`` computes through this object (for a model's own
        forward, such as an encoder's); their ``forward`` is an instance attribute only meanwhile. Nothing is
        changed when ``device`` (where the caller runs the model) is not the CPU."""
        import torch

        if torch.device(device).type != "cpu":
            yield
            return
        patched = []
        for layer in module.modules():
            if type(layer) is torch.nn.Linear and "forward" not in vars(layer):
                layer.forward = (lambda layer: lambda x: self(x, layer.weight, layer.bias))(layer)
                patched.append(layer)
        try:
            yield
        finally:
            for layer in patched:
                del layer.forward


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


@functools.cache
def reuse_freed_memory(limit: int = 1 << 30) -> bool:
    """Let this process reuse the large blocks it frees instead of returning them to the OS (glibc only; a no-op
    elsewhere and where the user set glibc's own malloc variables). Returns whether the setting is in effect; the
    work is done once a process.

    Why: glibc serves every allocation above its mmap threshold (at most 32 MB, adjusted as blocks are freed) with a
    fresh mapping and unmaps it on free, so PyTorch's CPU tensors of that size (a 128-row batch's 65k-vocabulary
    logits, an encoder's feed-forward activations) page-fault on every first write: on 2 cores, opus-mt-shaped
    translation spent a quarter of its time in the kernel (1.1 M page faults for 128 sentences). PyTorch's CPU
    allocator has no cache of its own; its tuning guide points to jemalloc/tcmalloc for the same reason. Freed
    blocks up to ``limit`` bytes stay in the heap (raises resident memory by up to ``limit`` after a peak). The
    CLI calls this, and so does a :class:`~mtkit.translate.Translator` on the CPU; set ``MALLOC_MMAP_THRESHOLD_``
    (any value) to keep glibc's own behaviour.
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
    done = bool(mallopt(_M_MMAP_THRESHOLD, limit)) and bool(mallopt(_M_TRIM_THRESHOLD, limit))
    if done:
        logger.info("glibc malloc keeps freed blocks of up to %d MiB for reuse "
                    "(set MALLOC_MMAP_THRESHOLD_ to keep your own setting)", limit >> 20)
    return done
