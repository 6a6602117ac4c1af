# Reference propensity models and matched sets for tests/test_propensity.py, tests/test_design.py
# and tests/test_matching.py (tests/fixtures/propensity/*.json).
#
# Needs R (4.2, Debian) with r-cran-brglm2 and r-cran-jsonlite, and MatchIt 4.7.2 built from
# source into a private library (Debian's MatchIt is 4.5.1, which mishandles calipers):
#   git -C <MatchIt mirror> archive 813c88f | tar -x -C /tmp/matchit472   # Version: 4.7.2
#   R CMD INSTALL -l /tmp/rlib4.7.2 <rlang 1.1.4 source> <chk 0.10.0 source> /tmp/matchit472
# (MatchIt 4.7.2 imports chk >= 0.10.0 and rlang >= 1.1.0, newer than Debian's; they were
# built from their GitHub tags v0.10.0 and v1.1.4 into the same library.) Then, from the
# repository root:
#   PYTHONPATH=. python tests/r/export_propensity_data.py
#   cd tests/fixtures/propensity && R_LIBS=/tmp/rlib4.7.2 Rscript ../../r/make_propensity_fixtures.R
#
# Numbers are written with 17 significant digits (jsonlite's digits = NA keeps only 15), so
# the JSON holds R's doubles exactly.
suppressMessages({
  library(jsonlite)
  library(brglm2)
  library(MatchIt)
})
stopifnot(packageVersion("MatchIt") == "4.7.2")

num17 <- function(x) {
  x <- unname(as.numeric(x))
  structure(paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", x)), collapse = ","), "]"),
            class = "json")
}
write_case <- function(x, file) {
  writeLines(toJSON(x, json_verbatim = TRUE, auto_unbox = TRUE, null = "null", na = "null", digits = NA), file)
}
versions <- list(R = R.version.string, brglm2 = as.character(packageVersion("brglm2")),
                 MatchIt = as.character(packageVersion("MatchIt")))

# ---------------------------------------------------------------------------------------------
# Firth (brglm2, AS_mean) and glm fits
# ---------------------------------------------------------------------------------------------
firth_fit <- function(formula, data) {
  ctl <- brglm_control(epsilon = 1e-12, maxit = 1000)
  fit <- suppressWarnings(glm(formula, data = data, family = binomial("logit"), method = "brglmFit",
                              type = "AS_mean", control = ctl))
  slow <- FALSE
  if (!isTRUE(fit$converged)) {
    slow <- TRUE
    ctl <- brglm_control(epsilon = 1e-12, maxit = 10000, slowit = 0.1)
    fit <- suppressWarnings(glm(formula, data = data, family = binomial("logit"), method = "brglmFit",
                                type = "AS_mean", control = ctl))
  }
  stopifnot(isTRUE(fit$converged))
  attr(fit, "slowit") <- slow
  fit
}
firth_json <- function(fit) {
  list(names = names(coef(fit)), coefficients = num17(coef(fit)), logit = num17(fit$linear.predictors),
       converged = fit$converged, slowit = attr(fit, "slowit"))
}
firth <- function(formula, data) firth_json(firth_fit(formula, data))
ml <- function(formula, data) {
  fit <- glm(formula, data = data, family = binomial)
  list(names = names(coef(fit)), coefficients = num17(coef(fit)), logit = num17(fit$linear.predictors),
       iterations = fit$iter, converged = fit$converged)
}
c_sort <- function(x) sort(unique(x), method = "radix")  # C-locale order, as Python sorts

example <- read.csv("../matching/matching_example.csv")
example$regimen <- factor(example$regimen, levels = c_sort(example$regimen))
example$mets <- factor(example$mets, levels = c_sort(example$mets))
f_example <- surgery ~ age + ecog + mets + regimen + log(ca19_9)

scaled <- read.csv("../matching/scaled_example.csv")
scaled$region <- factor(scaled$region, levels = c_sort(scaled$region))

data("lalonde", package = "MatchIt")
write.csv(lalonde, "lalonde.csv", row.names = FALSE)
f_lalonde <- treat ~ age + educ + race + married + nodegree + re74 + re75

# complete separation: one covariate (x > 2.5 <=> treated) and two (x1 + x2 > 0 <=> treated)
sep1 <- data.frame(x = 0:5, t = c(0, 0, 0, 1, 1, 1))
set.seed(14)
sep2 <- data.frame(x1 = round(rnorm(40), 3), x2 = round(rnorm(40), 3))
sep2$t <- as.integer(sep2$x1 + sep2$x2 > 0)
write.csv(sep2, "separated2.csv", row.names = FALSE)
# quasi-separation by a category: 3 treated patients get a regimen nobody else has
quasi <- example
quasi$regimen <- as.character(quasi$regimen)
quasi$regimen[which(quasi$surgery == 1)[1:3]] <- "RARE"
quasi$regimen <- factor(quasi$regimen, levels = c_sort(quasi$regimen))
# quasi-separation by a continuous covariate: treated iff x > 0.5, one tie at the boundary
set.seed(5)
qc <- data.frame(x = round(rnorm(300), 4), z = round(rnorm(300), 4))
qc$t <- as.integer(qc$x > 0.5)
qc$t[which.min(abs(qc$x - 0.5))] <- 0L
write.csv(qc, "quasi_continuous.csv", row.names = FALSE)

fits <- list(
  sep1 = list(formula = "t ~ x", firth = firth(t ~ x, sep1)),
  sep2 = list(formula = "t ~ x1 + x2", firth = firth(t ~ x1 + x2, sep2)),
  quasi_category = list(formula = deparse(f_example), firth = firth(f_example, quasi)),
  quasi_continuous = list(formula = "t ~ x + z", firth = firth(t ~ x + z, qc)),
  example = list(formula = deparse(f_example), firth = firth(f_example, example), glm = ml(f_example, example)),
  scaled = list(formula = "treated ~ income + flag + age + region",
                firth = firth(treated ~ income + flag + age + region, scaled),
                glm = ml(treated ~ income + flag + age + region, scaled)),
  lalonde = list(formula = deparse(f_lalonde), firth = firth(f_lalonde, lalonde), glm = ml(f_lalonde, lalonde))
)
write_case(c(versions, list(fits = fits)), "fits.json")

# ---------------------------------------------------------------------------------------------
# Demo cohort subgroups: the design rules (drop constant covariates, pool rare levels), Firth
# ---------------------------------------------------------------------------------------------
demo <- read.csv("demo_landmark.csv", na.strings = "", stringsAsFactors = FALSE)
covs <- c("age_at_diagnosis", "ecog_baseline", "liver_mets_n", "log_ca19_9_baseline", "chemo_regimen",
          "objective_response", "resectability")
categorical <- c("chemo_regimen", "resectability")
MIN_COUNT <- 5

# The rule of core/design.py, written again here from its documentation.
design_rule <- function(d, m = MIN_COUNT) {
  dropped <- list()
  kept <- covs
  for (v in covs) if (all(is.na(d[[v]]))) {
    dropped[[length(dropped) + 1]] <- list(covariate = v, reason = "all missing")
    kept <- setdiff(kept, v)
  }
  ok <- complete.cases(d[, kept, drop = FALSE])
  const <- kept[vapply(kept, function(v) length(unique(d[[v]][ok])) <= 1, logical(1))]
  for (v in const) {
    val <- unique(d[[v]][ok])
    dropped[[length(dropped) + 1]] <- list(covariate = v, reason = "constant",
                                           value = if (is.numeric(val)) num17(val) else val)
  }
  kept <- setdiff(kept, const)
  ok <- complete.cases(d[, kept, drop = FALSE])
  d <- d[ok, , drop = FALSE]
  pooled <- list()
  for (v in intersect(kept, categorical)) {
    x <- d[[v]]
    lev <- c_sort(x)
    nt <- vapply(lev, function(l) sum(x == l & d$treated == 1), numeric(1))
    nc <- vapply(lev, function(l) sum(x == l & d$treated == 0), numeric(1))
    rare <- pmin(nt, nc) < m
    if (!any(rare) || length(lev) < 2) {
      d[[v]] <- factor(x, levels = lev)
      next
    }
    keep <- lev[!rare]
    if ((sum(nt[rare]) >= m && sum(nc[rare]) >= m) || length(keep) == 0) {
      into <- if ("other" %in% lev) "other (pooled)" else "other"
      levels_new <- c(keep, into)
    } else {
      into <- keep[which.max((nt + nc)[!rare])]
      levels_new <- keep
    }
    x[x %in% lev[rare]] <- into
    pooled[[length(pooled) + 1]] <- list(covariate = v, levels = I(lev[rare]), into = into,
                                         n_treated = I(unname(nt[rare])), n_control = I(unname(nc[rare])))
    if (length(levels_new) < 2) {
      dropped[[length(dropped) + 1]] <- list(covariate = v, reason = "one level after pooling", value = into)
      kept <- setdiff(kept, v)
    } else {
      d[[v]] <- factor(x, levels = levels_new)
    }
  }
  list(data = d, rows = which(ok), kept = kept, dropped = dropped, pooled = pooled)
}

subgroups <- list(
  all = rep(TRUE, nrow(demo)),
  folfirinox = demo$chemo_regimen == "FOLFIRINOX",
  gem_nabpac = demo$chemo_regimen == "GEM_NABPAC",
  mets1 = !is.na(demo$mets_group) & demo$mets_group == "1",
  resectable = demo$resectability == "resectable",
  borderline = demo$resectability == "borderline",
  dp = demo$treated == 0 | (!is.na(demo$pancreatic_procedure) & demo$pancreatic_procedure == "DP")
)
demo_cases <- list()
demo_logits <- list()
for (g in names(subgroups)) {
  sub <- demo[subgroups[[g]], , drop = FALSE]
  r <- design_rule(sub)
  f <- reformulate(r$kept, response = "treated")
  fit <- firth_fit(f, r$data)
  demo_logits[[g]] <- list(rows = r$rows, logit = unname(fit$linear.predictors), data = r$data, formula = f)
  demo_cases[[g]] <- list(
    rows = I(which(subgroups[[g]])),  # 1-based rows of demo_landmark.csv in the subgroup
    analysed = I(r$rows),             # 1-based within the subgroup: complete on the kept covariates
    n_treated = sum(r$data$treated == 1), n_control = sum(r$data$treated == 0),
    kept = I(r$kept), dropped = r$dropped, pooled = r$pooled, min_count = MIN_COUNT,
    formula = deparse(f), firth = firth_json(fit)
  )
}
write_case(c(versions, list(subgroups = demo_cases)), "demo_firth.json")

# ---------------------------------------------------------------------------------------------
# MatchIt 4.7.2 given Firth logits as `distance` (a numeric vector: used as is, caliper in SDs
# of that vector)
# ---------------------------------------------------------------------------------------------
match_case <- function(formula, data, distance, ...) {
  m <- suppressWarnings(matchit(formula, data = data, method = "nearest", distance = distance, ...))
  md <- match.data(m, data = data)
  settings <- lapply(list(...), function(v) if (inherits(v, "formula")) all.vars(v) else v)
  list(settings = settings, distance = num17(distance),
       caliper = if (is.null(m$caliper)) NULL else num17(m$caliper),
       matched = list(row = I(as.integer(rownames(md))),
                      subclass = if (is.null(md$subclass)) NULL else I(as.integer(as.character(md$subclass))),
                      weights = num17(md$weights)))
}
renumber <- function(d) { rownames(d) <- NULL; d }

matches <- list()
for (g in c("all", "folfirinox", "mets1", "resectable", "dp")) {
  x <- demo_logits[[g]]
  d <- renumber(x$data)
  base <- list(group = g, formula = deparse(x$formula))
  add <- function(name, ...) matches[[paste(g, name, sep = "_")]] <<- c(base, match_case(x$formula, d, x$logit, ...))
  add("caliper02", caliper = 0.2)
  if (g == "all") {
    add("nocaliper")
    add("caliper02_ratio2", caliper = 0.2, ratio = 2)
    add("caliper02_replace", caliper = 0.2, replace = TRUE)
    add("caliper02_smallest", caliper = 0.2, m.order = "smallest")
    add("caliper02_data", caliper = 0.2, m.order = "data")
    add("caliper01_ratio2_replace", caliper = 0.1, ratio = 2, replace = TRUE)
    add("caliper02_exact_centre", caliper = 0.2, exact = ~centre)
  }
  if (g == "mets1") add("caliper02_ratio2", caliper = 0.2, ratio = 2)
}
ex_logit <- unname(firth_fit(f_example, example)$linear.predictors)
matches$example_caliper02 <- c(list(group = "example", formula = deparse(f_example)),
                               match_case(f_example, example, ex_logit, caliper = 0.2))
matches$example_caliper01_ratio2 <- c(list(group = "example", formula = deparse(f_example)),
                                      match_case(f_example, example, ex_logit, caliper = 0.1, ratio = 2))
matches$example_caliper02_replace <- c(list(group = "example", formula = deparse(f_example)),
                                       match_case(f_example, example, ex_logit, caliper = 0.2, replace = TRUE))
write_case(c(versions, list(cases = matches)), "matchit_firth.json")

# ---------------------------------------------------------------------------------------------
# Ties: lalonde, glm linear logit, caliper 0.2, with replacement. Treated row 71 (age 27, educ 9)
# is equidistant in exact arithmetic from controls 577 (age 17, educ 10) and 585 (age 37, educ 8);
# R's rounding makes 577 closer by 4.4e-16.
# ---------------------------------------------------------------------------------------------
m <- matchit(f_lalonde, data = lalonde, method = "nearest", distance = "glm", link = "linear.logit",
             caliper = 0.2, replace = TRUE)
md <- match.data(m)
d <- m$distance
mm <- m$match.matrix
tie <- list(
  formula = deparse(f_lalonde), settings = list(caliper = 0.2, replace = TRUE, distance = "glm",
                                                 link = "linear.logit"),
  distance = num17(d),
  matched = list(row = I(match(rownames(md), rownames(lalonde))), weights = num17(md$weights)),
  pairs = list(treated = I(match(rownames(mm), rownames(lalonde))),
               control = I(match(mm[, 1], rownames(lalonde)))),
  row71 = list(control = match(mm[rownames(lalonde)[71], 1], rownames(lalonde)),
               distance_to_577 = num17(abs(d[71] - d[577])), distance_to_585 = num17(abs(d[71] - d[585])))
)
# the same units with the tie made exact (distances on a 2^-30 grid): MatchIt's tie rule decides
dd <- round(unname(d) * 2^30) / 2^30
dd[585] <- 2 * dd[71] - dd[577]
stopifnot(dd[71] - dd[585] == dd[577] - dd[71])
me <- matchit(f_lalonde, data = lalonde, method = "nearest", distance = dd, caliper = 0.2, replace = TRUE)
tie$exact_tie <- list(distance = num17(dd), row71_control = match(me$match.matrix[71, 1], rownames(lalonde)))
# a two-valued score with a caliper (MatchIt 4.7.2 accepts it)
two <- data.frame(f = c(rep(0, 10), rep(1, 10)), t = c(rep(0, 7), rep(1, 3), rep(0, 4), rep(1, 6)))
mt <- matchit(t ~ f, data = two, method = "nearest", distance = "glm", link = "linear.logit", caliper = 0.2)
mdt <- match.data(mt)
tie$two_valued <- list(f = I(two$f), t = I(two$t), distance = num17(mt$distance),
                       matched = list(row = I(as.integer(rownames(mdt))),
                                      subclass = I(as.integer(as.character(mdt$subclass)))))
write_case(c(versions, tie), "matchit_ties.json")
