"""Python, the first source language: `ast` finds the statements, libcst rewrites the code."""
