-- wrk script: requests rotate over the lines of $BENCH_TARGETS ("<path> <bearer token>").
local targets = {}
local i = 0

init = function(args)
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    local path, token = line:match("^(%S+)%s+(%S+)$")
    targets[#targets + 1] = { path = path, headers = { Authorization = "Bearer " .. token } }
  end
  i = math.random(#targets)
end

request = function()
  i = i % #targets + 1
  local t = targets[i]
  return wrk.format("GET", t.path, t.headers)
end
