-- Drives Neovim through one editing session with dbheal, for tests/lsp/test_neovim.py.
--
-- Run after tests/lsp/nvim/init.lua, with app/routes/auth.py of a copy of examples/shop as the
-- current buffer:
--
--   nvim --headless --clean -u tests/lsp/nvim/init.lua app/routes/auth.py -S tests/lsp/nvim/drive.lua
--
-- It saves the file, waits for dbheal's diagnostics, asks for the code actions at the
-- TYPE_MISMATCH diagnostic, applies the edit of the quickfix that removes the cast, saves again
-- and waits for the diagnostics of the saved file. Then, as a user would, it presses K on a table
-- and on a column name of the fixed line's SQL (the hover opens in a floating window, whose text
-- it reads) and completes with CTRL-X CTRL-O after `FROM ` and after `WHERE ` (the omnifunc
-- init.lua sets), reading the completion menu while it is up; nothing of that is saved. What it
-- saw goes to $DBHEAL_NVIM_OUT/result.json and Neovim quits with 0; on any failure, the error and
-- what was seen so far go to $DBHEAL_NVIM_OUT/error.txt and Neovim quits with 1.
-- Works with Neovim 0.7 and later: nothing newer than 0.7's API is used.
--
-- $DBHEAL_NVIM_FILETYPE names the filetype the buffer must have (default python: the same
-- session over a .ts file says typescript), and $DBHEAL_NVIM_FIX_ONLY=1 stops after the fix is
-- saved and checked again (no hover, no completion).

local out_dir = os.getenv('DBHEAL_NVIM_OUT')
local timeout_ms = tonumber(os.getenv('DBHEAL_NVIM_TIMEOUT_MS') or '') or 60000
local ISSUE = 'TYPE_MISMATCH'
local FILETYPE = os.getenv('DBHEAL_NVIM_FILETYPE') or 'python'
local FIX_ONLY = os.getenv('DBHEAL_NVIM_FIX_ONLY') == '1'
local result = { steps = {} }

local function write_file(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function step(text)
  table.insert(result.steps, text)
end

local function is_issue(d)
  return d.code == ISSUE or (type(d.message) == 'string' and d.message:find(ISSUE, 1, true) ~= nil)
end

-- The diagnostics of a buffer as plain data (0-based lines, byte columns: vim.diagnostic's own).
local function snapshot(bufnr)
  local items = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(items, {
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      severity = d.severity,
      code = d.code,
      source = d.source,
      message = d.message,
    })
  end
  table.sort(items, function(a, b)
    if a.lnum ~= b.lnum then
      return a.lnum < b.lnum
    end
    return a.col < b.col
  end)
  return items
end

local function find_issue(bufnr)
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if is_issue(d) then
      return d
    end
  end
  return nil
end

local function dbheal_client(bufnr)
  -- vim.lsp.get_clients is 0.10's name; 0.7 has buf_get_clients.
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == 'dbheal' then
      return client
    end
  end
  return nil
end

-- A byte column of a buffer line in the units the client speaks (LSP's UTF-16 by default).
local function lsp_character(bufnr, lnum, byte_col, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, false)[1] or ''
  byte_col = math.min(byte_col, #line)
  if encoding == 'utf-8' then
    return byte_col
  end
  local utf32, utf16 = vim.str_utfindex(line, byte_col)
  return encoding == 'utf-32' and utf32 or utf16
end

-- A vim.diagnostic item back in LSP form, for the code action request's context.
local function to_lsp(bufnr, d, encoding)
  local lsp = (d.user_data and d.user_data.lsp) or {}
  return {
    range = {
      start = { line = d.lnum, character = lsp_character(bufnr, d.lnum, d.col, encoding) },
      ['end'] = { line = d.end_lnum, character = lsp_character(bufnr, d.end_lnum, d.end_col, encoding) },
    },
    severity = d.severity,
    code = d.code,
    source = d.source,
    message = d.message,
    data = lsp.data,
  }
end

-- Neovim tells of a server that quit through vim.notify: keep every message, for the report and to
-- stop waiting at once.
result.messages = {}
local server_quit = false
local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(result.messages, tostring(msg))
  if tostring(msg):find('quit with exit code', 1, true) then
    server_quit = true
  end
  return notify(msg, level, opts)
end

-- The floating windows open now (0.7's hover shows in one).
local function floats()
  local wins = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      table.insert(wins, win)
    end
  end
  return wins
end

local function close_floats()
  for _, win in ipairs(floats()) do
    vim.api.nvim_win_close(win, true)
  end
end

-- Puts the cursor on byte `col` (0-based) of line `lnum` (1-based), presses K as typed (through
-- the buffer's mappings) and returns the lines of the floating window that opens, or nil.
local function hover_at(lnum, col)
  close_floats()
  vim.api.nvim_win_set_cursor(0, { lnum, col })
  vim.api.nvim_feedkeys('K', 'mx', false)
  local lines
  vim.wait(timeout_ms, function()
    local win = floats()[1]
    if win then
      lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
    end
    return lines ~= nil or server_quit
  end, 20)
  close_floats()
  return lines
end

-- Puts the cursor before byte `col` (0-based) of line `lnum` (1-based), enters Insert mode and
-- presses CTRL-X CTRL-O. 0.7's omnifunc asks the server and fills the menu when the answer
-- comes, so a timer reads the menu (complete_info) while Insert mode waits for keys, then
-- leaves with CTRL-E (the line as it was) and <Esc>. Returns what the menu offered, the line
-- while it was up and the line after.
local function complete_at(lnum, col)
  vim.api.nvim_win_set_cursor(0, { lnum, col })
  local seen = { items = {} }
  local deadline = vim.loop.now() + timeout_ms
  local timer
  timer = vim.fn.timer_start(20, function()
    local ok, err = pcall(function()
      local info = vim.fn.complete_info({ 'mode', 'pum_visible', 'items' })
      if #info.items == 0 and vim.loop.now() < deadline and not server_quit then
        return
      end
      vim.fn.timer_stop(timer)
      seen.mode = info.mode
      seen.pum_visible = info.pum_visible == 1
      seen.line = vim.api.nvim_get_current_line()
      for _, item in ipairs(info.items) do
        table.insert(seen.items, { word = item.word, kind = item.kind, menu = item.menu })
      end
    end)
    if not ok then
      vim.fn.timer_stop(timer)
      seen.error = tostring(err)
    end
    if not ok or seen.line then
      -- Whatever happened, leave Insert mode, or the feedkeys below never returns.
      vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<C-e><Esc>', true, false, true), 'n', false)
    end
  end, { ['repeat'] = -1 })
  -- 'x!': run the keys now and stay in Insert mode until the timer's <Esc>.
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('i<C-x><C-o>', true, false, true), 'nx!', false)
  seen.line_after = vim.api.nvim_get_current_line()
  assert(not seen.error, 'reading the completion menu failed: ' .. tostring(seen.error))
  return seen
end

local function main()
  assert(out_dir, 'DBHEAL_NVIM_OUT is not set')
  local bufnr = vim.api.nvim_get_current_buf()
  result.file = vim.api.nvim_buf_get_name(bufnr)
  result.filetype = vim.bo[bufnr].filetype
  result.nvim_version = tostring(vim.version().major) .. '.' .. vim.version().minor .. '.' .. vim.version().patch
  assert(result.filetype == FILETYPE, 'the buffer is not a ' .. FILETYPE .. ' buffer: ' .. vim.inspect(result.filetype))

  -- The client starts with the buffer (init.lua); wait until it has initialized.
  local client, seen
  local ready = vim.wait(timeout_ms, function()
    client = dbheal_client(bufnr)
    seen = seen or client ~= nil
    -- A client that was attached and is gone has exited: stop waiting.
    return (client ~= nil and client.initialized == true) or (seen and client == nil) or server_quit
  end, 20)
  assert(client and not server_quit, (seen or server_quit) and 'the dbheal server exited before it initialized'
    or 'no dbheal client attached to the buffer within ' .. timeout_ms .. ' ms')
  assert(ready and client.initialized, 'the dbheal client did not initialize within ' .. timeout_ms .. ' ms')
  result.offset_encoding = client.offset_encoding or 'utf-16'
  step('client initialized')

  vim.cmd('write')
  step('saved')
  local found = vim.wait(timeout_ms, function()
    return find_issue(bufnr) ~= nil
  end, 20)
  result.diagnostics = snapshot(bufnr)
  assert(found, 'no ' .. ISSUE .. ' diagnostic within ' .. timeout_ms .. ' ms')
  local diag = find_issue(bufnr)
  step('diagnostics received')

  -- What `vim.lsp.buf.code_action()` sends with the cursor on the diagnostic, over its range.
  vim.api.nvim_win_set_cursor(0, { diag.lnum + 1, diag.col })
  local lsp_diag = to_lsp(bufnr, diag, result.offset_encoding)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = lsp_diag.range,
    context = { diagnostics = { lsp_diag } },
  }
  local responses, err = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, timeout_ms)
  assert(responses, 'textDocument/codeAction failed: ' .. tostring(err))
  -- The quickfix that removes the cast: its title starts with "Remove" and names the cast (the
  -- other quickfixes change the column's type instead).
  local chosen
  result.code_actions = {}
  for _, response in pairs(responses) do
    assert(not response.error, 'textDocument/codeAction error: ' .. vim.inspect(response.error))
    for _, action in ipairs(response.result or {}) do
      table.insert(result.code_actions, { title = action.title, kind = action.kind })
      local quickfix = type(action.kind) == 'string' and action.kind:sub(1, 8) == 'quickfix'
      local title = action.title:lower()
      if not chosen and quickfix and title:sub(1, 6) == 'remove' and title:find('cast', 1, true) then
        chosen = action
      end
    end
  end
  assert(chosen, 'no quickfix that removes the cast among the code actions: ' .. vim.inspect(result.code_actions))
  result.chosen = chosen.title
  if not chosen.edit and chosen.data ~= nil then
    -- A server may leave the edit out until the action is resolved.
    local resolved = vim.lsp.buf_request_sync(bufnr, 'codeAction/resolve', chosen, timeout_ms)
    local answer = resolved and resolved[client.id]
    assert(answer and answer.result and not answer.error, 'codeAction/resolve failed: ' .. vim.inspect(resolved))
    chosen = answer.result
  end
  assert(chosen.edit, 'the quickfix carries no WorkspaceEdit: ' .. vim.inspect(chosen))
  result.edit = chosen.edit
  step('code action chosen')

  vim.lsp.util.apply_workspace_edit(chosen.edit, result.offset_encoding)
  vim.cmd('write')
  step('fix applied and saved')

  -- The saved file is checked again: the TYPE_MISMATCH must be gone.
  local cleared = vim.wait(timeout_ms, function()
    return find_issue(bufnr) == nil
  end, 20)
  result.cleared = cleared
  result.diagnostics_after = snapshot(bufnr)
  step('diagnostics after the fix')
  if FIX_ONLY then
    write_file(out_dir .. '/result.json', vim.fn.json_encode(result))
    return
  end

  -- What init.lua sets for the buffer (scheduled after the ftplugin: look after it ran).
  result.omnifunc = vim.bo[bufnr].omnifunc
  local k = vim.fn.maparg('K', 'n', false, true)
  result.k_mapping = { buffer = k.buffer == 1, lua = k.callback ~= nil, desc = k.desc }

  -- The fixed line: `    return db.execute("SELECT * FROM sessions WHERE user_id = ?", ...`.
  local lnum = diag.lnum + 1
  local line = vim.api.nvim_buf_get_lines(bufnr, lnum - 1, lnum, false)[1]
  result.sql_line = line
  -- Byte columns, 0-based (find's are 1-based): the `s` of `sessions`, the `u` of `user_id`.
  local table_col = assert(line:find('FROM sessions', 1, true), 'no `FROM sessions` in ' .. line) + 4
  local column_col = assert(line:find('WHERE user_id', 1, true), 'no `WHERE user_id` in ' .. line) + 5
  -- Without init.lua's K (Neovim's own K runs `:Man`) or its omnifunc, there is nothing to press:
  -- the test says which is missing.
  if result.k_mapping.buffer then
    result.hover_table = hover_at(lnum, table_col)
    result.hover_column = hover_at(lnum, column_col)
    step('hover')
  end
  if result.omnifunc == 'v:lua.vim.lsp.omnifunc' then
    result.complete_table = complete_at(lnum, table_col)
    result.complete_column = complete_at(lnum, column_col)
    step('completion')
  end
  write_file(out_dir .. '/result.json', vim.fn.json_encode(result))
end

local ok, err = xpcall(main, debug.traceback)
if ok then
  vim.cmd('qall!')
else
  if out_dir then
    write_file(out_dir .. '/error.txt', tostring(err) .. '\n\nso far: ' .. vim.inspect(result) .. '\n')
  end
  io.stderr:write(tostring(err) .. '\n')
  vim.cmd('cquit 1')
end
