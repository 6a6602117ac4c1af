# Reference values for the centre analyses: core/estimators.py (centre_model = "strata" / "cluster")
# and core/centre.py (leave-one-centre-out), in tests/test_estimators.py and tests/test_centre.py.
#
# Run from the repository root (R with r-cran-survival, r-cran-matchit, r-cran-jsonlite):
#   PYTHONPATH=. python tests/r/export_centre_data.py && Rscript tests/r/make_centre_fixtures.R
# Input:  tests/fixtures/centre/{matched,replace,td,loco}.csv (numbers as hex floats).
# Output: tests/fixtures/centre/reference.json. CI has no R: the JSON is committed with this script.
#
# Leave-one-centre-out: MatchIt nearest neighbour (1:1, no replacement, no caliper, largest score
# first) given the package's propensity logits as the distance vector (MatchIt 4.5.1 is right
# without a caliper), then coxph(cluster = subclass) on match.data().
suppressPackageStartupMessages({library(survival); library(MatchIt); library(jsonlite)})
dir <- file.path("tests", "fixtures", "centre")
num17 <- function(x) structure(paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", unname(x))),
                                                 collapse = ","), "]"), class = "json")
rd <- function(f) {
  d <- read.csv(file.path(dir, f), colClasses = "character")
  for (c in names(d)) if (all(grepl("^-?0x", d[[c]]) | d[[c]] == "NA")) d[[c]] <- as.numeric(d[[c]])
  for (c in intersect(c("treated", "row", "subclass"), names(d))) d[[c]] <- as.numeric(d[[c]])
  d
}
fit_json <- function(fit, term = "treated") {
  s <- summary(fit)$coefficients
  list(coef = num17(coef(fit)[[term]]), hr = num17(exp(coef(fit)[[term]])),
       se = num17(sqrt(diag(vcov(fit)))[[which(names(coef(fit)) == term)]]),
       naive_se = num17(s[term, "se(coef)"]), n = fit$n, nevent = fit$nevent)
}
out <- list(R = R.version.string, survival = as.character(packageVersion("survival")),
            MatchIt = as.character(packageVersion("MatchIt")), cases = list())

m <- rd("matched.csv")
out$cases$matched_strata <- fit_json(coxph(Surv(time, event) ~ treated + strata(centre), data = m,
                                           cluster = subclass, ties = "efron"))
out$cases$matched_cluster <- fit_json(coxph(Surv(time, event) ~ treated, data = m, cluster = centre,
                                            ties = "efron"))
# A centre with one arm only: the matched sample without the operated patients of C01. R keeps
# the centre's rows (they add nothing); the package leaves them out and must agree.
one <- m[!(m$centre == "C01" & m$treated == 1), ]
out$cases$one_arm_strata <- fit_json(coxph(Surv(time, event) ~ treated + strata(centre), data = one,
                                           cluster = subclass, ties = "efron"))

r <- rd("replace.csv")
out$cases$replace_strata <- fit_json(coxph(Surv(time, event) ~ treated + strata(centre), data = r,
                                           weights = weights, cluster = patient_id, ties = "efron"))
out$cases$replace_cluster <- fit_json(coxph(Surv(time, event) ~ treated, data = r, weights = weights,
                                            cluster = centre, ties = "efron"))

td <- rd("td.csv")
xs <- grep("^x_", names(td), value = TRUE)
rhs <- paste(c("treated", xs), collapse = " + ")
out$cases$td_strata <- fit_json(coxph(as.formula(paste("Surv(start, stop, event) ~", rhs, "+ strata(centre)")),
                                      data = td, cluster = row, ties = "efron"))
out$cases$td_cluster <- fit_json(coxph(as.formula(paste("Surv(start, stop, event) ~", rhs)), data = td,
                                       cluster = centre, ties = "efron"))

lo <- rd("loco.csv")
loco <- list()
for (c in sort(unique(lo$left_out))) {
  d <- lo[lo$left_out == c, ]
  rownames(d) <- NULL
  d$ps_logit <- d$distance
  d$distance <- NULL
  mt <- matchit(treated ~ ps_logit, data = d, method = "nearest", distance = d$ps_logit, ratio = 1,
                replace = FALSE, m.order = "largest")
  md <- match.data(mt)
  f <- fit_json(coxph(Surv(time, event) ~ treated, data = md, cluster = subclass, ties = "efron"))
  f$left_out <- c
  loco[[length(loco) + 1]] <- f
}
out$loco <- loco
writeLines(toJSON(out, json_verbatim = TRUE, auto_unbox = TRUE, null = "null", na = "null", digits = NA),
           file.path(dir, "reference.json"))
