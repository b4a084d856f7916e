-- wrk script for scripts/bench/flood.py: sends each Authorization header value of a file once
-- (one value a line), over all the connections of one wrk thread, then stops.
--
--   wrk -t1 -c32 -d120s -s scripts/bench/flood.lua http://127.0.0.1:PORT/ -- TOKENS_FILE
--
-- Once every value has been sent, a connection sends the last one again until the responses
-- counted reach the number of values (at most one answer per connection, from the cache, stands
-- in for a value still being answered: under 1% of 10,000 with 32 connections).
-- It prints "START" when it sends the first request and "DONE" when the last answer is counted,
-- for the caller to time (wrk itself runs for all of -d), and done() one machine-readable line:
--   RESULT requests=N duration_us=N p50_us=N p99_us=N status_errors=N socket_errors=N

local requests = {}
local count = 0
local sent = 0
local received = 0
local non_200 = 0

function init(args)
    for line in io.lines(args[1]) do
        if line ~= "" then
            count = count + 1
            requests[count] = wrk.format(nil, nil, { ["Authorization"] = line })
        end
    end
end

function request()
    if sent == 0 then
        io.write("START\n")
        io.stdout:flush()
    end
    sent = sent + 1
    return requests[math.min(sent, count)]
end

function response(status, headers, body)
    received = received + 1
    if status ~= 200 then non_200 = non_200 + 1 end
    if received == count then
        io.write(string.format("DONE non_200=%d\n", non_200))
        io.stdout:flush()
        wrk.thread:stop()
    end
end

function done(summary, latency, _)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d socket_errors=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.status, e.connect + e.read + e.write + e.timeout))
end
