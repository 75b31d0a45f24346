"""The git pre-commit hook: `install.py` puts it in place beside any hook already there and takes
it out again, `staged.py` checks what a commit would contain, `git.py` talks to git."""
