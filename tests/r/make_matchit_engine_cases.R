# Random matching problems solved by MatchIt's own C++ matcher, for tests/test_matching.py
# (tests/fixtures/matching/matchit_engine_cases.json).
#
# MatchIt >= 4.5.4 is not installable here (no network; Debian has 4.5.1, whose matcher differs
# from 4.7.2, see make_matching_fixtures.R). So MatchIt's matcher was compiled from its source:
# src/nn_matchC_vec.cpp and find_control_vec(), take_closest(), make_exact_order() and helpers
# from src/internal.cpp of github.com/ngreifer/MatchIt (commit 0e3b806167fc748ff3036a0ddfdbb7d26526024a,
# the development version after 4.7.2, whose comments state that its scan gives the same matches),
# with the progress bar stubbed out, via Rcpp::sourceCpp(); that source is MatchIt's (GPL) and is
# not part of this repository. Set MATCHIT_CPP to the combined file and run, from
# tests/fixtures/matching:  MATCHIT_CPP=/path/all.cpp Rscript ../../r/make_matchit_engine_cases.R
#
# Each case replays what matchit2nearest() does before calling nn_matchC_vec(): ratio per treated
# unit, the treated order for m.order (order(distance[treat == 1], decreasing = TRUE) for "largest",
# ..., which(!discarded[treat == 1]) for "data", and "data" when reuse.max >= n1), units of exact
# strata without both arms discarded, the caliper in distance units.
suppressMessages(library(jsonlite))
Rcpp::sourceCpp(Sys.getenv("MATCHIT_CPP"), cacheDir = tempdir())

set.seed(4072)
cases <- list()
for (i in seq_len(480)) {
  n <- sample(3:60, 1)
  treat <- as.integer(runif(n) < runif(1, 0.15, 0.6))
  treat[sample(n, 2)] <- 1L
  if (all(treat == 1L)) treat[1] <- 0L
  ties <- runif(1) < 0.6
  distance <- if (ties) sample(-8:8, n, replace = TRUE) / 4 else rnorm(n)
  exact <- if (runif(1) < 0.4) sample(seq_len(sample(1:3, 1)), n, replace = TRUE) else NULL
  caliper <- if (runif(1) < 0.4) NULL else sample(c(0, 0.25, 0.3, 0.5, 1), 1)
  ratio <- sample(1:3, 1)
  replace <- runif(1) < 0.4
  m.order <- sample(c("largest", "smallest", "data"), 1)

  names(treat) <- seq_len(n)
  n1 <- sum(treat == 1L)
  reuse.max <- if (replace) .Machine$integer.max else 1L
  order_used <- if (reuse.max >= n1) "data" else m.order
  discarded <- rep(FALSE, n)
  ex <- NULL
  if (!is.null(exact)) {
    both <- intersect(exact[treat == 1L], exact[treat == 0L])
    discarded[!exact %in% both] <- TRUE
    ex <- as.integer(exact)
  }
  ord <- switch(order_used,
                largest = order(distance[treat == 1L], decreasing = TRUE),
                smallest = order(distance[treat == 1L], decreasing = FALSE),
                data = which(!discarded[treat == 1L]))
  mm <- nn_matchC_vec(treat, ord, rep(as.integer(ratio), n1), discarded, reuse.max, 1L, distance,
                      ex, caliper)
  tr <- which(treat == 1L)
  pairs <- which(!is.na(mm), arr.ind = TRUE)
  cases[[i]] <- list(distance = distance, treat = treat == 1L, strata = exact, caliper = caliper,
                     ratio = ratio, replace = replace, order = m.order,
                     treated = tr[pairs[, "row"]] - 1L, control = mm[pairs] - 1L,
                     round = unname(pairs[, "col"]))
}
write_json(list(source = "MatchIt nn_matchC_vec (ngreifer/MatchIt 0e3b806), compiled locally",
                cases = cases), "matchit_engine_cases.json", digits = NA, auto_unbox = TRUE, null = "null")
