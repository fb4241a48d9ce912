-- The trusted Lua judge (humaneval_lab/languages/lua.py). It runs the problem's tests in this
-- process, under a uid of its own, in a dir the candidate cannot read. Every global the tests read
-- that is not defined here (the entry point, and any other function of the candidate's) resolves to
-- a stub that sends {"call": name, "args": [...]} on fd 4 and reads the answer on fd 3
-- (hel_codec.lua). No candidate code runs here: answers are parsed by our own strict parser into
-- fresh tables without metatables, so luaunit's comparisons are its own on plain data, and nothing
-- the candidate controls can reach this process' `debug`, `os` or `io`.
--
-- Exit code = verdict (Program.judge): 0 passed, 1 a test assertion failed, 2 error (the candidate
-- raised or sent something unusable, or the tests raised), 3 the candidate went away. The last
-- stderr line is the reason.
local codec = dofile("hel_codec.lua")
local config = dofile("hel_config.lua")
local PASSED, FAILED, ERROR, GONE = 0, 1, 2, 3  -- and 4: the judge itself failed
local REASON_MAX = 200
local TESTS = "tests.lua"

local IN = assert(io.open("/proc/self/fd/3", "rb"))
local OUT = assert(io.open("/proc/self/fd/4", "wb"))
OUT:setvbuf("no")

local exit = os.exit -- the real one: luaunit replaces os.exit with a guard while its suite runs

local function finish(code, reason)
  io.stdout:flush()
  io.stderr:write("\n", (tostring(reason):gsub("%s+", " ")), "\n")
  io.stderr:flush()
  exit(code)
end

-- A short, readable rendering of a value for reasons.
local function show(v, room)
  room = room or 80
  local out, left = {}, room
  local function put(s)
    if left <= 0 then return end
    out[#out + 1] = s:sub(1, left)
    left = left - #s
  end
  local function walk(x, depth)
    local t = type(x)
    if t == "string" then put(string.format("%q", x):gsub("\\\n", "\\n"))
    elseif t == "table" then
      if depth > 3 then put("{...}"); return end
      put("{")
      local n, first = #x, true
      for i = 1, n do
        if not first then put(", ") end
        first = false
        walk(x[i], depth + 1)
      end
      for k, y in pairs(x) do
        if not (math.type(k) == "integer" and k >= 1 and k <= n) then
          if not first then put(", ") end
          first = false
          put("[") walk(k, depth + 1) put("]=") walk(y, depth + 1)
        end
      end
      put("}")
    else put(tostring(x)) end
  end
  walk(v, 0)
  local s = table.concat(out)
  if left < 0 then s = s:sub(1, room - 3) .. "..." end
  return s
end

local function show_list(list, n, room)
  local parts = {}
  for i = 1, n do parts[i] = show(list[i], room) end
  local s = table.concat(parts, ", ")
  if #s > room then s = s:sub(1, room - 3) .. "..." end
  return s
end

local test_lines
local function source_line(n)
  if not test_lines then
    test_lines = {}
    for line in io.lines(TESTS) do test_lines[#test_lines + 1] = line end
  end
  return (test_lines[n] or ""):match("^%s*(.-)%s*$")
end

-- "tests.lua:N: <that line>" for the innermost frame in the tests, or nil.
local function where_in_tests()
  for level = 2, 60 do
    local info = debug.getinfo(level, "Sl")
    if not info then return nil end
    if info.short_src == TESTS and info.currentline > 0 then
      return TESTS .. ":" .. info.currentline .. ": " .. source_line(info.currentline)
    end
  end
end

-- "<where> -- <detail>", the detail kept whole (it says what the candidate got wrong).
local function reason(where, detail)
  detail = tostring(detail):gsub("%s+", " "):sub(1, 120)
  if not where then return detail end
  local room = REASON_MAX - #detail - 4
  if #where > room then where = where:sub(1, room - 3) .. "..." end
  return where .. " -- " .. detail
end

local function receive(waiting_for)
  local line, why = codec.read_message(IN, codec.MAX_LINE)
  if not line then
    if why == "long" then finish(ERROR, "the candidate sent more than " .. codec.MAX_LINE .. " bytes") end
    if why == "bad" then finish(ERROR, "the candidate sent a message without its length") end
    finish(GONE, "the candidate ended while " .. waiting_for)
  end
  local msg, bad = codec.parse_message(line)
  if not msg then finish(ERROR, "the candidate sent " .. bad .. " while " .. waiting_for) end
  return msg
end

local last -- the last call that returned: {name, args, results}

local function call(name, ...)
  local n = select("#", ...)
  local args = { ... }
  local text = name .. "(" .. show_list(args, n, 100) .. ")"
  local ok, encoded = pcall(codec.enc_list, args, n)
  if not ok then finish(ERROR, "the tests pass " .. text .. " a value that cannot cross: " .. tostring(encoded)) end
  if not codec.write_message(OUT, '{"call":' .. codec.enc_string(name) .. ',"args":' .. encoded .. "}") then
    finish(GONE, "the candidate ended before " .. text)
  end
  local msg = receive("the tests waited for " .. text)
  local where = where_in_tests()
  if msg.value and next(msg, next(msg)) == nil then
    last = { text = text, results = msg.value }
    return table.unpack(msg.value, 1, msg.value.n)
  elseif msg.error and next(msg, next(msg)) == nil then
    finish(ERROR, reason(where, text .. " raised " .. msg.error:sub(1, 100)))
  end
  finish(ERROR, reason(where, text .. " answered with no value"))
end

local function got()
  if not last then return "no call returned" end
  return "got " .. show_list(last.results, last.results.n, 60) .. " from " .. last.text
end

-- "tests.lua:N: msg" -> the line's source and the message without its position.
local function located(msg)
  msg = tostring(msg)
  local n, rest = msg:match("tests%.lua:(%d+): (.*)")
  if n then return TESTS .. ":" .. n .. ": " .. source_line(tonumber(n)), rest end
  return nil, msg
end

-- ------------------------------------------------------------------------------------------ run

local function main()
  local ready = receive("loading its code")
  if not (ready.ready and next(ready, next(ready)) == nil) then
    finish(ERROR, "the candidate sent something else before ready")
  end

  local stubs = {}
  for _, name in ipairs(config.names) do
    stubs[name] = function(...) return call(name, ...) end
  end
  -- Only names nothing defines reach a stub: the standard library and the tests' own globals win.
  setmetatable(_G, { __index = function(_, k) return stubs[k] end })

  if config.mode == "luaunit" then
    local chunk = assert(loadfile(TESTS, "t"))
    local ok, err = xpcall(chunk, debug.traceback)
    if not ok then finish(ERROR, reason(located(err))) end
    local lu = package.loaded.luaunit
    if type(lu) ~= "table" then finish(ERROR, "the tests did not load luaunit") end
    local runner = lu.LuaUnit.new()
    runner:setOutputType("text")
    runner:runSuite()
    local result = runner.result
    local failure = result.failedTests[1]
    if failure then
      local where, msg = located(failure.msg)
      finish(FAILED, reason(where, msg))
    end
    local error_node = result.errorTests[1]
    if error_node then finish(ERROR, reason(located(error_node.msg))) end
    if result.runCount == 0 then finish(ERROR, "no test ran") end
    finish(PASSED, "passed")
  else
    -- Native tests: top-level assert(...)s. A failed assert is a failed test; any other error is an error.
    local assert_failed = false
    local env = setmetatable({
      assert = function(v, msg, ...)
        if v then return v, msg, ... end
        assert_failed = true
        error(msg == nil and "assertion failed!" or msg, 2)
      end,
    }, { __index = _G })
    local chunk = assert(loadfile(TESTS, "t", env))
    local ok, err = pcall(chunk)
    if ok then finish(PASSED, "passed") end
    local where, msg = located(err)
    if assert_failed then finish(FAILED, reason(where, msg .. "; " .. got())) end
    finish(ERROR, reason(where, msg))
  end
end

-- Our own failure (or a test file that does not load) must not read as the candidate's verdict.
local ok, err = xpcall(main, debug.traceback)
if not ok then finish(4, "the judge failed: " .. tostring(err)) end
