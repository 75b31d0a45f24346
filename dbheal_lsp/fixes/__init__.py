"""The fix engine: code fixes (libcst), schema fixes (plans), and the safety layer that applies them."""
