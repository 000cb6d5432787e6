-- GET /api/documents/{id}, id uniform over the NDOCS seeded documents (doc_<32 hex of i>).
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")
local ndocs = tonumber(os.getenv("NDOCS") or "10000")
local key = os.getenv("BENCH_KEY")
-- With BENCH_COOKIE set, requests carry that session cookie instead of the API key.
local cookie = os.getenv("BENCH_COOKIE")
local headers = cookie and { ["Cookie"] = cookie } or { ["X-API-Key"] = key }
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args) math.randomseed(os.time() * 1000 + (tid or 0)) end
function request()
  return wrk.format("GET", string.format("/api/documents/doc_%032x", math.random(1, ndocs)), headers)
end
done = cr_done
