# Reference values for core/survival.py, computed with R's `survival` package.
#
# Run from the repository root:   Rscript tests/r/make_survival_fixtures.R
# Writes tests/fixtures/survival/{datasets,km,logrank,cox,coxtv}.json (inputs and outputs).
# CI has no R: the JSON files are committed together with this script.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
out_dir <- file.path("tests", "fixtures", "survival")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
wj <- function(x, f) writeLines(toJSON(x, digits = NA, na = "null", auto_unbox = TRUE, pretty = FALSE),
                                file.path(out_dir, f))

# ---------------------------------------------------------------- datasets
lung2 <- data.frame(time = lung$time, event = as.integer(lung$status == 2), sex = lung$sex,
                    age = lung$age, ecog = lung$ph.ecog, inst = lung$inst)
lung2 <- lung2[complete.cases(lung2), ]
vet <- data.frame(time = veteran$time, event = veteran$status, trt = veteran$trt,
                  celltype = as.character(veteran$celltype), karno = veteran$karno, age = veteran$age)
ova <- data.frame(time = ovarian$futime, event = ovarian$fustat, rx = ovarian$rx, age = ovarian$age,
                  resid = ovarian$resid.ds)

set.seed(20261126)
# Matched pairs (1:1) with heavily tied integer times (months), clusters = pairs.
np <- 150
pairs <- data.frame(pair = rep(1:np, each = 2), treat = rep(c(1, 0), np))
pairs$age <- round(rnorm(2 * np, 64, 9))
lp <- log(0.7) * pairs$treat + 0.02 * (pairs$age - 64)
tt <- rexp(2 * np, 0.08 * exp(lp))
cc <- runif(2 * np, 2, 30)
pairs$time <- pmax(1, ceiling(pmin(tt, cc)))
pairs$event <- as.integer(tt <= cc)

# k:1 matching with replacement: case weights, clusters = subclasses, a three-level group.
nk <- 240
kw <- data.frame(subclass = sample(1:70, nk, replace = TRUE), treat = rbinom(nk, 1, 0.4))
kw$w <- ifelse(kw$treat == 1, 1, sample(c(0.5, 1 / 3, 1, 2), nk, replace = TRUE))
kw$grp <- sample(c("a", "b", "c"), nk, replace = TRUE)
kw$ecog <- sample(0:2, nk, replace = TRUE, prob = c(.45, .45, .1))
tt <- rexp(nk, 0.1 * exp(-0.4 * kw$treat + 0.3 * kw$ecog))
cc <- runif(nk, 1, 25)
kw$time <- round(pmin(tt, cc) * 2) / 2 + 0.5
kw$event <- as.integer(tt <= cc)

# Small hand cases: exact 0.5 plateau (midpoint median rule), curve reaching zero, no events.
tiny1 <- data.frame(time = c(1, 2, 3, 4), event = c(1, 1, 1, 1))
tiny2 <- data.frame(time = c(2, 2, 3, 5, 5, 6, 8, 8, 9, 12), event = c(1, 0, 1, 1, 1, 0, 1, 1, 0, 1))
tiny3 <- data.frame(time = c(1, 2, 2, 3, 6, 6, 7, 10), event = c(0, 1, 1, 0, 1, 0, 0, 0))

# Immortal time: time to death/censoring and time to surgery (NA = not operated).
ns <- 300
imm <- data.frame(id = 1:ns, age = round(rnorm(ns, 64, 9)))
imm$surg <- ifelse(runif(ns) < 0.4, round(runif(ns, 1, 9), 1), NA)
base <- rexp(ns, 0.07 * exp(0.02 * (imm$age - 64)))
after <- !is.na(imm$surg) & base > imm$surg
base[after] <- imm$surg[after] + (base[after] - imm$surg[after]) / 0.7
cens <- runif(ns, 6, 40)
imm$time <- round(pmin(base, cens), 1)
imm$event <- as.integer(base <= cens)
imm$surg[c(3, 8)] <- 0                 # operated at time zero
imm$surg[c(5)] <- imm$time[5]          # operated on the day of the event: no exposure
imm$centre <- sample(1:8, ns, replace = TRUE)
imm$wt <- sample(c(0.5, 1, 1.5), ns, replace = TRUE)
imm$site <- ifelse(imm$centre <= 4, "north", "south")

datasets <- list(lung = lung2, veteran = vet, ovarian = ova, pairs = pairs, kw = kw,
                 tiny1 = tiny1, tiny2 = tiny2, tiny3 = tiny3, immortal = imm)
wj(lapply(datasets, as.list), "datasets.json")

# ---------------------------------------------------------------- Kaplan-Meier
km_case <- function(name, ds, subset = NULL, weights = NULL, conf.type = "log", conf.int = 0.95,
                    tau = NULL, at = NULL) {
  d <- datasets[[ds]]
  if (!is.null(subset)) d <- d[eval(parse(text = subset), d), ]
  w <- if (is.null(weights)) rep(1, nrow(d)) else d[[weights]]
  fit <- survfit(Surv(time, event) ~ 1, data = d, weights = w, conf.type = conf.type, conf.int = conf.int)
  if (is.null(tau)) tau <- max(d$time) * 0.8
  sm <- survival:::survmean(fit, rmean = tau)$matrix
  q <- quantile(fit, probs = 0.5)
  if (is.null(at)) at <- c(0, round(quantile(d$time, c(.1, .25, .5, .75, .9))), max(d$time), max(d$time) + 5)
  s <- summary(fit, times = at, extend = TRUE)
  list(name = name, dataset = ds, subset = subset, weights = weights, conf_type = conf.type,
       conf_level = conf.int,
       table = list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, n_censor = fit$n.censor,
                    survival = fit$surv, std_err = fit$std.err, lower = fit$lower, upper = fit$upper),
       print = list(median = unname(sm["median"]), lower = unname(sm[8]), upper = unname(sm[9]),
                    rmean = unname(sm["rmean"]), rmean_se = unname(sm["se(rmean)"]), tau = tau),
       quantile = list(median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper)),
       at = list(times = at, time = s$time, n_risk = s$n.risk, survival = s$surv, std_err = s$std.err,
                 lower = s$lower, upper = s$upper))
}
km <- list()
for (ct in c("log", "log-log", "plain")) {
  km[[length(km) + 1]] <- km_case(paste0("lung_", ct), "lung", conf.type = ct)
  km[[length(km) + 1]] <- km_case(paste0("veteran_", ct), "veteran", conf.type = ct, tau = 400)
  km[[length(km) + 1]] <- km_case(paste0("ovarian_", ct), "ovarian", conf.type = ct, tau = 1000)
  km[[length(km) + 1]] <- km_case(paste0("pairs_treated_", ct), "pairs", subset = "treat == 1", conf.type = ct)
  km[[length(km) + 1]] <- km_case(paste0("kw_control_weighted_", ct), "kw", subset = "treat == 0",
                                  weights = "w", conf.type = ct, tau = 12)
  km[[length(km) + 1]] <- km_case(paste0("tiny1_", ct), "tiny1", conf.type = ct, tau = 4, at = c(0, 2, 2.5, 4, 6))
  km[[length(km) + 1]] <- km_case(paste0("tiny2_", ct), "tiny2", conf.type = ct, tau = 10)
  km[[length(km) + 1]] <- km_case(paste0("tiny3_", ct), "tiny3", conf.type = ct, tau = 8)
}
km[[length(km) + 1]] <- km_case("lung_loglog_90", "lung", conf.type = "log-log", conf.int = 0.9, tau = 365)
km[[length(km) + 1]] <- km_case("lung_female_log", "lung", subset = "sex == 2", conf.type = "log", tau = 500)
wj(km, "km.json")

# ---------------------------------------------------------------- log-rank
lr_case <- function(name, ds, group) {
  d <- datasets[[ds]]
  fit <- survdiff(as.formula(paste("Surv(time, event) ~", group)), data = d)
  list(name = name, dataset = ds, group = group, groups = sub(".*=", "", names(fit$n)),
       n = unname(as.numeric(fit$n)), observed = fit$obs, expected = fit$exp, var = fit$var,
       chi2 = fit$chisq, df = length(fit$n) - 1,
       p = pchisq(fit$chisq, length(fit$n) - 1, lower.tail = FALSE))
}
logrank <- list(lr_case("lung_sex", "lung", "sex"), lr_case("lung_ecog", "lung", "ecog"),
                lr_case("veteran_trt", "veteran", "trt"), lr_case("veteran_celltype", "veteran", "celltype"),
                lr_case("ovarian_rx", "ovarian", "rx"), lr_case("pairs_treat", "pairs", "treat"),
                lr_case("kw_grp", "kw", "grp"))
wj(logrank, "logrank.json")

# ---------------------------------------------------------------- Cox
cox_case <- function(name, ds, covariates, cluster = NULL, weights = NULL, strata = NULL) {
  d <- datasets[[ds]]
  rhs <- paste(covariates, collapse = " + ")
  if (!is.null(strata)) rhs <- paste0(rhs, " + strata(", strata, ")")
  f <- as.formula(paste("Surv(time, event) ~", rhs))
  args <- list(formula = f, data = d, ties = "efron")
  if (!is.null(weights)) args$weights <- d[[weights]]
  if (!is.null(cluster)) args$cluster <- d[[cluster]]
  fit <- do.call(coxph, args)
  s <- summary(fit)$coefficients
  robust <- !is.null(fit$naive.var)
  list(name = name, dataset = ds, covariates = covariates, cluster = cluster, weights = weights,
       strata = strata, terms = names(coef(fit)), coef = unname(coef(fit)),
       se = unname(sqrt(diag(fit$var))),
       naive_se = if (robust) unname(sqrt(diag(fit$naive.var))) else unname(sqrt(diag(fit$var))),
       robust = robust, p = unname(s[, ncol(s)]), loglik = fit$loglik, n = fit$n, nevent = fit$nevent,
       iter = fit$iter)
}
cox <- list(
  cox_case("lung_sex_age", "lung", c("sex", "age")),
  cox_case("lung_sex_age_ecog_cl_inst", "lung", c("sex", "age", "ecog"), cluster = "inst"),
  cox_case("lung_sex_strata_ecog", "lung", c("sex", "age"), strata = "ecog"),
  cox_case("lung_sex_strata_ecog_cl_inst", "lung", c("sex", "age"), strata = "ecog", cluster = "inst"),
  cox_case("veteran_trt_celltype", "veteran", c("trt", "celltype", "karno")),
  cox_case("ovarian_rx_age", "ovarian", c("rx", "age"), cluster = "resid"),
  cox_case("pairs_treat_cl", "pairs", c("treat"), cluster = "pair"),
  cox_case("pairs_treat_age_cl", "pairs", c("treat", "age"), cluster = "pair"),
  cox_case("pairs_treat_strata", "pairs", c("treat"), strata = "pair"),
  cox_case("kw_treat_w_cl", "kw", c("treat"), cluster = "subclass", weights = "w"),
  cox_case("kw_treat_ecog_w_cl", "kw", c("treat", "ecog"), cluster = "subclass", weights = "w"),
  cox_case("kw_treat_grp_w", "kw", c("treat", "grp"), weights = "w")
)
wj(cox, "cox.json")

# ---------------------------------------------------------------- time-dependent Cox (immortal time)
b <- imm[, c("id", "time", "event", "age", "centre", "wt", "site")]
cp <- tmerge(b, b, id = id, death = event(time, event))
op <- imm[!is.na(imm$surg), c("id", "surg")]
cp <- tmerge(cp, op, id = id, surgery = tdc(surg))
fit_tv <- coxph(Surv(tstart, tstop, death) ~ surgery + age, data = cp, cluster = id)
fit_tv2 <- coxph(Surv(tstart, tstop, death) ~ surgery, data = cp, cluster = centre)
fit_tv3 <- coxph(Surv(tstart, tstop, death) ~ surgery + age + strata(site), data = cp, weights = wt, cluster = id)
fit_naive <- coxph(Surv(time, event) ~ I(as.integer(!is.na(surg))) + age, data = imm)
tvres <- function(fit) list(terms = names(coef(fit)), coef = unname(coef(fit)),
                            se = unname(sqrt(diag(fit$var))), naive_se = unname(sqrt(diag(fit$naive.var))),
                            loglik = fit$loglik, n = fit$n, nevent = fit$nevent)
wj(list(split = list(id = cp$id, start = cp$tstart, stop = cp$tstop, event = cp$death, surgery = cp$surgery),
        tv_surgery_age_cl_id = tvres(fit_tv), tv_surgery_cl_centre = tvres(fit_tv2),
        tv_surgery_age_strata_site_w_cl_id = tvres(fit_tv3),
        naive = list(coef = unname(coef(fit_naive)), se = unname(sqrt(diag(fit_naive$var))))),
   "coxtv.json")
cat("fixtures written to", out_dir, "\n")
