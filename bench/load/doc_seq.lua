-- Cache warm-up: GET every seeded document in order, then wrap.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")
local ndocs = tonumber(os.getenv("NDOCS") or "10000")
local key = os.getenv("BENCH_KEY")
local i = 0
function request()
  i = i % ndocs + 1
  return wrk.format("GET", string.format("/api/documents/doc_%032x", i), { ["X-API-Key"] = key })
end
done = cr_done
