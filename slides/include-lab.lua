-- include-lab.lua - pandoc Lua filter: puts the network lab's real figures
-- on the slides (ladders, tables, plots), read at build time.
--
-- A fenced code block with a `lab` attribute is replaced by that file of a
-- lab run, and an image whose source starts with `lab:` by that picture:
--
--     ```{.text lab="handshake/session.txt"}
--     ```
--     ![](lab:tcp-vs-udp/plot.svg)
--
-- The file is looked for in the latest run on this machine first
-- (dist/netlab/, written by `make lab` or `tools/netlab experiment NAME`),
-- then in the run the kit recorded (tools/netlab.d/figures/, written by
-- `tools/netlab record`). A picture becomes a data: URI, so the deck stays
-- one file. A missing file stops the build with one line naming it; a text
-- block bigger than a slide (17 lines of 76 columns) warns, and fails with
-- SLIDES_STRICT=1 (make check).
--
-- The lab writes English. A deck whose lang is not "en" shows its figures
-- in its own language: every text of slides/lab.LANG is replaced in them
-- (see that file).

local MAX_LINES = 17
local MAX_COLS = 76
local strict = os.getenv("SLIDES_STRICT") == "1"

local root = pandoc.path.normalize(pandoc.path.join({
  pandoc.path.directory(PANDOC_SCRIPT_FILE), "..",
}))
local places = {
  pandoc.path.join({ root, "dist", "netlab" }),
  pandoc.path.join({ root, "tools", "netlab.d", "figures" }),
}

local function deck()
  local files = PANDOC_STATE.input_files
  return (files and #files > 0) and table.concat(files, ", ") or "(stdin)"
end

local function fail(msg)
  io.stderr:write("slides: ", deck(), ": ", msg, "\n")
  os.exit(1)
end

-- Returns the content of lab file NAME (and where it came from), or stops.
local function read_lab(name)
  for _, dir in ipairs(places) do
    local fh = io.open(pandoc.path.join({ dir, name }), "rb")
    if fh then
      local text = fh:read("a")
      fh:close()
      return text, dir
    end
  end
  fail("lab file " .. name .. " is in neither dist/netlab/ nor "
    .. "tools/netlab.d/figures/ (run: make lab, or tools/netlab record)")
end

-- The deck's language, and the replacements slides/lab.LANG gives for it:
-- a list of {english, translation}, applied in order.
local lang = "en"
local replacements = nil

local function load_replacements()
  local file = "slides/lab." .. lang
  local fh = io.open(pandoc.path.join({ root, file }), "r")
  if not fh then
    fail(file .. ": cannot read it (the " .. lang .. " deck's lab figures)")
  end
  local list, n, pending = {}, 0, nil
  for line in fh:lines() do
    n = n + 1
    local en = line:match("^en (.+)$")
    local other = line:match("^" .. lang .. " (.+)$")
    if en and not pending then
      pending = en
    elseif other and pending then
      list[#list + 1] = { pending, other }
      pending = nil
    elseif en or other then
      fail(file .. ":" .. n .. ": expected an \"en\" line, then its \""
        .. lang .. "\" line")
    end
  end
  fh:close()
  if pending then fail(file .. ": the last \"en\" line has no \"" .. lang .. "\" line") end
  return list
end

-- DATA in the deck's language.
local function localize(data)
  if lang == "en" then return data end
  replacements = replacements or load_replacements()
  for _, r in ipairs(replacements) do
    local from, to = r[1], r[2]
    local at = 1
    while true do
      local i, j = data:find(from, at, true)
      if not i then break end
      data = data:sub(1, i - 1) .. to .. data:sub(j + 1)
      at = i + #to
    end
  end
  return data
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(data)
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chunk = ""
    for k = 3, 0, -1 do
      local v = (n // (64 ^ k)) % 64
      chunk = chunk .. B64:sub(v + 1, v + 1)
    end
    if not b then
      chunk = chunk:sub(1, 2) .. "=="
    elseif not c then
      chunk = chunk:sub(1, 3) .. "="
    end
    out[#out + 1] = chunk
  end
  return table.concat(out)
end

local function measure(text, name)
  local count, widest = 0, 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    count = count + 1
    local w = utf8.len(line) or #line
    if w > widest then widest = w end
  end
  local msg
  if count > MAX_LINES then
    msg = name .. " has " .. count .. " lines; a slide shows " .. MAX_LINES
  elseif widest > MAX_COLS then
    msg = name .. " has a line of " .. widest .. " columns; a slide shows " .. MAX_COLS
  end
  if msg and strict then fail(msg) end
  if msg then io.stderr:write("slides: warning: ", deck(), ": ", msg, "\n") end
end

function CodeBlock(block)
  local name = block.attributes.lab
  if name == nil then
    return nil
  end
  local text = localize(read_lab(name)):gsub("%s+$", "")
  measure(text, "lab file " .. name)
  block.text = text
  block.attributes.lab = nil
  local caption = pandoc.Para({ pandoc.Code("tools/netlab experiment "
    .. name:match("^[^/]+")) })
  return pandoc.Div({ block, caption }, pandoc.Attr("", { "listing" }))
end

function Image(img)
  local name = img.src:match("^lab:(.+)$")
  if name == nil then
    return nil
  end
  local data = read_lab(name)
  if name:match("%.svg$") then data = localize(data) end
  local kind = name:match("%.svg$") and "image/svg+xml" or "image/png"
  img.src = "data:" .. kind .. ";base64," .. base64(data)
  return img
end

-- The deck's language first (its metadata), then the figures.
return {
  { Meta = function(meta)
      if meta.lang then
        lang = pandoc.utils.stringify(meta.lang):match("^(%a+)"):lower()
      end
    end },
  { CodeBlock = CodeBlock, Image = Image },
}
