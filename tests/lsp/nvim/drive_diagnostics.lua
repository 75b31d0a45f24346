-- Opens a file with dbheal and reports its diagnostics, for tests/lsp/test_neovim.py's
-- JavaScript/TypeScript test:
--
--   nvim --headless --clean -u tests/lsp/nvim/init.lua web/sessions.ts -S tests/lsp/nvim/drive_diagnostics.lua
--
-- It waits until dbheal has attached to the current buffer and published a diagnostic, then
-- writes the buffer's filetype and its diagnostics (0-based lines, byte columns: vim.diagnostic's
-- own) to $DBHEAL_NVIM_OUT/result.json and quits with 0; on a failure, the error goes to
-- $DBHEAL_NVIM_OUT/error.txt and Neovim quits with 1. Works with Neovim 0.7 and later.

local out_dir = os.getenv('DBHEAL_NVIM_OUT')
local timeout_ms = tonumber(os.getenv('DBHEAL_NVIM_TIMEOUT_MS') or '') or 60000

local function write_file(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function attached(bufnr)
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == 'dbheal' then
      return true
    end
  end
  return false
end

local ok, err = pcall(function()
  local bufnr = vim.api.nvim_get_current_buf()
  if not vim.wait(timeout_ms, function() return attached(bufnr) end, 50) then
    error('dbheal never attached to the buffer (filetype ' .. vim.bo[bufnr].filetype .. ')')
  end
  if not vim.wait(timeout_ms, function() return #vim.diagnostic.get(bufnr) > 0 end, 50) then
    error('no diagnostics for the buffer')
  end
  local items = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(items, { lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code, message = d.message })
  end
  write_file(out_dir .. '/result.json', vim.fn.json_encode({ filetype = vim.bo[bufnr].filetype, diagnostics = items }))
end)
if not ok then
  write_file(out_dir .. '/error.txt', tostring(err))
  vim.cmd('cquit 1')
end
vim.cmd('qall!')
