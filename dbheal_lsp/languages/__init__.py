"""The source languages dbheal reads: each turns a file into `Statement`s and a fix into edits."""
