;;; drive-eglot.el --- drives eglot with dbheal, for tests/lsp/test_emacs.py  -*- lexical-binding: t -*-
;;
;;   HOME=<tmp> emacs --batch -l tests/lsp/emacs/drive-eglot.el   (in a copy of examples/shop)
;;
;; with ~/.emacs.d/init.el a copy of init-eglot.el. It opens app/routes/auth.py, lets
;; eglot-ensure start dbheal, saves, waits for the flymake diagnostics, shows the hover of the
;; `sessions' table (M-x eldoc), completes after "WHERE " (completion-at-point's functions),
;; runs M-x eglot-code-actions on the TYPE_MISMATCH choosing "Remove the int() cast", saves
;; and waits for the diagnostics of the fixed file.

(load (expand-file-name "common.el" (file-name-directory load-file-name)) nil t)

(defvar dbheal-file "app/routes/auth.py")

(defun dbheal-eglot-diagnostics ()
  "The flymake diagnostics of the buffer as alists, sorted.
Lines and columns are 0-based."
  (let (items)
    (dolist (d (flymake-diagnostics))
      (let* ((lsp (alist-get 'eglot-lsp-diag (flymake-diagnostic-data d)))
             (beg (dbheal-line-col (flymake-diagnostic-beg d)))
             (end (dbheal-line-col (flymake-diagnostic-end d))))
        (push `((code . ,(plist-get lsp :code)) (line . ,(car beg)) (col . ,(cdr beg))
                (end_line . ,(car end)) (end_col . ,(cdr end))
                (severity . ,(plist-get lsp :severity)) (source . ,(plist-get lsp :source))
                (type . ,(symbol-name (flymake-diagnostic-type d)))
                (text . ,(flymake-diagnostic-text d)))
              items)))
    (vconcat (sort items (lambda (a b)
                           (or (< (alist-get 'line a) (alist-get 'line b))
                               (and (= (alist-get 'line a) (alist-get 'line b))
                                    (< (alist-get 'col a) (alist-get 'col b)))))))))

(defun dbheal-eglot-has (code)
  "The flymake diagnostic of the buffer whose LSP code is CODE, or nil."
  (cl-find-if (lambda (d) (equal code (plist-get (alist-get 'eglot-lsp-diag
                                                             (flymake-diagnostic-data d))
                                                  :code)))
              (flymake-diagnostics)))

(defun dbheal-eglot-main ()
  "Drive one eglot session."
  (dbheal-start)
  (dbheal-put 'package_version (dbheal-package-version 'eglot))
  (dbheal-put 'library (locate-library "eglot"))
  (dbheal-command #'find-file dbheal-file)
  (dbheal-put 'major_mode (symbol-name major-mode))
  (dbheal-wait "eglot connection" (lambda () (eglot-current-server)))
  (dbheal-put 'project_root (cdr (eglot--project (eglot-current-server))))
  (dbheal-step "eglot connected")

  ;; C-x C-s, then the diagnostics the server publishes for the saved file.
  (dbheal-command #'save-buffer)
  (dbheal-step "saved")
  (dbheal-wait "TYPE_MISMATCH diagnostic in flymake" (lambda () (dbheal-eglot-has "TYPE_MISMATCH")))
  (dbheal-put 'diagnostics (dbheal-eglot-diagnostics))
  (dbheal-step "diagnostics received")

  ;; Hover: M-x eldoc with point on `sessions' in line 87; a display function records the docs.
  (let (shown)
    (dbheal-goto 86 0)
    (search-forward "FROM sessions")
    (backward-char (length "sessions"))
    (dbheal-put 'hover_at (let ((lc (dbheal-line-col (point)))) (vector (car lc) (cdr lc))))
    (add-hook 'eldoc-display-functions
              (lambda (docs _interactive)
                (setq shown (mapconcat (lambda (doc) (format "%s" (car doc))) docs "\n")))
              nil t)
    (dbheal-command #'eldoc-print-current-symbol-info t)
    (dbheal-wait "hover shown by eldoc" (lambda () (and shown (not (string-empty-p shown)) shown)))
    (dbheal-put 'hover shown))
  (dbheal-step "hover shown")

  ;; Completion: what completion-at-point offers right after "WHERE " in line 87.
  (dbheal-record-completions)
  (dbheal-step "completion listed")

  ;; M-x eglot-code-actions with point on the cast; the menu's choice is the cast's removal.
  (let ((diag (dbheal-eglot-has "TYPE_MISMATCH"))
        offered)
    (goto-char (flymake-diagnostic-beg diag))
    (cl-letf (((symbol-function 'completing-read)
               (lambda (_prompt collection &rest _)
                 (setq offered (mapcar #'car collection))
                 (or (cl-find-if (lambda (title) (string-prefix-p "Remove the int() cast" title))
                                 offered)
                     (error "No \"Remove the int() cast\" among the code actions: %S" offered)))))
      ;; As from the keyboard (M-x ... RET): eglot asks in the minibuffer, not with a popup menu.
      (let ((last-nonmenu-event ?\r))
        (dbheal-command #'call-interactively #'eglot-code-actions)))
    (dbheal-put 'code_actions (vconcat offered)))
  (dbheal-step "code action applied")
  (dbheal-command #'save-buffer)
  (dbheal-step "saved the fix")
  (dbheal-put 'cleared
              (condition-case nil
                  (dbheal-wait "TYPE_MISMATCH gone" (lambda () (not (dbheal-eglot-has "TYPE_MISMATCH"))))
                (error :json-false)))
  (dbheal-put 'diagnostics_after (dbheal-eglot-diagnostics))
  (dbheal-step "diagnostics after the fix"))

(dbheal-run #'dbheal-eglot-main "EGLOT")
;;; drive-eglot.el ends here
