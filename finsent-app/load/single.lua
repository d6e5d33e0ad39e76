-- wrk -s single.lua: POST /analyze, one text per request, cycling through texts.lua; prints a JSON summary line.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require "texts"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/analyze", nil, '{"text": ' .. json_string(texts[(i % #texts) + 1]) .. '}')
end
require "summary"
