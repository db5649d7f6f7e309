"""Beam search over the static decoder, with ``generate``'s semantics (transformers 5 ``_beam_search``).

The same bookkeeping as transformers: per sentence, the top ``2 * num_beams`` continuations of the running
beams by accumulated log-probability; those that end (EOS or the length limit) among the top ``num_beams``
enter the finished set with score ``logprob / generated_length ** length_penalty``; the best ``num_beams``
others keep running; ``early_stopping`` (True, False or "never") decides when a sentence can no longer
improve. What differs is the work: a sentence whose result can no longer change leaves the batch
(compaction), its rows of the K/V caches with it, and the cache is reordered by a gather instead of a cache
object's ``reorder_cache``. The tests check that the ids equal ``generate``'s.
"""

from __future__ import annotations

import torch

NEG = -1.0e9  # transformers' "impossible" score


def beam_search(decoder, encoder_states, source_mask, *, num_beams: int, max_new_tokens: int, start_id: int,
                pad_id: int, eos_ids: list[int], processors, length_penalty: float = 1.0,
                early_stopping: bool | str = False) -> list[list[int]]:
    """The best hypothesis of each sentence: generated ids (after the start token, EOS included when reached)."""
    device = encoder_states.device
    batch = encoder_states.shape[0]
    beams, keep_k = num_beams, max(2, 1 + len(eos_ids)) * num_beams
    total = max_new_tokens + 1  # generate's max_length: the start token plus the new tokens
    # every sentence's encoder rows repeated per beam, as generate's expand_inputs_for_generation does
    rows = torch.arange(batch, device=device).repeat_interleave(beams)
    state = decoder.prepare(encoder_states[rows], source_mask[rows], max_new_tokens)
    positions = decoder.position_rows(max_new_tokens)
    eos = torch.tensor(eos_ids, device=device)
    top_mask = torch.arange(keep_k, device=device) < beams

    running = torch.full((batch, beams, total), pad_id, dtype=torch.long, device=device)
    running[:, :, 0] = start_id
    finished_seqs = running.clone()
    running_scores = torch.zeros((batch, beams), device=device)
    running_scores[:, 1:] = NEG
    finished_scores = torch.full((batch, beams), NEG, device=device)
    is_finished = torch.zeros((batch, beams), dtype=torch.bool, device=device)
    can_improve = torch.ones((batch, 1), dtype=torch.bool, device=device)
    sentence = torch.arange(batch, device=device)  # original index of each sentence still in the batch
    best: list[list[int] | None] = [None] * batch

    cur = 1
    while True:
        n = running.shape[0]
        flat = running[:, :, :cur].reshape(n * beams, cur)
        logits = decoder.step(flat[:, -1], torch.tensor(cur - 1, device=device), state, positions)
        log_probs = processors(flat, torch.log_softmax(logits.float(), dim=-1))
        vocab = log_probs.shape[-1]
        log_probs = (log_probs.view(n, beams, vocab) + running_scores[:, :, None]).view(n, beams * vocab)

        # the top keep_k continuations over all beams of a sentence
        top_scores, top_index = torch.topk(log_probs, k=keep_k)
        from_beam, token = top_index // vocab, top_index % vocab
        top_seqs = torch.gather(running, 1, from_beam[:, :, None].expand(-1, -1, total)).clone()
        top_seqs[:, :, cur] = token
        ends = torch.isin(token, eos) | (cur + 1 >= total)

        # the best non-ending continuations run on
        run_scores = top_scores + ends.float() * NEG
        next_index = torch.topk(run_scores, k=beams)[1]
        running = torch.gather(top_seqs, 1, next_index[:, :, None].expand(-1, -1, total))
        running_scores = torch.gather(run_scores, 1, next_index)
        source_beam = torch.gather(from_beam, 1, next_index)

        # ending continuations among the top num_beams join the finished set if they beat it
        just_finished = ends & top_mask[None, :]
        scores = top_scores / ((cur + 1 - 1) ** length_penalty)
        full = is_finished.all(dim=-1, keepdim=True) & (early_stopping is True)
        scores = scores + full.float() * NEG + (~can_improve).float() * NEG + (~just_finished).float() * NEG
        merged_scores = torch.cat([finished_scores, scores], dim=1)
        pick = torch.topk(merged_scores, k=beams)[1]
        finished_seqs = torch.gather(torch.cat([finished_seqs, top_seqs], dim=1), 1, pick[:, :, None].expand(-1, -1, total))
        finished_scores = torch.gather(merged_scores, 1, pick)
        is_finished = torch.gather(torch.cat([is_finished, just_finished], dim=1), 1, pick)

        # reorder the self-attention cache rows to follow their beams
        order = (source_beam + torch.arange(n, device=device)[:, None] * beams).flatten()
        state.self_k = [k.index_select(0, order) for k in state.self_k]
        state.self_v = [v.index_select(0, order) for v in state.self_v]

        cur += 1
        # generate's early-stop heuristic
        if early_stopping == "never" and length_penalty > 0.0:
            best_length = total - 1
        else:
            best_length = cur - 1
        best_running = running_scores[:, :1] / (best_length ** length_penalty)
        worst_finished = torch.where(is_finished, finished_scores.min(dim=1, keepdim=True)[0], torch.tensor(NEG, device=device))
        can_improve = can_improve & (best_running > worst_finished).any(dim=-1, keepdim=True)
        open_beams = ~(is_finished.all(dim=-1) & (early_stopping is True))
        alive = can_improve[:, 0] & open_beams
        if bool(ends.all()) or cur >= total:
            alive[:] = False
        if bool(alive.all()):
            continue
        for r in torch.nonzero(~alive).flatten().tolist():
            best[sentence[r].item()] = finished_seqs[r, 0, 1:].tolist()
        if not bool(alive.any()):
            break
        # compaction: sentences whose result can no longer change leave the batch
        keep = torch.nonzero(alive).flatten()
        keep_rows = (keep[:, None] * beams + torch.arange(beams, device=device)[None, :]).flatten()
        sentence, running, running_scores = sentence[keep], running[keep], running_scores[keep]
        finished_seqs, finished_scores, is_finished = finished_seqs[keep], finished_scores[keep], is_finished[keep]
        can_improve = can_improve[keep]
        state = state.select(keep_rows)
    return [b or [] for b in best]
