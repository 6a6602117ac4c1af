# Reference values for core/ccw.py: clone-censor-weight (target-trial emulation with a grace period).
#
# Follows the published R code of the tutorial, step by step: Maringe C, Benitez Majano S, Exarchakou A,
# et al. "Reflection on modern methods: trial emulation in the presence of immortal-time bias. Assessing the
# benefit of major surgery for elderly lung cancer patients using observational data." Int J Epidemiol
# 2020;49(5):1719-1729 (supplementary R code by C. Leyrat): (1) clone every patient into both arms,
# (2) give each clone its outcome, follow-up and censoring (deviation) indicator, (3) split the clones at
# every follow-up time with survSplit, once for the outcome and once for the censoring, (4) fit a Cox model
# of censoring on the baseline covariates per arm, take basehaz(centered = FALSE), merge it on Tstart and
# weight each interval by 1 / exp(-H0(Tstart) * exp(lp)), (5) weighted Kaplan-Meier per arm. Added here:
# the weighted Cox model of the arm with a robust SE clustered on the patient, and RMST.
#
# Two departures from the tutorial, both as core/ccw.py: the control strategy is "do not resect" (a clone is
# censored on the day of surgery whenever it comes, not only within the grace period), and time is in months
# from chemotherapy start. The tutorial's rule for death before the end of the grace period without surgery
# is kept: such a patient is not censored in the surgery arm (the death counts in both arms).
#
# Run from the repository root:   Rscript tests/r/make_ccw_fixtures.R
# Input:  tests/fixtures/ccw/demo.csv (written by tests/r/export_ccw_data.py).
# Output: tests/fixtures/ccw/ccw.json. CI has no R: the JSON file is committed together with this script.
suppressPackageStartupMessages({library(survival); library(jsonlite)})

d <- read.csv(file.path("tests", "fixtures", "ccw", "demo.csv"))
all_x <- grep("^x_", names(d), value = TRUE)
horizons <- c(12, 24, 36)

ccw_case <- function(d, G, xcols) {
  operated <- !is.na(d$surgery) & d$surgery < d$time
  # Step 1 and 2: clones, outcome, follow-up and censoring per arm
  surg <- d; surg$arm <- 1
  on_time <- operated & d$surgery <= G
  deviates <- !on_time & d$time > G
  surg$outcome <- ifelse(deviates, 0, d$event)
  surg$fup <- ifelse(deviates, G, d$time)
  surg$censoring <- as.integer(deviates)
  ctrl <- d; ctrl$arm <- 0
  ctrl$outcome <- ifelse(operated, 0, d$event)
  ctrl$fup <- ifelse(operated, d$surgery, d$time)
  ctrl$censoring <- as.integer(operated)
  # Step 3: split at every follow-up time of the clones
  t_events <- sort(unique(c(surg$fup, ctrl$fup)))
  split <- function(x) {
    by_outcome <- survSplit(x, cut = t_events, end = "fup", start = "Tstart", event = "outcome", id = "ID")
    by_censoring <- survSplit(x, cut = t_events, end = "fup", start = "Tstart", event = "censoring", id = "ID")
    stopifnot(identical(by_outcome$ID, by_censoring$ID), identical(by_outcome$fup, by_censoring$fup))
    by_outcome$censoring <- by_censoring$censoring
    by_outcome$Tstop <- by_outcome$fup
    by_outcome
  }
  # Step 4: censoring model and weights
  weigh <- function(s) {
    if (sum(s$censoring) == 0) {
      s$weight_Cox <- 1
      return(list(data = s, coef = list(), basehaz = list(time = numeric(0), hazard = numeric(0))))
    }
    rhs <- if (length(xcols)) paste(xcols, collapse = " + ") else "1"
    m <- coxph(as.formula(paste("Surv(Tstart, Tstop, censoring) ~", rhs)), data = s, ties = "efron")
    lp <- if (length(xcols)) as.vector(as.matrix(s[, xcols, drop = FALSE]) %*% coef(m)) else rep(0, nrow(s))
    bh <- basehaz(m, centered = FALSE)
    hz <- bh$hazard[match(s$Tstart, bh$time)]
    hz[is.na(hz)] <- 0
    s$P_uncens <- exp(-hz * exp(lp))
    s$weight_Cox <- 1 / s$P_uncens
    jumps <- bh$time %in% s$Tstop[s$censoring == 1]
    list(data = s, coef = as.list(coef(m)), basehaz = list(time = bh$time[jumps], hazard = bh$hazard[jumps]))
  }
  ws <- weigh(split(surg)); wc <- weigh(split(ctrl))
  # Step 5: weighted Kaplan-Meier per arm, survival and RMST at the horizons
  km <- function(s) {
    f <- survfit(Surv(Tstart, Tstop, outcome) ~ 1, data = s, weights = weight_Cox)
    ev <- f$n.event > 0
    last <- max(s$Tstop)
    at <- function(h) if (h > last) NA else { i <- findInterval(h, f$time); if (i == 0) 1 else f$surv[i] }
    rmst <- function(tau) {
      if (tau > last) return(NA)
      x <- c(0, f$time[f$time < tau]); y <- c(1, f$surv[f$time < tau])
      sum(diff(c(x, tau)) * y)
    }
    list(time = f$time[ev], n_risk = f$n.risk[ev], n_event = f$n.event[ev], survival = f$surv[ev],
         at = sapply(horizons, at), rmst = sapply(horizons, rmst))
  }
  k1 <- km(ws$data); k0 <- km(wc$data)
  both <- rbind(ws$data[, c("id", "arm", "Tstart", "Tstop", "outcome", "weight_Cox")],
                wc$data[, c("id", "arm", "Tstart", "Tstop", "outcome", "weight_Cox")])
  cx <- coxph(Surv(Tstart, Tstop, outcome) ~ arm, data = both, weights = weight_Cox, cluster = id, ties = "efron")
  list(grace = G, covariates = sub("^x_", "", xcols),
       censoring = list(resect = list(coef = setNames(ws$coef, sub("^x_", "", names(ws$coef))), basehaz = ws$basehaz),
                        no_resect = list(coef = setNames(wc$coef, sub("^x_", "", names(wc$coef))), basehaz = wc$basehaz)),
       km = list(resect = k1, no_resect = k0),
       cox = list(coef = unname(coef(cx)), robust_se = unname(sqrt(diag(cx$var))), naive_se = unname(sqrt(diag(cx$naive.var)))),
       split_rows = nrow(both))
}

cases <- list(
  grace9 = ccw_case(d, 9, all_x),
  grace5 = ccw_case(d, 5, all_x),
  grace5_time_only = ccw_case(d, 5, character(0)),
  grace6_age_ecog = ccw_case(d, 6, c("x_age_at_diagnosis", "x_ecog_baseline"))
)
out <- list(r_version = R.version.string, survival = as.character(packageVersion("survival")), cases = cases)
writeLines(toJSON(out, digits = NA, na = "null", auto_unbox = TRUE, pretty = FALSE),
           file.path("tests", "fixtures", "ccw", "ccw.json"))
