"""Tiny GGUF models written at test time: random weights, a byte-level vocabulary, two layers.

Nothing is downloaded. ``write_chat_model`` makes a llama-architecture chat model (~400 KB) with a
ChatML template that renders tools Hermes-style; ``write_embedding_model`` the same shape with
mean pooling. Random weights emit random tokens, so tests assert behaviour that does not depend
on what the model "says": determinism under a seed, counts, stops, grammars, cancellation.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np


# GPT-2's byte-to-unicode table: every byte is one printable vocabulary entry.
def _byte_symbols() -> list[str]:
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    codes = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            codes.append(256 + extra)
            extra += 1
    table = dict(zip(keep, codes, strict=True))
    return [chr(table[b]) for b in range(256)]


BYTES = _byte_symbols()
SPACE = BYTES[ord(" ")]  # "Ġ"
MERGES = [
    (SPACE, "t"),
    ("h", "e"),
    ("i", "n"),
    ("e", "r"),
    ("a", "n"),
    ("o", "n"),
    (SPACE, "a"),
    ("r", "e"),
    (SPACE, "s"),
    (SPACE + "t", "he"),
    ("o", "r"),
    ("e", "n"),
]
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CHAT_TEMPLATE = """\
{%- if tools %}<|im_start|>system
{% if messages[0].role == 'system' %}{{ messages[0].content }}

{% endif %}You may call these tools:
<tools>
{% for tool in tools %}{{ tool | tojson }}
{% endfor %}</tools>
Call one as <tool_call>{"name": <name>, "arguments": <object>}</tool_call>.<|im_end|>
{% elif messages[0].role == 'system' %}<|im_start|>system
{{ messages[0].content }}<|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'system' %}{% continue %}{% endif %}
{%- if message.role == 'tool' %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}
{%- for call in message.tool_calls or [] %}
<tool_call>
{"name": "{{ call.function.name }}", "arguments": {{ call.function.arguments | tojson }}}
</tool_call>
{%- endfor %}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""

N_EMBD = 64
N_HEAD = 4
N_FF = 128
N_LAYER = 2
N_CTX_TRAIN = 1024


def vocabulary() -> tuple[list[str], list[int]]:
    """Tokens (bytes, merges, specials) and their types (1 normal, 3 control)."""
    tokens = list(BYTES) + [a + b for a, b in MERGES] + SPECIAL
    types = [1] * (len(tokens) - len(SPECIAL)) + [3] * len(SPECIAL)
    return tokens, types


def _write(path: Path, *, name: str, seed: int, pooling: bool) -> Path:
    rng = np.random.default_rng(seed)
    tokens, types = vocabulary()
    n_vocab = len(tokens)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_context_length(N_CTX_TRAIN)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges([f"{a} {b}" for a, b in MERGES])
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_add_bos_token(False)
    if pooling:
        writer.add_pooling_type(gguf.PoolingType.MEAN)
    else:
        writer.add_chat_template(CHAT_TEMPLATE)

    def weight(*shape: int, scale: float = 0.3) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer.add_tensor("token_embd.weight", weight(n_vocab, N_EMBD, scale=1.0))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    # Output rows of bytes >= 0x80 and of the special tokens are zero: their logits stay 0 while
    # ASCII ones spread wide, so the top-k never holds them. Generated text is valid UTF-8
    # (llama-cpp-python's own stream re-decodes undecodable tails at every token, which would
    # make its baseline crawl) and runs to max_tokens unless a stop or a grammar ends it (a
    # finished grammar allows only the end token, which is then sampled).
    output = weight(n_vocab, N_EMBD, scale=1.0)
    output[0x80:0x100] = 0.0
    output[n_vocab - len(SPECIAL) :] = 0.0
    writer.add_tensor("output.weight", output)
    for i in range(N_LAYER):
        block = f"blk.{i}"
        writer.add_tensor(f"{block}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{block}.{part}.weight", weight(N_EMBD, N_EMBD))
        writer.add_tensor(f"{block}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{block}.ffn_gate.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"{block}.ffn_up.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"{block}.ffn_down.weight", weight(N_EMBD, N_FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_chat_model(path: Path, seed: int = 7) -> Path:
    """A tiny chat model with a ChatML + Hermes-tools template."""
    return _write(path, name="atoll-tiny-chat", seed=seed, pooling=False)


def write_embedding_model(path: Path, seed: int = 11) -> Path:
    """A tiny model with mean pooling, for embeddings."""
    return _write(path, name="atoll-tiny-embed", seed=seed, pooling=True)
