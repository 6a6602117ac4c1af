# Reference values for the ATT-weighting estimator (core.estimators.att_weighting), used by the
# specification curve (core/speccurve.py).
#
# Run from the repository root:   Rscript tests/r/make_att_fixtures.R
# Input:  tests/fixtures/att/data.json (written by tests/r/export_att_data.py).
# Output: tests/fixtures/att/att.json: per case, the propensity coefficients (brglm2 AS_mean for
#         "firth", glm for "glm"), the ATT weights (1 for the operated, e / (1 - e) for the others) and
#         coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE): coefficient, robust SE, HR,
#         95% CI and p.
# CI has no R: the JSON files are committed together with this script.
suppressPackageStartupMessages({library(survival); library(brglm2); library(jsonlite)})
cases <- fromJSON(file.path("tests", "fixtures", "att", "data.json"))
out <- list(versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                            brglm2 = as.character(packageVersion("brglm2"))))
for (name in names(cases)) {
  cs <- cases[[name]]
  x <- as.data.frame(cs$x, check.names = FALSE)
  d <- data.frame(treated = cs$treated, time = cs$time, event = cs$event, x, check.names = FALSE)
  X <- as.matrix(x)
  if (cs$method == "firth") {
    fit <- glm(d$treated ~ X, family = binomial("logit"), method = "brglmFit", type = "AS_mean",
               control = brglm_control(epsilon = 1e-12, maxit = 1000))
  } else {
    fit <- glm(d$treated ~ X, family = binomial("logit"), control = glm.control(epsilon = 1e-12, maxit = 100))
  }
  e <- fitted(fit)
  w <- ifelse(d$treated == 1, 1, e / (1 - e))
  cx <- coxph(Surv(time, event) ~ treated, data = d, weights = w, robust = TRUE, ties = "efron")
  s <- summary(cx)
  b <- unname(coef(cx)[["treated"]])
  se <- unname(sqrt(diag(cx$var))[1])
  out[[name]] <- list(propensity_coefficients = unname(coef(fit)), weights = unname(w), coef = b, robust_se = se,
                      hr = exp(b), lower = exp(b - qnorm(0.975) * se), upper = exp(b + qnorm(0.975) * se),
                      p = unname(s$coefficients[1, "Pr(>|z|)"]))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE), file.path("tests", "fixtures", "att", "att.json"))
