-- wrk script for scripts/evidence/soak.sh: rotates through the requests of the file SOAK_REQUESTS
-- (one Authorization value a line, or "-" for none) and counts every response status.
local threads = {}

function setup(thread)
    threads[#threads + 1] = thread
end

function init(args)
    requests, index, counts = {}, 0, {}
    for line in io.lines(os.getenv("SOAK_REQUESTS")) do
        local headers = {}
        if line ~= "-" then headers["Authorization"] = line end
        requests[#requests + 1] = wrk.format("GET", "/index.html", headers)
    end
end

function request()
    index = index % #requests + 1
    return requests[index]
end

function response(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, total_requests)
    local total = {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
    end
    for status, n in pairs(total) do io.write(string.format("status %d: %d\n", status, n)) end
end
