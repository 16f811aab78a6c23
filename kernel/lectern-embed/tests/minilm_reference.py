"""An independent all-MiniLM-L6-v2 in numpy (float64), for MiniLm's reference test.

Usage: python3 -m pip install numpy tokenizers
       python3 kernel/lectern-embed/tests/minilm_reference.py ~/.cache/lectern/models/all-MiniLM-L6-v2
Prints the first 16 values of each reference text's vector, as pinned in src/minilm.rs.
It follows Hugging Face's BertModel and sentence-transformers' mean pooling and Normalize
step by step, from the same three files, sharing no code with candle.
"""
import json, math, struct, sys

import numpy as np
from tokenizers import Tokenizer

TEXTS = [
    "How do plants make food from sunlight?",
    "The French Revolution began in 1789 and ended the absolute monarchy; its causes included debt, "
    "food prices and Enlightenment ideas about rights.",
]


def load_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] != "F32":  # position_ids (I64) are not weights
            continue
        s, e = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + s : 8 + n + e], dtype="<f4").reshape(t["shape"]).astype(np.float64)
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def main(model_dir):
    cfg = json.load(open(f"{model_dir}/config.json"))
    w = load_safetensors(f"{model_dir}/model.safetensors")
    w = {k.removeprefix("bert."): v for k, v in w.items()}
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(256)
    eps, heads = cfg["layer_norm_eps"], cfg["num_attention_heads"]
    erf = np.vectorize(math.erf)
    lin = lambda x, p: x @ w[p + ".weight"].T + w[p + ".bias"]
    for text in TEXTS:
        ids = np.array(tok.encode(text).ids)
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        for i in range(cfg["num_hidden_layers"]):
            p = f"encoder.layer.{i}"
            split = lambda t: t.reshape(n, heads, -1).transpose(1, 0, 2)
            q, k, v = (split(lin(x, f"{p}.attention.self.{m}")) for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            ctx = (scores / scores.sum(-1, keepdims=True)) @ v
            ctx = ctx.transpose(1, 0, 2).reshape(n, -1)
            a = layer_norm(lin(ctx, f"{p}.attention.output.dense") + x,
                           w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"], eps)
            h = lin(a, f"{p}.intermediate.dense")
            h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
            x = layer_norm(lin(h, f"{p}.output.dense") + a,
                           w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], eps)
        pooled = x.mean(0)
        pooled /= np.linalg.norm(pooled)
        print(f"// {n} word pieces: {text[:40]}")
        print("[" + ", ".join(f"{v:.6}" for v in pooled[:16]) + "],")


if __name__ == "__main__":
    main(sys.argv[1])
