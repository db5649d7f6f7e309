"""The seq2seq training loss from the logits in their own dtype: no (tokens x vocabulary) fp32 copies.

Marian adds its fp32 ``final_logits_bias`` to the logits and every model's cross-entropy runs ``log_softmax``,
which autocast upcasts: a bf16 step holds the logits in fp32 several times over (65k or 256k columns per target
token) and reads and writes them several times more. Here the bf16 logits are kept, the loss and its gradient are
computed in fp32 a slice of rows at a time (``log_softmax``/``softmax`` with ``dtype=float32`` read bf16 and do
fp32 arithmetic in one kernel), and the gradient is written in the logits' dtype.
"""

from __future__ import annotations

import torch

# model types whose forward is ``lm_head(decoder output) [+ final_logits_bias]`` and whose loss is the mean
# cross-entropy over the labels other than -100
LEAN_LOSS_TYPES = ("marian", "m2m_100", "mbart", "bart")


def lean_loss_parts(model):
    """``(transformers model, encoder-decoder body, lm_head, final_logits_bias or None)`` for a model whose loss
    :func:`seq2seq_loss` computes, through a peft wrapper too; None for any other model (it keeps its own loss)."""
    inner = base_model(model)
    if getattr(getattr(inner, "config", None), "model_type", None) not in LEAN_LOSS_TYPES:
        return None
    body, head = getattr(inner, "model", None), getattr(inner, "lm_head", None)
    if not isinstance(body, torch.nn.Module) or not isinstance(head, torch.nn.Linear):
        return None
    return inner, body, head, getattr(inner, "final_logits_bias", None)


def base_model(model):
    """The transformers model under a peft wrapper (the model itself otherwise)."""
    return model.get_base_model() if callable(getattr(type(model), "get_base_model", None)) else model


def decoder_inputs(inner, inputs: dict) -> torch.Tensor:
    """The batch's ``decoder_input_ids``, or what the model makes of its labels when it gets none (M2M100's collator
    leaves the shift to the model, which only does it when it is given the labels)."""
    labels = inputs["labels"]
    if inputs.get("decoder_input_ids") is not None:
        return inputs["decoder_input_ids"]
    if hasattr(inner, "prepare_decoder_input_ids_from_labels"):  # mBART's differs from the plain shift
        return inner.prepare_decoder_input_ids_from_labels(labels=labels)
    shifted = torch.full_like(labels, inner.config.decoder_start_token_id)  # M2M100: shift right behind the start
    shifted[:, 1:] = labels[:, :-1]
    return shifted.masked_fill_(shifted == -100, inner.config.pad_token_id)


def seq2seq_loss(model, inputs: dict, num_items_in_batch=None) -> torch.Tensor:
    """The cross-entropy over the labels other than -100, computed by :func:`token_cross_entropy` from the model's
    parts: the mean, or the sum over ``num_items_in_batch`` (see there)."""
    inner, body, head, bias = lean_loss_parts(model)
    labels = inputs["labels"]
    extra = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask", "labels", "decoder_input_ids")}
    hidden = body(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"),
                  decoder_input_ids=decoder_inputs(inner, inputs), use_cache=False, **extra)[0]
    logits = head(hidden)
    if bias is not None:
        logits = logits + bias.to(logits.dtype)
    return token_cross_entropy(logits.view(-1, logits.size(-1)), labels.to(logits.device).view(-1),
                               normalizer=num_items_in_batch)


def logits_loss(model, inputs: dict, num_items_in_batch=None, *, unwrapped=None) -> torch.Tensor:
    """:func:`seq2seq_loss` for any seq2seq model, through ``model``'s own forward (a DDP wrapper's, which syncs the
    gradients): the model gets no labels, so it does not compute a loss of its own. ``unwrapped``: the model under
    the wrapper, for the decoder inputs."""
    batch = {k: v for k, v in inputs.items() if k != "labels"}
    batch["decoder_input_ids"] = decoder_inputs(base_model(unwrapped if unwrapped is not None else model), inputs)
    logits = model(**batch, use_cache=False).logits
    return token_cross_entropy(logits.reshape(-1, logits.size(-1)), inputs["labels"].to(logits.device).view(-1),
                               normalizer=num_items_in_batch)


def token_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, *, normalizer=None,
                        chunk_bytes: int = 1 << 30) -> torch.Tensor:
    """Cross-entropy of ``(rows, classes)`` logits summed over the labels other than -100, divided by their number
    or by ``normalizer``.

    ``normalizer`` is the Trainer's ``num_items_in_batch``, the label tokens of all the micro-batches of one
    optimizer step on all processes: dividing each micro-batch's sum by it makes the accumulated gradient that of
    the mean over the whole step, as one big batch would give. Saves only the logits (in their dtype) for the
    backward pass, which recomputes the softmax; fp32 temporaries are at most about ``chunk_bytes``. Same value and
    gradient as ``F.cross_entropy(logits.float(), labels)`` up to fp32 rounding when no normalizer is given.
    """
    return _TokenCrossEntropy.apply(logits, labels, normalizer, chunk_bytes)


class _TokenCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, labels, normalizer, chunk_bytes):
        rows = max(1, chunk_bytes // (4 * max(1, logits.size(-1))))
        valid = labels != -100
        safe = torch.where(valid, labels, 0)
        token_loss = torch.empty(logits.size(0), dtype=torch.float32, device=logits.device)
        # autocast would upcast log_softmax's input first: dtype=float32 reads the bf16 logits in one kernel
        with torch.autocast(logits.device.type, enabled=False):
            for start in range(0, logits.size(0), rows):
                part, target = logits[start:start + rows], safe[start:start + rows, None]
                logprob = torch.log_softmax(part, dim=-1, dtype=torch.float32)
                token_loss[start:start + rows] = -logprob.gather(1, target).squeeze(1)
        count = valid.sum() if normalizer is None else torch.as_tensor(normalizer, device=logits.device)
        count = count.to(torch.float32)
        ctx.save_for_backward(logits, safe, valid, count)
        ctx.rows = rows
        return torch.where(valid, token_loss, 0.0).sum() / count

    @staticmethod
    def backward(ctx, grad):
        logits, safe, valid, count = ctx.saved_tensors
        scale = (valid.float() * (grad.float() / count))[:, None]
        grad_logits = torch.empty_like(logits)
        with torch.autocast(logits.device.type, enabled=False):
            for start in range(0, logits.size(0), ctx.rows):
                stop = start + ctx.rows
                probs = torch.softmax(logits[start:stop], dim=-1, dtype=torch.float32)
                probs.scatter_add_(1, safe[start:stop, None], torch.full_like(probs[:, :1], -1.0))
                grad_logits[start:stop] = probs.mul_(scale[start:stop])
        return grad_logits, None, None, None
