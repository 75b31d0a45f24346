;;; init.el --- dbheal with lsp-mode  -*- lexical-binding: t -*-
;; lsp-mode from Debian's elpa-lsp-mode package (`apt install elpa-lsp-mode') or from MELPA.
(with-eval-after-load 'lsp-mode
  (lsp-register-client
   (make-lsp-client
    :new-connection (lsp-stdio-connection '("python3" "-m" "dbheal_lsp"))
    :activation-fn (lsp-activate-on "python")
    :add-on? t
    :server-id 'dbheal
    :initialization-options (lambda () '(:checkOn "save"))))
  (lsp-register-custom-settings '(("dbheal.checkOn" "save"))))
;; Without this, lsp-mode asks once per project which folder is its root; dbheal finds the
;; project (pyproject.toml, migrations) from each file whatever root lsp-mode picks.
(setq lsp-auto-guess-root t)
(add-hook 'python-mode-hook #'lsp-deferred)
