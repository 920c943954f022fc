"""Benchmark: the cost of a sandboxed program's model call through llm.airgap vs the same call made from the host.

A stand-in model server (Starlette on loopback, answers at once; no real model runs here) serves
chat completions. Measured in one run: (a) the host calling it with the agents' ModelClient (the
official openai client), (b) a program inside a sandbox calling https://llm.airgap/v1 with urllib,
through the relay, the gateway's TLS and the bridge (which forwards with the same ModelClient and
logs the call). Prints ms per call and the ratio b/a; the difference is what routing a program's
model traffic through the world costs per call.

    .venv/bin/python scripts/bench_program_agent.py [--calls 50]
"""
from __future__ import annotations

import argparse
import json
import socket
import threading
import time


def standin():
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    reply = {"id": "c", "object": "chat.completion", "created": 0, "model": "standin",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}

    async def chat(request):
        await request.body()
        return JSONResponse(reply)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])]),
                                           log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


PROGRAM = r"""
import json, os, sys, time, urllib.request
n = int(sys.argv[1])
body = json.dumps({"model": "x", "messages": [{"role": "user", "content": "hi"}]}).encode()
def one():
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body,
                                 headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
one()
t0 = time.perf_counter()
for _ in range(n):
    one()
print(json.dumps({"ms": (time.perf_counter() - t0) * 1000 / n}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--image", default=None)
    args = ap.parse_args()

    from airgap.envs.agents import make_agent
    from airgap.envs.agents.openai import ModelClient
    from airgap.sandbox import Sandbox, SandboxConfig

    server, url = standin()
    client = ModelClient(url, "standin")
    body = {"messages": [{"role": "user", "content": "hi"}]}
    client.complete(body)
    t0 = time.perf_counter()
    for _ in range(args.calls):
        client.complete(body)
    host_ms = (time.perf_counter() - t0) * 1000 / args.calls

    agent = make_agent("sandbox:true", model=f"openai:{url}#standin")
    cfg = SandboxConfig(**({"image": args.image} if args.image else {}))
    env = {"OPENAI_BASE_URL": "https://llm.airgap/v1"}
    with Sandbox(cfg, routes={"llm.airgap": agent.bridge.app}) as sb:
        sb.write_file("/workspace/bench.py", PROGRAM.encode())
        r = sb.exec(["python3", "/workspace/bench.py", str(args.calls)], env=env, timeout=600)
        if r.exit_code != 0:
            raise SystemExit(f"the program failed: {r.stderr}")
        inworld_ms = json.loads(r.stdout)["ms"]
    server.should_exit = True
    print(f"model call, host -> stand-in (openai client):            {host_ms:7.2f} ms/call")
    print(f"model call, sandbox -> https://llm.airgap -> stand-in:   {inworld_ms:7.2f} ms/call")
    print(f"ratio in-world / host: {inworld_ms / host_ms:.2f}x  (+{inworld_ms - host_ms:.2f} ms per call; {args.calls} calls each, "
          f"{agent.usage['calls']} forwarded by the bridge)")


if __name__ == "__main__":
    main()
