-- wrk: POST /api/v1/messages with an Idempotency-Key unique to each request, so that every
-- request is a new write (a repeated key would be answered by a replay).
-- Argument: a token unique to this wrk process (bench/harness.py passes one).
local prefix, counter = "bench", 0
local body = '{"to": "+14155550123", "text": "Your order has shipped"}'

function init(args)
  prefix = (args[1] or "bench") .. "-" .. (tostring(wrk.thread):gsub("[^%w]", ""))
end

function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = prefix .. "-" .. counter
  wrk.headers["Content-Type"] = "application/json"
  return wrk.format("POST", nil, wrk.headers, body)
end
