"""Where mtkit's decoding time goes: a GPU kernel profile of one graph-captured greedy step, and a host
profile (cProfile) of whole translate_batch calls. Not a benchmark (no anchor): the probe behind the
"what the profile said" column of bench/RESULTS.md.

    python3 bench/translate_profile.py            # on the GPU machine, after `source bench/gpu_setup.sh`
    python3 bench/translate_profile.py --smoke    # anywhere: the same code paths on the CPU (tiny model, eager
                                                  # steps, CPU profiler): a check that the script runs, no figures
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.translate_speed import IdVocab, build, sources  # noqa: E402
from mtkit.translate.decoder import StaticDecoder  # noqa: E402
from mtkit.translate.engine import MtkitBackend  # noqa: E402
from mtkit.translate.search import StepProgram  # noqa: E402
from mtkit.utils import length_sorted_batches  # noqa: E402


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def step_profile(model, src, rows: int, source_length: int, device: str = "cuda") -> None:
    """Time one decoder step (graph replay) for ``rows`` sentences padded to ``source_length``; list its kernels."""
    from torch.profiler import ProfilerActivity, profile

    from mtkit.utils import attention_without_cudnn

    decoder = StaticDecoder(model, "marian")
    last = sorted(src, key=len)[-rows:]
    ids = torch.tensor([s[:source_length] + [0] * (source_length - len(s[:source_length])) for s in last],
                       device=device)
    mask = (ids != 0).long()
    mask[:, 0] = 1
    with attention_without_cudnn(device):
        encoder_states = model.get_encoder()(input_ids=ids, attention_mask=mask).last_hidden_state
    state = decoder.prepare(encoder_states, mask, 48)
    positions = decoder.position_rows(48)
    tokens = torch.zeros(rows, dtype=torch.long, device=device)
    step = torch.zeros((), dtype=torch.long, device=device)
    program = StepProgram(lambda: decoder.step(tokens, step, state, positions).argmax(-1),
                          device=torch.device(device), graph=True)  # eager off CUDA
    for _ in range(3):
        program()
    sync(device)
    start = time.perf_counter()
    for _ in range(20):
        program()
    sync(device)
    seconds = (time.perf_counter() - start) / 20
    print(f"{rows} rows, source {source_length}: step {seconds * 1e3:.2f} ms = {rows / seconds:,.0f} tokens/s")
    activity = ProfilerActivity.CUDA if device == "cuda" else ProfilerActivity.CPU
    with profile(activities=[activity]) as prof:
        for _ in range(3):
            decoder.step(tokens, step, state, positions).argmax(-1)
        sync(device)
    print(prof.key_averages().table(sort_by=f"{device}_time_total", row_limit=10, max_name_column_width=70))


def host_profile(model, src, beam: int, device: str = "cuda") -> None:
    backend = MtkitBackend(model, IdVocab("marian", model.config.vocab_size))
    batches = [[src[i] for i in b] for b in length_sorted_batches(src, max_batch_size=1024)]
    backend.translate_batch(batches[0][:8], beam_size=beam, max_length=4, min_length=4)
    sync(device)
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    for batch in batches:
        backend.translate_batch(batch, beam_size=beam, max_length=48, min_length=48)
    sync(device)
    prof.disable()
    seconds = time.perf_counter() - start
    print(f"beam {beam}: {len(src) * 48 / seconds:,.0f} tokens/s; host time by function ('cpu' = waiting for the GPU):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="CPU check that the script runs: tiny model, 64 sentences, fp32, eager steps (its "
                        "figures say nothing about the GPU)")
    args = parser.parse_args()
    if args.smoke:
        device, shape, dtype, n, steps = "cpu", "tiny", torch.float32, 64, ((64, 48), (32, 48), (64, 208))
    elif not torch.cuda.is_available():
        print("needs CUDA (run on the GPU machine, or --smoke for a CPU check of the code paths)")
        return 0
    else:
        device, shape, dtype, n, steps = "cuda", "opus-mt-zh-en", torch.bfloat16, 2048, ((2048, 48), (1024, 48),
                                                                                           (2048, 208))
    with tempfile.TemporaryDirectory() as tmp, torch.inference_mode():
        model = build(shape, Path(tmp)).to(device).eval().to(dtype)
        src = sources(n, model.config.vocab_size, 0)
        for rows, length in steps:
            step_profile(model, src, rows, length, device)
            if device == "cuda":
                torch.cuda.empty_cache()
        for beam in (1, 4):
            host_profile(model, src, beam, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
