-- The candidate's side (humaneval_lab/languages/lua.py): runs prompt + completion (main.lua, never
-- the tests; it ends by returning the functions the tests may call), says {"ready":true} on fd 4,
-- then answers each {"call":name,"args":[...]} read on fd 3 with {"value":[results...]} or
-- {"error":"..."} (each framed: hel_codec.write_message). Runs as the sample's uid; nothing here is trusted or secret: the judge believes
-- only values it can parse, and compares them itself.
local codec = dofile("hel_codec.lua")
local IN = assert(io.open("/proc/self/fd/3", "rb"))
local OUT = assert(io.open("/proc/self/fd/4", "wb"))
OUT:setvbuf("no")

local exports = dofile("main.lua")
if type(exports) ~= "table" then exports = {} end
codec.write_message(OUT, '{"ready":true}')

while true do
  local line = codec.read_message(IN, codec.MAX_LINE)
  if line == nil then break end
  local msg, bad = codec.parse_message(line)
  local answer
  if not msg or type(msg.call) ~= "string" or type(msg.args) ~= "table" then
    answer = '{"error":' .. codec.enc_string("a bad call: " .. tostring(bad)) .. "}"
  else
    local results = table.pack(pcall(exports[msg.call], table.unpack(msg.args, 1, msg.args.n)))
    if results[1] then
      local ok, text = pcall(codec.enc_list, { table.unpack(results, 2, results.n) }, results.n - 1)
      answer = ok and ('{"value":' .. text .. "}") or ('{"error":' .. codec.enc_string(tostring(text)) .. "}")
    else
      answer = '{"error":' .. codec.enc_string(tostring(results[2])) .. "}"
    end
  end
  codec.write_message(OUT, answer)
end
