-- include-code.lua - pandoc Lua filter: puts the kit's real source on the slides.
--
-- A fenced code block with an `include` and a `marker` attribute is replaced
-- by the lines between the two marker comments of that source file:
--
--     ```{.c include="steps/01-tcp-echo/server.c" marker="api-socket"}
--     ```
--
-- takes what lies between the lines `/* [api-socket] */` and
-- `/* [/api-socket] */` of steps/01-tcp-echo/server.c (paths are relative to
-- the top of the repository). The marker lines themselves are not shown, nor
-- any other marker line nested inside; tabs become 4 spaces and the common
-- indentation is removed. Under the code, a small caption names the file.
--
-- A slide shows the reference code, never the starter code of the handout
-- (tools/handout): the lines #ifndef STARTER, #else /* STARTER */ and
-- #endif /* STARTER */ are not shown, nor anything between the last two.
--
-- A missing file, a missing or unclosed marker, or an empty region stops the
-- build with one line naming the deck, the file and the marker.
--
-- Every code block on a slide (included or typed in the Markdown) is also
-- measured against what a 1280x720 slide shows: MAX_LINES lines of MAX_COLS
-- columns. Over that, the build warns; with SLIDES_STRICT=1 (make check) it fails.

local MAX_LINES = 17
local MAX_COLS = 76
local TAB = 4

local strict = os.getenv("SLIDES_STRICT") == "1"

-- The repository's top: this filter lives in slides/, one level down.
local root = pandoc.path.normalize(pandoc.path.join({
  pandoc.path.directory(PANDOC_SCRIPT_FILE), "..",
}))

local function deck()
  local files = PANDOC_STATE.input_files
  if files and #files > 0 then
    return table.concat(files, ", ")
  end
  return "(stdin)"
end

-- Stops the build with one clear line on stderr.
local function fail(msg)
  io.stderr:write("slides: ", deck(), ": ", msg, "\n")
  os.exit(1)
end

local function warn(msg)
  if strict then
    fail(msg)
  end
  io.stderr:write("slides: warning: ", deck(), ": ", msg, "\n")
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- Replaces each tab by spaces up to the next multiple of TAB columns.
local function expand_tabs(line)
  local out, col = {}, 0
  for _, c in utf8.codes(line) do
    if c == 9 then
      local n = TAB - col % TAB
      out[#out + 1] = string.rep(" ", n)
      col = col + n
    else
      out[#out + 1] = utf8.char(c)
      col = col + 1
    end
  end
  return table.concat(out)
end

-- A Python file marks its regions with "# [NAME]" and "# [/NAME]".
local function is_python(path)
  return path:match("%.py$") ~= nil
end

-- Reads the lines of PATH between the markers NAME, or stops the build.
local function extract(path, name)
  local full = pandoc.path.join({ root, path })
  local fh = io.open(full, "r")
  if not fh then
    fail(path .. ": cannot read this file (wanted for marker [" .. name .. "])")
  end
  local open, close = "/* [" .. name .. "] */", "/* [/" .. name .. "] */"
  local nested = "^/%* %[/?[%w_.-]+%] %*/$"
  if is_python(path) then
    open, close = "# [" .. name .. "]", "# [/" .. name .. "]"
    nested = "^# %[/?[%w_.-]+%]$"
  end
  local lines, start, stop, n = {}, nil, nil, 0
  local starter = false -- in the #else branch of a STARTER region
  for line in fh:lines() do
    n = n + 1
    local t = trim(line)
    if t == "#ifndef STARTER" or t == "#endif /* STARTER */" then
      starter = false
    elseif t == "#else /* STARTER */" then
      starter = true
    elseif starter then
      -- the starter code: not for the slides
    elseif t == open then
      if start then
        fail(path .. ": marker " .. open .. " appears twice (lines "
          .. start .. " and " .. n .. ")")
      end
      start = n
    elseif t == close then
      if not start then
        fail(path .. ": " .. close .. " at line " .. n .. " comes before "
          .. open)
      end
      if stop then
        fail(path .. ": marker " .. close .. " appears twice")
      end
      stop = n
    elseif start and not stop and not t:match(nested) then
      lines[#lines + 1] = expand_tabs(line)
    end
  end
  fh:close()
  if not start then
    fail(path .. ": no marker " .. open)
  end
  if not stop then
    fail(path .. ": marker " .. open .. " at line " .. start
      .. " has no closing " .. close)
  end
  -- Drop blank lines at either end, then the indentation they all share.
  while #lines > 0 and trim(lines[1]) == "" do table.remove(lines, 1) end
  while #lines > 0 and trim(lines[#lines]) == "" do table.remove(lines) end
  if #lines == 0 then
    fail(path .. ": marker [" .. name .. "] encloses no code")
  end
  local indent
  for _, l in ipairs(lines) do
    if trim(l) ~= "" then
      local w = #l:match("^ *")
      if not indent or w < indent then indent = w end
    end
  end
  for i, l in ipairs(lines) do
    lines[i] = l:sub(indent + 1):gsub("%s+$", "")
  end
  return table.concat(lines, "\n")
end

-- ------------------------------------------------------------------------
-- Comments in the deck's language. The sources are commented in English;
-- a deck whose lang is not "en" shows each comment of its code in its own
-- language, from slides/comments.LANG. An entry there is a line "en TEXT"
-- followed by a line "LANG TEXT" (a line starting with blanks continues
-- the one above; "#" starts a note). TEXT is the comment without its
-- marks (/* */, a leading *, #, """), blanks squeezed. The translated
-- comment is wrapped again in the same place. A comment without a
-- translation is a warning, an error in strict mode (make check).

local lang = "en"
local translations = nil

local function squeeze(s)
  return trim((s:gsub("%s+", " ")))
end

-- Loads slides/comments.LANG into translations: English -> LANG.
local function load_translations()
  local path = pandoc.path.join({ root, "slides", "comments." .. lang })
  local fh = io.open(path, "r")
  if not fh then
    fail("slides/comments." .. lang .. ": cannot read it (the " .. lang
      .. " deck's code comments)")
  end
  local entries, n = {}, 0
  for line in fh:lines() do
    n = n + 1
    if line:match("^#") or trim(line) == "" then
      -- a note, or a blank
    elseif line:match("^%s") and #entries > 0 then
      local e = entries[#entries]
      e.text = e.text .. " " .. trim(line)
    else
      local tag, text = line:match("^(%a+) (.*)$")
      if tag ~= "en" and tag ~= lang then
        fail("slides/comments." .. lang .. ":" .. n .. ": a line starts with "
          .. "\"en \", \"" .. lang .. " \", blanks or #")
      end
      entries[#entries + 1] = { tag = tag, text = text, line = n }
    end
  end
  fh:close()
  translations = {}
  for i = 1, #entries, 2 do
    local en, other = entries[i], entries[i + 1]
    if en.tag ~= "en" or not other or other.tag ~= lang then
      fail("slides/comments." .. lang .. ":" .. en.line .. ": expected an "
        .. "\"en\" line, then its \"" .. lang .. "\" line")
    end
    translations[squeeze(en.text)] = squeeze(other.text)
  end
end

-- Returns the translation of the English comment TEXT, or TEXT itself
-- (with a warning) when there is none.
local function translate(text, where)
  local key = squeeze(text)
  if key == "" then return key end
  if not translations then load_translations() end
  local t = translations[key]
  if t then return t end
  warn(where .. ": no " .. lang .. " for the comment \"" .. key
    .. "\" (add it to slides/comments." .. lang .. ")")
  return key
end

-- Splits TEXT into lines of at most WIDTH characters, at blanks.
local function wrap(text, width)
  local lines, cur = {}, ""
  for word in text:gmatch("%S+") do
    if cur == "" then
      cur = word
    elseif utf8.len(cur) + 1 + utf8.len(word) <= width then
      cur = cur .. " " .. word
    else
      lines[#lines + 1] = cur
      cur = word
    end
  end
  if cur ~= "" then lines[#lines + 1] = cur end
  return lines
end

-- The C comments of CODE, translated: /* ... */, on one line or several.
local function translate_c(code, where)
  local out, pos = {}, 1
  while true do
    local i = code:find("/*", pos, true)
    if not i then break end
    local j = code:find("*/", i + 2, true)
    if not j then break end
    local inner = code:sub(i + 2, j - 1)
    local text = translate(inner:gsub("\n%s*%*", "\n"), where)
    out[#out + 1] = code:sub(pos, i - 1)
    if inner:find("\n") then
      local bol = code:sub(1, i - 1):match(".*\n()") or 1
      local pad = string.rep(" ", utf8.len(code:sub(bol, i - 1)))
      local lines = wrap(text, MAX_COLS - #pad - 3)
      out[#out + 1] = "/*\n" .. pad .. " * "
        .. table.concat(lines, "\n" .. pad .. " * ") .. "\n" .. pad .. " */"
    else
      out[#out + 1] = "/* " .. text .. " */"
    end
    pos = j + 2
  end
  out[#out + 1] = code:sub(pos)
  return table.concat(out)
end

-- The Python comments of CODE, translated: blocks of "# " lines, a "# "
-- after code, and docstrings.
local function translate_python(code, where)
  local src, out, i = {}, {}, 1
  for line in (code .. "\n"):gmatch("(.-)\n") do src[#src + 1] = line end
  while i <= #src do
    local line = src[i]
    local pad = line:match("^(%s*)# ")
    local dpad = line:match('^(%s*)"""')
    if pad then
      local words = {}
      while i <= #src and src[i]:match("^" .. pad .. "# ") do
        words[#words + 1] = src[i]:sub(#pad + 3)
        i = i + 1
      end
      for _, l in ipairs(wrap(translate(table.concat(words, " "), where),
          MAX_COLS - #pad - 2)) do
        out[#out + 1] = pad .. "# " .. l
      end
    elseif dpad then
      local body = line:sub(#dpad + 4)
      while not body:find('"""', 1, true) and i < #src do
        i = i + 1
        body = body .. " " .. src[i]
      end
      body = body:gsub('"""%s*$', "")
      local lines = wrap(translate(body, where), MAX_COLS - #dpad - 3)
      lines[1] = '"""' .. lines[1]
      lines[#lines] = lines[#lines] .. '"""'
      for _, l in ipairs(lines) do out[#out + 1] = dpad .. l end
      i = i + 1
    else
      local k = line:find("  # ", 1, true)
      if k then
        local code_part = line:match("^(.-  +# )", 1)
        line = code_part .. translate(line:sub(#code_part + 1), where)
      end
      out[#out + 1] = line
      i = i + 1
    end
  end
  return table.concat(out, "\n")
end

-- CODE from PATH with its comments in the deck's language.
local function localize(code, path, name)
  if lang == "en" then return code end
  local where = path .. " [" .. name .. "]"
  if is_python(path) then
    return translate_python(code, where)
  end
  return translate_c(code, where)
end

-- Warns when a block would not fit on a slide.
local function measure(text, what)
  local count, widest = 0, 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    count = count + 1
    local w = utf8.len(expand_tabs(line)) or #line
    if w > widest then widest = w end
  end
  if count > MAX_LINES then
    warn(what .. " has " .. count .. " lines; a slide shows " .. MAX_LINES)
  end
  if widest > MAX_COLS then
    warn(what .. " has a line of " .. widest .. " columns; a slide shows "
      .. MAX_COLS)
  end
end

local function CodeBlock(block)
  local path, name = block.attributes.include, block.attributes.marker
  if path == nil and name == nil then
    local first = (block.text:match("^[^\n]*") or ""):sub(1, 40)
    measure(block.text, "the code block starting '" .. first .. "'")
    return nil
  end
  if path == nil or path == "" or name == nil or name == "" then
    fail("an include needs both include=\"FILE\" and marker=\"NAME\" (got "
      .. tostring(path) .. ", " .. tostring(name) .. ")")
  end
  local text = localize(extract(path, name), path, name)
  measure(text, path .. " [" .. name .. "]")
  block.text = text
  block.attributes.include = nil
  block.attributes.marker = nil
  local caption = pandoc.Para({ pandoc.Code(path) })
  return pandoc.Div({ block, caption }, pandoc.Attr("", { "listing" }))
end

-- The deck's language first (its metadata), then the code blocks.
return {
  { Meta = function(meta)
      if meta.lang then
        lang = pandoc.utils.stringify(meta.lang):match("^(%a+)"):lower()
      end
    end },
  { CodeBlock = CodeBlock },
}
