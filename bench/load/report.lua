-- Prints one machine-readable line, the same as the peer's report.lua:
-- RESULT rps=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. reqs=.. non2xx=.. sockerr=..
function cr_done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f reqs=%d non2xx=%d sockerr=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
