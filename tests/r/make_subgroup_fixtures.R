# Reference values for core/subgroups.py (interaction Wald test, subgroup Cox fits), from R's survival.
#
# Run from the repository root:   Rscript tests/r/make_subgroup_fixtures.R
# Input: tests/fixtures/subgroups/<case>.csv (the cases below) (written by tests/r/export_subgroup_data.py).
# Output: tests/fixtures/subgroups/reference.json. CI has no R: the JSON is committed with this script.
#
# anova() on a coxph fit is not robust, so the interaction Wald test is computed by hand from the
# robust covariance vcov(fit): chi2 = t(b) %*% solve(V) %*% b over the treated:group terms.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
dir <- file.path("tests", "fixtures", "subgroups")

# Level codes in core.subgroups.DIMENSIONS order (the first is the reference of the interaction model).
cases <- list(
  pairs = list(file = "pairs.csv", levels = c("1", "2-3", ">3"), weighted = FALSE),
  replace = list(file = "replace.csv", levels = c("PD", "PPPD", "DP", "TP"), weighted = TRUE),
  location = list(file = "location.csv", levels = c("head", "body_tail"), weighted = FALSE),
  oligo = list(file = "oligo.csv", levels = c("oligometastatic", "more_than_oligo"), weighted = FALSE),
  ca19 = list(file = "ca19.csv", levels = c("responded", "not_responded"), weighted = TRUE),
  duration = list(file = "duration.csv", levels = c("short", "long"), weighted = TRUE),
  ypm = list(file = "ypm.csv", levels = c("no", "yes"), weighted = FALSE)
)

out <- list(R = R.version.string, survival = as.character(packageVersion("survival")))
for (name in names(cases)) {
  cs <- cases[[name]]
  d <- read.csv(file.path(dir, cs$file), colClasses = c(cluster = "character", subgroup = "character"))
  d$group <- factor(d$subgroup, levels = cs$levels)
  w <- if (cs$weighted) d$weight else NULL
  fit <- coxph(Surv(time, event) ~ treated * group, data = d, weights = w, cluster = cluster, ties = "efron")
  b <- coef(fit)
  V <- vcov(fit)
  idx <- grep("^treated:group", names(b))
  chi2 <- as.numeric(t(b[idx]) %*% solve(V[idx, idx]) %*% b[idx])
  sub <- list()
  for (lv in cs$levels) {
    ds <- d[d$subgroup == lv, ]
    ws <- if (cs$weighted) ds$weight else NULL
    f1 <- coxph(Surv(time, event) ~ treated, data = ds, weights = ws, cluster = cluster, ties = "efron")
    sub[[lv]] <- list(coef = unname(coef(f1)), robust_se = unname(sqrt(diag(vcov(f1)))),
                      p = unname(summary(f1)$coefficients[, "Pr(>|z|)"]), n = nrow(ds))
  }
  out[[name]] <- list(
    levels = cs$levels, terms = names(b), coef = unname(b), var = unname(V),
    interaction_index = idx - 1L, interaction_coef = unname(b[idx]), interaction_var = unname(V[idx, idx]),
    chi2 = chi2, df = length(idx), p = pchisq(chi2, length(idx), lower.tail = FALSE), subgroups = sub
  )
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(dir, "reference.json"))
