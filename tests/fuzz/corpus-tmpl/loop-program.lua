return function(m)
  local t = {}
  if m.loop then
    for _, k in pairs(m.loop) do t[#t + 1] = type(k) end
    for _, f in ipairs({m.loop.forward, m.loop.backward, m.loop.predict}) do
      for k, v in pairs(f) do t[#t + 1] = k .. '=' .. type(v) end
    end
  end
  return {{suffix = '.c', text = table.concat(t, ' ')}}
end
