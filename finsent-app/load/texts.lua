-- Shared by single.lua and batch.lua: made-up financial news sentences of varied length (no data set is copied).
texts = {
  "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period in 2007 .",
  "Net sales fell by 5 % .",
  "The company will publish its interim report on 25 April .",
  "Shares in the group slumped after it cut its full-year outlook , citing weaker demand in Europe and rising input costs .",
  "Order intake grew strongly in all regions .",
  "The board proposes a dividend of EUR 0.50 per share .",
  "Pre-tax loss widened to EUR 4.2 mn as the restructuring costs were booked in the quarter .",
  "The new plant is expected to start production in the second half of the year and to employ some 150 people when fully operational .",
}
function json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end
