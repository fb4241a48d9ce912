# Values crossing between the R judge and the candidate process (humaneval_lab/languages/r.py).
#
# R 4.2 in the image has no JSON parser, and unserialize() is no codec for untrusted bytes (it can
# build promises and closures; CVE-2024-27322), so values cross as one line of space-separated
# tokens, parsed strictly by vector operations, never by parse() or eval():
#   N            NULL
#   l<n> t...    logical vector: T, F or NA each
#   i<n> t...    integer vector: a decimal or NA each
#   d<n> t...    double vector: C99 hex float (bit exact, -0 kept), NA, NaN, Inf or -Inf each
#   s<n> t...    character vector: x<hex of the UTF-8 bytes> or NA each
#   L<n> v...    list of n values
#   A s<n>.. v   v with these names (the only attribute that crosses)
# Any other type or attribute (a class, dim, a function, an environment) cannot cross.
hel_max_depth <- 100L

hel_bad <- function(what) {
  base::stop(base::structure(base::list(message = what, call = NULL), class = base::c("hel_bad", "error", "condition")))
}

hel_hex <- function(s) base::vapply(s, function(one) {
  if (base::is.na(one)) return("NA")
  base::paste0("x", base::paste(base::as.character(base::charToRaw(base::enc2utf8(one))), collapse = ""))
}, "", USE.NAMES = FALSE)

hel_enc <- function(x, depth = 0L) {
  if (depth > hel_max_depth) base::stop("the value is nested too deeply to cross")
  nm <- NULL
  a <- base::attributes(x)
  if (!base::is.null(a)) {
    extra <- base::setdiff(base::names(a), "names")
    if (base::length(extra)) base::stop(base::sprintf("a value with attribute '%s' cannot cross", extra[[1]]))
    nm <- a[["names"]]
  }
  n <- base::length(x)
  body <- base::switch(base::typeof(x),
    "NULL" = "N",
    logical = base::c(base::paste0("l", n), base::ifelse(base::is.na(x), "NA", base::ifelse(x, "T", "F"))),
    integer = base::c(base::paste0("i", n), base::ifelse(base::is.na(x), "NA", base::as.character(x))),
    double = base::c(base::paste0("d", n), base::ifelse(base::is.nan(x), "NaN", base::ifelse(base::is.na(x), "NA",
      base::ifelse(base::is.finite(x), base::sprintf("%a", x), base::ifelse(x > 0, "Inf", "-Inf"))))),
    character = base::c(base::paste0("s", n), hel_hex(x)),
    list = base::c(base::paste0("L", n), base::vapply(x, hel_enc, "", depth + 1L, USE.NAMES = FALSE)),
    base::stop(base::sprintf("a value of type %s cannot cross (NULL, logical, integer, double, character and list can)",
                             base::typeof(x))))
  body <- base::paste(body, collapse = " ")
  if (base::is.null(nm)) body else base::paste("A", hel_enc(base::unname(nm)), body)
}

hel_unhex <- function(t) {
  out <- base::character(base::length(t))
  for (k in base::seq_along(t)) {
    if (t[[k]] == "NA") { out[[k]] <- NA_character_; next }
    h <- base::substring(t[[k]], 2L)
    if (!base::grepl("^([0-9a-f]{2})*$", h)) hel_bad("a bad string")
    m <- base::nchar(h)
    bytes <- if (m) base::as.raw(base::strtoi(base::substring(h, base::seq(1L, m, 2L), base::seq(2L, m, 2L)), 16L)) else base::raw(0)
    if (base::any(bytes == base::as.raw(0L))) hel_bad("a string with a NUL byte")
    s <- base::rawToChar(bytes)
    if (!base::validUTF8(s)) hel_bad("a string that is not UTF-8")
    base::Encoding(s) <- "UTF-8"
    out[[k]] <- s
  }
  out
}

# One encoded value (the whole of `line`) -> the value; a hel_bad condition if it is not exactly one.
hel_dec <- function(line) {
  tok <- if (base::nzchar(line)) base::strsplit(line, " ", fixed = TRUE)[[1]] else base::character(0)
  pos <- 0L
  take <- function(n) {
    if (n > base::length(tok) - pos) hel_bad("a truncated value")
    r <- tok[pos + base::seq_len(n)]
    pos <<- pos + n
    r
  }
  one <- function(depth) {
    if (depth > hel_max_depth) hel_bad("a value nested too deeply")
    t <- take(1L)
    if (t == "N") return(NULL)
    if (t == "A") {
      nm <- one(depth + 1L)
      v <- one(depth)
      if (!base::is.character(nm) || base::is.null(v) || base::length(nm) != base::length(v)) hel_bad("bad names")
      base::names(v) <- nm
      return(v)
    }
    if (!base::grepl("^[lidsL](0|[1-9][0-9]{0,8})$", t)) hel_bad("an unknown token")
    kind <- base::substr(t, 1L, 1L)
    n <- base::as.integer(base::substring(t, 2L))
    if (kind == "L") {
      if (n > base::length(tok) - pos) hel_bad("a truncated value")  # each value is >= 1 token
      out <- base::vector("list", n)
      for (k in base::seq_len(n)) {
        v <- one(depth + 1L)
        if (!base::is.null(v)) out[[k]] <- v
      }
      return(out)
    }
    items <- take(n)
    base::switch(kind,
      l = {
        v <- base::match(items, base::c("T", "F", "NA"))
        if (base::anyNA(v)) hel_bad("a bad logical")
        base::c(TRUE, FALSE, NA)[v]
      },
      i = {
        if (!base::all(base::grepl("^(-?(0|[1-9][0-9]{0,9})|NA)$", items))) hel_bad("a bad integer")
        v <- base::suppressWarnings(base::as.integer(items))
        if (base::any(base::is.na(v) & items != "NA")) hel_bad("an integer out of range")
        v
      },
      d = {
        ok <- base::grepl("^(-?0x[01](\\.[0-9a-f]+)?p[-+][0-9]{1,4}|NA|NaN|Inf|-Inf)$", items)
        if (!base::all(ok)) hel_bad("a bad double")
        v <- base::suppressWarnings(base::as.numeric(items))
        v[items == "NA"] <- NA_real_
        v[items == "NaN"] <- NaN
        v
      },
      s = {
        if (!base::all(items == "NA" | base::startsWith(items, "x"))) hel_bad("a bad string")
        hel_unhex(items)
      })
  }
  v <- one(0L)
  if (pos != base::length(tok)) hel_bad("trailing tokens")
  v
}
