// Package xgb is a small binding to XGBoost's C API (Debian libxgboost-dev
// 1.7.4): train a binary:logistic booster with the hist tree method on a
// dense row-major matrix, predict probabilities, margins and exact TreeSHAP
// contributions, and save or load the booster as UBJSON bytes.
//
// Data handed to XGBoost is first copied into C-allocated memory, so C never
// holds a Go pointer, and every DMatrix and Booster handle is freed (a
// Booster by Close, with a runtime cleanup as a backstop). NaN marks a
// missing value, which XGBoost routes natively. Values are passed as
// float32, XGBoost's own precision.
//
// Built with the tag noxgboost the package needs no libxgboost and every
// operation returns ErrUnavailable.
package xgb
