-- dump.lua: the table a template receives, printed, for exploring it.
--
--   symgrad gen MODEL.sg --template dump          # on standard output
--   symgrad gen MODEL.sg --template dump --loops always   # model.loop too
--
-- Every field with its value, keys sorted, arrays by index; a long array
-- shows its first SHOW elements and how many more there are.  README.md's
-- "Templates" section says what each field means.

local concat, format, sort = table.concat, string.format, table.sort
local SHOW = 4

local function quote(s)
  return '"' .. s:gsub('[%c\\"]', function(c)
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    if c == "\\" or c == '"' then return "\\" .. c end
    return format("\\%03d", c:byte())
  end) .. '"'
end

local function scalar(v)
  if type(v) == "string" then return quote(v) end
  if type(v) == "function" then return "function" end
  if math.type(v) == "integer" then return tostring(v) end
  return tostring(v)
end

local dump

-- An array's elements, the first SHOW of a longer one.
local function dump_array(out, t, indent)
  for i = 1, math.min(#t, SHOW) do
    dump(out, format("[%d]", i), t[i], indent)
  end
  if #t > SHOW then out[#out + 1] = format("%s... and %d more", indent, #t - SHOW) end
end

dump = function(out, key, v, indent)
  if type(v) ~= "table" then
    out[#out + 1] = format("%s%s = %s", indent, key, scalar(v))
    return
  end
  local keys = {}
  for k in pairs(v) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  sort(keys)
  if #keys == 0 then
    out[#out + 1] = format("%s%s: array of %d", indent, key, #v)
    dump_array(out, v, indent .. "  ")
    return
  end
  out[#out + 1] = format("%s%s:", indent, key)
  for _, k in ipairs(keys) do dump(out, k, v[k], indent .. "  ") end
  if #v > 0 then dump_array(out, v, indent .. "  ") end
end

return function(m)
  local out = {}
  dump(out, "model", m, "")
  return {{suffix = ".txt", text = concat(out, "\n") .. "\n"}}
end
