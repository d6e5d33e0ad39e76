-- wrk -s single.lua: POST /analyze, one text per request, cycling through texts.lua, or through the lines of the file
-- named by $FINSENT_TEXTS (UTF-8, one text per line); prints a JSON summary line.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require "texts"
local file = os.getenv("FINSENT_TEXTS")
if file and file ~= "" then
  texts = {}
  for line in io.lines(file) do if line ~= "" then texts[#texts + 1] = line end end
  assert(#texts > 0, "no texts in " .. file)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/analyze", nil, '{"text": ' .. json_string(texts[(i % #texts) + 1]) .. '}')
end
require "summary"
