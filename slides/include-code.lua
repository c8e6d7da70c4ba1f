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

-- Reads the lines of PATH between the markers NAME, or stops the build.
local function extract(path, name)
  local full = pandoc.path.join({ root, path })
  local fh = io.open(full, "r")
  if not fh then
    fail(path .. ": cannot read this file (wanted for marker [" .. name .. "])")
  end
  local open, close = "/* [" .. name .. "] */", "/* [/" .. name .. "] */"
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
    elseif start and not stop and not t:match("^/%* %[/?[%w_.-]+%] %*/$") then
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

function CodeBlock(block)
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
  local text = extract(path, name)
  measure(text, path .. " [" .. name .. "]")
  block.text = text
  block.attributes.include = nil
  block.attributes.marker = nil
  local caption = pandoc.Para({ pandoc.Code(path) })
  return pandoc.Div({ block, caption }, pandoc.Attr("", { "listing" }))
end
