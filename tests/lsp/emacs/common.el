;;; common.el --- shared helpers of the dbheal Emacs drivers  -*- lexical-binding: t -*-
;;
;; Loaded by drive-eglot.el and drive-lsp-mode.el (tests/lsp/test_emacs.py). `emacs --batch'
;; skips what an interactive start does, so `dbheal-start' does it: it activates the installed
;; packages (Debian's elpa-* ones included) and loads ~/.emacs.d/init.el, the set-up that
;; docs/editors.md gives. `dbheal-command' runs a function the way the command loop runs a
;; command (pre- and post-command hooks: eglot-ensure and flymake start from the latter), and
;; `dbheal-wait' runs the idle timers that fall due while it waits, as an idle Emacs does
;; (lsp-deferred starts lsp-mode from one).
;; What the driver saw goes to $DBHEAL_EMACS_OUT/result.json; on an error, the error and what was
;; seen so far go to $DBHEAL_EMACS_OUT/error.txt and Emacs exits with 1.

(require 'cl-lib)
(require 'json)
(require 'subr-x)

(defvar dbheal-out (getenv "DBHEAL_EMACS_OUT") "Where result.json or error.txt goes.")
(defvar dbheal-timeout
  (string-to-number (or (getenv "DBHEAL_EMACS_TIMEOUT_S") "60"))
  "Seconds each wait may take.")
(defvar dbheal-result nil "What the driver saw, an alist written as JSON.")
(defvar dbheal-steps nil "The steps done so far, latest first.")

(defun dbheal-put (key value)
  "Record VALUE under KEY in the result."
  (setf (alist-get key dbheal-result) value))

(defun dbheal-step (text)
  "Note that the step TEXT is done."
  (push text dbheal-steps)
  (message "dbheal driver: %s" text))

(defvar comp-enable-subr-trampolines)
(defvar native-comp-enable-subr-trampolines)
(defvar dbheal-questions nil "The questions Emacs asked, latest first.")

(defun dbheal-refuse-question (prompt &rest _)
  "Note PROMPT and fail: the documented set-up must not stop on a question."
  (push (format "%s" prompt) dbheal-questions)
  (dbheal-put 'questions (vconcat (reverse dbheal-questions)))
  (error "Emacs asked a question: %s" prompt))

(defun dbheal-start ()
  "Do what an interactive start does before and with ~/.emacs.d/init.el."
  ;; In batch mode a question reads standard input, or hangs (read-key): fail at once instead,
  ;; naming it. The driver answers only the code-action menu it opens itself. Advising a
  ;; primitive would make a natively compiled Emacs build a trampoline, which needs gcc and
  ;; binutils that emacs-nox does not pull in; byte-compiled packages (eglot, lsp-mode) call
  ;; through the symbol and see the advice without one.
  (setq comp-enable-subr-trampolines nil)     ; Emacs 28's name
  (setq native-comp-enable-subr-trampolines nil) ; Emacs 29's name
  (dolist (fn '(read-key read-char read-char-exclusive read-char-choice y-or-n-p yes-or-no-p
                read-from-minibuffer read-string read-directory-name read-file-name
                completing-read))
    (advice-add fn :override #'dbheal-refuse-question))
  (package-activate-all)
  (setq user-init-file (expand-file-name "init.el" user-emacs-directory))
  (load user-init-file nil t)
  (dbheal-put 'emacs_version emacs-version))

(defvar dbheal-idle-since (float-time) "When the last command ended: Emacs is idle since.")
(defvar dbheal-idle-done nil "The idle timers already run in this idle period.")

(defun dbheal-package-version (name)
  "The version of the activated package NAME, as package.el knows it, or nil."
  (when-let ((desc (cadr (assq name package-alist))))
    (package-version-join (package-desc-version desc))))

(defun dbheal-command (fn &rest args)
  "Call FN with ARGS as the command loop runs a command, hooks included."
  (run-hooks 'pre-command-hook)
  (prog1 (apply fn args)
    (run-hooks 'post-command-hook)
    (setq dbheal-idle-since (float-time)
          dbheal-idle-done nil)))

(defun dbheal-idle ()
  "Run the due idle timers, once per idle period, as the command loop does.
`emacs --batch' never waits for input, so it never runs idle timers by
itself (lsp-deferred starts the client from one)."
  (let ((idle (- (float-time) dbheal-idle-since)))
    (dolist (timer (copy-sequence timer-idle-list))
      (when (and (not (memq timer dbheal-idle-done))
                 (<= (float-time (timer--time timer)) idle))
        (push timer dbheal-idle-done)
        (timer-event-handler timer)))))

(defun dbheal-wait (what pred)
  "Let processes and timers run until PRED returns non-nil.
Fail naming WHAT after the timeout, or at once when Emacs asked a question."
  (let ((deadline (+ (float-time) dbheal-timeout))
        value)
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (when dbheal-questions
        (error "No %s: Emacs asked a question: %s" what (car dbheal-questions)))
      (accept-process-output nil 0.05)
      (dbheal-idle))
    (or value (error "No %s within %s s" what dbheal-timeout))))

(defun dbheal-line-col (pos)
  "POS as (LINE . COLUMN), 0-based: the line and the characters before POS on it."
  (save-excursion
    (goto-char pos)
    (cons (1- (line-number-at-pos)) (- pos (line-beginning-position)))))

(defun dbheal-goto (line col)
  "Move to 0-based LINE and character COL."
  (goto-char (point-min))
  (forward-line line)
  (forward-char col))

(defun dbheal-buffer-tail (regexp)
  "The last characters of every buffer whose name matches REGEXP, for the report."
  (mapconcat
   (lambda (buffer)
     (with-current-buffer buffer
       (format "--- %s ---\n%s\n" (buffer-name)
               (buffer-substring-no-properties (max (point-min) (- (point-max) 8000))
                                               (point-max)))))
   (cl-remove-if-not (lambda (b) (string-match-p regexp (buffer-name b))) (buffer-list))
   ""))

(defun dbheal-write (name text)
  "Write TEXT to NAME in the output folder."
  (with-temp-file (expand-file-name name dbheal-out)
    (insert text)))

(defun dbheal-run (main logs)
  "Run MAIN, then write result.json and exit 0.
On an error, write error.txt with the buffers whose names match LOGS, and
exit 1."
  (unless dbheal-out (error "DBHEAL_EMACS_OUT is not set"))
  (condition-case err
      (progn
        (funcall main)
        (dbheal-put 'steps (vconcat (reverse dbheal-steps)))
        (let ((json-encoding-pretty-print t))
          (dbheal-write "result.json" (json-encode dbheal-result)))
        (kill-emacs 0))
    (error
     (dbheal-put 'steps (vconcat (reverse dbheal-steps)))
     (dbheal-write "error.txt"
                   (format "%S\n\nso far: %s\n\n%s\n--- *Messages* ---\n%s"
                           err
                           (condition-case nil (json-encode dbheal-result) (error (format "%S" dbheal-result)))
                           (dbheal-buffer-tail logs)
                           (with-current-buffer "*Messages*" (buffer-string))))
     (kill-emacs 1))))

(defun dbheal-record-completions ()
  "Record what `completion-at-point' offers at point, after line 87's \"WHERE \"."
  (dbheal-goto 86 0)
  (search-forward "WHERE ")
  (dbheal-put 'completion_at (let ((lc (dbheal-line-col (point)))) (vector (car lc) (cdr lc))))
  (let* ((capf (run-hook-wrapped 'completion-at-point-functions
                                 (lambda (fn) (let ((r (funcall fn))) (and (consp r) (cons fn r))))))
         (beg (nth 1 capf))
         (table (nth 3 capf)))
    (unless capf (error "No completion-at-point function answered"))
    (dbheal-put 'completion_function (format "%s" (car capf)))
    (dbheal-put 'completions
                (vconcat (mapcar #'substring-no-properties
                                 (all-completions (buffer-substring-no-properties beg (point))
                                                  table))))))

(provide 'dbheal-common)
;;; common.el ends here
