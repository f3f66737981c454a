-- wrk script for guestmem-server's load test (server/load/loadtest.py runs it): sends one set of
-- cases in turn, and checks every answer against its case: the status, and the body exactly or
-- the reason it must carry. The answer's x-request-id (the server echoes the client's) says
-- which case it answers, since wrk does not pair requests with responses.
--
--   wrk -c N -d SECONDS -s check.lua http://127.0.0.1:PORT -- SET [LIMIT]
--
-- SET is one of the sets below; LIMIT (optional) stops each thread after LIMIT/threads answers.
-- At the end it prints one line: "result {json}" with the counts and latencies.

local function rep(text, n) return string.rep(text, n) end

local kib64 = rep("a", 65536)

-- Each case: method path, body, extra headers, the status it must get, and either the exact
-- body (`body`) or a text the body must contain (`has`).
local cases = {
  upper16 = { path = "/plugins/upper/upper", body = "abcdefghijklmnop", status = 200, expect = "ABCDEFGHIJKLMNOP" },
  upper64k = { path = "/plugins/upper/upper", body = kib64, status = 200, expect = string.upper(kib64) },
  native16 = { path = "/plugins/native/upper", body = "abcdefghijklmnop", status = 200, expect = "ABCDEFGHIJKLMNOP" },
  native64k = { path = "/plugins/native/upper", body = kib64, status = 200, expect = string.upper(kib64) },
  greet = { path = "/plugins/greet/greet", body = "load", headers = { ["x-salutation"] = "Hello" }, status = 200, expect = "Hello, load!" },
  shapes = { path = "/plugins/shapes/measure", body = '{"name":"box","width":2,"height":3}', status = 200, has = '"area":6' },
  tag = { path = "/plugins/request_info/tag", body = "load", status = 200, tag = true },
  leak = { path = "/plugins/misbehave/leak", body = "kept", status = 200, expect = "kept" },
  panic = { path = "/plugins/misbehave/panic_on", body = "panic now", status = 500, has = "panic_on was asked to panic: panic now" },
  spin = { path = "/plugins/misbehave/spin", body = "forever", status = 504, has = "ran past its deadline" },
  hostile = { path = "/plugins/misbehave/hostile", body = "x", status = 502, has = "bad result block" },
  refused = { path = "/plugins/greet/greet", body = "load", status = 422, has = "no x-salutation header" },
  unknown = { path = "/plugins/nope/upper", body = "x", status = 404, has = "no plugin named nope" },
  badjson = { path = "/plugins/shapes/measure", body = "{", status = 400, has = "is not: EOF" },
}

local sets = {
  upper16 = { "upper16" },
  upper64k = { "upper64k" },
  native16 = { "native16" },
  native64k = { "native64k" },
  good = { "upper16", "greet", "shapes", "tag" },
  -- Every fault plugin beside good answers, spin once in every 20.
  faults = { "panic", "leak", "hostile", "refused", "unknown", "badjson", "upper16", "greet", "tag", "leak",
             "panic", "leak", "hostile", "refused", "shapes", "badjson", "upper16", "greet", "tag", "spin" },
  -- The same without the runaway: what panics, leaks and hostile blocks cost the others.
  calm_faults = { "panic", "leak", "hostile", "refused", "unknown", "badjson", "upper16", "greet", "tag", "leak",
                  "panic", "leak", "hostile", "refused", "shapes", "badjson", "upper16", "greet", "tag", "panic" },
  leakmix = { "leak", "upper16" },
}

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local order, limit
-- Globals, not locals: done() reads them from each thread with thread:get.
sent, answered, right, wrong = 0, 0, 0, 0
first_wrong = ""

function init(args)
  order = sets[args[1]]
  if order == nil then
    error("no case set named " .. tostring(args[1]))
  end
  if args[2] then
    limit = math.ceil(tonumber(args[2]) / tonumber(args[3] or 1))
  end
end

function request()
  sent = sent + 1
  local name = order[(sent - 1) % #order + 1]
  local case = cases[name]
  local headers = { ["x-request-id"] = name .. "-" .. id .. "-" .. sent }
  for key, value in pairs(case.headers or {}) do headers[key] = value end
  return wrk.format("POST", case.path, headers, case.body)
end

function response(status, headers, body)
  answered = answered + 1
  local request_id = headers["x-request-id"] or headers["X-Request-Id"] or ""
  local name = request_id:match("^([a-z0-9]+)-")
  local case = name and cases[name]
  local ok = case ~= nil and status == case.status
  if ok and case.expect then ok = body == case.expect end
  if ok and case.has then ok = body:find(case.has, 1, true) ~= nil end
  if ok and case.tag then ok = body == "request " .. request_id .. ": load" end
  if ok then
    right = right + 1
  else
    wrong = wrong + 1
    if first_wrong == "" then
      first_wrong = tostring(request_id) .. " " .. status .. " " .. body:sub(1, 200)
    end
  end
  if limit and answered >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local totals = { sent = 0, answered = 0, right = 0, wrong = 0 }
  local first = ""
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
    if first == "" then first = thread:get("first_wrong"):gsub('[^%w %-%.:,/]', '?') end
  end
  local errors = summary.errors
  io.write(string.format(
    'result {"requests":%d,"duration_us":%d,"sent":%d,"answered":%d,"right":%d,"wrong":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d,"first_wrong":"%s"}\n',
    summary.requests, summary.duration, totals.sent, totals.answered, totals.right, totals.wrong,
    errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, first))
end
