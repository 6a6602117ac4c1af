# Reference values for the time-dependent Cox model of core/estimators.py (the whole table: every term).
#
# Run from the repository root:   Rscript tests/r/make_td_cox_fixtures.R
# Input: tests/fixtures/td_cox/<case>.csv and cases.json (written by tests/r/export_td_cox_data.py).
# Output: tests/fixtures/td_cox/reference.json. CI has no R: the JSON is committed with this script.
#
# coxph(Surv(start, stop, event) ~ treated + x_..., cluster = row, ties = "efron"): surgery as a
# time-dependent covariate on (start, stop] episodes, robust variance clustered on the patient.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
dir <- file.path("tests", "fixtures", "td_cox")
cases <- fromJSON(file.path(dir, "cases.json"), simplifyVector = FALSE)

out <- list(R = R.version.string, survival = as.character(packageVersion("survival")), cases = list())
for (name in names(cases)) {
  terms <- unlist(cases[[name]]$terms)
  d <- read.csv(file.path(dir, paste0(name, ".csv")), check.names = FALSE)
  f <- as.formula(paste("Surv(start, stop, event) ~", paste(sprintf("`%s`", terms), collapse = " + ")))
  fit <- coxph(f, data = d, cluster = row, ties = "efron")
  s <- summary(fit)
  ci <- s$conf.int
  out$cases[[name]] <- list(
    query = cases[[name]]$query, terms = gsub("`", "", names(coef(fit))),
    coef = unname(coef(fit)), robust_se = unname(sqrt(diag(vcov(fit)))),
    hr = unname(ci[, "exp(coef)"]), lower = unname(ci[, "lower .95"]), upper = unname(ci[, "upper .95"]),
    p = unname(s$coefficients[, "Pr(>|z|)"]), n = fit$n, nevent = fit$nevent,
    n_patients = length(unique(d$row))
  )
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(dir, "reference.json"))
