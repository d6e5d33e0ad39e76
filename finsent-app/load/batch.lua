-- wrk -s batch.lua: POST /analyze/batch with 16 texts per request (the 8 of texts.lua, twice).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
require "texts"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local items = {}
for round = 1, 2 do for _, t in ipairs(texts) do items[#items + 1] = json_string(t) end end
wrk.path = "/analyze/batch"  -- a static request goes to the URL's path otherwise ("/")
wrk.body = '{"texts": [' .. table.concat(items, ", ") .. ']}'
texts_per_request = #items
require "summary"
