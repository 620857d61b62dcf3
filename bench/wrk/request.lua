-- One wrk scenario. bench/run.py prepends a `config` table:
--   config = {method=, path=, body=nil|"template", tokens={...}, usernames={...}, tag=}
-- Body templates: {n} becomes a value unique to the request (client_id), {user} a username
-- taken in turn. Requests rotate through the tokens (Authorization: Bearer).
-- done() prints one line "BENCH_JSON {...}" with the figures bench/run.py records.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

local counter = 0
statuses = {}

function init(args)
   counter = 0
end

function request()
   counter = counter + 1
   local headers = {["Content-Type"] = "application/json"}
   local ntok = #config.tokens
   if ntok > 0 then
      headers["Authorization"] = "Bearer " .. config.tokens[(counter + tid * 7919) % ntok + 1]
   end
   local body = nil
   if config.body then
      body = string.gsub(config.body, "{n}", config.tag .. "-" .. tid .. "-" .. counter)
      local nuser = #config.usernames
      if nuser > 0 then
         body = string.gsub(body, "{user}", config.usernames[(counter + tid * 7919) % nuser + 1])
      end
   end
   return wrk.format(config.method, config.path, headers, body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local codes = {}
   local non2xx = 0
   for _, thread in ipairs(threads) do
      local st = thread:get("statuses")
      for code, n in pairs(st) do
         codes[#codes + 1] = string.format('"%d": %d', code, n)
         if code < 200 or code > 299 then
            non2xx = non2xx + n
         end
      end
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, ' ..
      '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, ' ..
      '"non_2xx": %d, "socket_errors": {"connect": %d, "read": %d, "write": %d, ' ..
      '"timeout": %d}, "statuses": {%s}}\n',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000,
      non2xx, e.connect, e.read, e.write, e.timeout, table.concat(codes, ", ")))
end
