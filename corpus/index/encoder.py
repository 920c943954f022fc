"""Text to vectors with a transformers encoder from a local folder (sentence-transformers pooling).

Pooling follows the folder's sentence-transformers config when there is one
(``modules.json`` + ``1_Pooling/config.json``: mean, CLS or max; ``Normalize`` module),
else mean pooling; vectors are L2-normalised so inner product is cosine similarity.
Batches are sorted by length (less padding), fp16 on CUDA. No model hub is ever used.
"""
from __future__ import annotations

import json
import os

import numpy as np

from ..progress import track


def _pooling_config(path: str) -> tuple[str, bool]:
    """(pooling mode, normalise) from a sentence-transformers folder; (mean, True) otherwise."""
    modules_file = os.path.join(path, "modules.json")
    if not os.path.exists(modules_file):
        return "mean", True
    with open(modules_file) as f:
        modules = json.load(f)
    mode, normalize = "mean", False
    for m in modules:
        kind = m.get("type", "")
        if kind.endswith("Pooling"):
            with open(os.path.join(path, m.get("path", ""), "config.json")) as f:
                cfg = json.load(f)
            if cfg.get("pooling_mode_cls_token"):
                mode = "cls"
            elif cfg.get("pooling_mode_max_tokens"):
                mode = "max"
        elif kind.endswith("Normalize"):
            normalize = True
    return mode, normalize


class Encoder:
    """Text -> normalised vectors with a local transformers model."""

    def __init__(self, path: str, device: str = "cpu", batch_size: int = 64, max_length: int = 256):
        import torch
        from transformers import AutoModel, AutoTokenizer

        if not os.path.isdir(path):
            raise FileNotFoundError(f"dense model folder {path} not found: pass a local transformers model folder "
                                    "(e.g. an all-MiniLM-L6-v2 download); no model hub is used")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError("--device cuda asked for, but torch sees no GPU: use --device cpu")
        self.path, self.device, self.batch_size = os.path.abspath(path), device, batch_size
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        self.model = AutoModel.from_pretrained(path, local_files_only=True, dtype=dtype).to(device).eval()
        self.pooling, self.normalize = _pooling_config(path)
        self.dim = int(self.model.config.hidden_size)
        self.torch = torch

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        torch = self.torch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        for s in track(starts, "encode", enabled=progress):
            idx = order[s : s + self.batch_size]
            batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                if self.pooling == "cls":
                    vec = hidden[:, 0]
                elif self.pooling == "max":
                    vec = hidden.masked_fill(mask == 0, -1e4).max(dim=1).values
                else:
                    vec = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
                vec = vec.float()
                if self.normalize:
                    vec = torch.nn.functional.normalize(vec, dim=-1)
            out[idx] = vec.cpu().numpy()
        return out

    def settings(self) -> dict:
        return {"model": self.path, "model_name": os.path.basename(self.path.rstrip("/")), "dim": self.dim,
                "pooling": self.pooling, "normalize": self.normalize, "max_length": self.max_length}
