-- wrk script for `scripts/bench.sh http`: sends GET requests that rotate over the
-- Authorization header values in a file, one value a line (an empty file: no header; a line
-- "Cookie: …" is sent as that Cookie header instead).
--
--   wrk -t1 -c16 -d10s -s scripts/bench/rotate.lua http://127.0.0.1:PORT/1k.txt -- HEADERS_FILE
--
-- Every request is formatted once in init(), so request() costs a table lookup: the client
-- does the same work whatever the server and however many tokens rotate.
-- done() prints one machine-readable line, read by scripts/bench/http.sh:
--   RESULT requests=N duration_us=N p50_us=N p99_us=N status_errors=N socket_errors=N

local requests = {}
local count = 0
local next_index = 0

function init(args)
    local file = args[1]
    if file then
        for line in io.lines(file) do
            if line ~= "" then
                count = count + 1
                local cookie = line:match("^Cookie: (.*)$")
                requests[count] = wrk.format(nil, nil,
                    cookie and { ["Cookie"] = cookie } or { ["Authorization"] = line })
            end
        end
    end
    if count == 0 then
        count = 1
        requests[1] = wrk.format()
    end
end

function request()
    next_index = next_index % count + 1
    return requests[next_index]
end

function done(summary, latency, _)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d socket_errors=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.status, e.connect + e.read + e.write + e.timeout))
end
