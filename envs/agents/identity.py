"""What model an evaluation ran: the identity its manifest and every log header pin (the testing phase's model).

* a local model (``hf:PATH``, ``vllm:PATH``): the sha256 of its weight, config and tokenizer files (each file's
  name and content hash, in name order), so two folders with the same files are the same model wherever they lie,
  and a changed tokenizer is another model;
* an endpoint (``openai:URL#MODEL``): the provider (the URL) and the model id asked for; the model each response
  says served it is collected per episode (``usage.served_models``) and the report lists them, since an API may
  answer with a dated snapshot of the name asked for;
* a scripted agent (oracle, noop, decoy, obey, random:N): its spec and Airgap's version, which is what decides it;
* an agent program in the sandbox (``sandbox:CMD``): the command and the identity of the model behind it.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: the files of a model folder that decide what it computes (weights, their index, configs, tokenizer)
MODEL_FILES = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.gguf", "*.index.json", "config.json",
               "generation_config.json", "tokenizer*", "vocab*", "merges.txt", "*.model", "special_tokens_map.json",
               "added_tokens.json", "chat_template*")


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def folder_hash(folder: str | os.PathLike) -> tuple[str, list[str]]:
    """(sha256 over the model files' names and content hashes, the files it covers) of a local model folder.
    FileNotFoundError when the folder holds none of :data:`MODEL_FILES`."""
    root = Path(folder)
    files = sorted({p for pattern in MODEL_FILES for p in root.glob(pattern) if p.is_file()})
    if not files:
        raise FileNotFoundError(f"{root}: no model files ({', '.join(MODEL_FILES[:6])}, ...) to identify the model by")
    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.name}\t{_file_sha256(p)}\n".encode())
    return "sha256:" + h.hexdigest(), [p.name for p in files]


def model_identity(agent: str, model: str | None = None) -> dict:
    """The identity of agent spec ``agent`` (and ``model``, the model behind a ``sandbox:`` agent program)."""
    from airgap.envs.agents.model import ModelSpecError, is_model_spec, parse_model_spec

    if agent.startswith("sandbox:"):
        return {"kind": "program", "command": agent.partition(":")[2],
                "model": model_identity(model) if model else None}
    if not is_model_spec(agent):
        from airgap.envs.logs.writer import _package_version

        return {"kind": "scripted", "agent": agent, "airgap_version": _package_version()}
    try:
        spec = parse_model_spec(agent)
    except ModelSpecError as e:
        return {"kind": "unknown", "agent": agent, "error": str(e)}
    if spec.name:  # an endpoint: provider URL and model id
        return {"kind": "api", "provider": spec.kind, "url": spec.target, "model": spec.name}
    target = Path(spec.target)
    if target.is_dir():
        digest, files = folder_hash(target)
        return {"kind": "local", "provider": spec.kind, "path": str(target), "files_sha256": digest, "files": files}
    return {"kind": spec.kind, "target": spec.target}


def same_model(a: dict | None, b: dict | None) -> bool:
    """Whether two identities name the same model: the same file hash for local models (wherever the folder
    lies), the same provider URL and model id for endpoints, the same spec for scripted agents."""
    if not a or not b:
        return a == b
    if a.get("kind") == b.get("kind") == "local":
        return a.get("files_sha256") == b.get("files_sha256")
    drop = {"path", "airgap_version"}
    return {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}


def describe(identity: dict | None) -> str:
    """One line for people: ``local hf model sha256:1a2b… (7 files)``, ``api gpt-4o-mini at https://…``."""
    if not identity:
        return "unknown"
    kind = identity.get("kind")
    if kind == "local":
        return f"local {identity['provider']} model {identity['files_sha256'][:19]}… ({len(identity['files'])} files)"
    if kind == "api":
        return f"api model {identity['model']} at {identity['url']}"
    if kind == "program":
        return f"program `{identity['command']}` with {describe(identity.get('model'))}"
    if kind == "scripted":
        return f"scripted agent {identity['agent']} (airgap {identity.get('airgap_version')})"
    return str(identity)
