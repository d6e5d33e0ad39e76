-- One JSON line after wrk's own report: requests/s, texts/s, latency percentiles (ms) and every kind of error.
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "seconds": %.1f, "requests_per_s": %.1f, "texts_per_s": %.1f, '
    .. '"p50_ms": %.1f, "p90_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f, "errors": {"connect": %d, "read": %d, '
    .. '"write": %d, "timeout": %d, "non_2xx": %d}}\n',
    summary.requests, secs, summary.requests / secs, summary.requests * (texts_per_request or 1) / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
