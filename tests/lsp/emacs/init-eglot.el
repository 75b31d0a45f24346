;;; init.el --- dbheal with eglot  -*- lexical-binding: t -*-
;; Emacs 29 and later have eglot built in. Emacs 28 needs it installed: Debian's elpa-eglot
;; package (`apt install elpa-eglot'), or `M-x package-install RET eglot RET' from GNU ELPA.
(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((python-mode python-ts-mode) . ("python3" "-m" "dbheal_lsp"))))
(add-hook 'python-mode-hook #'eglot-ensure)
(add-hook 'python-ts-mode-hook #'eglot-ensure) ; Emacs 29+ tree-sitter mode; unused on 28
;; Settings are sent as workspace/configuration, section "dbheal":
(setq-default eglot-workspace-configuration
              '(:dbheal (:checkOn "save" :periodicScanMinutes 5)))
