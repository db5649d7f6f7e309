"""Beam search over the static decoder, with ``generate``'s semantics (transformers 5 ``_beam_search``).

The same bookkeeping as transformers: per sentence, the top ``2 * num_beams`` continuations of the running
beams by accumulated log-probability; those that end (EOS or the length limit) among the top ``num_beams``
enter the finished set with score ``logprob / generated_length ** length_penalty``; the best ``num_beams``
others keep running; ``early_stopping`` (True, False or "never") decides when a sentence can no longer
improve. What differs is the work: a sentence whose result can no longer change leaves the batch
(compaction), its rows of the K/V caches with it, and the cache is reordered by a gather instead of a cache
object's ``reorder_cache``. The step is written over static buffers with the step as a tensor, so that on
CUDA the whole step (decoder, log-softmax, both top-k selections, the finished-set update and the cache
reorder) is one CUDA graph replay; the host reads one flag per sentence per step. The tests check that the
ids equal ``generate``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .decoder import cache_capacity
from .search import ScoreRules, StepProgram

NEG = -1.0e9  # transformers' "impossible" score


@dataclass(slots=True)
class BeamBuffers:
    """The search state of the sentences in the batch, ``n`` sentences of ``beams`` rows each."""

    running: torch.Tensor  # (n, beams, total) long: the running hypotheses
    running_scores: torch.Tensor  # (n, beams) float: their accumulated log-probabilities
    finished_seqs: torch.Tensor  # (n, beams, total) long: the finished set
    finished_scores: torch.Tensor  # (n, beams) float: length-normalised scores, NEG where empty
    is_finished: torch.Tensor  # (n, beams) bool
    can_improve: torch.Tensor  # (n, 1) bool
    alive: torch.Tensor  # (n,) bool: whether the sentence's result can still change
    step: torch.Tensor  # 0-d long: decoder position of the last token (generate's cur_len - 1)

    def select(self, keep: torch.Tensor) -> "BeamBuffers":
        return BeamBuffers(self.running[keep], self.running_scores[keep], self.finished_seqs[keep],
                           self.finished_scores[keep], self.is_finished[keep], self.can_improve[keep],
                           self.alive[keep], self.step.clone())


def beam_search(decoder, encoder_states, source_mask, *, num_beams: int, max_new_tokens: int, start_id: int,
                pad_id: int, rules: ScoreRules, length_penalty: float = 1.0, early_stopping: bool | str = False,
                use_graph: bool = True, defer_compaction: bool | None = None,
                cache_start: int | None = None) -> list[list[int]]:
    """The best hypothesis of each sentence: generated ids (after the start token, EOS included when reached).
    The self-attention caches start at ``cache_start`` positions and double when a step needs more."""
    device = encoder_states.device
    batch = encoder_states.shape[0]
    beams, keep_k = num_beams, max(2, 1 + len(rules.eos)) * num_beams
    total = max_new_tokens + 1  # generate's max_length: the start token plus the new tokens
    # every sentence's encoder rows repeated per beam, as generate's expand_inputs_for_generation does
    rows = torch.arange(batch, device=device).repeat_interleave(beams)
    state = decoder.prepare(encoder_states[rows], source_mask[rows],
                            cache_capacity(1, max_new_tokens, start=cache_start))
    states = _double_buffered(state)
    positions = decoder.position_rows(max_new_tokens)
    top_mask = torch.arange(keep_k, device=device) < beams
    # length ** length_penalty for every length, in double as generate computes it, then as the score dtype
    penalty = torch.tensor([max(c, 1) ** length_penalty for c in range(total + 1)], dtype=torch.float64).float()
    penalty = penalty.to(device)
    neg = torch.tensor(NEG, device=device)
    best_length_fixed = early_stopping == "never" and length_penalty > 0.0  # generate's early-stop heuristic
    stop_when_full = early_stopping is True

    running = torch.full((batch, beams, total), pad_id, dtype=torch.long, device=device)
    running[:, :, 0] = start_id
    scores0 = torch.zeros((batch, beams), device=device)
    scores0[:, 1:] = NEG
    buf = BeamBuffers(running, scores0, running.clone(), torch.full((batch, beams), NEG, device=device),
                      torch.zeros((batch, beams), dtype=torch.bool, device=device),
                      torch.ones((batch, 1), dtype=torch.bool, device=device),
                      torch.ones(batch, dtype=torch.bool, device=device),
                      torch.zeros((), dtype=torch.long, device=device))

    def step_fn(parity: int):
        b, state = buf, states[parity]
        n = b.running.shape[0]
        cur = b.step + 1  # tokens so far
        last = b.running.gather(2, b.step.view(1, 1, 1).expand(n, beams, 1)).view(n * beams)
        logits = decoder.step(last, b.step, state, positions)
        history = b.running[:, :, :int(cur)].reshape(n * beams, -1) if rules.processors is not None else None
        # each beam's best keep_k tokens, then the best keep_k of those per sentence (see ScoreRules.candidates)
        cand_scores, cand_ids = rules.candidates(logits, b.step, keep_k, history)
        cand_scores = (cand_scores.view(n, beams, keep_k) + b.running_scores[:, :, None]).view(n, beams * keep_k)
        top_scores, top_index = torch.topk(cand_scores, k=keep_k)
        from_beam = top_index // keep_k
        token = torch.gather(cand_ids.view(n, beams * keep_k), 1, top_index)
        top_seqs = torch.gather(b.running, 1, from_beam[:, :, None].expand(-1, -1, total))
        top_seqs.scatter_(2, cur.view(1, 1, 1).expand(n, keep_k, 1), token[:, :, None])
        ends = torch.isin(token, rules.eos) | (cur + 1 >= total)

        # the best non-ending continuations run on
        run_scores = top_scores + ends.float() * NEG
        next_index = torch.topk(run_scores, k=beams)[1]
        b.running.copy_(torch.gather(top_seqs, 1, next_index[:, :, None].expand(-1, -1, total)))
        b.running_scores.copy_(torch.gather(run_scores, 1, next_index))
        source_beam = torch.gather(from_beam, 1, next_index)

        # ending continuations among the top num_beams join the finished set if they beat it
        just_finished = ends & top_mask[None, :]
        scores = top_scores / penalty.index_select(0, cur.view(1))
        full = b.is_finished.all(dim=-1, keepdim=True) & stop_when_full
        scores = scores + full.float() * NEG + (~b.can_improve).float() * NEG + (~just_finished).float() * NEG
        merged_scores = torch.cat([b.finished_scores, scores], dim=1)
        pick = torch.topk(merged_scores, k=beams)[1]
        b.finished_seqs.copy_(torch.gather(torch.cat([b.finished_seqs, top_seqs], dim=1), 1,
                                           pick[:, :, None].expand(-1, -1, total)))
        b.finished_scores.copy_(torch.gather(merged_scores, 1, pick))
        b.is_finished.copy_(torch.gather(torch.cat([b.is_finished, just_finished], dim=1), 1, pick))

        # the self-attention cache rows follow their beams: gathered into the other of two cache buffers, which
        # the next step reads (one pass over the cache; an in-place reorder would need a copy back)
        order = (source_beam + torch.arange(n, device=device)[:, None] * beams).flatten()
        other = states[1 - parity]
        for source, target in zip((*state.self_k, *state.self_v), (*other.self_k, *other.self_v)):
            torch.index_select(source, 0, order, out=target)

        best_length = torch.full_like(cur, total - 1) if best_length_fixed else cur
        best_running = b.running_scores[:, :1] / penalty.index_select(0, best_length.view(1))
        worst_finished = torch.where(b.is_finished, b.finished_scores.min(dim=1, keepdim=True)[0], neg)
        b.can_improve.logical_and_((best_running > worst_finished).any(dim=-1, keepdim=True))
        open_beams = ~(b.is_finished.all(dim=-1) & stop_when_full)
        b.alive.copy_(b.can_improve[:, 0] & open_beams & ~ends.all() & (cur + 1 < total))
        b.step.add_(1)

    graph = use_graph and rules.graphable
    defer = device.type == "cuda" and graph if defer_compaction is None else defer_compaction
    # one program per cache buffer read; the caches are left out of the warm-up's restore: at step 0 they hold
    # nothing yet
    scratch = (buf.running, buf.running_scores, buf.finished_seqs, buf.finished_scores, buf.is_finished,
               buf.can_improve, buf.alive, buf.step)
    programs = [StepProgram(lambda p=p: step_fn(p), device=device, graph=graph, scratch=scratch) for p in (0, 1)]
    sentence = torch.arange(batch)  # host: original index of each sentence still in the batch
    recorded = torch.zeros(batch, dtype=torch.bool)
    best: list[list[int] | None] = [None] * batch
    for step in range(max_new_tokens):
        if step >= states[step % 2].capacity:
            # the buffer this step reads holds the positions so far; the other is all written by the reorder
            grown = states[step % 2].grown(cache_capacity(step + 1, max_new_tokens, states[step % 2].capacity))
            states = _double_buffered(grown, first=step % 2)
            programs = [StepProgram(lambda p=p: step_fn(p), device=device, graph=graph, warm_up=False) for p in (0, 1)]
        programs[step % 2]()
        alive = buf.alive.cpu()  # the one host sync of a step
        fresh = ~alive & ~recorded
        if not fresh.any():
            continue
        # a sentence's best hypothesis no longer changes once it is not alive (its later finishes score NEG)
        taken = buf.finished_seqs[fresh.to(device), 0, 1:].cpu()
        for r, seq in zip(torch.nonzero(fresh).flatten().tolist(), taken):
            best[int(sentence[r])] = seq.tolist()
        recorded |= fresh
        if not bool(alive.any()):
            break
        if defer and int(alive.sum()) > len(sentence) // 2:
            continue  # keep the captured graph until the batch halves
        # compaction: sentences whose result can no longer change leave the batch
        keep_host = torch.nonzero(alive).flatten()
        keep = keep_host.to(device)
        keep_rows = (keep[:, None] * beams + torch.arange(beams, device=device)[None, :]).flatten()
        sentence, recorded = sentence[keep_host], recorded[keep_host]
        buf = buf.select(keep)
        states = _double_buffered(states[(step + 1) % 2].select(keep_rows), first=(step + 1) % 2)
        programs = [StepProgram(lambda p=p: step_fn(p), device=device, graph=graph, warm_up=False) for p in (0, 1)]
    return [b or [] for b in best]


def _double_buffered(state, first: int = 0) -> list:
    """Two step states sharing the cross-attention keys/values, each with its own self-attention cache;
    ``state``'s caches are the ones at index ``first`` (the buffer the next step reads)."""
    from .decoder import StepState

    spare = StepState([torch.empty_like(k) for k in state.self_k], [torch.empty_like(v) for v in state.self_v],
                      state.cross_k, state.cross_v, state.source_mask)
    return [state, spare] if first == 0 else [spare, state]
