-- dbheal for Neovim 0.7 and later, with nothing but the built-in LSP client.
-- One dbheal server per project root, started for the first Python, JavaScript or TypeScript
-- buffer of that root.
local dbheal_markers = { 'pyproject.toml', 'migrations', '.git' }
local dbheal_clients = {} -- project root -> client id

-- In a buffer dbheal serves: CTRL-X CTRL-O completes table and column names in SQL strings,
-- and K shows what dbheal knows of the name under the cursor.
local function dbheal_buffer_keys(bufnr)
  vim.api.nvim_buf_set_option(bufnr, 'omnifunc', 'v:lua.vim.lsp.omnifunc')
  vim.keymap.set('n', 'K', vim.lsp.buf.hover, { buffer = bufnr, desc = 'dbheal hover' })
end

-- The nearest folder, from the file's own upwards, that holds one of the markers.
local function dbheal_root(fname)
  local dir = vim.fn.fnamemodify(fname, ':p:h')
  while true do
    for _, marker in ipairs(dbheal_markers) do
      if vim.loop.fs_stat(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

vim.api.nvim_create_autocmd('FileType', {
  pattern = { 'python', 'javascript', 'typescript', 'javascriptreact', 'typescriptreact' },
  callback = function(args)
    local fname = vim.api.nvim_buf_get_name(args.buf)
    if fname == '' then
      return
    end
    local root = dbheal_root(fname)
    if not root then
      return
    end
    local client_id = dbheal_clients[root]
    if not client_id or not vim.lsp.get_client_by_id(client_id) then
      client_id = vim.lsp.start_client({
        name = 'dbheal',
        cmd = { 'python3', '-m', 'dbheal_lsp' },
        root_dir = root,
        on_exit = function()
          dbheal_clients[root] = nil
        end,
      })
      dbheal_clients[root] = client_id
    end
    if client_id then
      vim.lsp.buf_attach_client(args.buf, client_id)
      -- Scheduled after every FileType handler, wherever `filetype plugin on` is in your
      -- config: Python's ftplugin sets an 'omnifunc' of its own when Neovim has Python 3.
      vim.schedule(function()
        if vim.api.nvim_buf_is_valid(args.buf) then
          dbheal_buffer_keys(args.buf)
        end
      end)
    end
  end,
})
