-- GET /api/analyses/{id} (ours, with BENCH_KEY) or /analyses/{n} (the peer, PEER=1): an id
-- uniform over the lines of IDS_FILE (ours) or over 1..NANALYSES (the peer).
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")
local key = os.getenv("BENCH_KEY")
local peer = os.getenv("PEER") == "1"
local n = tonumber(os.getenv("NANALYSES") or "10000")
local ids = {}
if not peer then
  for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
  n = #ids
end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args) math.randomseed(os.time() * 1000 + (tid or 0)) end
function request()
  local i = math.random(1, n)
  if peer then return wrk.format("GET", "/analyses/" .. i) end
  return wrk.format("GET", "/api/analyses/" .. ids[i], { ["X-API-Key"] = key })
end
done = cr_done
