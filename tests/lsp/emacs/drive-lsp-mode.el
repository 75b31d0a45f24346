;;; drive-lsp-mode.el --- drives lsp-mode with dbheal, for tests/lsp/test_emacs.py  -*- lexical-binding: t -*-
;;
;;   HOME=<tmp> emacs --batch -l tests/lsp/emacs/drive-lsp-mode.el   (in a copy of examples/shop)
;;
;; with ~/.emacs.d/init.el a copy of init-lsp-mode.el. It opens app/routes/auth.py, lets
;; lsp-deferred start dbheal, saves, waits for the flymake diagnostics (lsp-mode's own choice
;; without flycheck), shows the hover of the `sessions' table (M-x lsp-describe-thing-at-point),
;; completes after "WHERE " (completion-at-point's functions), runs M-x lsp-execute-code-action
;; on the TYPE_MISMATCH choosing "Remove the int() cast", saves and waits for the diagnostics of
;; the fixed file.

(load (expand-file-name "common.el" (file-name-directory load-file-name)) nil t)

(defvar dbheal-file "app/routes/auth.py")
(defvar lsp-diagnostics-provider)

(defun dbheal-lsp-raw ()
  "The LSP diagnostics lsp-mode holds for the buffer's file."
  (gethash (lsp--fix-path-casing buffer-file-name) (lsp-diagnostics t)))

(defun dbheal-lsp-code-at (line col)
  "The code of the LSP diagnostic starting at 0-based LINE and COL.
COL is a character and an LSP column alike: the lines here are ASCII."
  (cl-loop for d in (dbheal-lsp-raw)
           for start = (gethash "start" (gethash "range" d))
           when (and (= line (gethash "line" start)) (= col (gethash "character" start)))
           return (gethash "code" d)))

(defun dbheal-lsp-diagnostics ()
  "The flymake diagnostics of the buffer as alists, sorted.
Lines and columns are 0-based; each has the code of the LSP diagnostic it
shows (lsp-mode's flymake messages leave it out)."
  (let (items)
    (dolist (d (flymake-diagnostics))
      (let ((beg (dbheal-line-col (flymake-diagnostic-beg d)))
            (end (dbheal-line-col (flymake-diagnostic-end d))))
        (push `((code . ,(dbheal-lsp-code-at (car beg) (cdr beg)))
                (line . ,(car beg)) (col . ,(cdr beg))
                (end_line . ,(car end)) (end_col . ,(cdr end))
                (type . ,(symbol-name (flymake-diagnostic-type d)))
                (text . ,(flymake-diagnostic-text d)))
              items)))
    (vconcat (sort items (lambda (a b)
                           (or (< (alist-get 'line a) (alist-get 'line b))
                               (and (= (alist-get 'line a) (alist-get 'line b))
                                    (< (alist-get 'col a) (alist-get 'col b)))))))))

(defun dbheal-lsp-has (code)
  "The flymake diagnostic showing an LSP diagnostic with CODE, or nil."
  (cl-find-if (lambda (d)
                (let ((beg (dbheal-line-col (flymake-diagnostic-beg d))))
                  (equal code (dbheal-lsp-code-at (car beg) (cdr beg)))))
              (flymake-diagnostics)))

(defun dbheal-lsp-main ()
  "Drive one lsp-mode session."
  (dbheal-start)
  (dbheal-put 'package_version (dbheal-package-version 'lsp-mode))
  (dbheal-put 'library (locate-library "lsp-mode"))
  (dbheal-command #'find-file dbheal-file)
  (dbheal-put 'major_mode (symbol-name major-mode))
  (dbheal-wait "lsp-mode workspace" (lambda () (and (bound-and-true-p lsp-mode)
                                                    (lsp-workspaces)
                                                    (eq 'initialized (lsp--workspace-status
                                                                      (car (lsp-workspaces)))))))
  (dbheal-put 'project_root (lsp--workspace-root (car (lsp-workspaces))))
  (dbheal-put 'servers (vconcat (mapcar (lambda (w) (symbol-name (lsp--workspace-server-id w)))
                                        (lsp-workspaces))))
  (dbheal-put 'diagnostics_provider (format "%s" lsp-diagnostics-provider))
  (dbheal-step "lsp-mode connected")

  (dbheal-command #'save-buffer)
  (dbheal-step "saved")
  (dbheal-wait "TYPE_MISMATCH diagnostic in flymake" (lambda () (dbheal-lsp-has "TYPE_MISMATCH")))
  (dbheal-put 'diagnostics (dbheal-lsp-diagnostics))
  (dbheal-step "diagnostics received")

  ;; Hover: M-x lsp-describe-thing-at-point on `sessions' in line 87 fills *lsp-help*.
  (dbheal-goto 86 0)
  (search-forward "FROM sessions")
  (backward-char (length "sessions"))
  (dbheal-put 'hover_at (let ((lc (dbheal-line-col (point)))) (vector (car lc) (cdr lc))))
  (save-window-excursion
    (dbheal-command #'call-interactively #'lsp-describe-thing-at-point))
  (dbheal-put 'hover (and (get-buffer "*lsp-help*")
                          (with-current-buffer "*lsp-help*"
                            (buffer-substring-no-properties (point-min) (point-max)))))
  (dbheal-step "hover shown")

  ;; Completion: what completion-at-point offers right after "WHERE " in line 87.
  (dbheal-record-completions)
  (dbheal-step "completion listed")

  ;; M-x lsp-execute-code-action with point on the cast; the choice is the cast's removal.
  (let ((diag (dbheal-lsp-has "TYPE_MISMATCH"))
        offered)
    (goto-char (flymake-diagnostic-beg diag))
    (cl-letf (((symbol-function 'completing-read)
               (lambda (_prompt collection &rest _)
                 (setq offered (mapcar (lambda (c) (if (consp c) (car c) c)) collection))
                 (or (cl-find-if (lambda (title) (string-prefix-p "Remove the int() cast" title))
                                 offered)
                     (error "No \"Remove the int() cast\" among the code actions: %S" offered)))))
      (dbheal-command #'call-interactively #'lsp-execute-code-action))
    (dbheal-put 'code_actions (vconcat offered)))
  (dbheal-step "code action applied")
  (dbheal-command #'save-buffer)
  (dbheal-step "saved the fix")
  (dbheal-put 'cleared
              (condition-case nil
                  (dbheal-wait "TYPE_MISMATCH gone" (lambda () (not (dbheal-lsp-has "TYPE_MISMATCH"))))
                (error :json-false)))
  (dbheal-put 'diagnostics_after (dbheal-lsp-diagnostics))
  (dbheal-step "diagnostics after the fix"))

(dbheal-run #'dbheal-lsp-main "\\*\\(lsp-log\\|dbheal\\|Warnings\\)")
;;; drive-lsp-mode.el ends here
