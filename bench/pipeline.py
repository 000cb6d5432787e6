#!/usr/bin/env python3
"""Pipeline throughput: every TXT contract of a folder uploaded through the API (server mode,
PostgreSQL + Redis) and analysed by W workers, against `contract-reviewer review` of the same
files with the same parallelism, in the same run.

    bench/pipeline.py --bin BIN --data ../shared/data/cuad-dev/contracts [--workers 1 2]

Prints, per W: documents/s from the first upload to the last completed job, upload->running
p50/p99 (job created -> claimed), the CLI's documents/s, and the ratio. Needs psql, and the
environment of scripts/services.sh (TEST_DATABASE_URL, TEST_REDIS_URL).
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid


def psql(url, sql):
    out = subprocess.run(["psql", url, "-Atqc", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def upload(port, key, path):
    boundary = uuid.uuid4().hex
    with open(path, "rb") as f:
        content = f.read()
    name = os.path.basename(path)
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", "/api/documents", body, {
        "X-API-Key": key, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status not in (200, 201):
        raise RuntimeError(f"upload of {name} answered {response.status}")
    # 200: the organisation already has this content (CUAD repeats a contract); no new job.
    return response.status == 201


def wait_for_health(port, process):
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("serve exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("serve did not start")


def pipeline(args, files, workers):
    admin = args.database.rsplit("/", 1)[0] + "/postgres"
    name = f"cr_bench_pipeline_{workers}"
    psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(admin, f"CREATE DATABASE {name}")
    url = args.database.rsplit("/", 1)[0] + "/" + name
    data = tempfile.mkdtemp(prefix="cr-bench-pipeline-")
    key = "cr_bench_" + uuid.uuid4().hex
    port = args.port
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=args.redis, CR_BOOTSTRAP_API_KEY=key,
               CR_CACHE__KEY_PREFIX=f"benchpipe{uuid.uuid4().hex[:8]}:", CR_WORKER__CONCURRENCY=str(workers),
               CR_WORKER__POLL_INTERVAL_MS="200", RUST_LOG="warn")
    serve = subprocess.Popen([args.bin, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data], env=env,
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "serve.log"), "w"))
    try:
        wait_for_health(port, serve)
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            jobs = sum(pool.map(lambda f: upload(port, key, f), files))
        uploaded = time.time()
        while True:
            done = int(psql(url, "SELECT COUNT(*) FROM analysis_jobs WHERE state IN ('completed', 'failed', 'dead')"))
            if done >= jobs:
                break
            if serve.poll() is not None:
                raise RuntimeError("serve exited during the run")
            time.sleep(0.2)
        last = float(psql(url, "SELECT extract(epoch FROM max(finished_at)) FROM analysis_jobs"))
        p50, p99 = psql(url, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.99) "
                        "WITHIN GROUP (ORDER BY d) FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 "
                        "AS d FROM analysis_jobs) t").split("|")
        states = psql(url, "SELECT string_agg(state || '=' || n, ' ') FROM (SELECT state, COUNT(*) n "
                      "FROM analysis_jobs GROUP BY state) t")
        results = int(psql(url, "SELECT COUNT(*) FROM analyses"))
        return {
            "jobs": jobs,
            "docs_per_s": jobs / (last - started),
            "upload_s": uploaded - started,
            "total_s": last - started,
            "upload_to_running_p50_ms": float(p50),
            "upload_to_running_p99_ms": float(p99),
            "states": states,
            "results": results,
        }
    finally:
        serve.terminate()
        serve.wait()
        shutil.rmtree(data, ignore_errors=True)
        psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def cli(args, files, workers):
    out = tempfile.mkdtemp(prefix="cr-bench-cli-")
    chunks = [files[i::workers] for i in range(workers)]
    started = time.time()
    processes = [subprocess.Popen([args.bin, "review", "--out", os.path.join(out, str(i)), *chunk],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=dict(os.environ, RUST_LOG="error"))
                 for i, chunk in enumerate(chunks)]
    codes = [p.wait() for p in processes]
    elapsed = time.time() - started
    shutil.rmtree(out, ignore_errors=True)
    return {"docs_per_s": len(files) / elapsed, "total_s": elapsed, "exit_codes": codes}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--data", required=True, help="folder of TXT contracts")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=18095)
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL",
                                                             "postgres://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument("--upload-only", action="store_true",
                        help="upload to the server already on --port (with --key, its database --database) "
                             "and wait until every job ended; no measurement")
    parser.add_argument("--key", help="API key, with --upload-only")
    args = parser.parse_args()
    files = sorted(os.path.join(args.data, f) for f in os.listdir(args.data) if f.endswith(".txt"))
    if not files:
        sys.exit(f"no .txt files in {args.data}")
    if args.upload_only:
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            jobs = sum(pool.map(lambda f: upload(args.port, args.key, f), files))
        while int(psql(args.database, "SELECT COUNT(*) FROM analysis_jobs "
                       "WHERE state IN ('completed', 'failed', 'dead')")) < jobs:
            time.sleep(0.2)
        return
    rows = []
    for workers in args.workers:
        ours = pipeline(args, files, workers)
        theirs = cli(args, files, workers)
        row = {"workers": workers, "files": len(files), "pipeline": ours, "cli": theirs,
               "ratio": ours["docs_per_s"] / theirs["docs_per_s"]}
        print(json.dumps(row), flush=True)
        rows.append(row)
    print("\n| workers | pipeline docs/s | upload→running p50 ms | p99 ms | review docs/s | ratio | jobs |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        p, c = r["pipeline"], r["cli"]
        print(f"| {r['workers']} | {p['docs_per_s']:.1f} | {p['upload_to_running_p50_ms']:.0f} | "
              f"{p['upload_to_running_p99_ms']:.0f} | {c['docs_per_s']:.1f} | {r['ratio']:.2f} | {p['states']} |")


if __name__ == "__main__":
    main()
