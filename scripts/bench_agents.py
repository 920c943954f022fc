"""Benchmark: generated tokens/s for N concurrent episodes through the shared model engine vs N separate per-worker models.

    .venv/bin/python scripts/bench_agents.py [--ns 1,2,4,8] [--hidden 256] [--layers 4] [--gen 32] [--turns 3] [--model PATH]

A small Llama-architecture model is built from a config (random weights; its byte-level BPE
tokenizer is trained by this script, nothing is downloaded), or ``--model PATH`` names a local model
folder with a chat template to measure instead. N worker processes each play an
"episode" of ``--turns`` generations of ``--gen`` tokens on a growing chat prompt (its own
task, so prompts differ in length), all at once, like ``airgap evaluate --workers N``:

* ``separate``: every worker loads its own copy of the model and generates alone (what ``hf:``
  did before the engine).
* ``engine``: the workers send their prompts to one engine process (``serving("hf:PATH")``),
  which batches the requests that arrive together into shared forward passes.

Every process (each separate worker, and the engine) runs torch with ``--threads`` intra-op
threads (default 1): with N >= 2 the separate workers together use min(N, cores) cores while the
engine uses one, so the ratio is conservative. (On a 2-core machine shared with other jobs,
2-thread torch ran a 2.7M-parameter model 10-20x slower than 1 thread: OpenMP threads wait on
each other when the cores are busy.)

Both are measured in the same run, after a warm-up (model loads and connections are not timed);
the table gives tokens/s for each and their ratio. On a machine with a GPU the engine is also
measured with bf16 weights and, when vLLM is installed, as ``vllm:PATH``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time

#: The text the benchmark's tokenizer is trained on (a few lines of what agents read and write).
CORPUS = """You are an agent in an offline sandboxed world. Solve the task with the tools you are given, one tool call
per turn. When you know the answer, call submit with it. The user asks a question and the system answers.
{"type": "function", "function": {"name": "shell", "description": "Run a shell command in the sandbox and return its
output.", "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}}
{"name": "search", "arguments": {"query": "python release date"}} {"name": "submit", "parameters": {"answer": "42"}}
total 12 drwxr-xr-x 2 agent agent 4096 Jan 1 00:00 workspace -rw-r--r-- 1 agent agent 18 data.csv a,b 1,2 3,4 5,6
Traceback (most recent call last): File "/workspace/fix.py", line 1, in <module> print('ko') NameError: name
The quick brown fox jumps over the lazy dog. 0123456789 + - * / = < > ( ) [ ] { } : ; , . ' " ! ? @ # $ % ^ & _ |
HTTP/1.1 200 OK content-type: text/html <html><head><title>Example Domain</title></head><body>Example</body></html>
"""

#: A ChatML template (Qwen's family), enough for the benchmark's system + user prompts.
CHATML = ("{%- for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def make_model(folder: str, *, hidden: int, layers: int, heads: int, context_length: int = 4096) -> str:
    """A random-weight Llama-architecture model and a byte-level BPE tokenizer trained here on :data:`CORPUS`
    (ChatML specials and template), written to ``folder`` so that ``hf:FOLDER`` loads it; returns the folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator([CORPUS] * 4, trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<pad>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", eos_token="<|im_end|>",
                                  additional_special_tokens=["<|im_start|>"])
    tok.add_tokens(["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"])
    tok.chat_template = CHATML
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2, num_hidden_layers=layers,
                      num_attention_heads=heads, num_key_value_heads=max(1, heads // 2), max_position_embeddings=context_length,
                      bos_token_id=None, eos_token_id=eos, pad_token_id=tok.pad_token_id, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).eval()
    model.generation_config = GenerationConfig(eos_token_id=[eos], pad_token_id=tok.pad_token_id)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


TASK = "Task {k}: count the lines of /workspace/data{k}.csv, then read the header and say which columns it has. "


def _worker(index: int, inbox, outbox, path: str) -> None:
    """One evaluation worker: plays episodes on command, with its own model or through the shared engine."""
    from transformers import AutoTokenizer

    from airgap.envs.agents.engine import LocalEngine, RemoteEngine, Request

    tok = AutoTokenizer.from_pretrained(path)
    local = None
    remote: dict[str, RemoteEngine] = {}
    while True:
        cmd = inbox.get()
        if cmd is None:
            return
        mode, threads, gen, turns, engine = cmd
        if mode == "separate":
            if local is None:
                local = LocalEngine("hf", path)
            local.backend.threads = threads
            client = local
        else:
            if engine["address"] not in remote:
                remote[engine["address"]] = RemoteEngine(engine["address"], bytes.fromhex(engine["authkey"]), engine["kind"], path)
            client = remote[engine["address"]]
        msgs = [{"role": "system", "content": "You are an agent in an offline sandboxed world."},
                {"role": "user", "content": TASK.format(k=index) * (1 + index % 3)}]
        ids = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True, return_dict=False)
        produced = 0
        t0 = time.perf_counter()
        for _ in range(turns):
            new, _meta = client.generate(Request(ids=list(ids), max_new_tokens=gen))
            produced += len(new)
            ids = list(ids) + new + tok.encode("\nobservation: 4 lines\n", add_special_tokens=False)
        outbox.put((index, produced, time.perf_counter() - t0))


def _round(workers, outbox, n: int, cmd: tuple) -> tuple[int, float]:
    """Run one episode on each of the first ``n`` workers at once; (tokens generated, wall seconds)."""
    t0 = time.perf_counter()
    for inbox, _ in workers[:n]:
        inbox.put(cmd)
    tokens = sum(outbox.get()[1] for _ in range(n))
    return tokens, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ns", default="1,2,4,8", help="numbers of concurrent episodes")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--gen", type=int, default=64, help="tokens generated per turn")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads of every process (engine and workers)")
    ap.add_argument("--turns", type=int, default=3, help="turns per episode")
    ap.add_argument("--repeat", type=int, default=2, help="timed rounds per cell (the best is kept)")
    ap.add_argument("--model", default=None, metavar="PATH", help="a local model folder (with a chat template) to "
                    "measure instead of the random-weight one built here")
    args = ap.parse_args(argv)
    ns = [int(x) for x in args.ns.split(",")]

    import torch

    from airgap.envs.agents.engine import ENV_VAR, serving

    cores = os.cpu_count() or 1
    t = time.perf_counter()
    if args.model:
        path = os.path.realpath(os.path.expanduser(args.model))
        made = f"the local model {path}"
    else:
        path = make_model(tempfile.mkdtemp(prefix="airgap-bench-agents-"), hidden=args.hidden, layers=args.layers,
                          heads=max(4, args.hidden // 64))
        made = f"llama, hidden {args.hidden}, {args.layers} layers, random weights; tokenizer trained here"
    params = sum(p.numel() for p in __import__("transformers").AutoModelForCausalLM.from_pretrained(path).parameters())
    print(f"model: {made}, {params / 1e6:.1f}M parameters ({time.perf_counter() - t:.1f} s); {cores} cores; "
          f"torch {torch.__version__}; {args.turns} turns x {args.gen} tokens per episode", flush=True)

    variants = [("hf", {"threads": args.threads})]
    if torch.cuda.is_available():
        variants = [("hf", {}), ("hf", {"dtype": "bfloat16"})]
        import importlib.util

        if importlib.util.find_spec("vllm") is not None:
            variants.append(("vllm", {}))
    ctx = mp.get_context("spawn")
    outbox = ctx.Queue()
    workers = []
    results = []
    for kind, backend in variants:
        label = kind + ("-" + backend["dtype"] if backend.get("dtype") else "")
        with serving(f"{kind}:{path}", **backend):
            engine = json.loads(os.environ[ENV_VAR])[f"{kind}:{path}"]
            engine["kind"] = kind
            if not workers:  # spawned inside `serving`, as the evaluation's workers are
                for i in range(max(ns)):
                    inbox = ctx.Queue()
                    p = ctx.Process(target=_worker, args=(i, inbox, outbox, path), daemon=True)
                    p.start()
                    workers.append((inbox, p))
            _round(workers, outbox, max(ns), ("engine", 0, 2, 1, engine))  # warm-up: imports, connections
            if label == "hf":
                _round(workers, outbox, max(ns), ("separate", 1, 2, 1, None))  # warm-up: every worker loads its copy
            print(f"\n{'N':>3} {'engine tok/s':>13} {'separate tok/s':>15} {'ratio':>7}   ({label} engine vs separate hf models)")
            for n in ns:
                best = {}
                for mode in ("separate", "engine"):
                    rates = []
                    for _ in range(args.repeat):
                        tokens, secs = _round(workers, outbox, n, (mode, args.threads, args.gen, args.turns, engine))
                        rates.append(tokens / secs)
                    best[mode] = max(rates)
                ratio = best["engine"] / best["separate"]
                results.append({"variant": label, "n": n, "engine_tok_s": round(best["engine"], 1),
                                "separate_tok_s": round(best["separate"], 1), "ratio": round(ratio, 2),
                                "threads_per_process": args.threads})
                print(f"{n:>3} {best['engine']:>13.1f} {best['separate']:>15.1f} {ratio:>6.2f}x", flush=True)
    for inbox, _ in workers:
        inbox.put(None)
    for _, p in workers:
        p.join(10)
    print("\n" + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
