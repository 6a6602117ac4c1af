# Reference values for the operated-patient analyses: core.outcomes.adjuvant_landmark,
# core.outcomes.prognostic_cox (with cut-offs and the Lewis-negative rule) and
# core.pathology.survival_by_pathology.
#
# Run from the repository root:
#   PYTHONPATH=. python tests/r/export_operated_data.py && Rscript tests/r/make_operated_fixtures.R
# Input:  tests/fixtures/operated/cohort.csv (the demo cohort's columns; two operated patients marked Lewis-negative).
# Output: tests/fixtures/operated/reference.json. CI has no R: the JSON is committed together with this script.
# Every selection (landmarks, exclusions, cut-offs, missing values) is written here from the data's own columns,
# independently of the Python code.
suppressPackageStartupMessages({library(survival); library(jsonlite)})
dir <- file.path("tests", "fixtures", "operated")
d <- read.csv(file.path(dir, "cohort.csv"), stringsAsFactors = FALSE, na.strings = c("", "NA"))
lg <- function(x) ifelse(is.na(x), NA, x %in% c("True", "TRUE", TRUE))
for (v in c("adjuvant_chemo", "major_hepatectomy", "ca19_9_response", "lewis_negative")) d[[v]] <- lg(d[[v]])
op <- d[d$treatment_group == "surgery", ]

cox_rows <- function(fit) {
  s <- summary(fit)
  list(terms = rownames(s$coefficients), coef = unname(s$coefficients[, "coef"]),
       se = unname(s$coefficients[, "se(coef)"]), p = unname(s$coefficients[, "Pr(>|z|)"]),
       lower = unname(s$conf.int[, "lower .95"]), upper = unname(s$conf.int[, "upper .95"]),
       n = fit$n, nevent = fit$nevent)
}
km_medians <- function(time, event, group) {
  f <- survfit(Surv(time, event) ~ group, conf.type = "log-log")
  q <- quantile(f, probs = 0.5)
  nm <- sub("^group=", "", names(f$strata))
  list(groups = nm, n = unname(f$n), median = unname(q$quantile[, 1]), lower = unname(q$lower[, 1]),
       upper = unname(q$upper[, 1]))
}

# ------------------------------------------------------------------ adjuvant chemotherapy, post-operative landmark
adjuvant <- list()
for (L in c(1, 3, 6)) {
  t_os <- op$os_months_from_surgery; e_os <- op$os_event; t_rfs <- op$rfs_months; e_rfs <- op$rfs_event
  left <- rep(TRUE, nrow(op))
  excl <- list()
  rule <- function(hit) { hit <- left & !is.na(hit) & hit; left <<- left & !hit; sum(hit) }
  excl$missing <- rule(is.na(t_os) | is.na(e_os) | is.na(t_rfs) | is.na(e_rfs))
  excl$died <- rule(e_os == 1 & t_os <= L)
  excl$recurred <- rule(e_rfs == 1 & t_rfs <= L)
  excl$followed <- rule(t_os <= L)
  excl$scan <- rule(t_rfs <= L)
  excl$adjuvant_missing <- rule(is.na(op$adjuvant_chemo))
  k <- op[left, ]
  for (ep in c("os_from_surgery", "rfs")) {
    tt <- if (ep == "rfs") k$rfs_months - L else k$os_months_from_surgery - L
    ee <- if (ep == "rfs") k$rfs_event else k$os_event
    adj <- as.numeric(k$adjuvant_chemo)
    fit <- coxph(Surv(tt, ee) ~ adj, ties = "efron")
    km <- km_medians(tt, ee, ifelse(adj == 1, "Adjuvant chemotherapy", "No adjuvant chemotherapy"))
    adjuvant[[length(adjuvant) + 1]] <- list(landmark = L, endpoint = ep, excluded = excl, kept = nrow(k),
                                             cox = cox_rows(fit), km = km)
  }
}

# ------------------------------------------------------------------ prognostic Cox models (complete cases)
lewis <- !is.na(op$lewis_negative) & op$lewis_negative
ca <- ifelse(lewis, NA, op$ca19_9_baseline)
resp <- ifelse(lewis, NA, op$ca19_9_response)
m <- data.frame(
  time = op$os_months_from_surgery, event = op$os_event,
  age_per_10_years = op$age_at_diagnosis / 10,
  ecog_baseline = factor(ifelse(op$ecog_baseline >= 2, ">=2", as.character(op$ecog_baseline)), levels = c("0", "1", ">=2")),
  mets_group = factor(op$mets_group, levels = c("1", "2-3", ">3")),
  chemo_regimen = factor(op$chemo_regimen,
                         levels = c("FOLFIRINOX", "mFOLFIRINOX", "GEM_NABPAC", "GEM", "NALIRIFOX", "GEMCAP", "OTHER")),
  major_hepatectomy = as.numeric(op$major_hepatectomy),
  margin_not_r0 = ifelse(is.na(op$resection_margin), NA, as.numeric(op$resection_margin != "R0")),
  ca19_9_response = as.numeric(resp),
  ca19_9_baseline_at_least_100 = ifelse(is.na(ca), NA, as.numeric(ca >= 100)),
  ca19_9_baseline_log2 = log2(pmax(ca, 1)),
  tumour_size_mm_at_least_30 = ifelse(is.na(op$tumour_size_mm), NA, as.numeric(op$tumour_size_mm >= 30)),
  liver_mets_viable = ifelse(op$liver_mets_viable %in% "yes", 1, ifelse(op$liver_mets_viable %in% "no", 0, NA)),
  yp_n = factor(ifelse(op$yp_n %in% "NX", NA, op$yp_n), levels = c("N0", "N1", "N2"))
)
models <- list(
  default = c("age_per_10_years", "ecog_baseline", "mets_group", "chemo_regimen", "major_hepatectomy",
              "margin_not_r0", "ca19_9_response"),
  cutoffs = c("age_per_10_years", "ca19_9_baseline_at_least_100", "tumour_size_mm_at_least_30",
              "liver_mets_viable", "yp_n"),
  continuous_ca = c("ca19_9_baseline_log2", "margin_not_r0")
)
prognostic <- list()
for (nm in names(models)) {
  covs <- models[[nm]]
  cc <- m[complete.cases(m[, c("time", "event", covs)]), c("time", "event", covs)]
  cc <- droplevels(cc)
  fit <- coxph(as.formula(paste("Surv(time, event) ~", paste(covs, collapse = " + "))), data = cc, ties = "efron")
  missing <- sapply(covs, function(v) sum(is.na(m[[v]])))
  prognostic[[nm]] <- c(cox_rows(fit), list(dropped = nrow(m) - nrow(cc), missing = as.list(missing),
                                            lewis_missing = sum(lewis)))
}

# ------------------------------------------------------------------ OS by pathology from the 6-month landmark
L <- 6
alive <- d$os_months_from_chemo_start > L
resected <- d$treatment_group == "surgery" & !is.na(d$months_chemo_start_to_surgery) & d$months_chemo_start_to_surgery <= L
grp <- ifelse(!resected, "Not resected by the landmark",
              ifelse(d$liver_mets_viable %in% "no", "Resected, ypM0 (no viable tumour in the liver metastases)",
                     ifelse(d$liver_mets_viable %in% "yes", "Resected, ypM1 (viable tumour in the liver metastases)", NA)))
keep <- alive & !is.na(grp)
pathology <- list(landmark = L, died_before = sum(!alive), unknown_ypm = sum(alive & is.na(grp)),
                  operated_later = sum(alive & d$treatment_group == "surgery" & !resected),
                  km = km_medians(d$os_months_from_chemo_start[keep] - L, d$os_event[keep], grp[keep]))

out <- list(r_version = R.version.string, survival_version = as.character(packageVersion("survival")),
            adjuvant = adjuvant, prognostic = prognostic, pathology = pathology)
writeLines(toJSON(out, digits = NA, na = "null", auto_unbox = TRUE, pretty = FALSE), file.path(dir, "reference.json"))
