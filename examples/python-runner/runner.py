#!/usr/bin/env python3
"""A runner for agentboard written against its REST API, with Python's standard library only.

It claims queued runs of a workspace (a long-poll), starts them, runs `command` runs' shell
command in a scratch directory while heartbeating, streams the command's output as
`command.output` events, and completes the run. A run of another engine gets an
`agent.message` event and is completed as failed: this example executes commands only.
It shows the protocol (docs/rest-api.md, docs/runner-protocol.md); the Node runner
(apps/runner) is the full one, with git worktrees, engines and checks.

    AGENTBOARD_SERVER=http://127.0.0.1:3000 AGENTBOARD_TOKEN=ab_... \\
        python3 runner.py --workspace <id> [--once] [--wait-ms 25000] [--heartbeat-s 10]

Every step is printed as one JSON line on stdout.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


class ApiError(Exception):
    def __init__(self, status, error):
        super().__init__(f"{status} {error.get('reason')}: {error.get('message')}")
        self.status = status
        self.reason = error.get("reason")


class Api:
    def __init__(self, server, token):
        self.base = server.rstrip("/") + "/api/v1"
        self.token = token

    def call(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                text = res.read().decode("utf-8")
                return json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            try:
                error = json.loads(err.read().decode("utf-8"))["error"]
            except (ValueError, KeyError):
                error = {"reason": "HTTP_" + str(err.code), "message": err.reason}
            raise ApiError(err.code, error) from None


def say(**fields):
    print(json.dumps(fields), flush=True)


class Heartbeat(threading.Thread):
    """Extends the lease every `period` seconds; sets `cancelled` when a cancel was requested."""

    def __init__(self, api, run_id, lease, period):
        super().__init__(daemon=True)
        self.api, self.run_id, self.lease, self.period = api, run_id, lease, period
        self.stop = threading.Event()
        self.cancelled = threading.Event()
        self.lost = threading.Event()
        self.on_stop = lambda: None

    def run(self):
        while not self.stop.wait(self.period):
            try:
                answer = self.api.call("POST", f"/runs/{self.run_id}/heartbeat", {"leaseToken": self.lease})
            except ApiError as err:
                say(step="heartbeat", run=self.run_id, error=err.reason)
                if err.reason == "LEASE_LOST":
                    self.lost.set()
                    self.on_stop()
                    return
                continue
            say(step="heartbeat", run=self.run_id, cancelRequested=answer["cancelRequested"])
            if answer["cancelRequested"] and not self.cancelled.is_set():
                self.cancelled.set()
                self.on_stop()


def execute(api, claim, heartbeat_s):
    run, lease = claim["run"], claim["leaseToken"]
    run_id = run["id"]
    say(step="claimed", run=run_id, engine=run["engine"])
    api.call("POST", f"/runs/{run_id}/start", {"leaseToken": lease})
    say(step="started", run=run_id)

    def events(*items):
        answer = api.call("POST", f"/runs/{run_id}/events", {"leaseToken": lease, "events": list(items)})
        say(step="events", run=run_id, lastSeq=answer["lastSeq"])

    if run["engine"] != "command" or not run.get("command"):
        events({"type": "agent.message", "payload": {"text": "this runner only executes command runs"}})
        api.call("POST", f"/runs/{run_id}/complete", {"leaseToken": lease, "status": "failed", "error": {"message": "engine not supported by the Python runner", "reason": "engine_error"}})
        say(step="completed", run=run_id, status="failed")
        return

    beat = Heartbeat(api, run_id, lease, heartbeat_s)
    beat.start()
    started = time.monotonic()
    logs = []
    with tempfile.TemporaryDirectory(prefix="agentboard-py-") as scratch:
        proc = subprocess.Popen(run["command"], shell=True, cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        def kill():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        beat.on_stop = kill
        for line in proc.stdout:
            logs.append(line)
            events({"type": "command.output", "payload": {"stream": "stdout", "text": line}})
        code = proc.wait()
    beat.stop.set()
    beat.join()
    if beat.lost.is_set():
        say(step="lease_lost", run=run_id)
        return
    duration = int((time.monotonic() - started) * 1000)
    if beat.cancelled.is_set():
        status = "cancelled"
    else:
        status = "succeeded" if code == 0 else "failed"
    body = {
        "leaseToken": lease,
        "status": status,
        "output": {"summary": f"exit code {code}", "logs": "".join(logs)},
        "metrics": {"durationMs": duration},
    }
    if status == "failed":
        body["error"] = {"message": f"the command exited with {code}", "reason": "command_failed"}
    api.call("POST", f"/runs/{run_id}/complete", body)
    say(step="completed", run=run_id, status=status)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--once", action="store_true", help="exit after one run")
    parser.add_argument("--wait-ms", type=int, default=25000, help="claim long-poll (at most 25000)")
    parser.add_argument("--heartbeat-s", type=float, default=10.0)
    args = parser.parse_args()
    server = os.environ.get("AGENTBOARD_SERVER")
    token = os.environ.get("AGENTBOARD_TOKEN")
    if not server or not token:
        sys.exit("set AGENTBOARD_SERVER and AGENTBOARD_TOKEN")
    api = Api(server, token)
    say(step="ready", workspace=args.workspace)
    while True:
        try:
            claim = api.call("POST", "/runs/claim", {"workspaceId": args.workspace, "waitMs": args.wait_ms}, timeout=args.wait_ms / 1000 + 30)
        except ApiError as err:
            if err.reason == "RUN_LOCKED":
                continue
            raise
        if claim is None:
            say(step="idle")
            continue
        execute(api, claim, args.heartbeat_s)
        if args.once:
            return


if __name__ == "__main__":
    main()
