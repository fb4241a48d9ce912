# The trusted R judge (humaneval_lab/languages/r.py). It runs the problem's tests, unchanged, in
# this process, under a uid of its own, in a dir the candidate cannot read. The functions the tests
# call that the candidate defines are stubs here: each sends "C <name> <args>" (a name r.py checked) on fd 4 and reads
# "V <value>" or "E <message>" on fd 3 (hel_codec.R). No candidate code runs here; what it sends is
# parsed strictly into fresh plain values, so all.equal in the tests is R's own on plain data.
#
# Exit code = verdict (Program.judge): 0 passed, 1 a test assertion failed, 2 error (the candidate
# raised or sent something unusable, or the tests raised), 3 the candidate went away, 4 the judge
# itself failed. The last stderr line is the reason.
source("hel_codec.R")
hel_cfg <- readLines("hel_judge.cfg", warn = FALSE)
# raw: they are pipes (R would say so in a warning on stderr).
hel_in <- file("/proc/self/fd/3", open = "r", raw = TRUE)
hel_out <- file("/proc/self/fd/4", open = "w", raw = TRUE)

hel_finish <- function(code, reason) {
  flush(stdout())
  cat("\n", gsub("[[:space:]]+", " ", reason), "\n", sep = "", file = stderr())
  quit(save = "no", status = code)
}

hel_receive <- function(waiting_for) {
  line <- tryCatch(readLines(hel_in, n = 1L, warn = FALSE), error = function(e) character(0))
  if (length(line) != 1L) hel_finish(3L, paste("the candidate ended while", waiting_for))
  line
}

hel_short <- function(line, max = 80L) if (nchar(line) > max) paste0(substr(line, 1L, max - 3L), "...") else line

hel_call <- function(name, args) {
  what <- sprintf("%s(%s)", name, hel_short(paste(deparse(args, width.cutoff = 100L), collapse = " "), 100L))
  request <- tryCatch(paste("C", name, hel_enc(args)), error = function(e) {
    hel_finish(2L, paste("the tests pass", what, "a value that cannot cross:", conditionMessage(e)))
  })
  ok <- tryCatch({ writeLines(request, hel_out); flush(hel_out); TRUE }, error = function(e) FALSE)
  if (!ok) hel_finish(3L, paste("the candidate ended before", what))
  line <- hel_receive(paste("the tests waited for", what))
  kind <- substr(line, 1L, 2L)
  if (kind == "V ") {
    return(tryCatch(hel_dec(substring(line, 3L)), hel_bad = function(e) {
      hel_finish(2L, paste(what, "answered", conditionMessage(e)))
    }))
  }
  if (kind == "E ") {
    msg <- tryCatch(hel_dec(substring(line, 3L)), hel_bad = function(e) "(unreadable)")
    if (!is.character(msg) || length(msg) != 1L) msg <- "(unreadable)"
    hel_finish(2L, paste(what, "raised", hel_short(msg, 100L)))
  }
  hel_finish(2L, paste(what, "answered with no value"))
}

hel_stub <- function(name) {
  force(name)
  function(...) hel_call(name, list(...))
}

local({
  if (!identical(hel_receive("loading its code"), "R")) hel_finish(2L, "the candidate sent something else before ready")
  for (name in hel_cfg[nzchar(hel_cfg)]) assign(name, hel_stub(name), envir = globalenv())
  ran <- tryCatch({
    source("tests.R", local = globalenv())
    TRUE
  }, error = function(e) {
    msg <- conditionMessage(e)
    where <- if (is.null(conditionCall(e))) "" else paste0(hel_short(paste(deparse(conditionCall(e)), collapse = " "), 100L), ": ")
    # stopifnot's own failure is a failed check; anything else the tests raised is an error.
    failed <- grepl("is not TRUE$|are not all TRUE$", msg)
    hel_finish(if (failed) 1L else 2L, paste0(where, hel_short(msg, 120L)))
  })
  hel_finish(0L, "passed")
})
