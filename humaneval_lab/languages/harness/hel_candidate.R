# The candidate's side (humaneval_lab/languages/r.py): runs prompt + completion (main.R, never the
# tests), says "R" on fd 4, then answers each "C <name> <args>" read on fd 3 with "V <value>" or
# "E <message>" (hel_codec.R). Runs as the sample's uid; nothing here is trusted or secret: the
# judge believes only values it can parse, and compares them itself.
local({
  hel <- new.env()
  sys.source("hel_codec.R", envir = hel)
  hel_in <- file("/proc/self/fd/3", open = "r", raw = TRUE)
  hel_out <- file("/proc/self/fd/4", open = "w", raw = TRUE)
  source("main.R", local = globalenv())
  writeLines("R", hel_out)
  flush(hel_out)
  repeat {
    line <- readLines(hel_in, n = 1L, warn = FALSE)
    if (length(line) != 1L) break
    answer <- tryCatch({
      m <- regmatches(line, regexec("^C ([^ ]+) (.*)$", line))[[1]]
      name <- m[[2]]
      args <- hel$hel_dec(m[[3]])
      fn <- get(name, envir = globalenv(), mode = "function")
      paste("V", hel$hel_enc(do.call(fn, args, envir = globalenv())))
    }, error = function(e) paste("E", hel$hel_enc(substr(conditionMessage(e), 1L, 500L))))
    writeLines(answer, hel_out)
    flush(hel_out)
  }
})
