" Drives Vim and ALE through one editing session with dbheal, for tests/lsp/test_vim_ale.py.
"
" Run after tests/lsp/vim/vimrc (the set-up docs/editors.md gives), with app/routes/auth.py of a
" copy of examples/shop as the current buffer:
"
"   vim --not-a-term -N -u tests/lsp/vim/vimrc -i NONE .../app/routes/auth.py -S tests/lsp/vim/drive.vim
"
" What a user does, through ALE's own commands and key maps: save, wait for dbheal's findings in
" ALE's list, press K on a table name (hover), run :ALECodeAction on each int() cast and answer
" its menu with the number of "Remove the int() cast", save, wait for the findings of the saved
" file, then type two SQL strings and complete them with CTRL-X CTRL-O. What it saw goes to
" $DBHEAL_VIM_OUT/result.json and Vim quits with 0; on any failure, the error and what was seen so
" far go to $DBHEAL_VIM_OUT/error.txt and Vim quits with 1. Written for Vim 8.2+ and ALE 3.x; run
" on Vim 9.0 with ALE 3.3.0.

let s:out = $DBHEAL_VIM_OUT
let s:timeout_ms = empty($DBHEAL_VIM_TIMEOUT_MS) ? 60000 : str2nr($DBHEAL_VIM_TIMEOUT_MS)
let s:result = {'steps': []}

function! s:Fail(text) abort
  throw 'drive.vim: ' . a:text
endfunction

function! s:Step(text) abort
  call add(s:result.steps, a:text)
endfunction

" Poll until Done() is true. ALE's jobs and channels deliver while Vim sleeps.
function! s:Wait(Done) abort
  let l:waited = 0
  while l:waited < s:timeout_ms
    if a:Done()
      return 1
    endif
    sleep 20m
    let l:waited += 20
  endwhile
  return a:Done()
endfunction

" dbheal's entries in ALE's list for the buffer, as plain data (1-based lines and byte columns,
" end_col inclusive: ALE's own), sorted by position.
function! s:Findings() abort
  let l:items = []
  for l:item in ale#engine#GetLoclist(s:buf)
    if get(l:item, 'linter_name', '') ==# 'dbheal'
      call add(l:items, {
      \   'lnum': l:item.lnum,
      \   'col': l:item.col,
      \   'end_lnum': get(l:item, 'end_lnum', l:item.lnum),
      \   'end_col': get(l:item, 'end_col', l:item.col),
      \   'type': l:item.type,
      \   'code': get(l:item, 'code', ''),
      \   'text': l:item.text,
      \})
    endif
  endfor
  return sort(l:items, {a, b -> a.lnum != b.lnum ? a.lnum - b.lnum : a.col - b.col})
endfunction

function! s:Codes() abort
  return map(s:Findings(), {_, item -> item.code})
endfunction

function! s:PreviewLines() abort
  for l:win in getwininfo()
    if getwinvar(l:win.winid, '&filetype') ==# 'ale-preview.message'
      return getbufline(l:win.bufnr, 1, '$')
    endif
  endfor
  return []
endfunction

" ALE hands the code actions it received to a menu callback (as its right-click menu does).
function! s:OnActions(data, items) abort
  let s:actions = map(copy(a:items), {_, item -> item[1]})
endfunction

" Type `typed` on a new last line, complete it with CTRL-X CTRL-O (the first proposal is inserted:
" Vim's default 'completeopt'), then append `after`; return the menu's words and the line.
" `after` is typed once the menu is done: typed ahead, it would cancel the completion.
function! s:Complete(typed, after) abort
  call append('$', '')
  call cursor(line('$'), 1)
  let s:menu = []
  augroup dbheal_drive
    autocmd!
    autocmd CompleteDonePre * let s:menu = map(complete_info(['items']).items, {_, i -> i.word})
  augroup END
  call feedkeys('A' . a:typed . "\<C-x>\<C-o>", 'xt')
  call feedkeys('a' . a:after, 'xt')
  autocmd! dbheal_drive
  return {'typed': a:typed, 'words': s:menu, 'line': getline('$')}
endfunction

" Remove the int() cast of line `lnum` through :ALECodeAction: the cursor on the cast, the menu
" answered with the number of "Remove the int() cast" as a user types it. The number comes from
" the same request made through ALE's menu callback (what its right-click menu uses).
function! s:FixCast(lnum) abort
  let l:fix = {'lnum': a:lnum, 'before': getline(a:lnum)}
  call cursor(a:lnum, stridx(getline(a:lnum), 'int(') + 1)
  let s:actions = v:null
  call ale#codefix#Execute(0, function('s:OnActions'))
  let l:listed = s:Wait({-> s:actions isnot v:null})
  let l:fix.code_actions = l:listed ? map(copy(s:actions), {_, a -> a.title}) : []
  let l:choice = 0
  for l:index in range(len(l:fix.code_actions))
    if l:fix.code_actions[l:index] =~# '^Remove the int() cast'
      let l:choice = l:index + 1
      break
    endif
  endfor
  if !l:choice
    call s:Fail('no "Remove the int() cast" among the code actions of line ' . a:lnum . ': '
    \   . string(l:fix.code_actions))
  endif
  let l:fix.chosen = l:fix.code_actions[l:choice - 1]
  call feedkeys(l:choice . "\<CR>", 't')
  ALECodeAction
  let l:edited = s:Wait({-> getline(a:lnum) !=# l:fix.before})
  let l:fix.after = getline(a:lnum)
  if !l:edited
    call s:Fail('choosing ' . l:choice . ' in :ALECodeAction''s menu left line ' . a:lnum
    \   . ' unchanged')
  endif
  return l:fix
endfunction

function! s:Main() abort
  if empty(s:out)
    call s:Fail('DBHEAL_VIM_OUT is not set')
  endif
  let s:buf = bufnr('')
  let s:result.file = expand('%:p')
  let s:result.filetype = &filetype
  let s:result.vim_version = v:version
  let s:result.vim_patch = exists('v:versionlong') ? v:versionlong : v:version
  let s:result.ale = globpath(&runtimepath, 'autoload/ale.vim', 0, 1)
  let s:result.ale_3_3 = ale#Has('ale-3.3.0')
  let s:result.omnifunc = &omnifunc
  let s:result.linters = map(ale#linter#Get(&filetype), {_, l -> l.name})
  let s:result.root = DbhealRoot(s:buf)
  if &filetype !=# 'python'
    call s:Fail('the buffer is not a Python buffer: ' . string(&filetype))
  endif

  write
  call s:Step('saved')
  let l:found = s:Wait({-> index(s:Codes(), 'TYPE_MISMATCH') >= 0})
  let s:result.diagnostics = s:Findings()
  if !l:found
    call s:Fail('no TYPE_MISMATCH from dbheal in ALE''s list within ' . s:timeout_ms . ' ms')
  endif
  call s:Step('diagnostics received')

  " Hover: K (the set-up's key map) on the table name of line 87.
  call cursor(87, stridx(getline(87), 'sessions') + 3)
  normal K
  let l:shown = s:Wait({-> !empty(s:PreviewLines())})
  let s:result.hover = s:PreviewLines()
  if !l:shown
    call s:Fail('K showed no hover within ' . s:timeout_ms . ' ms')
  endif
  pclose
  call s:Step('hover shown')

  " Each cast, from the last line up (a fix never moves the lines above it).
  let s:result.fixes = []
  let l:lines = map(filter(s:Findings(), {_, d -> d.code ==# 'TYPE_MISMATCH'}), {_, d -> d.lnum})
  for l:lnum in reverse(uniq(sort(l:lines, 'n')))
    call add(s:result.fixes, s:FixCast(l:lnum))
  endfor
  let s:result.modified = &modified
  write
  call s:Step('fixes applied and saved')

  " The saved file is checked again: the TYPE_MISMATCHes must be gone, the others stay.
  let s:result.cleared = s:Wait({->
  \   index(s:Codes(), 'SQL_INJECTION') >= 0 && index(s:Codes(), 'TYPE_MISMATCH') < 0})
  let s:result.diagnostics_after = s:Findings()
  call s:Step('diagnostics after the fix')

  " Completion in SQL strings being typed (never saved: Vim quits without writing).
  let s:result.complete_table = s:Complete('rows = db.execute("SELECT * FROM us', '")')
  let s:result.complete_column = s:Complete('rows = db.execute("SELECT id FROM users WHERE em', ' = ?", (email,))')
  call s:Step('completed')

  call writefile([json_encode(s:result)], s:out . '/result.json')
endfunction

try
  call s:Main()
  qall!
catch
  if !empty(s:out)
    call writefile(
    \   [v:exception, 'at ' . v:throwpoint, '', 'so far: ' . json_encode(s:result), '', 'messages:']
    \   + split(execute('messages'), "\n") + ['', ':ALEInfo:'] + split(execute('ALEInfo'), "\n"),
    \   s:out . '/error.txt')
  endif
  cquit 1
endtry
