-- c.lua: symgrad's default template, NAME_grad.c and NAME_grad.h.
--
-- The generator calls render(model) in a sandbox (no io, os, load, ...) and
-- writes the files it returns.  Every number arrives as a string the C side
-- formatted to round-trip exactly; this file never formats a double.  Lists
-- are arrays: iterate them with ipairs so the output is the same every run.

local concat, format, rep = table.concat, string.format, string.rep

-- Text for a C comment: no comment delimiters inside.
local function comment_safe(s)
  return (s:gsub("%*/", "* /"):gsub("/%*", "/ *"))
end

-- A C string literal.
local function cstring(s)
  return '"' .. s:gsub('[%c"\\\127-\255]', function(c)
    return format("\\%03o", c:byte())
  end) .. '"'
end

-- Appends a line to an output buffer: put(a, b, c) adds a .. b .. c.
local function emitter()
  local out, n = {}, 0
  local function put(a, b, c, d, e, f, g, h, ...)
    n = n + 1
    if ... ~= nil then
      out[n] = concat({a, b, c, d, e, f, g, h, ...})
    else
      out[n] = (a or "") .. (b or "") .. (c or "") .. (d or "") .. (e or "") .. (f or "")
               .. (g or "") .. (h or "")
    end
  end
  return out, put
end

local spaces = {}
for i = 1, 64 do spaces[i] = rep(" ", i) end

-- "name = value" lines padded so the comments line up.
local function padded(code, comment, width)
  if comment == nil or comment == "" then
    return code
  end
  local pad = width - #code
  if pad < 1 then pad = 1 end
  return code .. (spaces[pad] or rep(" ", pad)) .. "/* " .. comment .. " */"
end

local function enum_block(put, items)
  if #items == 0 then return end
  put("enum {")
  for i, item in ipairs(items) do
    put("\t", item, i < #items and "," or "")
  end
  put("};")
end

-- A C array initializer: "head a, b, c tail" on one line when that fits
-- 100 columns, else head, the items wrapped at 100 columns (a tab counted
-- as 8), and the tail on lines of their own.
local function put_list(put, head, items, tail)
  local one = head .. concat(items, ", ") .. tail
  if #one <= 100 then
    put(one)
    return
  end
  put(head)
  local line, len = {}, 8
  for _, it in ipairs(items) do
    if #line > 0 and len + #it + 2 > 100 then
      put("\t", concat(line, ", "), ",")
      line, len = {}, 8
    end
    line[#line + 1] = it
    len = len + #it + 2
  end
  put("\t", concat(line, ", "))
  put(tail)
end

-- ---- header ----

local function signatures(m, restrict)
  local r, P = m.real, m.name
  local q = restrict and " *restrict " or " *"
  return {
    forward = format("%s %s_forward(const %s%sparams, const %s%sinputs, %s%soutputs)",
                     r, P, r, q, r, q, r, q),
    backward = format("%s %s_backward(const %s%sparams, const %s%sinputs, %s%sgrad)",
                      r, P, r, q, r, q, r, q),
    predict = format("void %s_predict(const %s%sparams, const %s%sinputs, %s%soutputs)",
                     P, r, q, r, q, r, q),
    batch = format("%s %s_backward_batch(int n, const %s%sparams, const %s%sinputs, %s%sgrad)",
                   r, P, r, q, r, q, r, q),
    jacobian = format("void %s_jacobian(const %s%sparams, const %s%sinputs, %s%soutputs, "
                      .. "%s%sjac_params, %s%sjac_inputs)", P, r, q, r, q, r, q, r, q, r, q),
    hessian = format("%s %s_hessian(const %s%sparams, const %s%sinputs, %s%sgrad, %s%shess)",
                     r, P, r, q, r, q, r, q, r, q),
    hvp = format("%s %s_hvp(const %s%sparams, const %s%sinputs, const %s%svec, %s%sgrad, %s%shvp)",
                 r, P, r, q, r, q, r, q, r, q, r, q),
    hessian_sparse = format("%s %s_hessian_sparse(const %s%sparams, const %s%sinputs, %s%sgrad, "
                            .. "%s%shess_values)", r, P, r, q, r, q, r, q, r, q),
    gnvp = format("%s %s_gnvp(const %s%sparams, const %s%sinputs, const %s%svec, %s%sgrad, %s%sgnv)",
                  r, P, r, q, r, q, r, q, r, q, r, q),
    jvp = format("%s %s_jvp(const %s%sparams, const %s%sinputs, const %s%sdparams, "
                 .. "const %s%sdinputs, %s%soutputs, %s%sdoutputs, %s%sdloss)",
                 r, P, r, q, r, q, r, q, r, q, r, q, r, q, r, q),
    vjp = format("%s %s_vjp(const %s%sparams, const %s%sinputs, %s dloss, const %s%sdoutputs, "
                 .. "%s%sgparams, %s%sginputs)", r, P, r, q, r, q, r, r, q, r, q, r, q),
    sgd = format("size_t %s_sgd_epoch(size_t n, const size_t%ssgd_order, const %s%sinputs, "
                 .. "%s%sparams, %s sgd_lr, %s%sgrad, double%ssgd_sums)",
                 P, q, r, q, r, q, r, r, q, q),
  }
end

local model_struct = [[
/* The descriptor a runtime reads through one symbol (see runtime/sg_model.h). */
#ifndef SG_MODEL_ABI
#define SG_MODEL_ABI 4
#include <stddef.h>
typedef struct sg_model {
	int abi;
	const char *name;
	const char *source;
	const char *version;
	int real_size;
	int n_params, n_inputs, n_outputs;
	const char *const *param_names;
	const char *const *input_names;
	const char *const *output_names;
	const double *param_init;
	double (*forward_d)(const double *params, const double *inputs, double *outputs);
	double (*backward_d)(const double *params, const double *inputs, double *grad);
	void (*predict_d)(const double *params, const double *inputs, double *outputs);
	double (*backward_batch_d)(int n, const double *params, const double *inputs, double *grad);
	float (*forward_f)(const float *params, const float *inputs, float *outputs);
	float (*backward_f)(const float *params, const float *inputs, float *grad);
	void (*predict_f)(const float *params, const float *inputs, float *outputs);
	float (*backward_batch_f)(int n, const float *params, const float *inputs, float *grad);
	const int *input_classes;
	void (*jacobian_d)(const double *params, const double *inputs, double *outputs,
	                   double *jac_params, double *jac_inputs);
	double (*hessian_d)(const double *params, const double *inputs, double *grad, double *hess);
	double (*hvp_d)(const double *params, const double *inputs, const double *vec, double *grad,
	                double *hvp);
	void (*jacobian_f)(const float *params, const float *inputs, float *outputs,
	                   float *jac_params, float *jac_inputs);
	float (*hessian_f)(const float *params, const float *inputs, float *grad, float *hess);
	float (*hvp_f)(const float *params, const float *inputs, const float *vec, float *grad,
	               float *hvp);
	int residual_first, n_residuals;
	size_t (*sgd_epoch_d)(size_t n, const size_t *order, const double *inputs, double *params, double lr, double *grad, double *sums);
	size_t (*sgd_epoch_f)(size_t n, const size_t *order, const float *inputs, float *params, float lr, float *grad, double *sums);
	double (*jvp_d)(const double *params, const double *inputs, const double *dparams,
	                const double *dinputs, double *outputs, double *doutputs, double *dloss);
	double (*vjp_d)(const double *params, const double *inputs, double dloss,
	                const double *doutputs, double *gparams, double *ginputs);
	double (*gnvp_d)(const double *params, const double *inputs, const double *vec, double *grad,
	                 double *gnv);
	double (*hessian_sparse_d)(const double *params, const double *inputs, double *grad,
	                           double *hess_values);
	float (*jvp_f)(const float *params, const float *inputs, const float *dparams,
	               const float *dinputs, float *outputs, float *doutputs, float *dloss);
	float (*vjp_f)(const float *params, const float *inputs, float dloss,
	               const float *doutputs, float *gparams, float *ginputs);
	float (*gnvp_f)(const float *params, const float *inputs, const float *vec, float *grad,
	                float *gnv);
	float (*hessian_sparse_f)(const float *params, const float *inputs, float *grad,
	                          float *hess_values);
	int hess_nnz;
	const int *hess_colptr, *hess_rowidx;
} sg_model;
#endif]]

local function banner(put, m, file)
  put("/*")
  put(" * ", file, ": generated by symgrad ", m.version, " from ", comment_safe(m.source), ".")
  put(" * Do not edit; regenerate with: symgrad gen ", comment_safe(m.source))
  put(" *")
  put(" * The model (", m.dtype, "):")
  for _, s in ipairs(m.statements) do
    put(" *   ", comment_safe(s))
  end
  put(" */")
end

local function render_header(m)
  local out, put = emitter()
  local N, P = m.NAME, m.name
  local guard = N .. "_GRAD_H"
  banner(put, m, m.header)
  put("#ifndef ", guard)
  put("#define ", guard)
  put("")
  put("#include <stddef.h>")
  put("")
  put("#ifdef __cplusplus")
  put('extern "C" {')
  put("#endif")
  put("")
  put("/* Array sizes, and the index of each name in its array. */")
  enum_block(put, {N .. "_N_PARAMS = " .. #m.params, N .. "_N_INPUTS = " .. #m.inputs,
                   N .. "_N_OUTPUTS = " .. #m.outputs})
  -- a tensor's constant is its first index; NAME_N_PARAM_W is its size
  for _, group in ipairs({{"PARAM", m.param_groups}, {"INPUT", m.input_groups},
                          {"OUTPUT", m.output_groups}}) do
    local items = {}
    for _, g in ipairs(group[2]) do
      items[#items + 1] = format("%s_%s_%s = %d", N, group[1], g.name, g.index)
      if g.rank > 0 then
        items[#items + 1] = format("%s_N_%s_%s = %d", N, group[1], g.name, g.size)
      end
    end
    enum_block(put, items)
  end
  put("")
  local sig = signatures(m, false)
  put("/* Returns the loss; outputs (NULL to skip) gets ", N, "_N_OUTPUTS values. */")
  put(sig.forward, ";")
  put("/* Returns the loss; grad gets dloss/dparam for each of the ", N, "_N_PARAMS params. */")
  put(sig.backward, ";")
  put("/* Computes the outputs only; reads only the inputs they depend on. */")
  put(sig.predict, ";")
  put("/* Sums loss and gradient over n rows of ", N, "_N_INPUTS inputs each, in row order. */")
  put(sig.batch, ";")
  if m.jacobian then
    put("/* outputs gets ", N, "_N_OUTPUTS values; jac_params[o * ", N, "_N_PARAMS + p] is")
    put(" * d outputs[o] / d params[p], jac_inputs[o * ", N, "_N_INPUTS + i] d outputs[o] / d inputs[i],")
    put(" * o, p and i the header's constants (", N, "_OUTPUT_..., ", N, "_PARAM_..., ", N, "_INPUT_...). */")
    put(sig.jacobian, ";")
  end
  if m.hessian then
    put("/* Returns the loss; grad as ", P, "_backward's; hess[p * ", N, "_N_PARAMS + q] is")
    put(" * d2 loss / d params[p] d params[q], symmetric to the bit. */")
    put(sig.hessian, ";")
  end
  if m.hvp then
    put("/* Returns the loss; grad as ", P, "_backward's; hvp = H vec, the Hessian of the loss")
    put(" * times vec (", N, "_N_PARAMS values, indexed like params). */")
    put(sig.hvp, ";")
  end
  if m.hessian_sparse then
    local h = m.hessian_sparse
    put("/* The Hessian's ", N, "_HESS_NNZ entries that are not 0 by structure, as compressed")
    put(" * sparse columns (both triangles): column j's rows are ", P, "_hess_rowidx[k] for k from")
    put(" * ", P, "_hess_colptr[j] to ", P, "_hess_colptr[j + 1] - 1. */")
    put("#define ", N, "_HESS_NNZ ", #h.rowidx)
    local function texts(list)
      local t = {}
      for i, x in ipairs(list) do t[i] = tostring(x) end
      return t
    end
    put_list(put, "static const int " .. P .. "_hess_colptr[" .. N .. "_N_PARAMS + 1] = {",
             texts(h.colptr), "};")
    local rows = #h.rowidx > 0 and texts(h.rowidx) or {"0"}
    put_list(put, "static const int " .. P .. "_hess_rowidx[" .. #rows .. "] = {", rows, "};")
    put("/* Returns the loss; grad as ", P, "_backward's; hess_values[k] the entry (",
        P, "_hess_rowidx[k], j),")
    put(" * the same bits as ", P, "_hessian's. */")
    put(sig.hessian_sparse, ";")
  end
  if m.gnvp then
    put("/* Returns the loss; grad as ", P, "_backward's; gnv = 2 J'J vec, J = d r / d params,")
    put(" * the residuals' Jacobian: the Gauss-Newton matrix of loss = sum(r^2) times vec. */")
    put(sig.gnvp, ";")
  end
  if m.jvp then
    put("/* Forward mode.  Returns the loss; outputs as ", P, "_forward's; doutputs[o] and *dloss")
    put(" * are the derivatives of outputs[o] and of the loss along the tangent dparams")
    put(" * (", N, "_N_PARAMS values), dinputs (", N, "_N_INPUTS). */")
    put(sig.jvp, ";")
  end
  if m.vjp then
    put("/* Reverse mode from any cotangent.  Returns the loss; gparams and ginputs get the")
    put(" * gradient of dloss * loss + the sum over o of doutputs[o] * outputs[o] with respect")
    put(" * to params and inputs (dloss = 1, doutputs 0: the loss's gradient, inputs too). */")
    put(sig.vjp, ";")
  end
  if not m.loop then
    put("/* Per-sample SGD over the rows order[0..n), the backward pass inlined in the loop;")
    put(" * returns the rows done (see sgd_epoch_d in runtime/sg_model.h). */")
    put(sig.sgd, ";")
  end
  put("")
  put(model_struct)
  put("extern const sg_model ", P, "_model;")
  put("")
  put("#ifdef __cplusplus")
  put("}")
  put("#endif")
  put("")
  put("#endif")
  return concat(out, "\n") .. "\n"
end

-- ---- source ----

-- NAME_OUTPUT_y, or NAME_OUTPUT_probs + 3 for an element of a vector.
local function array_index(m, what, s)
  if s.tensor then
    return m.NAME .. "_" .. what .. "_" .. s.tensor .. " + " .. s.offset
  end
  return m.NAME .. "_" .. what .. "_" .. s.ident
end

local function output_index(m, o) return array_index(m, "OUTPUT", o) end

-- The body shared by forward, backward and predict.
-- Reads parameters and inputs into named constants.  opts.kind limits the
-- loads to "param" or "input"; opts.array overrides the array read from.
local function loads(put, m, f, indent, opts)
  local r = m.real
  local used = {}
  for _, l in ipairs(f.loads) do
    if not opts.kind or l.kind == opts.kind then
      local from = l.kind == "param" and "params" or l.kind == "dir" and l.array or "inputs"
      local array = opts.array or from
      used[from] = true
      local at = m.NAME .. "_" .. l.kind:upper() .. "_" .. (l.tensor or l.name)
      if l.kind == "dir" then at = m.NAME .. "_" .. l.of .. "_" .. l.param end
      if l.tensor then at = at .. " + " .. l.offset end
      if l.kind == "dir" and l.of == "" then -- a scalar argument
        put(indent, "const ", r, " ", l.cname, " = ", array, ";")
      else
        put(indent, "const ", r, " ", l.cname, " = ", array, "[", at, "];")
      end
    end
  end
  return used
end

-- The statements of f, one per line, commented unless opts.bare.
local function statements(put, m, f, sections, indent, opts)
  local r = m.real
  local width = 0
  for _, s in ipairs(f.stmts) do
    local n = #r + #s.name + #s.expr + 14
    if n > width and n <= 56 then width = n end
  end
  local section, last_line = nil, nil
  for _, s in ipairs(f.stmts) do
    local code = indent .. "const " .. r .. " " .. s.name .. " = " .. s.expr .. ";"
    if opts.bare then
      put(code)
    else
      local want = s.backward and "backward" or "forward"
      if want ~= section then
        section = want
        put("")
        put(indent, "/* ", sections[want], " */")
      end
      local comment = s.comment
      if not s.backward and s.line > 0 then
        -- a forward statement's source line, once per run of statements from it
        comment = s.line ~= last_line and format("line %d: %s", s.line, comment) or ""
        last_line = s.line
      end
      put(padded(code, comment, width))
    end
  end
end

-- The body shared by forward, backward and predict.
local function body(put, m, f, sections)
  if #f.loads > 0 then
    put("\t/* ", sections.loads, " */")
  end
  local used = loads(put, m, f, "\t", {})
  statements(put, m, f, sections, "\t", {})
  return used
end

local function unused(put, used, names)
  for _, n in ipairs(names) do
    if not used[n] then put("\t(void)", n, ";") end
  end
end

-- Rows in blocks of BLOCK: every value of a row is an array over the block
-- and each run of statements without a <math.h> call is one loop over it,
-- which the compiler vectorizes with one row per lane.  Each row gets the
-- operations of NAME_backward in the same order, and the gradients are
-- summed row by row, so the result is the per-row function's, summed in
-- row order, to the bit.
local BLOCK = 16
-- A last block of fewer rows than this goes row by row: a block costs about
-- as much whatever its rows, about 3.5 rows' time one at a time on the
-- lecture 7 network (4.5 in double; 16 rows take 700 ns in float, one row
-- 200 ns).
local SHORT = 4
-- entries of the batch's gradient summed side by side (NAME_gsum: one
-- AVX-512 register of doubles, two AVX registers, one AVX register of floats)
local GSUM = {double = 8, float = 8}

-- symgrad's own elementary functions: m.sgmath is gen/sgmath.h, in sections
-- that each start with a line "/*@ NAME DEPENDENCIES */".  The functions the
-- code calls are copied, each once and after what it needs, so the file stays
-- self-contained and defines nothing it does not use; each within a guard
-- (SGMATH_NAME), so that generated files can be included into one unit.
local function sgmath_sections(src)
  local sec, cur = {}, nil
  for line in (src .. "\n"):gmatch("([^\n]*)\n") do
    local head = line:match("^/%*@ (.-) %*/$")
    if head then
      cur = {deps = {}, lines = {}}
      for w in head:gmatch("%S+") do
        if cur.name then cur.deps[#cur.deps + 1] = w else cur.name = w end
      end
      sec[cur.name] = cur
    elseif cur then
      cur.lines[#cur.lines + 1] = line
    end
  end
  return sec
end

local function sgmath_block(m, code)
  if not m.sgmath then return nil end
  local sec, out, done = sgmath_sections(m.sgmath), {}, {}
  local function add(name)
    if done[name] then return end
    done[name] = true
    for _, d in ipairs(sec[name].deps) do add(d) end
    -- guarded: several generated files may be built as one unit
    local guard = "SGMATH_" .. name:upper()
    out[#out + 1] = "#ifndef " .. guard .. "\n#define " .. guard .. "\n" ..
                    concat(sec[name].lines, "\n") .. "\n#endif"
  end
  -- in the order the code first calls them, so the output is deterministic
  for name in code:gmatch("%f[%w_](sg_[%w_]+)%(") do
    if sec[name] then add(name) end
  end
  if #out == 0 then return nil end
  return "/* symgrad's own elementary functions (gen/sgmath.h; README \"Elementary\n" ..
         " * functions\"): the same bits on every machine, vectorizable. */\n" ..
         concat(out, "\n") .. "\n"
end

local render_scalar_functions, render_descriptor

-- The functions beyond the gradient (gen --jacobian, --hessian, --hvp).
local function render_extra_functions(put, m, sig)
  local N, P = m.NAME, m.name
  local sections = {loads = "parameters and inputs", forward = "forward pass",
                    backward = "backward pass and its derivatives"}
  local function matrix(name, rows, cols, nrow, ncol, values)
    for i, a in ipairs(rows) do
      for j, b in ipairs(cols) do
        put("\t", name, "[(", a, ") * ", nrow, " + ", b, "] = ", values[(i - 1) * #cols + j], ";")
      end
    end
    if #rows == 0 or #cols == 0 then put("\t(void)", name, ";") end
  end
  local pidx, iidx, oidx = {}, {}, {}
  for i, p in ipairs(m.params) do pidx[i] = array_index(m, "PARAM", p) end
  for i, s in ipairs(m.inputs) do iidx[i] = array_index(m, "INPUT", s) end
  for i, o in ipairs(m.outputs) do oidx[i] = output_index(m, o) end
  if m.jacobian then
    local f = m.jacobian
    put(sig.jacobian)
    put("{")
    local used = body(put, m, f, sections)
    unused(put, used, {"params", "inputs"})
    put("")
    for i, o in ipairs(oidx) do
      put("\toutputs[", o, "] = ", f.outputs[i], ";")
    end
    matrix("jac_params", oidx, pidx, N .. "_N_PARAMS", nil, f.jac_params)
    matrix("jac_inputs", oidx, iidx, N .. "_N_INPUTS", nil, f.jac_inputs)
    put("}")
    put("")
  end
  local vec_arg = {hvp = "vec", gnvp = "vec"}
  for _, k in ipairs({"hessian", "hessian_sparse", "hvp", "gnvp"}) do
    local f = m[k]
    if f then
      put(sig[k])
      put("{")
      local used = body(put, m, f, sections)
      unused(put, used, {"params", "inputs", vec_arg[k]})
      put("")
      for i, p in ipairs(m.params) do
        put("\tgrad[", pidx[i], "] = ", f.grads[i], ";")
      end
      if k == "hessian" then
        matrix("hess", pidx, pidx, N .. "_N_PARAMS", nil, f.hess)
      elseif k == "hessian_sparse" then
        -- column j's entries, rows ascending; the index is the entry's
        for j = 1, #m.params do
          for e = f.colptr[j] + 1, f.colptr[j + 1] do
            put("\thess_values[", e - 1, "] = ", f.values[e], "; /* (", m.params[f.rowidx[e] + 1].name,
                ", ", m.params[j].name, ") */")
          end
        end
        if #f.values == 0 then put("\t(void)hess_values;") end
      else
        local out = k == "hvp" and "hvp" or "gnv"
        for i = 1, #m.params do put("\t", out, "[", pidx[i], "] = ", f.hv[i], ";") end
      end
      put("\treturn ", m.loss, ";")
      put("}")
      put("")
    end
  end
  if m.jvp then
    local f = m.jvp
    put(sig.jvp)
    put("{")
    local used = body(put, m, f, sections)
    unused(put, used, {"params", "inputs", "dparams", "dinputs"})
    put("")
    for i, o in ipairs(oidx) do put("\toutputs[", o, "] = ", f.outputs[i], ";") end
    for i, o in ipairs(oidx) do put("\tdoutputs[", o, "] = ", f.doutputs[i], ";") end
    if #oidx == 0 then put("\t(void)outputs;") put("\t(void)doutputs;") end
    put("\t*dloss = ", f.dloss[1], ";")
    put("\treturn ", m.loss, ";")
    put("}")
    put("")
  end
  if m.vjp then
    local f = m.vjp
    put(sig.vjp)
    put("{")
    local used = body(put, m, f, sections)
    unused(put, used, {"params", "inputs", "dloss", "doutputs"})
    put("")
    for i = 1, #m.params do put("\tgparams[", pidx[i], "] = ", f.gparams[i], ";") end
    for i = 1, #m.inputs do put("\tginputs[", iidx[i], "] = ", f.ginputs[i], ";") end
    if #m.inputs == 0 then put("\t(void)ginputs;") end
    put("\treturn ", m.loss, ";")
    put("}")
    put("")
  end
end

-- ---- loop programs (model.loop: models above the loop threshold) ----

-- A body of items: statements, comments, for loops and if blocks, indented
-- by their nesting.  Comments of statements line up within a loop body.
local function loop_body(put, items)
  local depth = 1
  for _, it in ipairs(items) do
    local indent = rep("\t", depth)
    local k = it.kind
    if k == "stmt" then
      if it.comment then
        put(padded(indent .. it.text, comment_safe(it.comment), 56))
      else
        put(indent, it.text)
      end
    elseif k == "comment" then
      put(indent, "/* ", comment_safe(it.text), " */")
    elseif k == "blank" then
      put("")
    elseif k == "for" then
      if it.from <= it.to then
        put(indent, format("for (int %s = %d; %s < %d; %s++) {", it.var, it.from, it.var, it.to + 1,
                           it.var))
      else
        put(indent, format("for (int %s = %d; %s >= %d; %s--) {", it.var, it.from, it.var, it.to,
                           it.var))
      end
      depth = depth + 1
    elseif k == "if" then
      put(indent, "if (", it.text, ") {")
      depth = depth + 1
    elseif k == "open" then
      put(indent, it.text == "" and "{" or it.text .. " {")
      depth = depth + 1
    elseif k == "end" then
      depth = depth - 1
      put(rep("\t", depth), "}")
    elseif k == "pp" then
      put(it.text)
    end
  end
end

-- The batch's tiles in vector form (loop.c puts them under #if
-- NAME_VECTORS, beside the plain loops): NAME_v, 32 bytes of lanes.
local function vector_types(put, m)
  local N, r = m.NAME, m.real
  local n = r == "float" and 8 or 4
  put("/* The batch's tiles as vectors, with GCC's and clang's vector extension on")
  put(" * machines with AVX: ", N, "_V(e) is the ", n, " ", r, "s from element e on, and each")
  put(" * accumulator a register.  A vector operation is the same IEEE operation in")
  put(" * every lane, so both forms of a tile compute the same bits. */")
  put("#if defined(__GNUC__) && defined(__AVX__) && !defined(", N, "_NO_VECTORS)")
  put("#define ", N, "_VECTORS 1")
  put("typedef ", r, " ", N, "_v __attribute__((vector_size(32), aligned(", r == "float" and 4 or 8,
      "), may_alias));")
  put("#define ", N, "_V(e) (*(", N, "_v *)&(e))")
  put("#else")
  put("#define ", N, "_VECTORS 0")
  put("#endif")
  put("")
end

local function render_loop_functions(put, m, sig)
  local N, P, r = m.NAME, m.name, m.real
  put("/* Loops: the model is above the unrolling threshold (", m.loop.tensors,
      " tensor values, ", m.loop.kernels, " kernels). */")
  put("")
  put(sig.forward)
  put("{")
  loop_body(put, m.loop.forward.items)
  put("}")
  put("")
  put(sig.backward)
  put("{")
  loop_body(put, m.loop.backward.items)
  put("}")
  put("")
  put(sig.predict)
  put("{")
  loop_body(put, m.loop.predict.items)
  put("}")
  put("")
  for _, k in ipairs({"jacobian", "hessian", "hvp", "gnvp", "jvp", "vjp"}) do
    if m[k] then
      put(sig[k])
      put("{")
      loop_body(put, m[k].items)
      put("}")
      put("")
    end
  end
  if m.loop.batch and m.loop.vectors then vector_types(put, m) end
  put(sig.batch)
  put("{")
  if m.loop.batch then
    -- batch: blocks of rows, each value an array with a lane per row
    loop_body(put, m.loop.batch.items)
    put("}")
    put("")
    return
  end
  -- batch: NAME_backward on each row, summed in row order, which is by
  -- construction the per-sample result summed in the same order
  put("\t", r, " g[", N, "_N_PARAMS];")
  put("\t", r, " loss_sum = 0;")
  put("\tfor (int k = 0; k < ", N, "_N_PARAMS; k++)")
  put("\t\tgrad[k] = 0;")
  put("\tfor (int i = 0; i < n; i++) {")
  put("\t\tloss_sum += ", P, "_backward(params, inputs + (long)i * ", N, "_N_INPUTS, g);")
  put("\t\tfor (int k = 0; k < ", N, "_N_PARAMS; k++)")
  put("\t\t\tgrad[k] += g[k];")
  put("\t}")
  put("\treturn loss_sum;")
  put("}")
  put("")
end

local function render_source(m)
  local out, put = emitter()
  local N, P, r = m.NAME, m.name, m.real
  local file = P .. "_grad.c"
  local sig = signatures(m, true)
  banner(put, m, file)
  put("#include <math.h>")
  put("")
  put('#include "', m.header, '"')
  put("")
  local at = #out
  if m.loop then
    render_loop_functions(put, m, sig)
  else
    render_scalar_functions(put, m, sig)
  end
  render_descriptor(put, m)
  local math = sgmath_block(m, concat(out, "\n"))
  if math then table.insert(out, at + 1, math) end
  return concat(out, "\n") .. "\n"
end

-- The gradient entries of the batch that are a product with one element of
-- an input tensor, as an outer product's are (dloss/dW[i][j] = d_z[i] *
-- x[j]): added into grad as the product is formed, reading the input from
-- its row, instead of stored as an array over the block and added after.
-- The same product (operands in the same order) added in the same order,
-- so the same bits; and the entries of one row of W are then one short
-- loop over j, which the compiler vectorizes across j (the row's inputs
-- are contiguous) where the array form left one scalar add per entry.
-- Returns fused[q] = {expr = function(offset text) -> C, key, xoff, poff,
-- arrays = the block arrays the product reads} for the entries so added,
-- and dropped[name] for the statements no longer needed.
local function outer_products(m, f, inputs)
  local N = m.NAME
  local input, uses, fused, dropped, def = {}, {}, {}, {}, {}
  for _, l in ipairs(inputs) do
    if l.tensor then input[l.cname] = l end
  end
  for _, st in ipairs(f.stmts) do
    def[st.name] = st
    for _, a in ipairs(st.args) do uses[a] = (uses[a] or 0) + 1 end
  end
  local loss = f.row_loss:match("^([%w_]+)%[r%]$")
  if loss then uses[loss] = (uses[loss] or 0) + 1 end
  local count = {}
  for _, g in ipairs(f.row_grads) do
    local n = g:match("^([%w_]+)%[r%]$")
    if n then count[n] = (count[n] or 0) + 1 end
  end
  for q, g in ipairs(f.row_grads) do
    local n = g:match("^([%w_]+)%[r%]$")
    local st = n and def[n]
    local p = m.params[q]
    if st and st.op == "MUL" and p.tensor and not uses[n] and count[n] == 1 then
      local a, b = st.args[1], st.args[2]
      local x = input[b] and b or input[a] and a
      local other = x == b and a or b
      if x and other ~= x and not input[other] then
        local l = input[x]
        local pat = "%f[%w_]" .. x .. "%[r%]"
        local key = st.row_expr:gsub(pat, "@") .. "|" .. l.tensor .. "|" .. p.tensor
        local arrays = {}
        if def[other] then arrays[1] = other end
        fused[q] = {
          key = key, xoff = l.offset, poff = p.offset, arrays = arrays,
          expr = function(off)
            local at = "row[(long)r * " .. N .. "_N_INPUTS + " .. N .. "_INPUT_" ..
                       l.tensor .. " + " .. off .. "]"
            return (st.row_expr:gsub(pat, function() return at end))
          end,
        }
        dropped[n] = true
      end
    end
  end
  return fused, dropped
end

-- The batch's input loads, the entries added as outer products are formed
-- (outer_products), and the entries that are a block array alone, which
-- are summed after the block's statements, GSUM at a time (NAME_gsum).
local function batch_plan(m)
  local f = m.backward
  local inputs = {}
  for _, l in ipairs(f.loads) do
    if l.kind == "input" then inputs[#inputs + 1] = l end
  end
  local fused, dropped = outer_products(m, f, inputs)
  local summed = {}
  for q, g in ipairs(f.row_grads) do
    if not fused[q] and g:match("^[%w_]+%[r%]$") then summed[#summed + 1] = q end
  end
  return {inputs = inputs, fused = fused, dropped = dropped, summed = summed}
end

-- Whether a group of n summed entries goes through NAME_gsum (at least 4
-- entries: a smaller group gains nothing)
local function gsum_call(r, n)
  return n >= 4
end

-- NAME_gsum's AVX bodies: float, 8 rows of 8 entries transposed in ymm
-- registers; double, 4 rows of 4 entries, twice.
local GSUM_AVX = {
  float = [[
	__m256 s = _mm256_loadu_ps(gsum);
	for (int r = 0; r < rows; r += 8) {
		__m256 a = _mm256_loadu_ps(v[0] + r), b = _mm256_loadu_ps(v[1] + r);
		__m256 c = _mm256_loadu_ps(v[2] + r), d = _mm256_loadu_ps(v[3] + r);
		__m256 e = _mm256_loadu_ps(v[4] + r), f = _mm256_loadu_ps(v[5] + r);
		__m256 g = _mm256_loadu_ps(v[6] + r), h = _mm256_loadu_ps(v[7] + r);
		if (rows - r < 8) {
			const __m256 z = _mm256_set1_ps(-0.0f);
			const __m256 in = _mm256_cmp_ps(_mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7),
							_mm256_set1_ps((float)(rows - r)), _CMP_LT_OQ);
			a = _mm256_blendv_ps(z, a, in), b = _mm256_blendv_ps(z, b, in);
			c = _mm256_blendv_ps(z, c, in), d = _mm256_blendv_ps(z, d, in);
			e = _mm256_blendv_ps(z, e, in), f = _mm256_blendv_ps(z, f, in);
			g = _mm256_blendv_ps(z, g, in), h = _mm256_blendv_ps(z, h, in);
		}
		const __m256 ab0 = _mm256_unpacklo_ps(a, b), ab1 = _mm256_unpackhi_ps(a, b);
		const __m256 cd0 = _mm256_unpacklo_ps(c, d), cd1 = _mm256_unpackhi_ps(c, d);
		const __m256 ef0 = _mm256_unpacklo_ps(e, f), ef1 = _mm256_unpackhi_ps(e, f);
		const __m256 gh0 = _mm256_unpacklo_ps(g, h), gh1 = _mm256_unpackhi_ps(g, h);
		/* rows r + j (low half) and r + 4 + j (high half) of entries 0-3, 4-7 */
		const __m256 l0 = _mm256_shuffle_ps(ab0, cd0, 0x44), h0 = _mm256_shuffle_ps(ef0, gh0, 0x44);
		const __m256 l1 = _mm256_shuffle_ps(ab0, cd0, 0xee), h1 = _mm256_shuffle_ps(ef0, gh0, 0xee);
		const __m256 l2 = _mm256_shuffle_ps(ab1, cd1, 0x44), h2 = _mm256_shuffle_ps(ef1, gh1, 0x44);
		const __m256 l3 = _mm256_shuffle_ps(ab1, cd1, 0xee), h3 = _mm256_shuffle_ps(ef1, gh1, 0xee);
		s = _mm256_add_ps(s, _mm256_permute2f128_ps(l0, h0, 0x20)); /* row r */
		s = _mm256_add_ps(s, _mm256_permute2f128_ps(l1, h1, 0x20));
		s = _mm256_add_ps(s, _mm256_permute2f128_ps(l2, h2, 0x20));
		s = _mm256_add_ps(s, _mm256_permute2f128_ps(l3, h3, 0x20));
		s = _mm256_add_ps(s, _mm256_permute2f128_ps(l0, h0, 0x31)); /* row r + 4 */
		s = _mm256_add_ps(s, _mm256_permute2f128_ps(l1, h1, 0x31));
		s = _mm256_add_ps(s, _mm256_permute2f128_ps(l2, h2, 0x31));
		s = _mm256_add_ps(s, _mm256_permute2f128_ps(l3, h3, 0x31));
	}
	_mm256_storeu_ps(gsum, s);]],
  double = [[
	__m256d s0 = _mm256_loadu_pd(gsum), s1 = _mm256_loadu_pd(gsum + 4);
	for (int r = 0; r < rows; r += 4) {
		__m256d a = _mm256_loadu_pd(v[0] + r), b = _mm256_loadu_pd(v[1] + r);
		__m256d c = _mm256_loadu_pd(v[2] + r), d = _mm256_loadu_pd(v[3] + r);
		__m256d e = _mm256_loadu_pd(v[4] + r), f = _mm256_loadu_pd(v[5] + r);
		__m256d g = _mm256_loadu_pd(v[6] + r), h = _mm256_loadu_pd(v[7] + r);
		if (rows - r < 4) {
			const __m256d z = _mm256_set1_pd(-0.0);
			const __m256d in = _mm256_cmp_pd(_mm256_setr_pd(0, 1, 2, 3),
							 _mm256_set1_pd((double)(rows - r)), _CMP_LT_OQ);
			a = _mm256_blendv_pd(z, a, in), b = _mm256_blendv_pd(z, b, in);
			c = _mm256_blendv_pd(z, c, in), d = _mm256_blendv_pd(z, d, in);
			e = _mm256_blendv_pd(z, e, in), f = _mm256_blendv_pd(z, f, in);
			g = _mm256_blendv_pd(z, g, in), h = _mm256_blendv_pd(z, h, in);
		}
		/* rows r, r + 2 (ab0: a b a b) and r + 1, r + 3 (ab1) */
		const __m256d ab0 = _mm256_unpacklo_pd(a, b), ab1 = _mm256_unpackhi_pd(a, b);
		const __m256d cd0 = _mm256_unpacklo_pd(c, d), cd1 = _mm256_unpackhi_pd(c, d);
		const __m256d ef0 = _mm256_unpacklo_pd(e, f), ef1 = _mm256_unpackhi_pd(e, f);
		const __m256d gh0 = _mm256_unpacklo_pd(g, h), gh1 = _mm256_unpackhi_pd(g, h);
		s0 = _mm256_add_pd(s0, _mm256_permute2f128_pd(ab0, cd0, 0x20)); /* row r */
		s1 = _mm256_add_pd(s1, _mm256_permute2f128_pd(ef0, gh0, 0x20));
		s0 = _mm256_add_pd(s0, _mm256_permute2f128_pd(ab1, cd1, 0x20)); /* row r + 1 */
		s1 = _mm256_add_pd(s1, _mm256_permute2f128_pd(ef1, gh1, 0x20));
		s0 = _mm256_add_pd(s0, _mm256_permute2f128_pd(ab0, cd0, 0x31)); /* row r + 2 */
		s1 = _mm256_add_pd(s1, _mm256_permute2f128_pd(ef0, gh0, 0x31));
		s0 = _mm256_add_pd(s0, _mm256_permute2f128_pd(ab1, cd1, 0x31)); /* row r + 3 */
		s1 = _mm256_add_pd(s1, _mm256_permute2f128_pd(ef1, gh1, 0x31));
	}
	_mm256_storeu_pd(gsum, s0);
	_mm256_storeu_pd(gsum + 4, s1);]],
}

-- NAME_gsum's AVX-512 body, double: 8 rows of 8 entries transposed in zmm
-- registers (unpack pairs, then 256- and 128-bit halves).  (Float keeps its
-- AVX body: 16 rows of 8 entries in zmm registers, paired across lanes with
-- vpermt2ps, measured 7% slower on the lecture 7 batch, Zen 5.)
local GSUM_AVX512 = {
  double = [[
	__m512d s = _mm512_loadu_pd(gsum);
	for (int r = 0; r < rows; r += 8) {
		const __mmask8 m = rows - r < 8 ? (__mmask8)((1u << (rows - r)) - 1) : 0xff;
		const __m512d z = _mm512_set1_pd(-0.0);
		const __m512d a = _mm512_mask_loadu_pd(z, m, v[0] + r), b = _mm512_mask_loadu_pd(z, m, v[1] + r);
		const __m512d c = _mm512_mask_loadu_pd(z, m, v[2] + r), d = _mm512_mask_loadu_pd(z, m, v[3] + r);
		const __m512d e = _mm512_mask_loadu_pd(z, m, v[4] + r), f = _mm512_mask_loadu_pd(z, m, v[5] + r);
		const __m512d g = _mm512_mask_loadu_pd(z, m, v[6] + r), h = _mm512_mask_loadu_pd(z, m, v[7] + r);
		/* ab0: rows r, r + 2, r + 4, r + 6 of a and b; ab1: r + 1, r + 3, ... */
		const __m512d ab0 = _mm512_unpacklo_pd(a, b), ab1 = _mm512_unpackhi_pd(a, b);
		const __m512d cd0 = _mm512_unpacklo_pd(c, d), cd1 = _mm512_unpackhi_pd(c, d);
		const __m512d ef0 = _mm512_unpacklo_pd(e, f), ef1 = _mm512_unpackhi_pd(e, f);
		const __m512d gh0 = _mm512_unpacklo_pd(g, h), gh1 = _mm512_unpackhi_pd(g, h);
		/* l0: rows r, r + 4 of a b c d; l1: r + 2, r + 6; l2, l3: r + 1 ... */
		const __m512d l0 = _mm512_shuffle_f64x2(ab0, cd0, 0x88), h0 = _mm512_shuffle_f64x2(ef0, gh0, 0x88);
		const __m512d l1 = _mm512_shuffle_f64x2(ab0, cd0, 0xdd), h1 = _mm512_shuffle_f64x2(ef0, gh0, 0xdd);
		const __m512d l2 = _mm512_shuffle_f64x2(ab1, cd1, 0x88), h2 = _mm512_shuffle_f64x2(ef1, gh1, 0x88);
		const __m512d l3 = _mm512_shuffle_f64x2(ab1, cd1, 0xdd), h3 = _mm512_shuffle_f64x2(ef1, gh1, 0xdd);
		s = _mm512_add_pd(s, _mm512_shuffle_f64x2(l0, h0, 0x88)); /* row r */
		s = _mm512_add_pd(s, _mm512_shuffle_f64x2(l2, h2, 0x88));
		s = _mm512_add_pd(s, _mm512_shuffle_f64x2(l1, h1, 0x88));
		s = _mm512_add_pd(s, _mm512_shuffle_f64x2(l3, h3, 0x88));
		s = _mm512_add_pd(s, _mm512_shuffle_f64x2(l0, h0, 0xdd)); /* row r + 4 */
		s = _mm512_add_pd(s, _mm512_shuffle_f64x2(l2, h2, 0xdd));
		s = _mm512_add_pd(s, _mm512_shuffle_f64x2(l1, h1, 0xdd));
		s = _mm512_add_pd(s, _mm512_shuffle_f64x2(l3, h3, 0xdd));
	}
	_mm512_storeu_pd(gsum, s);]],
}

-- NAME_gsum: the running sums of GSUM gradient entries over a block's
-- rows, in row order.  With AVX, rows are loaded as vectors of each entry
-- and transposed in registers, so that each row's add is one vector add
-- across the entries: the adds of the plain loop, in its order, so the
-- same bits (the loops suite compares both builds with the per-row sums).
local function gsum_helper(put, m)
  local P, r = m.name, m.real
  local g = GSUM[r]
  put("#ifdef __AVX__")
  put("#include <immintrin.h>")
  put("#endif")
  put("")
  put("/* gsum[k] += v[k][r] for r = 0, 1, ..., rows - 1 (rows <= ", BLOCK, "), each of the ", g,
      " entries k:")
  put(" * a gradient entry's sum over the block's rows in row order.  With AVX the")
  put(" * same adds in the same order, one vector add per row across the entries,")
  put(" * after a transpose of rows of each entry (loaded as vectors) in registers;")
  put(" * the lanes of rows past the block's are -0, and x + -0 is x for every x. */")
  put("static inline void ", P, "_gsum(", r, " gsum[", g, "], const ", r, " *const v[", g, "], int rows)")
  put("{")
  if GSUM_AVX512[r] then
    put("#if defined(__AVX512F__)")
    put(GSUM_AVX512[r])
    put("#elif defined(__AVX__)")
  else
    put("#ifdef __AVX__")
  end
  put(GSUM_AVX[r])
  put("#else")
  put("\tfor (int r = 0; r < rows; r++)")
  put("\t\tfor (int k = 0; k < ", g, "; k++)")
  put("\t\t\tgsum[k] += v[k][r];")
  put("#endif")
  put("}")
  put("")
end

-- bce(p, y) over a block, where every y is 0 or 1 (hard labels, the usual
-- case) and every p in [0, 1]: one log a row, not two, and the same bits.
-- The term is (y - 1) max(log(1 - p), -100) - y max(log(p), -100) (ops.h),
-- max(l, -100) written -100 > l ? -100 : l.  With p in [0, 1] both logs
-- are in [-inf, +0], +0 only at 1, so both maxima M1 (of 1 - p) and M2 (of
-- p) are in [-100, +0], and 0 times one is -0, or +0 where it is +0:
--   y = 1:  +0 M1 - M2 = -M2, also where M2 = +0 (p = 1: M1 = -100, so
--           -0 - +0 = -0 = -M2);
--   y = +-0: -M1 - y M2 = y - M1: where M1 = +0 (1 - p rounds to 1, so
--           p < 1 and M2 < 0), -0 - y M2 is +0 for y = +0, -0 for y = -0,
--           as y - M1 is; elsewhere both are -M1.
-- So the term is z - M with M the maximum of log(y == 1 ? p : 1 - p) and
-- z = -0 where y = 1, else y.  bce_soft marks a block with any other y
-- (a soft label, a NaN) or p (a loop after the run's); the block's terms
-- are then computed again as written.  tests/gradcheck's bce_hard_labels
-- checks the rows of each kind against the per-row function, bit for bit.
local function hard_bce(put, m, st, e)
  local r = m.real
  local f = r == "float" and "f" or ""
  local log = (m.sgmath and "sg_" or "") .. "log" .. f
  local function operand(a)
    local row = a .. "[r]"
    local at = e:find("%f[%w_]" .. a:gsub("%p", "%%%0") .. "%[r%]")
    return at and row or a
  end
  local p, y = operand(st.args[1]), operand(st.args[2])
  local one, zero = "1.0" .. f, "0.0" .. f
  put("\t\t\t{")
  put("\t\t\t\tconst ", r, " bce_q = ", y, " == ", one, " ? ", p, " : ", one, " - ", p, ";")
  put("\t\t\t\tconst ", r, " bce_l = ", log, "(bce_q);")
  put("\t\t\t\t", st.name, "[r] = (", y, " == ", one, " ? -", zero, " : ", y,
      ") - (-100.0", f, " > bce_l ? -100.0", f, " : bce_l);")
  put("\t\t\t}")
  -- the check, after the run's loop: a flag updated in it stops GCC 12
  -- from vectorizing it for SSE (an int reduction beside doubles)
  return {name = st.name, expr = e,
          check = "bce_soft |= (" .. y .. " == " .. zero .. " || " .. y .. " == " .. one .. ") && " ..
                  p .. " >= " .. zero .. " && " .. p .. " <= " .. one .. " ? 0 : 1;"}
end

local function block_rows(put, m, plan)
  local N, r = m.NAME, m.real
  local f = m.backward
  put("\t/* blocks of ", BLOCK, " rows: each value an array over the block, each run of")
  put("\t * statements without a call one loop, vectorized across rows.  A last")
  put("\t * block of ", SHORT, " to ", BLOCK - 1, " rows computes its last row again in the lanes past")
  put("\t * its rows and sums only its own rows. */")
  put("\twhile (n - i >= ", SHORT, ") {")
  put("\t\tconst int rows = n - i < ", BLOCK, " ? n - i : ", BLOCK, ";")
  put("\t\tconst ", r, " *row = inputs + (long)i * ", N, "_N_INPUTS;")
  local inputs, fused, dropped, summed = plan.inputs, plan.fused, plan.dropped, plan.summed
  if #inputs == 0 then
    put("\t\t(void)row;")
  else
    for _, l in ipairs(inputs) do
      put("\t\t", r, " ", l.cname, "[", BLOCK, "];")
    end
    put("\t\tfor (int r = 0; r < ", BLOCK, "; r++) {")
    for _, l in ipairs(inputs) do
      local at = m.NAME .. "_INPUT_" .. (l.tensor or l.name)
      if l.tensor then at = at .. " + " .. l.offset end
      put("\t\t\t", l.cname, "[r] = row[(long)(r < rows ? r : rows - 1) * ", N, "_N_INPUTS + ", at, "];")
    end
    put("\t\t}")
  end
  -- runs: maximal stretches of statements with a call, or without one
  local stmts, runs, run_of = f.stmts, {}, {}
  local function call(st) return st.call end
  local k = 1
  while k <= #stmts do
    local j = k
    -- a bce's check (hard_bce) follows its run's loop, so nothing after
    -- it in the run may read it
    local bces = {}
    local function reads_bce(st)
      for _, a in ipairs(st.args) do
        if bces[a] then return true end
      end
      return false
    end
    while true do
      if stmts[j].op == "BCE" then bces[stmts[j].name] = true end
      if j + 1 > #stmts or (not call(stmts[j + 1])) ~= (not call(stmts[k]))
         or reads_bce(stmts[j + 1]) then
        break
      end
      j = j + 1
    end
    runs[#runs + 1] = {k, j}
    for q = k, j do run_of[stmts[q].name] = #runs end
    k = j + 1
  end
  -- a value read outside its own run is an array over the block; one read
  -- only inside it stays a scalar of the loop body, in a register
  local array = {}
  for q, st in ipairs(stmts) do
    for _, a in ipairs(st.args) do
      if run_of[a] and run_of[a] ~= run_of[st.name] then array[a] = true end
    end
  end
  for q, g in ipairs(f.row_grads) do
    if fused[q] then
      for _, a in ipairs(fused[q].arrays) do array[a] = true end
    else
      array[g:match("^([%w_]+)%[r%]$") or ""] = true
    end
  end
  array[f.row_loss:match("^([%w_]+)%[r%]$") or ""] = true
  -- a bce's operands and value are arrays: its check may compute it again
  local hard, any_bce = {}, false
  for _, st in ipairs(stmts) do
    if st.op == "BCE" and not dropped[st.name] then
      any_bce = true
      array[st.name] = true
      for _, a in ipairs(st.args) do
        if run_of[a] then array[a] = true end
      end
    end
  end
  if any_bce then
    put("\t\tint bce_soft = 0;  /* a label not 0 or 1, or a p outside [0, 1] */")
  end
  for _, run in ipairs(runs) do
    local live = false
    for q = run[1], run[2] do
      if not dropped[stmts[q].name] then live = true end
    end
    if not live then goto done end
    for q = run[1], run[2] do
      if array[stmts[q].name] then put("\t\t", r, " ", stmts[q].name, "[", BLOCK, "];") end
    end
    put("\t\tfor (int r = 0; r < ", BLOCK, "; r++) {")
    for q = run[1], run[2] do
      local st = stmts[q]
      if dropped[st.name] then goto next end
      local e = st.row_expr
      for _, a in ipairs(st.args) do
        if run_of[a] and not array[a] then
          e = e:gsub("%f[%w_]" .. a .. "%[r%]", a)
        end
      end
      if st.op == "BCE" then
        hard[#hard + 1] = hard_bce(put, m, st, e)
      elseif array[st.name] then
        put("\t\t\t", st.name, "[r] = ", e, ";")
      else
        put("\t\t\tconst ", r, " ", st.name, " = ", e, ";")
      end
      ::next::
    end
    put("\t\t}")
    -- one check loop per bce (GCC 12 vectorizes one reduction a loop)
    for _, h in ipairs(hard) do
      put("\t\tfor (int r = 0; r < ", BLOCK, "; r++)")
      put("\t\t\t", h.check)
    end
    if #hard > 0 then
      put("\t\tif (bce_soft) {")
      put("\t\t\tfor (int r = 0; r < ", BLOCK, "; r++) {")
      for _, h in ipairs(hard) do put("\t\t\t\t", h.name, "[r] = ", h.expr, ";") end
      put("\t\t\t}")
      put("\t\t}")
      hard = {}
    end
    ::done::
  end
  if next(fused) then
    put("\t\t/* the gradient, row by row; a product with an input (an outer")
    put("\t\t * product's entry) added as it is formed, the input read in its row */")
  end
  -- the entries that are a block array alone are summed after the row
  -- loop, GSUM entries at a time (below); the rest here, row by row
  local after = {}
  for _, q in ipairs(summed) do after[q] = true end
  put("\t\tfor (int r = 0; r < rows; r++) {")
  local q = 1
  while q <= #m.params do
    local fq = fused[q]
    if after[q] then
      q = q + 1
    elseif not fq then
      put("\t\t\tgrad[", array_index(m, "PARAM", m.params[q]), "] += ", f.row_grads[q], ";")
      q = q + 1
    else
      -- a run of entries whose products differ only in the input's and
      -- the parameter's places, both one further each time: one loop
      local k = q
      while fused[k + 1] and fused[k + 1].key == fq.key
            and fused[k + 1].poff == fused[k].poff + 1
            and fused[k + 1].xoff == fused[k].xoff + 1 do
        k = k + 1
      end
      local p = m.params[q]
      if k == q then
        put("\t\t\tgrad[", array_index(m, "PARAM", p), "] += ", fq.expr(tostring(fq.xoff)), ";")
      else
        local at = N .. "_PARAM_" .. p.tensor .. (p.offset > 0 and " + " .. p.offset or "")
        put("\t\t\tfor (int j = 0; j < ", k - q + 1, "; j++)")
        put("\t\t\t\tgrad[", at, " + j] += ", fq.expr((fq.xoff > 0 and fq.xoff .. " + " or "") .. "j"), ";")
      end
      q = k + 1
    end
  end
  put("\t\t\tloss_sum += ", f.row_loss, ";")
  put("\t\t}")
  -- Each entry's sum over the block in row order, as in the row loop, but
  -- entry by entry, GSUM entries side by side (NAME_gsum).  Different
  -- entries' sums are independent, so this order changes no operation.
  local g = GSUM[r]
  if #summed > 0 then
    put("\t\t/* the other entries, each summed over the block's rows in row order, ", g,
        " side by side */")
  end
  for k = 1, #summed, g do
    local init, arrays, back = {}, {}, {}
    for j = k, k + g - 1 do
      local q = summed[math.min(j, #summed)]
      local at = "grad[" .. array_index(m, "PARAM", m.params[q]) .. "]"
      init[#init + 1] = j <= #summed and at or "0"
      arrays[#arrays + 1] = f.row_grads[q]:match("^([%w_]+)%[r%]$")
      if j <= #summed then back[#back + 1] = at .. " = gsum[" .. (j - k) .. "];" end
    end
    put("\t\t{")
    local n = math.min(g, #summed - k + 1)
    if gsum_call(r, n) then
      put("\t\t\t", r, " gsum[", g, "] = {", concat(init, ", "), "};")
      put("\t\t\tconst ", r, " *const gsum_rows[", g, "] = {", concat(arrays, ", "), "};")
      put("\t\t\t", m.name, "_gsum(gsum, gsum_rows, rows);")
    else
      init = {table.unpack(init, 1, n)}
      put("\t\t\t", r, " gsum[", n, "] = {", concat(init, ", "), "};")
      put("\t\t\tfor (int r = 0; r < rows; r++) {")
      for j = 1, n do put("\t\t\t\tgsum[", j - 1, "] += ", arrays[j], "[r];") end
      put("\t\t\t}")
    end
    for _, b in ipairs(back) do put("\t\t\t", b) end
    put("\t\t}")
  end
  put("\t\ti += rows;")
  put("\t}")
end

-- The backward statements of the SGD loop, with each product (a + a) * x,
-- x an input, computed as a * (x + x): x + x does not depend on the
-- parameters, so the chain from one row's parameters to the next row's is
-- one operation shorter (the lecture's 2 * x * d).  Where a + a and x + x
-- are finite, both are round(2ax), the same bits (doubling is exact short
-- of overflow); a + a is kept and checked with the loss, so where it is
-- not finite (the original gradient is then not finite either) the loop
-- stops and the runtime's step recomputes the row with NAME_backward, as
-- where x + x overflows and the new product is not finite.  Returns the
-- statements and the names of the values checked.
local function sgd_statements(m, f)
  local input, doubled, out, checked = {}, {}, {}, {}
  for _, l in ipairs(f.loads) do
    if l.kind == "input" then input[l.cname] = true end
  end
  for i, st in ipairs(f.stmts) do
    local a, b = st.expr:match("^([%w_]+) %+ ([%w_]+)$")
    if a and a == b then doubled[st.name] = a end
    local p, q = st.expr:match("^([%w_]+) %* ([%w_]+)$")
    if p and input[p] and doubled[q] then p, q = q, p end
    if p and doubled[p] and input[q] then
      out[i] = {name = st.name, expr = doubled[p] .. " * (" .. q .. " + " .. q .. ")"}
      checked[#checked + 1] = p
    else
      out[i] = st
    end
  end
  return {stmts = out}, checked
end

-- Per-sample SGD, the lecture's loop, in one function: the statements of
-- NAME_backward inlined in the loop over rows, the parameters in a local
-- array the compiler keeps in registers, and the runtime's SGD update
-- (lr*g rounded, then subtracted).  The same operations in the same order
-- as the runtime's step through NAME_backward, so the same bits; where the
-- runtime would stop (a loss, gradient or updated parameter not finite),
-- the block of rows is undone and the runtime takes over from its first.
local SGD_BLOCK = 64

local function sgd_epoch(put, m, sig)
  local N, P, r = m.NAME, m.name, m.real
  local f = m.backward
  put("/* Per-sample SGD: the steps of ", P, "_backward inlined in the loop over rows, in")
  put(" * blocks of ", SGD_BLOCK, " rows.  No check inside a block: a loss, a gradient or an update")
  put(" * that is not finite leaves the block's loss sum or a parameter not finite")
  put(" * at its end (a gradient that is not finite makes its update not finite,")
  put(" * and a parameter that is not finite stays so), and the block is then")
  put(" * undone and i returned: the runtime steps row i itself. */")
  put(sig.sgd)
  put("{")
  put("\t", r, " sgd_p[", N, "_N_PARAMS], sgd_p0[", N, "_N_PARAMS], sgd_g[", N, "_N_PARAMS];")
  put("\tdouble loss_sum = sgd_sums[0], sgd_norms = sgd_sums[1], sgd_last = sgd_sums[2];")
  put("\tsize_t i = 0;")
  put("\tfor (int k = 0; k < ", N, "_N_PARAMS; k++) {")
  put("\t\tsgd_p[k] = params[k];")
  put("\t\tsgd_g[k] = 0;")
  put("\t}")
  put("\twhile (i < n) {")
  put("\t\tconst size_t sgd_end = n - i < ", SGD_BLOCK, " ? n : i + ", SGD_BLOCK, ";")
  put("\t\tconst double sgd_s0 = loss_sum, sgd_n0 = sgd_norms, sgd_l0 = sgd_last;")
  put("\t\tdouble sgd_chk = 0;")
  put("\t\tfor (int k = 0; k < ", N, "_N_PARAMS; k++)")
  put("\t\t\tsgd_p0[k] = sgd_p[k];")
  put("\t\tfor (size_t sgd_j = i; sgd_j < sgd_end; sgd_j++) {")
  put("\t\t\tconst ", r, " *row = inputs + sgd_order[sgd_j] * ", N, "_N_INPUTS;")
  local used = loads(put, m, f, "\t\t\t", {kind = "input", array = "row"})
  if not used.inputs then put("\t\t\t(void)row;") end
  loads(put, m, f, "\t\t\t", {kind = "param", array = "sgd_p"})
  local stmts, checked = sgd_statements(m, f)
  statements(put, m, stmts, {}, "\t\t\t", {bare = true})
  for i, p in ipairs(m.params) do
    put("\t\t\tsgd_g[", array_index(m, "PARAM", p), "] = ", f.grads[i], ";")
  end
  put("\t\t\tfor (int k = 0; k < ", N, "_N_PARAMS; k++) {")
  put("\t\t\t\tconst ", r, " sgd_step = sgd_lr * sgd_g[k];")
  put("\t\t\t\tsgd_p[k] = sgd_p[k] - sgd_step;")
  put("\t\t\t}")
  -- the runtime's norm sums the squares from 0; 0 + s is s for a square s
  -- (never -0), so the sum starts at the first square: one add fewer per
  -- row, 4% of the lecture 4 step
  put("\t\t\tdouble sgd_sq = (double)sgd_g[0] * (double)sgd_g[0]; /* 0 + a square is the square */")
  if #m.params > 1 then
    put("\t\t\tfor (int k = 1; k < ", N, "_N_PARAMS; k++)")
    put("\t\t\t\tsgd_sq = sgd_sq + (double)sgd_g[k] * (double)sgd_g[k];")
  end
  put("\t\t\tloss_sum = loss_sum + (double)", m.loss, ";")
  put("\t\t\tsgd_norms = sgd_norms + sqrt(sgd_sq);")
  put("\t\t\tsgd_last = (double)", m.loss, ";")
  put("\t\t\tsgd_chk = sgd_chk + (double)", m.loss, ";")
  for _, d in ipairs(checked) do
    put("\t\t\tsgd_chk = sgd_chk + (double)", d, ";")
  end
  put("\t\t}")
  put("\t\t/* x - x is NaN exactly when x is not finite (or a sum overflowed,")
  put("\t\t * which only sends the block to the runtime's steps) */")
  put("\t\tdouble sgd_bad = sgd_chk - sgd_chk;")
  put("\t\tfor (int k = 0; k < ", N, "_N_PARAMS; k++)")
  put("\t\t\tsgd_bad = sgd_bad + (double)(sgd_p[k] - sgd_p[k]);")
  put("\t\tif (sgd_bad != sgd_bad) {")
  put("\t\t\tfor (int k = 0; k < ", N, "_N_PARAMS; k++)")
  put("\t\t\t\tsgd_p[k] = sgd_p0[k];")
  put("\t\t\tloss_sum = sgd_s0, sgd_norms = sgd_n0, sgd_last = sgd_l0;")
  put("\t\t\tbreak;")
  put("\t\t}")
  put("\t\ti = sgd_end;")
  put("\t}")
  put("\tfor (int k = 0; k < ", N, "_N_PARAMS; k++) {")
  put("\t\tparams[k] = sgd_p[k];")
  put("\t\tif (i == n && n > 0) /* after a stop, the runtime's step on row i sets grad */")
  put("\t\t\tgrad[k] = sgd_g[k];")
  put("\t}")
  put("\tsgd_sums[0] = loss_sum;")
  put("\tsgd_sums[1] = sgd_norms;")
  put("\tsgd_sums[2] = sgd_last;")
  put("\treturn i;")
  put("}")
  put("")
end

render_scalar_functions = function(put, m, sig)
  local N, P, r = m.NAME, m.name, m.real
  -- forward
  put(sig.forward)
  put("{")
  local used = body(put, m, m.forward, {loads = "parameters and inputs",
                                        forward = "forward pass", backward = "forward pass"})
  unused(put, used, {"params", "inputs"})
  if #m.outputs > 0 then
    put("")
    put("\tif (outputs) {")
    for i, o in ipairs(m.outputs) do
      put("\t\toutputs[", output_index(m, o), "] = ", m.output_values[i], ";")
    end
    put("\t}")
  else
    put("\t(void)outputs;")
  end
  put("\treturn ", m.loss, ";")
  put("}")
  put("")

  -- backward
  put(sig.backward)
  put("{")
  used = body(put, m, m.backward, {loads = "parameters and inputs", forward = "forward pass",
                                   backward = "backward pass: d_v is dloss/dv, by the chain rule"})
  unused(put, used, {"params", "inputs"})
  put("")
  for i, p in ipairs(m.params) do
    put("\tgrad[", array_index(m, "PARAM", p), "] = ", m.backward.grads[i], ";")
  end
  put("\treturn ", m.loss, ";")
  put("}")
  put("")

  -- predict
  put(sig.predict)
  put("{")
  used = body(put, m, m.predict, {loads = "parameters and inputs", forward = "forward pass",
                                  backward = "forward pass"})
  unused(put, used, {"params", "inputs"})
  if #m.outputs == 0 then put("\t(void)outputs;") end
  for i, o in ipairs(m.outputs) do
    put("\toutputs[", output_index(m, o), "] = ", m.output_values[i], ";")
  end
  put("}")
  put("")

  -- batch: the backward statements in a loop over rows, gradients summed
  local plan = batch_plan(m)
  if gsum_call(m.real, math.min(GSUM[m.real], #plan.summed)) then gsum_helper(put, m) end
  put(sig.batch)
  put("{")
  put("\t/* parameters, read once */")
  local used = loads(put, m, m.backward, "\t", {kind = "param"})
  unused(put, used, {"params"})
  put("\t", r, " loss_sum = 0;")
  put("\tfor (int k = 0; k < ", N, "_N_PARAMS; k++)")
  put("\t\tgrad[k] = 0;")
  put("\tint i = 0;")
  block_rows(put, m, plan)
  put("\t/* the rows left over (fewer than ", SHORT, "), one at a time */")
  put("\tfor (; i < n; i++) {")
  put("\t\tconst ", r, " *row = inputs + (long)i * ", N, "_N_INPUTS;")
  put("\t\t/* the steps of ", P, "_backward, on row i */")
  used = loads(put, m, m.backward, "\t\t", {kind = "input", array = "row"})
  if not used.inputs then put("\t\t(void)row;") end
  statements(put, m, m.backward, {}, "\t\t", {bare = true})
  for i, p in ipairs(m.params) do
    put("\t\tgrad[", array_index(m, "PARAM", p), "] += ", m.backward.grads[i], ";")
  end
  put("\t\tloss_sum += ", m.loss, ";")
  put("\t}")
  put("\treturn loss_sum;")
  put("}")
  put("")
  sgd_epoch(put, m, sig)
  render_extra_functions(put, m, sig)
end

render_descriptor = function(put, m)
  local N, P, r = m.NAME, m.name, m.real
  -- descriptor
  local function names(list, what)
    if #list == 0 then return "0" end
    local quoted = {}
    for i, s in ipairs(list) do quoted[i] = cstring(s.name) end
    put_list(put, "static const char *const " .. P .. "_" .. what .. "_names[] = {", quoted, "};")
    return P .. "_" .. what .. "_names"
  end
  local pn = names(m.params, "param")
  local inn = names(m.inputs, "input")
  local on = names(m.outputs, "output")
  local init = {}
  for i, p in ipairs(m.params) do init[i] = p.init_text end
  put_list(put, "static const double " .. P .. "_param_init[] = {", init, "};")
  -- the inputs that are indices (cross_entropy's classes, E[tok]'s rows), and their ranges
  local classes, any = {}, false
  for i, s in ipairs(m.inputs) do
    classes[i] = s.classes or "0"
    if s.classes then any = true end
  end
  local cn = "0"
  if any then
    cn = P .. "_input_classes"
    put_list(put, "static const int " .. cn .. "[] = {", classes, "};")
  end
  put("")
  local fns = format("%s_forward, %s_backward, %s_predict, %s_backward_batch", P, P, P, P)
  put("const sg_model ", P, "_model = {")
  put("\tSG_MODEL_ABI, ", cstring(P), ", ", cstring(m.source), ", ", cstring(m.version), ",")
  put("\t(int)sizeof(", r, "), ", N, "_N_PARAMS, ", N, "_N_INPUTS, ", N, "_N_OUTPUTS,")
  put("\t", pn, ", ", inn, ", ", on, ", ", P, "_param_init,")
  if r == "double" then
    put("\t", fns, ",")
    put("\t0, 0, 0, 0,")
  else
    put("\t0, 0, 0, 0,")
    put("\t", fns, ",")
  end
  put("\t", cn, ",")
  local extra = {}
  for _, k in ipairs({"jacobian", "hessian", "hvp"}) do
    extra[#extra + 1] = m[k] and (P .. "_" .. k) or "0"
  end
  if r == "double" then
    put("\t", concat(extra, ", "), ",")
    put("\t0, 0, 0,")
  else
    put("\t0, 0, 0,")
    put("\t", concat(extra, ", "), ",")
  end
  put("\t", m.residual_first, ", ", m.n_residuals, ",")
  local sgd = m.loop and "0" or (P .. "_sgd_epoch")
  if r == "double" then
    put("\t", sgd, ", 0,")
  else
    put("\t0, ", sgd, ",")
  end
  local abi4 = {}
  for _, k in ipairs({"jvp", "vjp", "gnvp", "hessian_sparse"}) do
    abi4[#abi4 + 1] = m[k] and (P .. "_" .. k) or "0"
  end
  if r == "double" then
    put("\t", concat(abi4, ", "), ",")
    put("\t0, 0, 0, 0,")
  else
    put("\t0, 0, 0, 0,")
    put("\t", concat(abi4, ", "), ",")
  end
  if m.hessian_sparse then
    put("\t", N, "_HESS_NNZ, ", P, "_hess_colptr, ", P, "_hess_rowidx")
  else
    put("\t0, 0, 0")
  end
  put("};")
end

return function(model)
  return {
    {suffix = ".c", text = render_source(model)},
    {suffix = ".h", text = render_header(model)},
  }
end
