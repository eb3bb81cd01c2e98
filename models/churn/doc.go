// Package churn fits and scores churn models: the probability that a
// customer makes no purchase in the N days after a cut-off (label 1).
//
// Data comes either as a float64 feature matrix from the warehouse (NaN =
// missing) or as a user's table of named columns, which PrepareTable turns
// into a Dataset and an Encoding (kept in the model, so a new file scores
// the same way). Learners share one small interface, Fit(ctx, dataset) →
// *Model:
//
//   - LogReg: L2-regularised logistic regression on standardised features,
//     fitted with gonum's LBFGS;
//   - XGBoost: gradient-boosted trees through XGBoost's C API (package xgb);
//   - Forest: golearn's ID3 trees bagged into a random forest, as the
//     comparison learner;
//   - Baseline: churn rate by recency decile, the bar any model must clear.
//
// A Model predicts probabilities, splits each log-odds score into
// per-feature contributions plus a bias, turns the largest positive ones
// into plain-word reasons, bands the risk, and saves itself to one
// self-describing JSON file (LoadModel reads it back and scores bit for bit
// identically).
package churn
