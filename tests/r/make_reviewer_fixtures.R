# Reference values for the reviewer's checks: core/ph.py (survival::cox.zph and plot.cox.zph) and
# core/pooling.py (mice::pool, mice::pool.scalar).
#
# Run from the repository root:   Rscript tests/r/make_reviewer_fixtures.R
# Input:  tests/fixtures/survival/datasets.json (the data sets of make_survival_fixtures.R).
# Output: tests/fixtures/ph/zph.json and tests/fixtures/pooling/pool.json.
# CI has no R: the JSON files are committed together with this script.
suppressPackageStartupMessages({library(survival); library(mice); library(jsonlite)})
wj <- function(x, dir, f) {
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  writeLines(toJSON(x, digits = NA, na = "null", auto_unbox = TRUE, pretty = FALSE), file.path(dir, f))
}
ds <- fromJSON(file.path("tests", "fixtures", "survival", "datasets.json"))
ds <- lapply(ds, as.data.frame)

# ------------------------------------------------------------------------- cox.zph
# Counting-process data: the immortal-time data split at surgery exactly as make_survival_fixtures.R.
imm <- ds$immortal
b <- imm[, c("id", "time", "event", "age", "centre", "wt", "site")]
cp <- tmerge(b, b, id = id, death = event(time, event))
op <- imm[!is.na(imm$surg), c("id", "surg")]
cp <- tmerge(cp, op, id = id, surgery = tdc(surg))
cp <- data.frame(id = cp$id, start = cp$tstart, stop = cp$tstop, event = cp$death, surgery = cp$surgery,
                 age = cp$age, centre = cp$centre, wt = cp$wt, site = cp$site)

# A covariate that is constant within one stratum (R marks its residuals NA there), and a factor
# with a level missing from one stratum.
set.seed(20261201)
nc <- 160
cs <- data.frame(s = rep(c("A", "B"), each = nc / 2), x = rnorm(nc), z = 0, f = "p")
cs$z[cs$s == "A"] <- rbinom(nc / 2, 1, 0.5)
cs$f[cs$s == "A"] <- sample(c("p", "q", "r"), nc / 2, replace = TRUE)
cs$f[cs$s == "B"] <- sample(c("p", "q"), nc / 2, replace = TRUE)
tt <- rexp(nc, 0.1 * exp(0.5 * cs$x + 0.4 * cs$z + 0.3 * (cs$f == "q")))
cc <- runif(nc, 2, 20)
cs$time <- round(pmin(tt, cc), 1)
cs$event <- as.integer(tt <= cc)
datasets <- c(ds, list(cp = cp, cstrat = cs))

# The smooth, band and axis labels that plot.cox.zph (survival 3.5.3) draws, copied from its source
# (this version has no plot = FALSE): ns(df = 4, intercept = TRUE) least squares, +/- 2 se.
zph_curve <- function(x, i, df = 4, nsmo = 40) {
  xx <- x$x
  yy <- x$y
  pred.x <- seq(from = min(xx), to = max(xx), length = nsmo)
  temp <- c(pred.x, xx)
  lmat <- splines::ns(temp, df = df, intercept = TRUE)
  pmat <- lmat[1:nsmo, ]
  xmat <- lmat[-(1:nsmo), ]
  ticks <- NULL
  if (x$transform != "identity" && x$transform != "log") {
    xtime <- x$time
    indx <- !duplicated(xx)
    apr1 <- approx(xx[indx], xtime[indx], seq(min(xx), max(xx), length = 17)[2 * (1:8)])
    temp <- signif(apr1$y, 2)
    apr2 <- approx(xtime[indx], xx[indx], temp)
    ticks <- list(x = apr2$y, label = vapply(temp, format, ""))
  }
  y <- yy[, i]
  keep <- !is.na(y)
  if (!all(keep)) y <- y[keep]
  qmat <- qr(xmat[keep, ])
  if (qmat$rank < df) return(list(singular = TRUE, ticks = ticks))
  yhat <- pmat %*% qr.coef(qmat, y)
  bk <- backsolve(qmat$qr[1:df, 1:df], diag(df))
  xtx <- bk %*% t(bk)
  seval <- ((pmat %*% xtx) * pmat) %*% rep(1, df)
  temp <- 2 * sqrt(x$var[i, i] * seval)
  list(x = pred.x, fit = as.vector(yhat), upper = as.vector(yhat + temp), lower = as.vector(yhat - temp),
       ticks = ticks)
}

zph_case <- function(name, dsn, covariates, cluster = NULL, weights = NULL, strata = NULL,
                     transform = "km", terms = TRUE, counting = FALSE) {
  d <- datasets[[dsn]]
  rhs <- paste(covariates, collapse = " + ")
  if (!is.null(strata)) rhs <- paste0(rhs, " + strata(", strata, ")")
  lhs <- if (counting) "Surv(start, stop, event)" else "Surv(time, event)"
  args <- list(formula = as.formula(paste(lhs, "~", rhs)), data = d, ties = "efron")
  if (!is.null(weights)) args$weights <- d[[weights]]
  if (!is.null(cluster)) args$cluster <- d[[cluster]]
  fit <- do.call(coxph, args)
  z <- cox.zph(fit, transform = transform, terms = terms)
  curves <- list()
  if (transform != "log") {
    for (i in seq_len(ncol(z$y))) curves[[colnames(z$y)[i]]] <- zph_curve(z, i)
  }
  list(name = name, dataset = dsn, covariates = covariates, cluster = cluster, weights = weights,
       strata = strata, transform = transform, terms = terms, counting = counting,
       coef = unname(coef(fit)), table = list(term = rownames(z$table), chisq = unname(z$table[, "chisq"]),
                                               df = unname(z$table[, "df"]), p = unname(z$table[, "p"])),
       x = z$x, time = z$time, strata_of_event = if (is.null(z$strata)) NULL else as.character(z$strata),
       y = lapply(seq_len(ncol(z$y)), function(i) unname(z$y[, i])), y_terms = colnames(z$y),
       var = unname(z$var), curves = curves)
}
zph <- list(
  zph_case("lung_sex_age", "lung", c("sex", "age")),
  zph_case("lung_sex_age_rank", "lung", c("sex", "age"), transform = "rank"),
  zph_case("lung_sex_age_identity", "lung", c("sex", "age"), transform = "identity"),
  zph_case("lung_sex_age_log", "lung", c("sex", "age"), transform = "log"),
  zph_case("lung_sex_age_ecog_cl_inst", "lung", c("sex", "age", "ecog"), cluster = "inst"),
  zph_case("lung_sex_age_strata_ecog", "lung", c("sex", "age"), strata = "ecog"),
  zph_case("lung_sex_age_strata_ecog_cl_inst", "lung", c("sex", "age"), strata = "ecog", cluster = "inst"),
  zph_case("veteran_trt_celltype_karno", "veteran", c("trt", "celltype", "karno")),
  zph_case("veteran_trt_celltype_karno_columns", "veteran", c("trt", "celltype", "karno"), terms = FALSE),
  zph_case("ovarian_rx_age_cl_resid", "ovarian", c("rx", "age"), cluster = "resid"),
  zph_case("pairs_treat_cl", "pairs", c("treat"), cluster = "pair"),
  zph_case("pairs_treat_age_cl", "pairs", c("treat", "age"), cluster = "pair"),
  zph_case("pairs_treat_strata_pair", "pairs", c("treat"), strata = "pair"),
  zph_case("kw_treat_w_cl", "kw", c("treat"), cluster = "subclass", weights = "w"),
  zph_case("kw_treat_ecog_w_cl", "kw", c("treat", "ecog"), cluster = "subclass", weights = "w"),
  zph_case("kw_treat_grp_w", "kw", c("treat", "grp"), weights = "w"),
  zph_case("cstrat_x_z_f_strata_s", "cstrat", c("x", "z", "f"), strata = "s"),
  zph_case("tv_surgery_age_cl_id", "cp", c("surgery", "age"), cluster = "id", counting = TRUE),
  zph_case("tv_surgery_cl_centre", "cp", c("surgery"), cluster = "centre", counting = TRUE),
  zph_case("tv_surgery_age_strata_site_w_cl_id", "cp", c("surgery", "age"), strata = "site", weights = "wt",
           cluster = "id", counting = TRUE),
  zph_case("tv_surgery_age_rank", "cp", c("surgery", "age"), transform = "rank", counting = TRUE)
)
wj(list(R = R.version.string, survival = as.character(packageVersion("survival")),
        extra_datasets = list(cp = as.list(cp), cstrat = as.list(cs)), cases = zph),
   file.path("tests", "fixtures", "ph"), "zph.json")

# ------------------------------------------------------------------------- mice::pool
se_used <- function(fit) {       # what mice::pool uses: robust.se when tidy() gives it
  td <- broom::tidy(fit)
  list(term = td$term, estimate = td$estimate, se = if ("robust.se" %in% names(td)) td$robust.se else td$std.error)
}
pool_case <- function(name, fit, dfcom = NULL) {
  pooled <- pool(fit, dfcom = dfcom)
  s <- summary(pooled, type = "all", conf.int = TRUE, conf.level = 0.95)
  s90 <- summary(pooled, type = "all", conf.int = TRUE, conf.level = 0.90)
  per <- lapply(fit$analyses, se_used)
  list(name = name, m = length(fit$analyses), dfcom = unname(pooled$pooled$dfcom[1]),
       terms = per[[1]]$term,
       estimates = lapply(per, function(p) p$estimate), se = lapply(per, function(p) p$se),
       pooled = list(term = as.character(s$term), estimate = s$estimate, std_error = s$std.error,
                     statistic = s$statistic, df = s$df, p = s$p.value, lower = s[["2.5 %"]],
                     upper = s[["97.5 %"]], riv = s$riv, lambda = s$lambda, fmi = s$fmi, ubar = s$ubar,
                     b = s$b, t = s$t, lower90 = s90[["5 %"]], upper90 = s90[["95 %"]]))
}
imp1 <- mice(nhanes, m = 5, seed = 123, printFlag = FALSE)
imp2 <- mice(nhanes2, m = 7, seed = 2024, printFlag = FALSE)
lungm <- survival::lung[, c("time", "status", "age", "sex", "ph.ecog", "ph.karno", "wt.loss", "meal.cal")]
lungm$status <- lungm$status - 1L
imp3 <- mice(lungm, m = 6, seed = 77, printFlag = FALSE)
fit_cox <- with(imp3, coxph(Surv(time, status) ~ age + sex + ph.karno + wt.loss))
fit_cox_robust <- with(imp3, coxph(Surv(time, status) ~ age + sex + ph.karno, robust = TRUE))
pool_cases <- list(
  pool_case("nhanes_lm_bmi_age_chl", with(imp1, lm(bmi ~ age + chl))),
  pool_case("nhanes2_lm_chl_agefactor_bmi", with(imp2, lm(chl ~ age + bmi))),
  pool_case("nhanes2_lm_dfcom_large", with(imp2, lm(chl ~ age + bmi)), dfcom = 1e6),
  pool_case("lung_cox", fit_cox),
  pool_case("lung_cox_robust", fit_cox_robust)
)
completed <- lapply(seq_len(imp3$m), function(i) as.list(complete(imp3, i)))

set.seed(99)
scalar_case <- function(Q, U, n, k) {
  r <- pool.scalar(Q, U, n = n, k = k)
  list(Q = Q, U = U, n = n, k = k, qbar = r$qbar, ubar = r$ubar, b = r$b, t = r$t, df = r$df, r = r$r,
       fmi = r$fmi)
}
scalar <- list(
  scalar_case(rnorm(5, 0.3, 0.1), runif(5, 0.01, 0.03), 90, 3),
  scalar_case(rnorm(20, -0.4, 0.05), runif(20, 0.04, 0.05), 60, 1),
  scalar_case(rnorm(3, 1, 0.5), runif(3, 0.001, 0.002), 30, 5),
  scalar_case(c(0.2, 0.2, 0.2, 0.2), c(0.01, 0.02, 0.03, 0.04), 50, 2),   # b = 0: lambda floored in df
  scalar_case(rnorm(10, 0, 1), runif(10, 0.5, 1), Inf, 1)
)
wj(list(R = R.version.string, mice = as.character(packageVersion("mice")), cases = pool_cases,
        lung_cox_completed = completed, lung_cox_formula = c("age", "sex", "ph.karno", "wt.loss"),
        scalar = scalar),
   file.path("tests", "fixtures", "pooling"), "pool.json")
cat("fixtures written to tests/fixtures/ph and tests/fixtures/pooling\n")
