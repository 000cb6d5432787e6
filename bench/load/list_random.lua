-- GET /api/documents?limit=20[&cursor=..]: one of NPAGES (5) keyset pages, newest first.
-- Page P starts below the id of the last document of page P-1 (ids are doc_<hex i>, i = NDOCS..1).
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(dir .. "report.lua")
local ndocs = tonumber(os.getenv("NDOCS") or "10000")
local npages = tonumber(os.getenv("NPAGES") or "5")
local key = os.getenv("BENCH_KEY")
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args) math.randomseed(os.time() * 1000 + (tid or 0)) end
function request()
  local page = math.random(1, npages)
  local path = "/api/documents?limit=20"
  if page > 1 then
    path = path .. string.format("&cursor=doc_%032x", ndocs - 20 * (page - 1) + 1)
  end
  return wrk.format("GET", path, { ["X-API-Key"] = key })
end
done = cr_done
