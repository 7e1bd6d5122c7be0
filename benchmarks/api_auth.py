"""API-key authentication on gunicorn (2 workers of 8 threads): its cost, and an attack.

Usage: .venv/bin/python benchmarks/api_auth.py [--requests 6000] [--threads 4] [--rounds 5]
                                                [--attack-seconds 20] [--attack-threads 8]
                                                [--repo DIR]

1. Cost: the same bounded number of requests to /healthz and to /api/v1/me (a valid key) from a
   few client threads, in paired rounds; prints requests/s and the median of the rounds'
   ratios (target >= 0.6).
2. Attack: one client measures /healthz latency alone (idle), then again while 8 threads
   (`--attack-threads`, each its own connections) send /api/v1/me with the right key id and
   wrong secrets as fast as they can; prints the p50 latencies and their ratio (target: within
   2x of idle), the attack's requests/s and answers, and the workers' resident memory before
   and after (target: growth under 50 MB). The attacking threads run in a process of their
   own, as an attacker's would, so the probe does not share its interpreter's GIL with them
   (`--same-process-attack` runs them beside the probe, as earlier versions did).

`--repo DIR` runs another checkout of the portal (for example the code before a change) with
this same script, so both are measured alike. `--json` adds one JSON object as the last line of
the output, for `make bench`.
"""

from __future__ import annotations

import argparse
import http.client
import inspect
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path

VERIFICATIONS_HEADER = "X-Portal-Argon2-Verifications"


def seed(database_url: str, config: dict[str, str]) -> str:
    """Migrate the database, create a user and a Sandbox key; return the key."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.schemas.accounts import NewUser
    from portal.schemas.api_keys import ApiKeyInput
    from portal.services import api_keys, companies, setup, users
    from portal.services.actor import Actor

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **config})
    with app.app_context():
        upgrade()
        actor = Actor.system("benchmark")
        setup.ensure_account(actor)
        admin = NewUser(email="bench@example.com", password="benchmark password 1", role="admin")
        user = users.create_user(actor, admin)
        data = ApiKeyInput(
            name="Benchmark", company_id=companies.list_companies()[0].id, environment="sandbox"
        )
        extra = []
        if "pepper" in inspect.signature(api_keys.generate_api_key).parameters:
            extra.append(config["API_KEY_PEPPER"].encode())
        return api_keys.generate_api_key(Actor(user=user), data, *extra).plaintext


def instance_secrets() -> dict[str, str]:
    """Return fresh instance secrets, by their configuration keys."""
    from cryptography.fernet import Fernet  # the portal's dependency, from --repo's path

    return {
        "SECRET_KEY": os.urandom(32).hex(),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "API_KEY_PEPPER": os.urandom(32).hex(),
    }


def served_env(database_url: str, config: dict[str, str], **extra: str) -> dict[str, str]:
    """Return the environment gunicorn serves the seeded database with."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": config["SECRET_KEY"],
        "PORTAL_ENCRYPTION_KEYS": config["ENCRYPTION_KEYS"],
        "PORTAL_API_KEY_PEPPER": config["API_KEY_PEPPER"],
        # The per-key limit (50 per second) is counted, never met: the cost is measured.
        "PORTAL_API_RATE_LIMIT": "1000000 per second",
        **extra,
    }


def drain(stream) -> None:
    """Read and drop a stream until it closes."""
    for _ in stream:
        pass


def start_gunicorn(repo: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start gunicorn as `make run` serves (threads), with 2 workers; return it and its port."""
    command = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "2"]
    command += ["--threads", "8"]
    process = subprocess.Popen(
        [*command, "--log-level", "info", "wsgi:app"],
        cwd=repo,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    port, booted = None, 0
    assert process.stderr is not None
    for line in process.stderr:
        if match := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
            port = int(match.group(1))
        booted += "Booting worker" in line
        if port and booted == 2:
            break
    if port is None:
        process.kill()
        raise SystemExit("gunicorn did not start")
    # Keep draining its log so a full pipe never blocks the workers.
    threading.Thread(target=drain, args=(process.stderr,), daemon=True).start()
    return process, port


def get(port: int, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """Send one GET on a new connection (gunicorn's sync workers close after each answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


def wait_ready(port: int) -> None:
    """Wait until /healthz answers (bounded)."""
    for _ in range(100):
        try:
            if get(port, "/healthz", {}).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("gunicorn did not answer /healthz")


def run_clients(client, threads: int, numbered: bool = False) -> float:
    """Run `client` in `threads` threads at once (given its number when `numbered`); return the
    seconds from the first start to the last end."""
    arguments = [(number,) if numbered else () for number in range(threads)]
    workers = [threading.Thread(target=client, args=args) for args in arguments]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def load(port: int, path: str, headers: dict[str, str], requests: int, threads: int):
    """Send `requests` GETs from `threads` clients; return requests/s and argon2 counts by pid."""
    per_thread = requests // threads
    counts: dict[str, int] = {}
    failures: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(per_thread):
            response = get(port, path, headers)
            with lock:
                if response.status != 200:
                    failures.append(response.status)
                if seen := response.getheader(VERIFICATIONS_HEADER):
                    pid, count = seen.split(":")
                    counts[pid] = max(counts.get(pid, 0), int(count))

    elapsed = run_clients(client, threads)
    if failures:
        raise SystemExit(f"{len(failures)} requests to {path} failed: {sorted(set(failures))}")
    return per_thread * threads / elapsed, counts


def worker_rss_mb(master: int) -> float:
    """Return the resident memory of the master's worker processes, in MB, summed."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    return total / 1024


def workers_cpu_seconds(master: int) -> float:
    """Return the CPU time (user + system) the master's workers have used so far, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        # Fields 14 and 15 of /proc/<pid>/stat, counted after the command name's parenthesis.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def sample_rss(master: int, attacker: threading.Thread, peak: list[float]) -> None:
    """Keep the highest resident memory of the workers seen while the attack runs."""
    while attacker.is_alive():
        peak[0] = max(peak[0], worker_rss_mb(master))
        time.sleep(0.2)


def latencies(port: int, seconds: float) -> list[float]:
    """Time /healthz from one client, one request after another, for `seconds`."""
    found = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        get(port, "/healthz", {})
        found.append((time.perf_counter() - started) * 1000)
    return found


def wrong_secret(key: str, variant: int) -> str:
    """Return the key with a wrong secret and a valid checksum (another one per variant)."""
    from portal.core import api_key_tokens as tokens

    body = key[: -tokens.CHECKSUM_LENGTH - 4] + f"{variant % 10000:04d}"
    return body + tokens._checksum(body)


def attack(
    port: int, keys: list[str], seconds: float, rate: float = 0.0, threads: int = 8
) -> tuple[float, Counter]:
    """Send the wrong keys from `threads` clients, in turn; return requests/s and statuses.

    With a `rate` (requests/s in all), each client paces itself; without, they flood.
    """
    statuses: Counter = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    sent = [0]

    def client(offset: int) -> None:
        variant = offset
        while not stop.is_set():
            started = time.perf_counter()
            auth = {"Authorization": f"Bearer {keys[variant % len(keys)]}"}
            status = get(port, "/api/v1/me", auth).status
            if rate:
                stop.wait(max(0.0, threads / rate - (time.perf_counter() - started)))
            variant += threads
            with lock:
                statuses[status] += 1
                sent[0] += 1

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return sent[0] / (time.perf_counter() - started), statuses


def attack_process(port, keys, seconds, rate, threads, started, results) -> None:
    """Run the attack in this (child) process and send its figures back."""
    started.set()
    results.put(attack(port, keys, seconds, rate, threads))


def attack_elsewhere(
    port: int, keys: list[str], seconds: float, rate: float, threads: int, started
):
    """Run the attack in a process of its own; set `started` once it runs, return its figures."""
    # "spawn": a fresh interpreter, none of this process's threads or locks carried over.
    context = multiprocessing.get_context("spawn")
    ready, results = context.Event(), context.Queue()
    arguments = (port, keys, seconds, rate, threads, ready, results)
    child = context.Process(target=attack_process, args=arguments)
    child.start()
    ready.wait(timeout=60)
    started.set()
    figures = results.get(timeout=seconds + 120)
    child.join()
    return figures


def p50(values: list[float]) -> float:
    """Return the median."""
    return statistics.median(values)


def rounds(values: list[float], digits: int = 0) -> str:
    """Format one figure of each round."""
    return ", ".join(f"{value:.{digits}f}" for value in values)


def main() -> None:
    """Run both parts and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000, help="requests per endpoint")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds")
    parser.add_argument("--attack-seconds", type=float, default=20.0)
    parser.add_argument(
        "--attack-rate", type=float, default=0.0, help="attack requests/s in all (0: flood)"
    )
    parser.add_argument(
        "--attack-threads", type=int, default=8, help="attacking client threads (connections)"
    )
    parser.add_argument(
        "--same-process-attack",
        action="store_true",
        help="run the attack's threads in this process, beside the probe (for comparison)",
    )
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--json", action="store_true", help="end with the figures as JSON")
    args = parser.parse_args()
    repo = args.repo.resolve()
    sys.path.insert(0, str(repo))

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'portal.db'}"
        config = instance_secrets()
        key = seed(database_url, config)
        env = served_env(database_url, config, PORTAL_BENCHMARK="1")
        process, port = start_gunicorn(repo, env)
        try:
            wait_ready(port)
            auth = {"Authorization": f"Bearer {key}"}
            # Each round measures /healthz and then /api/v1/me back to back, and the ratio is
            # taken within the round: load from elsewhere on the machine hits both sides alike.
            # The workers' CPU time per request is counted too: unlike requests/s, it hardly
            # moves when other processes load the machine.
            health_runs, me_runs, counts = [], [], {}
            health_cpu, me_cpu = [], []
            per_round = args.requests // args.rounds
            for _ in range(args.rounds):
                started = workers_cpu_seconds(process.pid)
                health_runs.append(load(port, "/healthz", {}, per_round, args.threads)[0])
                between = workers_cpu_seconds(process.pid)
                rps, seen = load(port, "/api/v1/me", auth, per_round, args.threads)
                me_cpu.append((workers_cpu_seconds(process.pid) - between) / per_round * 1e6)
                health_cpu.append((between - started) / per_round * 1e6)
                me_runs.append(rps)
                for pid, count in seen.items():
                    counts[pid] = max(counts.get(pid, 0), count)
            ratios = [me / health for me, health in zip(me_runs, health_runs, strict=True)]
            cpu_ratios = [health / me for me, health in zip(me_cpu, health_cpu, strict=True)]

            rss_before = worker_rss_mb(process.pid)
            idle = latencies(port, args.attack_seconds / 2)
            results: dict = {}
            # Ever-new wrong secrets (a repeated one is refused from memory), made beforehand.
            keys = [wrong_secret(key, variant) for variant in range(10000)]
            started = threading.Event()
            if args.same_process_attack:
                started.set()
                run = attack
            else:
                run = partial(attack_elsewhere, started=started)
            attacker = threading.Thread(
                target=lambda: results.update(
                    zip(
                        ("rps", "statuses"),
                        run(port, keys, args.attack_seconds, args.attack_rate, args.attack_threads),
                        strict=True,
                    )
                )
            )
            cpu_before_attack = workers_cpu_seconds(process.pid)
            attacker.start()
            peak = [rss_before]
            sampler = threading.Thread(
                target=sample_rss, args=(process.pid, attacker, peak), daemon=True
            )
            sampler.start()
            started.wait(timeout=60)
            time.sleep(1)  # let the attack reach full speed before measuring
            under = latencies(port, args.attack_seconds - 2)
            attacker.join()
            attack_cpu = workers_cpu_seconds(process.pid) - cpu_before_attack
            sampler.join()
            rss_after = peak[0]
        finally:
            process.terminate()
            process.wait(timeout=10)

    print(f"code under test: {repo}; load average {os.getloadavg()[0]:.2f}")
    print(
        f"requests per endpoint: {args.requests} in {args.rounds} paired rounds, "
        f"client threads: {args.threads}, gunicorn: 2 workers of 8 threads"
    )
    print(f"/healthz     median {p50(health_runs):8.1f} req/s  (rounds: {rounds(health_runs)})")
    print(f"/api/v1/me   median {p50(me_runs):8.1f} req/s  (rounds: {rounds(me_runs)})")
    print(
        f"ratio me/healthz: median {p50(ratios):.2f} of the rounds' ratios "
        f"({rounds(ratios, 2)}); target >= 0.6"
    )
    print(
        f"workers' CPU per request: /healthz {p50(health_cpu):.0f} us, /api/v1/me "
        f"{p50(me_cpu):.0f} us; requests per CPU second, me/healthz: median "
        f"{p50(cpu_ratios):.2f} ({rounds(cpu_ratios, 2)})"
    )
    print(f"hash verifications counted by the workers: {sum(counts.values())}")
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(results["statuses"].items()))
    print(
        f"bad-secret attack, {args.attack_threads} threads "
        f"({'beside the probe' if args.same_process_attack else 'in a process of their own'}), "
        f"{args.attack_seconds:g} s"
        f"{f', paced to {args.attack_rate:g} req/s' if args.attack_rate else ', flooding'}: "
        f"{results['rps']:.0f} req/s "
        f"({statuses})"
    )
    answered = sum(results["statuses"].values())
    print(
        f"workers' CPU during the attack: {attack_cpu / args.attack_seconds:.2f} cores, "
        f"{attack_cpu / max(1, answered + len(under)) * 1e6:.0f} us per answer "
        "(the attack's and the probe's)"
    )
    print(
        f"/healthz p50 idle {p50(idle):.2f} ms ({len(idle)} requests), under attack "
        f"{p50(under):.2f} ms ({len(under)} requests): {p50(under) / p50(idle):.2f}x "
        "(target <= 2x)"
    )
    print(
        f"workers' resident memory (both): {rss_before:.0f} MB before, peak {rss_after:.0f} MB "
        f"during the attack: +{rss_after - rss_before:.0f} MB (target < 50 MB)"
    )
    if args.json:
        figures = {
            "ratios": ratios,
            "idle_p50_ms": p50(idle),
            "attack_p50_ms": p50(under),
            "attack_rps": results["rps"],
            "rss_growth_mb": rss_after - rss_before,
        }
        print(json.dumps(as_json(figures, args)))


def as_json(figures: dict, args) -> dict:
    """Return the figures as `make bench` reads them: table rows, and the figures themselves."""
    ratios = figures["ratios"]
    attack = "flood" if not args.attack_rate else f"{args.attack_rate:g} req/s"
    rows = [
        {
            "section": "API-key authentication",
            "case": "/api/v1/me, authentication alone",
            "ratio": p50(ratios),
            "spread": [min(ratios), max(ratios)],
            "note": f"vs /healthz, {args.rounds} rounds (api_auth.py)",
        },
        {
            "section": "API-key authentication",
            "case": f"/healthz p50 under a bad-secret {attack} "
            f"({args.attack_threads} connections, {args.attack_seconds:g} s)",
            "p50_ms": figures["attack_p50_ms"],
            "ratio": figures["attack_p50_ms"] / figures["idle_p50_ms"],
            "note": f"vs idle {figures['idle_p50_ms']:.2f} ms; attack "
            f"{figures['attack_rps']:.0f} req/s; target <= 2x",
        },
        {
            "section": "API-key authentication",
            "case": "workers' memory growth under the attack",
            "note": f"+{figures['rss_growth_mb']:.0f} MB (target < 50 MB)",
        },
    ]
    return {"script": "api_auth", "rows": rows, **figures}


if __name__ == "__main__":
    main()
