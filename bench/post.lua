-- POST one passing check-in per request and print the figures as one JSON line at the end.
wrk.method = "POST"
wrk.body = '{"temperature_c": 36.6, "hand_sanitiser": true, "mask": true, "distancing": true,'
  .. ' "purpose": "jht_claim"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "none")

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d,'
      .. ' "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
