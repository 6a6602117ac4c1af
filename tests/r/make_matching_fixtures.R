# Extra fixtures for tests/test_matching.py, made with R 4.2 and Debian's r-cran-matchit 4.5.1.
#
# MatchIt 4.5.1's *matched sets* are NOT used as a reference: on this machine they differ from
# MatchIt 4.7.2 even without a caliper (e.g. the "nocaliper" case: 72 of 99 pairs differ from
# matchit_nocaliper.json, with a larger total distance), so the matched sets come only from the
# 4.7.2 files (make_matchit_reference.R). What is used from here:
#   * glm coefficients and logit distances (also for badly scaled covariates);
#   * summary() balance statistics, which the tests recompute from 4.5.1's own weights (the
#     balance computation does not depend on how the sets were found; 4.5.1 and 4.7.2 compute
#     summary() the same way).
# Run from tests/fixtures/matching:  Rscript ../../r/make_matching_fixtures.R
suppressMessages({library(MatchIt); library(jsonlite)})

d <- read.csv("matching_example.csv")
f <- surgery ~ age + ecog + mets + regimen + log(ca19_9)
ties <- surgery ~ ecog + mets + regimen

case <- function(name, formula, data, ..., balance = FALSE) {
  m <- matchit(formula, data = data, method = "nearest", distance = "glm", link = "linear.logit", ...)
  md <- match.data(m)
  out <- list(case = name, matchit = as.character(packageVersion("MatchIt")), settings = list(...),
              formula = deparse(formula), distance = unname(m$distance),
              coefficients = as.list(coef(m$model)),
              matched = data.frame(row = as.integer(rownames(md)),
                                   subclass = if (is.null(md$subclass)) NA_integer_ else as.integer(as.character(md$subclass)),
                                   weights = md$weights))
  if (balance) {
    s <- summary(m, standardize = TRUE)
    tab <- function(x) data.frame(term = rownames(x), mean_treated = x[, "Means Treated"],
                                  mean_control = x[, "Means Control"], smd = x[, "Std. Mean Diff."],
                                  var_ratio = x[, "Var. Ratio"], row.names = NULL)
    out$balance_all <- tab(s$sum.all)
    out$balance_matched <- tab(s$sum.matched)
  }
  write_json(out, paste0("matchit451_", name, ".json"), digits = NA, auto_unbox = TRUE, pretty = FALSE,
             na = "null")
}

case("nocaliper_balance", f, d, balance = TRUE)

# Badly scaled covariates: an income in tens of thousands beside 0/1 flags.
set.seed(20240611)
n <- 500
s <- data.frame(income = round(rnorm(n, 45000, 15000), 2),
                flag = rbinom(n, 1, 0.3),
                age = round(rnorm(n, 64, 9)),
                region = sample(c("north", "south", "east"), n, replace = TRUE))
lp <- -1.2 + 0.00004 * (s$income - 45000) + 0.8 * s$flag - 0.03 * (s$age - 64) + 0.4 * (s$region == "south")
s$treated <- rbinom(n, 1, plogis(lp))
write.csv(s, "scaled_example.csv", row.names = FALSE)
g <- glm(treated ~ income + flag + age + region, data = s, family = binomial)
write_json(list(coefficients = as.list(coef(g)), iterations = g$iter), "scaled_glm.json", digits = NA,
           auto_unbox = TRUE)
case("scaled", treated ~ income + flag + age + region, s, balance = TRUE)
