-- Values crossing between the Lua judge and the candidate process (humaneval_lab/languages/lua.py).
--
-- One message a line (framed: see write_message), in a strict subset of JSON that both sides write
-- and only this parser reads (the judge never calls load() on anything the candidate sent):
--   null | true | false              nil (in argument/result lists) and booleans
--   -?D+                             an integer (int64; out of range is an error)
--   -?D+ with . or e                 a float (written with the fewest digits that read back exactly)
--   {"f":"nan"|"inf"|"-inf"}         a non-finite float
--   "..."                            a string: bytes as they are, only " \ and control bytes escaped
--   [[k,v],[k,v],...]                a table: every key/value pair, so nil holes and mixed tables
--                                    survive (luaunit compares tables key by key)
-- A message is {"ready":true}, {"call":"name","args":[v,...]}, {"value":[v,...]} (all the results,
-- so multiple returns survive) or {"error":"..."}. Functions, userdata, threads and cyclic tables
-- cannot cross; metatables are not sent, so a candidate's __eq or __index never reaches the tests.
local M = {}

M.MAX_LINE = 8 * 1024 * 1024  -- bytes in one message
M.MAX_DEPTH = 200  -- nesting of tables
M.MAX_NODES = 2000000  -- values in one message (a shared sub-table counts each time)

local byte, char, find, sub, format = string.byte, string.char, string.find, string.sub, string.format
local mtype, concat = math.type, table.concat

local function escape(c)
  if c == '"' then return '\\"' end
  if c == "\\" then return "\\\\" end
  return format("\\u%04x", byte(c))
end

local function enc_string(s)
  return '"' .. s:gsub('[%c"\\]', escape) .. '"'
end
M.enc_string = enc_string

local function enc_float(x)
  if x ~= x then return '{"f":"nan"}' end
  if x == math.huge then return '{"f":"inf"}' end
  if x == -math.huge then return '{"f":"-inf"}' end
  local s
  for digits = 15, 17 do
    s = format("%." .. digits .. "g", x)
    if tonumber(s) == x then break end
  end
  if not find(s, "[%.e]") then s = s .. ".0" end
  return s
end

-- Encode one value into the buffer ``out``; ``state`` = {nodes = budget, path = {tables on the path}}.
local function enc(v, out, state, depth)
  state.nodes = state.nodes - 1
  if state.nodes < 0 then error("too large to cross", 0) end
  local t = type(v)
  if v == nil then out[#out + 1] = "null"
  elseif t == "boolean" then out[#out + 1] = v and "true" or "false"
  elseif t == "number" then
    out[#out + 1] = mtype(v) == "integer" and format("%d", v) or enc_float(v)
  elseif t == "string" then out[#out + 1] = enc_string(v)
  elseif t == "table" then
    if depth >= M.MAX_DEPTH then error("tables nested too deeply to cross", 0) end
    if state.path[v] then error("a table that contains itself cannot cross", 0) end
    state.path[v] = true
    out[#out + 1] = "["
    local first = true
    local k, x = next(v)
    while k ~= nil do
      out[#out + 1] = first and "[" or ",["
      first = false
      enc(k, out, state, depth + 1)
      out[#out + 1] = ","
      enc(x, out, state, depth + 1)
      out[#out + 1] = "]"
      k, x = next(v, k)
    end
    out[#out + 1] = "]"
    state.path[v] = nil
  else
    error("a " .. t .. " cannot cross (nil, booleans, numbers, strings and tables of them can)", 0)
  end
end

-- A list of ``n`` values (``n`` counts trailing nils) -> its text; errors say why it cannot cross.
function M.enc_list(list, n)
  local out, state = { "[" }, { nodes = M.MAX_NODES, path = {} }
  for i = 1, n do
    if i > 1 then out[#out + 1] = "," end
    enc(list[i], out, state, 0)
  end
  out[#out + 1] = "]"
  return concat(out)
end

-- ----------------------------------------------------------------------------------- the parser

local NAN_TAG = { nan = 0 / 0, inf = math.huge, ["-inf"] = -math.huge }
local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local P = {}  -- parser state: s (the line), i (position), nodes (budget)

local function fail(p, what)
  error({ hel_bad = what .. " at byte " .. p.i }, 0)
end

local function expect(p, lit)
  if sub(p.s, p.i, p.i + #lit - 1) ~= lit then fail(p, "expected " .. lit) end
  p.i = p.i + #lit
end

local function parse_string(p)
  local s, i, parts = p.s, p.i + 1, {}
  while true do
    local j = find(s, '["\\%c]', i)
    if not j then fail(p, "an unterminated string") end
    parts[#parts + 1] = sub(s, i, j - 1)
    local c = sub(s, j, j)
    if c == '"' then p.i = j + 1; return concat(parts) end
    if c ~= "\\" then p.i = j; fail(p, "a raw control byte in a string") end
    local e = sub(s, j + 1, j + 1)
    if e == "u" then
      local hex = sub(s, j + 2, j + 5)
      if not find(hex, "^00[0-9a-fA-F][0-9a-fA-F]$") then p.i = j; fail(p, "a bad \\u escape") end
      parts[#parts + 1] = char(tonumber(hex, 16))
      i = j + 6
    elseif ESCAPES[e] then
      parts[#parts + 1] = ESCAPES[e]
      i = j + 2
    else
      p.i = j; fail(p, "a bad escape")
    end
  end
end

local function parse_number(p)
  local s, i = p.s, p.i
  local int = s:match("^-?%d+", i)
  if not int or find(int, "^-?0%d") then fail(p, "a bad number") end
  local j = i + #int
  local frac = s:match("^%.%d+", j) or ""
  j = j + #frac
  local exp = s:match("^[eE][-+]?%d+", j) or ""
  j = j + #exp
  local text = sub(s, i, j - 1)
  if #text > 400 then fail(p, "a number too long") end
  local v = tonumber(text)
  if frac == "" and exp == "" then
    if mtype(v) ~= "integer" then fail(p, "an integer out of range") end
  else
    -- (tonumber reads a "." or an exponent as a float; never add 0.0: -0.0 + 0.0 is 0.0)
    if mtype(v) ~= "float" then fail(p, "a bad float") end
  end
  p.i = j
  return v
end

local parse_value

local function parse_table(p, depth)
  if depth >= M.MAX_DEPTH then fail(p, "tables nested too deeply") end
  p.i = p.i + 1
  local t = {}
  if sub(p.s, p.i, p.i) == "]" then p.i = p.i + 1; return t end
  while true do
    expect(p, "[")
    local k = parse_value(p, depth + 1)
    expect(p, ",")
    local v = parse_value(p, depth + 1)
    expect(p, "]")
    if k == nil or k ~= k then fail(p, "a nil or NaN table key") end
    if rawget(t, k) ~= nil then fail(p, "a duplicate table key") end
    if v ~= nil then rawset(t, k, v) end
    local c = sub(p.s, p.i, p.i)
    p.i = p.i + 1
    if c == "]" then return t end
    if c ~= "," then p.i = p.i - 1; fail(p, "expected , or ]") end
  end
end

function parse_value(p, depth)
  p.nodes = p.nodes - 1
  if p.nodes < 0 then fail(p, "too many values") end
  local c = sub(p.s, p.i, p.i)
  if c == '"' then return parse_string(p)
  elseif c == "[" then return parse_table(p, depth)
  elseif c == "-" or find(c, "^%d") then return parse_number(p)
  elseif c == "t" then expect(p, "true"); return true
  elseif c == "f" then expect(p, "false"); return false
  elseif c == "n" then expect(p, "null"); return nil
  elseif c == "{" then
    expect(p, '{"f":')
    local tag = sub(p.s, p.i, p.i) == '"' and parse_string(p) or nil
    expect(p, "}")
    if NAN_TAG[tag] == nil then fail(p, "a bad float tag") end
    return NAN_TAG[tag]
  end
  fail(p, "no value")
end

-- [v, ...] -> a list with its length in .n (nils included)
local function parse_list(p)
  expect(p, "[")
  local list, n = {}, 0
  if sub(p.s, p.i, p.i) == "]" then p.i = p.i + 1; return { n = 0 } end
  while true do
    n = n + 1
    list[n] = parse_value(p, 0)
    local c = sub(p.s, p.i, p.i)
    p.i = p.i + 1
    if c == "]" then list.n = n; return list end
    if c ~= "," then p.i = p.i - 1; fail(p, "expected , or ]") end
  end
end

local FIELDS = {
  ready = function(p) expect(p, "true"); return true end,
  call = function(p)
    if sub(p.s, p.i, p.i) ~= '"' then fail(p, "a call without a name") end
    return parse_string(p)
  end,
  args = parse_list,
  value = parse_list,
  error = function(p)
    if sub(p.s, p.i, p.i) ~= '"' then fail(p, "an error that is not a string") end
    return parse_string(p)
  end,
}

-- One message (a line without its newline) -> a table of its fields, or nil and why not.
function M.parse_message(line)
  local p = { s = line, i = 1, nodes = M.MAX_NODES }
  local ok, msg = pcall(function()
    local msg = {}
    expect(p, "{")
    while true do
      if sub(p.s, p.i, p.i) ~= '"' then fail(p, "expected a field name") end
      local key = parse_string(p)
      local field = FIELDS[key]
      if field == nil or msg[key] ~= nil then fail(p, "an unknown or repeated field") end
      expect(p, ":")
      msg[key] = field(p)
      local c = sub(p.s, p.i, p.i)
      p.i = p.i + 1
      if c == "}" then break end
      if c ~= "," then p.i = p.i - 1; fail(p, "expected , or }") end
    end
    if p.i <= #p.s then fail(p, "bytes after the message") end
    return msg
  end)
  if ok then return msg end
  if type(msg) == "table" and msg.hel_bad then return nil, msg.hel_bad end
  return nil, "an unreadable message (" .. tostring(msg):sub(1, 80) .. ")"
end

-- Framing: every message is "<bytes>:<json>\n" (the byte count of <json>). Lua cannot fdopen
-- fds 3/4 and its line reader has no bound, so the length comes first: the reader takes at most
-- 8 digits a byte at a time, refuses a length over MAX_LINE, then reads exactly that many bytes.
function M.write_message(f, json)
  return f:write(#json, ":", json, "\n")
end

-- The next message's JSON text | nil, "eof" | nil, "long" | nil, "bad"
function M.read_message(f, cap)
  local digits = {}
  while true do
    local c = f:read(1)
    if c == nil then return nil, "eof" end
    if c == ":" then break end
    if not find(c, "^%d$") or #digits >= 8 then return nil, "bad" end
    digits[#digits + 1] = c
  end
  local n = tonumber(concat(digits))
  if n == nil then return nil, "bad" end
  if n > cap then return nil, "long" end
  local body = f:read(n + 1)
  if body == nil or #body < n + 1 then return nil, "eof" end
  if sub(body, -1) ~= "\n" then return nil, "bad" end
  return sub(body, 1, n)
end

return M
