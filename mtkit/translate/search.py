"""Greedy search over the static decoder, and what greedy and beam search share: score rules and step programs.

A search step is written as tensor operations over preallocated buffers only (the token buffer, the done
flags, the step counter, the decoder's caches), with no Python value that changes from step to step. That
is what lets :class:`StepProgram` capture a whole step (decoder, score rules, token choice, bookkeeping) as
one CUDA graph: the host then does one replay per step and one small read for the stop check, nothing else.
On the CPU the same function runs eagerly, so the CPU tests check the code the GPU replays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from .decoder import cache_capacity

logger = logging.getLogger("mtkit.translate")


class ScoreRules:
    """``generate``'s logits processors for a search step, in-graph where they can be.

    The three rules every translation model needs (a minimum number of new tokens, a forced first token such
    as NLLB's target language, a forced EOS at the length limit, as Marian's config asks) are tensor
    operations keyed on the step tensor. Any other processor ``generate`` would build (repetition penalty,
    no-repeat n-grams, bad words) needs the tokens so far as a Python-sized tensor: then ``processors`` holds
    transformers' own list, applied eagerly in ``generate``'s order, and the step is not graph-captured."""

    def __init__(self, *, eos_ids: list[int], min_length: int = 0, max_length: int, forced_bos: int | None = None,
                 forced_eos: int | None = None, processors=None, device="cpu"):
        self.eos = torch.tensor(eos_ids, device=device)
        self.min_length, self.max_length = min_length, max_length
        self.forced_bos, self.forced_eos = forced_bos, forced_eos
        self.processors = processors  # transformers' LogitsProcessorList, or None

    @property
    def graphable(self) -> bool:
        return self.processors is None

    def choose(self, logits: torch.Tensor, step: torch.Tensor, tokens: torch.Tensor | None = None) -> torch.Tensor:
        """The greedy choice. Without eager processors the forced tokens are applied to the chosen ids rather
        than to a full (rows, vocab) copy of the scores: the same ids, one pass over the logits fewer."""
        if self.processors is not None:
            return self.processors(tokens, logits.float()).argmax(dim=-1)
        if self.min_length:
            logits = self.apply_min_length(logits, step)
        # argmax in the model's dtype equals argmax of its float32 copy (the conversion keeps order and ties)
        choice = logits.argmax(dim=-1)
        for position, token in ((0, self.forced_bos), (self.max_length - 1, self.forced_eos)):
            if token is not None:
                choice = torch.where(step == position, torch.full_like(choice, token), choice)
        return choice

    def candidates(self, logits: torch.Tensor, step: torch.Tensor, k: int, tokens: torch.Tensor | None = None):
        """Beam search's view of a step: for each row the ``k`` best next tokens by log-probability after the
        rules, as (log-probabilities (rows, k) float32, token ids (rows, k)).

        Why per row: the best ``k`` continuations of a sentence over all its beams are among the union of each
        beam's best ``k``, so the (rows, vocab) scores never need the running scores added nor a top-k over
        ``beams * vocab`` columns (with a 65k vocabulary those full passes were most of a beam step). The
        log-softmax reads the model's dtype and computes in float32, as ``log_softmax(logits.float())``."""
        if self.processors is not None:
            return self.processors(tokens, torch.log_softmax(logits.float(), dim=-1)).topk(k, dim=-1)
        log_probs = torch.log_softmax(logits, dim=-1, dtype=torch.float32)
        if self.min_length:
            log_probs = self.apply_min_length(log_probs, step)
        scores, ids = log_probs.topk(k, dim=-1)
        for position, token in ((0, self.forced_bos), (self.max_length - 1, self.forced_eos)):
            if token is not None:  # one finite score at that step: the forced token's, 0
                only = torch.full_like(scores[:1], float("-inf"))
                only[:, 0] = 0.0
                scores = torch.where(step == position, only, scores)
                ids = torch.where(step == position, torch.full_like(ids, token), ids)
        return scores, ids

    def apply_min_length(self, scores: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
        """MinNewTokensLengthLogitsProcessor: no EOS before ``min_length`` new tokens. In place (the scores are
        a fresh tensor of the step), touching the EOS columns only."""
        blocked = torch.where(step < self.min_length, float("-inf"), 0.0).to(scores.dtype)
        return scores.index_copy_(1, self.eos, scores.index_select(1, self.eos) + blocked)


_WARM: set = set()  # devices whose kernels a warm-up step has initialised (cuBLAS handles, workspaces)
_STREAMS: dict = {}


def _capture_stream(device):
    if device not in _STREAMS:
        _STREAMS[device] = torch.cuda.Stream(device)
    return _STREAMS[device]


class StepProgram:
    """``fn()`` — one search step over static buffers — as a CUDA graph replay on CUDA, eagerly elsewhere.

    ``scratch``: the small buffers a warm-up run changes; they are restored after it, so that capturing does
    not advance the search. Warm-up (outside the graph, as capture requires) runs once per process and
    device, on its first capture; later captures find their kernels initialised."""

    def __init__(self, fn, *, device: torch.device, graph: bool, scratch=(), warm_up: bool = True):
        self.fn = fn
        self.graph = None
        if not (graph and device.type == "cuda"):
            return
        try:
            if warm_up and device not in _WARM:
                saved = [t.clone() for t in scratch]
                stream = _capture_stream(device)  # warm up the stream the captures use (cuBLAS workspaces)
                stream.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(stream):
                    fn()
                torch.cuda.current_stream().wait_stream(stream)
                for t, s in zip(scratch, saved):
                    t.copy_(s)
                _WARM.add(device)
            # torch.cuda.graph() would also run gc.collect() and empty the allocator's cache at every capture
            # (tens of ms, and the memory freed must be allocated again); a capture per batch cannot afford that
            graph_ = torch.cuda.CUDAGraph()
            stream = _capture_stream(device)
            stream.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(stream):
                graph_.capture_begin(capture_error_mode="thread_local")
                try:
                    fn()
                finally:
                    graph_.capture_end()
            torch.cuda.current_stream(device).wait_stream(stream)
            self.graph = graph_
        except RuntimeError as exc:
            # an error inside the capture surfaces as the capture's end failing; the cause is its context
            cause = exc.__context__ or exc
            logger.warning("CUDA graph capture failed (%s: %s); decoding this batch step by step",
                           type(cause).__name__, str(cause).splitlines()[0] if str(cause) else "")
            logger.debug("capture failure", exc_info=cause)
            self.graph = None
            torch.cuda.synchronize()

    def __call__(self) -> None:
        if self.graph is not None:
            self.graph.replay()
        else:
            self.fn()


@dataclass(slots=True)
class GreedyBuffers:
    tokens: torch.Tensor  # (rows, max_length + 1) long; column 0 the start token, padding after a row's EOS
    done: torch.Tensor  # (rows,) bool
    step: torch.Tensor  # 0-d long: decoder position of the last token; the next one goes to column step + 1

    def select(self, rows: torch.Tensor) -> "GreedyBuffers":
        return GreedyBuffers(self.tokens[rows], self.done[rows], self.step.clone())


def greedy_search(decoder, encoder_states, source_mask, *, max_new_tokens: int, start_id: int, pad_id: int,
                  rules: ScoreRules, use_graph: bool = True, defer_compaction: bool | None = None,
                  cache_start: int | None = None) -> list[list[int]]:
    """Each sentence's generated ids (after the start token; EOS and padding included, the caller strips).

    Finished rows leave the batch (compaction) with their cache rows. On CUDA a compaction costs a new graph
    capture, so it waits until the batch has halved (finished rows meanwhile emit padding); on the CPU it
    happens as soon as a row finishes. The self-attention cache starts at ``cache_start`` positions and doubles
    when a step needs more (a new capture on CUDA)."""
    device = encoder_states.device
    rows = encoder_states.shape[0]
    state = decoder.prepare(encoder_states, source_mask,
                            cache_capacity(1, max_new_tokens, start=cache_start))
    positions = decoder.position_rows(max_new_tokens)
    tokens = torch.full((rows, max_new_tokens + 1), pad_id, dtype=torch.long, device=device)
    tokens[:, 0] = start_id
    buf = GreedyBuffers(tokens, torch.zeros(rows, dtype=torch.bool, device=device),
                        torch.zeros((), dtype=torch.long, device=device))
    on_cuda = device.type == "cuda"
    graph = use_graph and rules.graphable
    defer = on_cuda and graph if defer_compaction is None else defer_compaction
    pad = torch.tensor(pad_id, device=device)

    def step_fn():
        n = buf.tokens.shape[0]
        column = buf.step.view(1, 1).expand(n, 1)
        last = buf.tokens.gather(1, column).view(n)
        logits = decoder.step(last, buf.step, state, positions)
        history = buf.tokens[:, :int(buf.step) + 1] if rules.processors is not None else None
        choice = torch.where(buf.done, pad, rules.choose(logits, buf.step, history))
        buf.tokens.scatter_(1, column + 1, choice[:, None])
        buf.done.logical_or_(torch.isin(choice, rules.eos))
        buf.step.add_(1)

    program = StepProgram(step_fn, device=device, graph=graph, scratch=(buf.tokens, buf.done, buf.step))
    active = torch.arange(rows)  # original row of each row still in the batch (host side)
    results: list[list[int] | None] = [None] * rows
    recorded = torch.zeros(rows, dtype=torch.bool)  # host: rows whose result is taken (by batch position)
    for step in range(max_new_tokens):
        if step >= state.capacity:
            state = state.grown(cache_capacity(step + 1, max_new_tokens, state.capacity))
            program = StepProgram(step_fn, device=device, graph=graph, warm_up=False)
        program()
        last_step = step == max_new_tokens - 1
        done = buf.done.cpu()  # the one host sync of a step: the stop check
        if last_step:
            done[:] = True
        fresh = done & ~recorded
        if not fresh.any():
            continue
        taken = buf.tokens[fresh.to(device)].cpu()
        for r, seq in zip(torch.nonzero(fresh).flatten().tolist(), taken):
            results[int(active[r])] = seq[1:].tolist()
        recorded |= fresh
        if bool(done.all()):
            break
        remaining = int((~done).sum())
        if defer and remaining > len(active) // 2:
            continue  # keep the captured graph until the batch halves (a capture costs more than a few rows)
        keep_host = torch.nonzero(~done).flatten()
        keep = keep_host.to(device)
        active, recorded = active[keep_host], recorded[keep_host]
        buf = buf.select(keep)
        state = state.select(keep)
        program = StepProgram(step_fn, device=device, graph=graph, warm_up=False)
    return [r or [] for r in results]
