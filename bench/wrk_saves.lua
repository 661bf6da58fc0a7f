-- Draft saves for wrk: one connection per thread (-t N -c N), each thread its own city
-- and ETag, sending If-Match with the ETag of its last save (a 409 would stop the city's
-- saves: counted as non-2xx). bench/api.py prepends `cities`, `auth` and `body`.
local next_city = 0

function setup(thread)
  next_city = next_city + 1
  local city = cities[next_city]
  thread:set("path", "/api/cities/" .. city.key .. "/assessment")
  thread:set("etag", city.etag)
end

function request()
  return wrk.format("PUT", path, {["Authorization"] = auth,
                                  ["Content-Type"] = "application/json",
                                  ["If-Match"] = etag}, body)
end

function response(status, headers, _)
  if status == 200 then
    etag = headers["etag"] or headers["ETag"]
  end
end
