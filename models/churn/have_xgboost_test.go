//go:build !noxgboost

package churn

// haveXGBoost tells tests whether this build links XGBoost.
const haveXGBoost = true
