-- kpi.lua - the benchmark's Lua peer: kpieval's kpis.csv and departments.csv
-- for a `kpieval generate` dataset, in plain Lua with no sandbox.
--
-- usage: lua5.4 kpi.lua DIR OUT    or    luajit kpi.lua DIR OUT   (OUT must exist)
--
-- Runs unchanged under Lua 5.4 and LuaJIT (Lua 5.1 syntax: no //, no integer
-- division, no goto). Reads actuals.csv into one table keyed by
-- "indicator,input", then streams indicators.csv: each distinct formula text
-- is matched once against the generator's shapes, each KPI is evaluated,
-- scored and written at once, and the departments are totalled on the way.
-- Other formula shapes and the `baseline` and expression scoring rules give
-- status error; the inputs and message columns are left empty.

local dir, out = arg[1], arg[2]
if not dir or not out then
  io.stderr:write("usage: kpi.lua DIR OUT\n")
  os.exit(2)
end

local find, sub, byte, format, gsub, match =
  string.find, string.sub, string.byte, string.format, string.gsub, string.match
local abs, floor, huge = math.abs, math.floor, math.huge
local tonumber, concat = tonumber, table.concat
local CAP = 120.0

-- One CSV record: fields into t, returns the count. Quoted fields may hold
-- commas and doubled quotes; a record with a line break inside quotes is
-- joined by the caller.
local function split(line, t)
  local n, pos = 0, 1
  if not find(line, '"', 1, true) then
    while true do
      local c = find(line, ",", pos, true)
      n = n + 1
      if not c then
        t[n] = sub(line, pos)
        return n
      end
      t[n] = sub(line, pos, c - 1)
      pos = c + 1
    end
  end
  local len = #line
  while true do
    n = n + 1
    if byte(line, pos) == 34 then -- '"'
      local q, parts = pos + 1, {}
      while true do
        local e = find(line, '"', q, true)
        if not e then error("unterminated quote: " .. line) end
        parts[#parts + 1] = sub(line, q, e - 1)
        if byte(line, e + 1) == 34 then
          parts[#parts + 1] = '"'
          q = e + 2
        else
          pos = e + 1
          break
        end
      end
      t[n] = concat(parts)
      if pos > len then return n end
      pos = pos + 1 -- the comma
    else
      local c = find(line, ",", pos, true)
      if not c then
        t[n] = sub(line, pos)
        return n
      end
      t[n] = sub(line, pos, c - 1)
      pos = c + 1
    end
  end
end

-- Lines of a CSV file, with records that span lines joined.
local function records(path)
  local f = assert(io.open(path, "rb"))
  local lines = f:lines()
  return function()
    local line = lines()
    if not line then
      f:close()
      return nil
    end
    if byte(line, -1) == 13 then line = sub(line, 1, -2) end
    if find(line, '"', 1, true) then
      local _, quotes = gsub(line, '"', '"')
      while quotes % 2 == 1 do
        local more = lines()
        if not more then break end
        local _, q = gsub(more, '"', '"')
        line, quotes = line .. "\n" .. more, quotes + q
      end
    end
    return line
  end
end

local function columns(header, wanted)
  local t = {}
  local n = split(header, t)
  local at = {}
  for i = 1, n do at[t[i]] = i end
  local idx = {}
  for _, name in ipairs(wanted) do idx[name] = at[name] end
  return idx
end

-- ---- actuals.csv -----------------------------------------------------------

local values = {} -- "indicator,input" -> number
do
  local next_record = records(dir .. "/actuals.csv")
  local col = columns(next_record(), { "indicator", "input", "value" })
  local ci, cn, cv = col.indicator, col.input, col.value
  local fast = ci == 1 and cn == 2 and cv == 3
  local t = {}
  for line in next_record do
    if line ~= "" then
      local c1 = fast and not find(line, '"', 1, true) and find(line, ",", 1, true)
      local c2 = c1 and find(line, ",", c1 + 1, true)
      if c2 and not find(line, ",", c2 + 1, true) then
        -- "K1,employed,12": the key is the line up to the second comma
        values[sub(line, 1, c2 - 1)] = tonumber(sub(line, c2 + 1)) + 0.0
      else
        split(line, t)
        values[t[ci] .. "," .. t[cn]] = tonumber(t[cv]) + 0.0
      end
    end
  end
end

-- ---- formula shapes ----------------------------------------------------------

local NAME = "([%a_][%w_]*)"
local shapes = {
  { "input", "^%s*" .. NAME .. "%s*$" },
  { "call2", "^%s*" .. NAME .. "%s*%(%s*" .. NAME .. "%s*,%s*" .. NAME .. "%s*%)%s*$" },
  { "call3", "^%s*" .. NAME .. "%s*%(%s*" .. NAME .. "%s*,%s*" .. NAME .. "%s*,%s*" .. NAME
      .. "%s*%)%s*$" },
  { "div100", "^%s*" .. NAME .. "%s*/%s*" .. NAME .. "%s*%*%s*100%s*$" },
  { "share3", "^%s*%(%s*" .. NAME .. "%s*%+%s*" .. NAME .. "%s*%)%s*/%s*" .. NAME
      .. "%s*%*%s*100%s*$" },
  { "diff", "^%s*" .. NAME .. "%s*%-%s*" .. NAME .. "%s*$" },
}

-- { kind, name1, name2, name3, csv text }
local function parse_formula(text)
  local quoted = text
  if find(text, '[,"\r\n]') then quoted = '"' .. gsub(text, '"', '""') .. '"' end
  for _, s in ipairs(shapes) do
    local a, b, c, d = match(text, s[2])
    if a then
      local kind = s[1]
      if kind == "call2" then
        if a == "ratio" or a == "progress" or a == "growth" then return { a, b, c, nil, quoted } end
        if a == "sum" then return { "sum", b, c, nil, quoted } end
      elseif kind == "call3" then
        if a == "sum" then return { "sum", b, c, d, quoted } end
      else
        return { kind, a, b, c, quoted }
      end
    end
  end
  return { "other", nil, nil, nil, quoted }
end

-- ---- evaluation and scoring -------------------------------------------------

local function finite(x)
  return x == x and x ~= huge and x ~= -huge
end

-- status, actual
local function evaluate(shape, id)
  local kind = shape[1]
  if kind == "other" then return "error" end
  local a = values[id .. "," .. shape[2]]
  if a == nil then return "missing" end
  if kind == "input" then return "ok", a end
  local b = values[id .. "," .. shape[3]]
  if b == nil then return "missing" end
  local c
  if shape[4] then
    c = values[id .. "," .. shape[4]]
    if c == nil then return "missing" end
  end
  local r
  if kind == "ratio" then
    if b == 0 then return "error" end
    r = a / b * 100
  elseif kind == "div100" then
    r = a / b * 100
  elseif kind == "sum" then
    r = 0 + a + b
    if c then r = r + c end
  elseif kind == "share3" then
    r = (a + b) / c * 100
  elseif kind == "progress" then
    if b == 0 or b < 0 then return "error" end
    r = a / b * 100
  elseif kind == "growth" then
    if b == 0 then return "error" end
    r = (a - b) / abs(b) * 100
  else -- diff
    r = a - b
  end
  if not finite(r) then return "error" end
  return "ok", r
end

-- status, achievement
local function score(scoring, decrease, a, t)
  local met
  if decrease then met = a <= t else met = a >= t end
  local x
  if scoring == "" or scoring == "linear" then
    if t < 0 then return "error" end
    if t == 0 then
      x = met and 100 or 0
    elseif not decrease then
      x = a / t * 100
    elseif scoring == "linear" then
      x = (2 - a / t) * 100
    elseif a < 0 then
      return "error"
    elseif a == 0 then
      x = CAP
    else
      x = t / a * 100
    end
  elseif scoring == "binary" then
    x = met and 100 or 0
  else
    return "error"
  end
  if not finite(x) then return "error" end
  if x < 0 then x = 0 end
  return "ok", x
end

-- %.15g with -0 as 0.
local function number(x)
  if x == 0 then return "0" end
  return format("%.15g", x)
end

-- Two decimals, half away from zero, on the 15-significant-digit value:
-- the digits of %.14e rounded as a whole number, so 1.005 gives 1.01.
local function rate(x)
  local s = format("%.14e", abs(x))
  local keep = tonumber(sub(s, 18)) + 3 -- digits with place value >= 10^-2
  local kept
  if keep <= 0 then
    kept = (keep == 0 and byte(s, 1) >= 53) and 1 or 0
  else
    local digits = sub(s, 1, 1) .. sub(s, 3, 16)
    if keep >= 15 then
      kept = tonumber(digits) * 10 ^ (keep - 15)
    else
      kept = tonumber(sub(digits, 1, keep))
      if byte(digits, keep + 1) >= 53 then kept = kept + 1 end
    end
  end
  local whole = floor(kept / 100)
  return format("%s%d.%02d", (x < 0 and kept > 0) and "-" or "", whole, kept - whole * 100)
end

local function quote(s)
  if find(s, '[,"\r\n]') then return '"' .. gsub(s, '"', '""') .. '"' end
  return s
end

-- ---- indicators.csv, streamed ------------------------------------------------

local formulas = {}
local departments = {} -- path -> { kpis, ok, missing, error, invalid, weight, weighted }
local STATUS_INDEX = { ok = 2, missing = 3, error = 4, invalid = 5 }

local kout = assert(io.open(out .. "/kpis.csv", "wb"))
kout:setvbuf("full", 1048576)
kout:write("id,name,department,unit,direction,baseline,target,formula,inputs,actual,",
           "achievement,achievement_capped,weight,status,message\n")

do
  local next_record = records(dir .. "/indicators.csv")
  local col = columns(next_record(), { "id", "name", "department", "unit", "direction", "baseline",
                                       "target", "formula", "weight", "scoring" })
  local c_id, c_name, c_dep, c_unit, c_dir = col.id, col.name, col.department, col.unit,
    col.direction
  local c_base, c_target, c_formula, c_weight, c_scoring = col.baseline, col.target, col.formula,
    col.weight, col.scoring
  local t = {}
  local last_dep, chain, chain_n = nil, {}, 0
  for line in next_record do
    if line ~= "" then
      split(line, t)
      local id, dep, ftext = t[c_id], t[c_dep], t[c_formula]
      local direction = c_dir and t[c_dir] or ""
      local scoring = c_scoring and t[c_scoring] or ""
      local weight_text = c_weight and t[c_weight] or ""
      local target = tonumber(t[c_target])
      local weight = weight_text == "" and 1 or tonumber(weight_text)
      local shape = formulas[ftext]
      if not shape then
        shape = parse_formula(ftext)
        formulas[ftext] = shape
      end
      local decrease = direction == "decrease"
      local status, actual, x
      if not target or not weight or weight < 0 or weight > 1e9
          or (direction ~= "" and direction ~= "increase" and not decrease) then
        status = "invalid"
      else
        target = target + 0.0
        status, actual = evaluate(shape, id)
        if status == "ok" then status, x = score(scoring, decrease, actual, target) end
      end
      local capped
      if status == "ok" then capped = x < CAP and x or CAP end

      kout:write(id, ",", quote(t[c_name]), ",", quote(dep), ",", c_unit and t[c_unit] or "", ",",
                 decrease and "decrease" or "increase", ",", c_base and t[c_base] or "", ",",
                 t[c_target], ",", shape[5], ",,", actual and number(actual) or "", ",",
                 status == "ok" and rate(x) or "", ",", status == "ok" and rate(capped) or "", ",",
                 weight_text == "" and "1" or weight_text, ",", status, ",\n")

      if dep ~= last_dep then
        last_dep, chain_n = dep, 0
        local pos = 1
        while true do
          local slash = find(dep, "/", pos, true)
          local path = slash and sub(dep, 1, slash - 1) or dep
          local d = departments[path]
          if not d then
            d = { 0, 0, 0, 0, 0, 0.0, 0.0 }
            departments[path] = d
          end
          chain_n = chain_n + 1
          chain[chain_n] = d
          if not slash then break end
          pos = slash + 1
        end
      end
      local si = STATUS_INDEX[status]
      for k = 1, chain_n do
        local d = chain[k]
        d[1] = d[1] + 1
        d[si] = d[si] + 1
        if si == 2 then
          d[6] = d[6] + weight
          d[7] = d[7] + weight * capped
        end
      end
    end
  end
end
assert(kout:close())

-- ---- departments.csv, in tree order ------------------------------------------

local paths = {}
for path in pairs(departments) do paths[#paths + 1] = path end
-- Level by level: a '/' sorts before any other byte.
local sort_key = {}
for _, path in ipairs(paths) do sort_key[path] = gsub(path, "/", "\1") end
table.sort(paths, function(a, b) return sort_key[a] < sort_key[b] end)

local dout = assert(io.open(out .. "/departments.csv", "wb"))
dout:setvbuf("full", 1048576)
dout:write("department,kpis,ok,missing,error,invalid,achievement,grade\n")
for _, path in ipairs(paths) do
  local d = departments[path]
  local achievement, grade = "", ""
  if d[6] > 0 and finite(d[7] / d[6]) then
    local a = d[7] / d[6]
    achievement = rate(a)
    grade = a >= 100 and "S" or a >= 90 and "A" or a >= 80 and "B" or a >= 70 and "C" or "D"
  end
  dout:write(quote(path), format(",%d,%d,%d,%d,%d,", d[1], d[2], d[3], d[4], d[5]),
             achievement, ",", grade, "\n")
end
assert(dout:close())
