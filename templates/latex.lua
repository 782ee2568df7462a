-- latex.lua: the derivation as Markdown with LaTeX math, for teaching.
--
--   symgrad gen MODEL.sg --template latex -o MODEL.md
--
-- Renders the forward pass, every adjoint in chain-rule form (as lecture 4
-- writes it: dloss/dw = dloss/dyhat * dyhat/dw), the values each step
-- computes, and finally each dloss/dparam expanded and simplified.

local concat, format = table.concat, string.format

-- The model's names of values the C code renamed (r, the batch's row
-- index, is r_ in C; a C keyword gets a "_"): a derivation shows the
-- model's.  Set by render from the model's bindings, params and inputs.
local shown = {}

-- A name in math: t12 -> t_{12}, d_w -> \bar{w}, long names upright.
local function mathname(n)
  n = shown[n] or n
  local base, digits = n:match("^(t)(%d+)$")
  if base then return format("t_{%s}", digits) end
  local adj = n:match("^d_(.+)$")
  if adj then return format("\\bar{%s}", mathname(adj)) end
  n = n:gsub("_", "\\_")
  if #n > 1 then return format("\\mathit{%s}", n) end
  return n
end

-- An operand: a name, or a C literal made plain ("(-0.5)" -> "-0.5").
local function operand(s)
  if s:match("^[%a_][%w_]*$") then return mathname(s) end
  s = s:gsub("^%((.*)%)$", "%1"):gsub("f$", "")
  if s == "HUGE_VAL" or s == "HUGE_VALF" then return "\\infty" end
  if s:match("HUGE_VAL") then return "-\\infty" end
  local m, e = s:match("^(.-)e([-+]%d+)$")
  if m then return format("%s \\cdot 10^{%d}", m, tonumber(e)) end
  return (s:gsub("%.0$", ""))
end

-- One operation of the program in math: its operator's LaTeX (ops.h's tex
-- column, %0, %1 and %2 the operands), or \operatorname{name}(operands).
-- arg(k) gives operand k's LaTeX (default: the operand as named).
local function expr(s, arg)
  arg = arg or function(k) return operand(s.args[k + 1]) end
  if s.tex ~= "" then
    return (s.tex:gsub("%%([012])", function(k) return arg(tonumber(k)) end))
  end
  local args = {}
  for k = 1, #s.args do args[k] = arg(k - 1) end
  return format("\\operatorname{%s}(%s)", s.op:lower(), concat(args, ", "))
end

-- ---- the model's names: temporaries written out ----
--
-- A temporary (t12) is a piece of some statement of the model; the
-- derivation reads better with the piece written where it is used, in the
-- model's names: yhat = x \cdot x \cdot w2 + x \cdot w1 + b, not three
-- lines of t1, t2, t3.  A temporary whose written-out form would be longer
-- than INLINE_MAX characters keeps its name (and its line).

local INLINE_MAX = 60

-- How tightly an operation binds: a sum 1, a negation 2, a product 3;
-- anything else (a fraction, a call, a power) is one piece.
local binds = {ADD = 1, SUB = 1, NEG = 2, MUL = 3}

-- Whether operand k of op needs parentheses around a piece binding b.
local function needs_parens(op, k, b)
  if not b then return false end
  if op == "MUL" then return b < 3 end
  if op == "SUB" then return k == 1 and b < 2 end
  if op == "NEG" then return b < 3 end
  if op == "POW" or op == "SQUARE" then return k == 0 end
  return false
end

local function is_temp(n) return n:match("^t%d+$") ~= nil end

-- The written-out forms: inline(name) is {tex, binds} for a name that
-- written(name) accepts and whose form is at most max characters, or nil
-- when it keeps its name; tex_of(s) is a statement's LaTeX.
local function written_out(stmts, written, max)
  local def, memo = {}, {}
  for _, s in ipairs(stmts) do def[s.name] = s end
  local inline
  local function piece(op, k, a)
    local w = written(a) and inline(a)
    if not w then return operand(a) end
    if needs_parens(op, k, w.binds) then return "\\left(" .. w.tex .. "\\right)" end
    return w.tex
  end
  -- a statement's LaTeX in the model's names: a + a is 2 a, a \cdot a is a^{2}
  local function tex_of(s)
    local a, b = s.args[1], s.args[2]
    if (s.op == "ADD" or s.op == "MUL") and a == b then
      local p = piece("MUL", 1, a)
      if s.op == "ADD" then return "2 " .. p, 3 end
      return "{" .. piece("POW", 0, a) .. "}^{2}", nil
    end
    return expr(s, function(k) return piece(s.op, k, s.args[k + 1]) end), binds[s.op]
  end
  inline = function(name)
    if memo[name] ~= nil then return memo[name] or nil end
    local s = def[name]
    memo[name] = false
    if not s or not written(name) then return nil end
    local tex, b = tex_of(s)
    if #tex <= max then memo[name] = {tex = tex, binds = b} end
    return memo[name] or nil
  end
  return inline, tex_of
end

local function partial(num, den)
  return format("\\frac{\\partial %s}{\\partial %s}", mathname(num), mathname(den))
end

return function(m)
  for _, list in ipairs({m.bindings, m.params, m.inputs}) do
    for _, v in ipairs(list) do
      if v.cname ~= v.name and v.name:match("^[%a_][%w_]*$") then shown[v.cname] = v.name end
    end
  end
  local out = {}
  local function put(...) out[#out + 1] = concat({...}) end
  local L = m.loss_name
  local stmts = m.backward.stmts
  local inline, tex_of = written_out(stmts, is_temp, INLINE_MAX)
  -- the factored gradient: adjoints (d_w) and temporaries written out
  local factored = written_out(stmts, function(n) return is_temp(n) or n:match("^d_") end,
                               4 * INLINE_MAX)
  -- a value in a partial: its name, or a written-out temporary in parentheses
  local function den(n)
    local w = is_temp(n) and inline(n)
    return w and ("\\left(" .. w.tex .. "\\right)") or mathname(n)
  end
  local function partial_of(num, d)
    return format("\\frac{\\partial %s}{\\partial %s}", den(num), den(d))
  end
  -- the statements that keep their line: not the written-out temporaries
  local function lines(backward)
    put("$$")
    put("\\begin{aligned}")
    for _, s in ipairs(stmts) do
      if (s.backward or false) == backward and not (is_temp(s.name) and inline(s.name)) then
        put(mathname(s.name), " &= ", (tex_of(s)), " \\\\")
      end
    end
    put("\\end{aligned}")
    put("$$")
  end

  put("# The gradient of `", L, "` in model `", m.name, "`")
  put("")
  put("Generated by symgrad ", m.version, " from `", m.source, "`:")
  put("")
  put("```")
  for _, s in ipairs(m.statements) do put(s) end
  put("```")
  put("")
  put("## Forward pass")
  put("")
  lines(false)
  put("")
  put("## Backward pass: the chain rule")
  put("")
  put("Each adjoint $\\bar{v} = ", partial(L, "v"), "$ sums, over every node $p$ that uses $v$, ",
      "the adjoint of $p$ times the local gradient $", partial("p", "v"), "$.")
  put("")
  put("$$")
  put("\\begin{aligned}")
  local loss_expr = L
  for _, s in ipairs(stmts) do
    if s.name == m.loss then loss_expr = (tex_of(s)) end
  end
  put(partial(L, L), " &= 1 \\\\")
  for _, a in ipairs(m.adjoints) do
    local terms = {}
    for i, t in ipairs(a.terms) do
      if t.is_loss then
        terms[i] = format("\\frac{\\partial (%s)}{\\partial %s}", loss_expr, den(a.name))
      else
        terms[i] = partial_of(L, t.parent) .. " " .. partial_of(t.parent, a.name)
      end
    end
    if #terms > 0 then
      put(partial_of(L, a.name), " &= ", concat(terms, " + "), " = ", operand(a.value), " \\\\")
    end
  end
  put("\\end{aligned}")
  put("$$")
  put("")
  put("computed as")
  put("")
  lines(true)
  put("")
  put("## The gradient")
  put("")
  put("Factored, in the model's names, then expanded:")
  put("")
  local expand = #m.params <= 32
  if not expand then
    put("(", #m.params, " parameters: the expanded forms are left out above 32.)")
    put("")
  end
  for i, p in ipairs(m.params) do
    local g = m.backward.grads[i]
    local f = factored(g)
    local latex
    if expand then _, latex = m.canonical(i) end
    put("$$", partial(L, p.name), " = ", operand(g), f and (" = " .. f.tex) or "",
        latex and (" = " .. latex) or "", "$$")
    put("")
  end
  return {{suffix = ".md", text = concat(out, "\n")}}
end
