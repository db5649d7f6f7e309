"""A static-cache decoder over the weights of a BART-family model (Marian, M2M100/NLLB, MBart).

Why our own decoder step instead of calling the model: ``model(...)`` per token rebuilds masks, grows a
dynamic cache and dispatches through several Python layers, which bounds ``generate`` by the host, not the
GPU. Here one step is a fixed sequence of tensor operations over preallocated buffers:

- the self-attention K/V cache is preallocated and written in place at ``step`` (a tensor, so the same code is
  a CUDA graph replay at every step); it holds :data:`CACHE_START` positions at first and doubles when a step
  reaches its end (see :meth:`StepState.grown`), so a step's attention reads (and beam search's reorder copies)
  about as many positions as the sentences have, not ``max_length``'s;
- cross-attention K/V are projected once per batch from the encoder states;
- the new token's position embedding is a row of a table computed once.

The layer maths follows ``modeling_marian.py`` / ``modeling_m2m_100.py`` / ``modeling_mbart.py``: scaled token
embeddings plus positions (Marian sinusoidal at ``step``, M2M100 sinusoidal at ``step + padding_idx + 1``,
MBart learned at ``step + 2``), MBart's embedding layer norm, post-norm layers (Marian) or pre-norm layers
with a final layer norm (M2M100, MBart), then ``lm_head`` plus ``final_logits_bias``. The tests check that
greedy ids equal ``generate``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

FAMILIES = ("marian", "m2m100", "mbart", "t5", "mt5")

# Positions a batch's self-attention cache holds at first. Why not max_length: every step's attention runs over the
# whole cache (masked) and beam search reorders all of it, so a 256-position cache for sentences that end after
# ~40 tokens made each step read and copy six times what it needed (CTranslate2 grows its cache as it goes). Why
# not one position at a time: on CUDA a new size means a new graph capture; doubling keeps that to a few a batch.
CACHE_START = 64


def cache_capacity(needed: int, max_length: int, current: int = 0, start: int | None = None) -> int:
    """The cache size for a step that writes position ``needed - 1``: ``start`` (None: :data:`CACHE_START`) at
    first, doubled as needed, never past ``max_length``."""
    capacity = min(max_length, max(current, CACHE_START if start is None else start, 1))
    while capacity < min(needed, max_length):  # max_length 0 (no step to run): a 0-position cache, not a hang
        capacity = min(max_length, capacity * 2)
    return capacity


@dataclass(slots=True)
class StepState:
    """Buffers of one batch: everything a decoder step reads or writes, preallocated."""

    self_k: list[torch.Tensor]  # per layer (batch, heads, capacity, head_dim); see grown()
    self_v: list[torch.Tensor]
    cross_k: list[torch.Tensor]  # per layer (batch, heads, source_length, head_dim)
    cross_v: list[torch.Tensor]
    source_mask: torch.Tensor  # (batch, 1, 1, source_length) bool, True where a source token is real

    def select(self, rows: torch.Tensor) -> "StepState":
        """The state of a subset of rows (compaction: finished rows leave the batch)."""
        return StepState([k[rows] for k in self.self_k], [v[rows] for v in self.self_v],
                         [k[rows] for k in self.cross_k], [v[rows] for v in self.cross_v], self.source_mask[rows])

    @property
    def capacity(self) -> int:
        return self.self_k[0].shape[2]

    def grown(self, capacity: int) -> "StepState":
        """The same state with a self-attention cache of ``capacity`` positions: the positions so far copied, the
        new ones zero (the causal mask hides them until a step writes them)."""
        def grow(cache):
            out = cache.new_zeros((*cache.shape[:2], capacity, cache.shape[3]))
            out[:, :, :cache.shape[2]] = cache
            return out

        return StepState([grow(k) for k in self.self_k], [grow(v) for v in self.self_v], self.cross_k, self.cross_v,
                         self.source_mask)


class StaticDecoder:
    """``prepare(encoder_states, mask, capacity)`` once per batch, then ``step(tokens, step, state)`` -> logits."""

    def __init__(self, model, family: str):
        if family not in FAMILIES:
            raise ValueError(f"no static decoder for {family!r}; known: {', '.join(FAMILIES)}")
        self.model = model
        self.family = family
        self.decoder = model.get_decoder()
        config = model.config
        self.heads = config.decoder_attention_heads
        self.head_dim = config.d_model // self.heads
        self.pre_norm = family != "marian"
        self.pad = config.pad_token_id
        self.embed_scale = float(getattr(self.decoder, "embed_scale", 1.0) or 1.0)
        embed = self.decoder.embed_tokens
        # some versions fold the scale into a ScaledWordEmbedding module
        self.embed_scale *= float(getattr(embed, "embed_scale", 1.0) or 1.0)
        self.embed_weight = embed.weight
        self.bias = getattr(model, "final_logits_bias", None)
        self._positions = self._position_table(config.max_position_embeddings)
        self._head: tuple | None = None

    def _position_table(self, length: int) -> torch.Tensor:
        """Row ``t`` = the position embedding of the token generated at step ``t`` (decoder input ``t``)."""
        positions = self.decoder.embed_positions
        if self.family == "marian":
            return positions.weight[:length]
        if self.family == "mbart":
            return positions.weight[2:2 + length]
        # M2M100: sinusoidal, offset by padding_idx + 1; recompute the table if max_length outgrows it
        start = positions.padding_idx + 1
        weights = positions.weights
        if weights.shape[0] < start + length:
            weights = positions.get_embedding(start + length, weights.shape[1], positions.padding_idx)
        return weights[start:start + length].to(self.embed_weight.device, self.embed_weight.dtype)

    def position_rows(self, max_length: int) -> torch.Tensor:
        if self._positions.shape[0] < max_length:
            if self.family != "m2m100":
                from ..errors import ConfigError
                from ..utils import option_text

                raise ConfigError(f"max_length {max_length} is over the model's {self._positions.shape[0]} decoder "
                                  f"positions; use {option_text('max_length', self._positions.shape[0])} or less")
            self._positions = self._position_table(max_length)
        return self._positions[:max_length]

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def prepare(self, encoder_states: torch.Tensor, source_mask: torch.Tensor, capacity: int) -> StepState:
        """The batch's state: cross-attention keys/values projected, a self-attention cache of ``capacity``
        positions (see :meth:`StepState.grown` for more)."""
        batch = encoder_states.shape[0]
        dtype, device = encoder_states.dtype, encoder_states.device
        shape = (batch, self.heads, capacity, self.head_dim)
        projections = [self._cross_projections(layer) for layer in self._layers()]
        cross_k = [self._split(k(encoder_states)).contiguous() for k, _ in projections]
        cross_v = [self._split(v(encoder_states)).contiguous() for _, v in projections]
        n = len(projections)
        return StepState([torch.zeros(shape, dtype=dtype, device=device) for _ in range(n)],
                         [torch.zeros(shape, dtype=dtype, device=device) for _ in range(n)],
                         cross_k, cross_v, source_mask.bool()[:, None, None, :])

    def _layers(self):
        return self.decoder.layers

    @staticmethod
    def _cross_projections(layer):
        return layer.encoder_attn.k_proj, layer.encoder_attn.v_proj

    def step(self, tokens: torch.Tensor, step: torch.Tensor, state: StepState, positions: torch.Tensor) -> torch.Tensor:
        """Logits (batch, vocab) for the next token, given the last token of each row at decoder position ``step``
        (a 0-d long tensor). Writes this step's keys and values into the state's self-attention cache."""
        hidden = F.embedding(tokens, self.embed_weight) * self.embed_scale
        position = positions.index_select(0, step.view(1))
        if self.family == "m2m100":  # M2M100 gives a padding token the zero position vector
            position = torch.where((tokens == self.pad)[:, None], torch.zeros_like(position), position)
        hidden = (hidden + position)[:, None, :]  # (batch, 1, d_model)
        if self.family == "mbart":
            hidden = self.decoder.layernorm_embedding(hidden)
        causal = (torch.arange(state.capacity, device=tokens.device) <= step)[None, None, None, :]
        for i, layer in enumerate(self.decoder.layers):
            attn, cross = layer.self_attn, layer.encoder_attn
            hidden = self._block(hidden, layer.self_attn_layer_norm, lambda h: self._self_attention(
                (attn.q_proj, attn.k_proj, attn.v_proj, attn.out_proj), h, i, step, state, causal, attn.scaling))
            hidden = self._block(hidden, layer.encoder_attn_layer_norm, lambda h: self._cross_attention(
                cross.q_proj, cross.out_proj, h, i, state, cross.scaling))
            hidden = self._block(hidden, layer.final_layer_norm,
                                 lambda h: layer.fc2(layer.activation_fn(layer.fc1(h))))
        if self.pre_norm:
            hidden = self.decoder.layer_norm(hidden)
        return self._logits(hidden[:, 0])

    HEAD_ROWS_MULTIPLE = 128  # on CUDA; see output_layer
    # the output layer's GEMM: F.linear, or what the engine gives (mtkit.cpu.PackedLinears on the CPU)
    linear = staticmethod(F.linear)

    @property
    def vocab_size(self) -> int:
        return self.model.lm_head.weight.shape[0]

    def output_layer(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``lm_head`` with ``final_logits_bias`` folded in as the GEMM's bias, on CUDA its rows padded with zeros to
        a multiple of 128. Why: vocabularies such as opus-mt's 65,001 rows make cuBLAS fall back to a slow
        unaligned kernel (1.5 ms a step for 2,048 rows on an H100, 30% of the step); the padded GEMM runs the
        fast one, and the padding's logits are sliced off. Not on the CPU, where MKL has no such kernel and the
        slice made every consumer of the logits copy them (the weight is used as it is there, no copy).
        Rebuilt if the model changes dtype or device."""
        weight = self.model.lm_head.weight
        if self._head is None or self._head[0] != (weight.dtype, weight.device):
            multiple = self.HEAD_ROWS_MULTIPLE if weight.device.type == "cuda" else 1
            rows = -(-weight.shape[0] // multiple) * multiple
            head = weight.detach()
            if rows != weight.shape[0]:
                head = torch.zeros((rows, weight.shape[1]), dtype=weight.dtype, device=weight.device)
                head[:weight.shape[0]] = weight.detach()
            bias = None
            if self.bias is not None:
                bias = torch.zeros(rows, dtype=weight.dtype, device=weight.device)
                bias[:weight.shape[0]] = self.bias.detach().reshape(-1).to(weight.dtype)
            self._head = ((weight.dtype, weight.device), head, bias)
        return self._head[1], self._head[2]

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(batch, vocab) logits of the last hidden states (batch, d_model), through ``self.linear``."""
        weight, bias = self.output_layer()
        logits = self.linear(hidden, weight, bias)
        return logits if logits.shape[1] == self.vocab_size else logits[:, :self.vocab_size]

    def _block(self, hidden, norm, sublayer):
        if self.pre_norm:
            return hidden + sublayer(norm(hidden))
        return norm(hidden + sublayer(hidden))

    def _self_attention(self, projections, hidden, i, step, state, causal, scale, bias=None):
        """Self-attention of the step's token over the cache, its keys and values written at ``step`` first;
        ``projections``: the layer's (query, key, value, output) linear maps."""
        q_proj, k_proj, v_proj, o_proj = projections
        q = self._split(q_proj(hidden))
        state.self_k[i].index_copy_(2, step.view(1), self._split(k_proj(hidden)))
        state.self_v[i].index_copy_(2, step.view(1), self._split(v_proj(hidden)))
        out = _attend_one(q, state.self_k[i], state.self_v[i], causal, scale, bias)
        return o_proj(out.transpose(1, 2).reshape(*hidden.shape[:2], -1))

    def _cross_attention(self, q_proj, o_proj, hidden, i, state, scale):
        q = self._split(q_proj(hidden))
        out = _attend_one(q, state.cross_k[i], state.cross_v[i], state.source_mask, scale)
        return o_proj(out.transpose(1, 2).reshape(*hidden.shape[:2], -1))


def _attend_one(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, scale: float,
                bias: torch.Tensor | None = None) -> torch.Tensor:
    """Attention of one query position: two batched matrix products and a softmax (``bias``: T5's relative
    position bias, added to the scores). Why not ``scaled_dot_product_attention``: on an H100 it picks cuDNN's
    flash kernel, built for long queries, which took 205 us per call for a single query at 2,048 rows (half of a
    decoder step); this form reads each key and value once, which is all a one-token query needs."""
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    if bias is not None:
        scores = scores + bias
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.matmul(torch.softmax(scores.float(), dim=-1).to(q.dtype), v)


class T5StaticDecoder(StaticDecoder):
    """The static decoder step for T5-family models (T5, mT5, MADLAD-400), after ``modeling_t5.py``: no position
    embeddings but a relative position bias (the first block's table, shared by every block's self-attention,
    looked up for the step's row of a bucket table computed once), unscaled attention, pre-norm blocks with T5's
    RMS layer norm, the model's own feed-forward modules (so that a bf16 model's fp32 ``wo`` casts as it does
    there), the final layer norm, and the output scaled by ``d_model ** -0.5`` where the model does that
    (embeddings tied to the output layer). UMT5 (a bias table per block) is not covered."""

    def __init__(self, model):
        config = model.config
        self.model = model
        self.family = "t5"
        self.decoder = model.get_decoder()
        self.heads, self.head_dim = config.num_heads, config.d_kv
        self.pad = config.pad_token_id
        self.embed_weight = self.decoder.embed_tokens.weight
        self.bias = None
        first = self.decoder.block[0].layer[0].SelfAttention
        self.relative_bias = first.relative_attention_bias
        self._bucket_of = lambda relative: first._relative_position_bucket(
            relative, bidirectional=False, num_buckets=config.relative_attention_num_buckets,
            max_distance=config.relative_attention_max_distance)
        self.output_scale = config.d_model ** -0.5 if t5_scales_outputs(config) else None
        self._buckets: torch.Tensor | None = None
        self._head = None

    @staticmethod
    def supports(model) -> bool:
        return getattr(model.config, "model_type", None) in ("t5", "mt5")

    def position_rows(self, max_length: int) -> torch.Tensor:
        """Row ``t``: the relative-position bucket of every key position for the query at step ``t``."""
        device = self.embed_weight.device
        if self._buckets is None or self._buckets.shape[0] < max_length or self._buckets.device != device:
            positions = torch.arange(max_length, device=device)
            self._buckets = self._bucket_of(positions[None, :] - positions[:, None])
        return self._buckets[:max_length, :max_length]

    def _layers(self):
        return self.decoder.block

    @staticmethod
    def _cross_projections(layer):
        return layer.layer[1].EncDecAttention.k, layer.layer[1].EncDecAttention.v

    def step(self, tokens: torch.Tensor, step: torch.Tensor, state: StepState, positions: torch.Tensor) -> torch.Tensor:
        capacity = state.capacity
        hidden = F.embedding(tokens, self.embed_weight)[:, None, :]  # (batch, 1, d_model)
        buckets = positions.index_select(0, step.view(1))[:, :capacity]  # (1, capacity)
        bias = self.relative_bias(buckets).permute(0, 2, 1)[:, :, None, :]  # (1, heads, 1, capacity)
        causal = (torch.arange(capacity, device=tokens.device) <= step)[None, None, None, :]
        for i, block in enumerate(self.decoder.block):
            self_layer, cross_layer, ff_layer = block.layer
            attn, cross = self_layer.SelfAttention, cross_layer.EncDecAttention
            hidden = _clamp_fp16(hidden + self._self_attention(
                (attn.q, attn.k, attn.v, attn.o), self_layer.layer_norm(hidden), i, step, state, causal, 1.0, bias))
            hidden = _clamp_fp16(hidden + self._cross_attention(
                cross.q, cross.o, cross_layer.layer_norm(hidden), i, state, 1.0))
            hidden = _clamp_fp16(hidden + ff_layer.DenseReluDense(ff_layer.layer_norm(hidden)))
        hidden = self.decoder.final_layer_norm(hidden)
        if self.output_scale is not None:
            hidden = hidden * self.output_scale
        return self._logits(hidden[:, 0])


def t5_scales_outputs(config) -> bool:
    """Whether the model's forward scales the decoder output by ``d_model ** -0.5`` before ``lm_head``.

    transformers 5 forces ``tie_word_embeddings`` to True in both T5Config and MT5Config, so that key says nothing
    there: T5ForConditionalGeneration reads ``scale_decoder_outputs`` (what ``tie_word_embeddings`` was given as),
    and MT5ForConditionalGeneration never scales (an mT5 scaled by ``tie_word_embeddings`` gave generate's greedy
    ids, the argmax being the same, but other beams). transformers 4 scaled both by ``tie_word_embeddings``."""
    if getattr(config, "model_type", None) == "mt5":
        import transformers

        if int(transformers.__version__.split(".")[0]) >= 5:
            return False
    scaled = getattr(config, "scale_decoder_outputs", None)
    if scaled is not None:
        return bool(scaled)
    return bool(getattr(config, "tie_word_embeddings", True))


def _clamp_fp16(hidden: torch.Tensor) -> torch.Tensor:
    """T5's guard for fp16 (``T5Block``): where a value overflowed, clamp the block's output just under the
    largest fp16 value. A tensor operation, no host sync: it stays inside a captured step."""
    if hidden.dtype != torch.float16:
        return hidden
    top = torch.finfo(torch.float16).max
    limit = torch.where(torch.isinf(hidden).any(), top - 1000, top)
    return torch.clamp(hidden, min=-limit, max=limit)


def static_decoder(model, family: str) -> StaticDecoder | None:
    """The static decoder for ``model``, None for a model without one (it decodes with its own forward)."""
    if family in ("t5", "mt5"):
        return T5StaticDecoder(model) if T5StaticDecoder.supports(model) else None
    return StaticDecoder(model, family) if family in FAMILIES else None
