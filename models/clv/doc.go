// Package clv fits customer-lifetime-value models to purchase histories and
// scores customers with them. It knows nothing about the warehouse: callers
// hand it transactions or per-customer summaries and get numbers back.
//
// Two models are combined, as in Fader, Hardie & Lee:
//
//   - BG/NBD ("Counting Your Customers the Easy Way", Marketing Science 2005)
//     for the number of repeat purchases: while alive a customer buys as a
//     Poisson process with rate λ ~ Gamma(r, α); after each repeat purchase
//     they drop out with probability p ~ Beta(a, b).
//   - Gamma-Gamma ("RFM and CLV", Journal of Marketing Research 2005) for the
//     mean value of a customer's repeat purchases: values are Gamma(p, ν) with
//     ν ~ Gamma(q, v), independent of the purchase process.
//
// Both are fitted by maximum likelihood with gonum/optimize (L-BFGS on the
// logarithms of the parameters, so they stay positive, with analytic
// gradients). Standard errors come from a numerical Hessian of the
// log-likelihood at the optimum and are reported on the natural scale by the
// delta method.
//
// Time is measured in a TimeUnit (days or weeks) fixed when the summaries are
// built; a fitted Model remembers it, and the scoring functions that take
// horizons in days convert them.
//
// Summary conventions follow the BTYD literature: purchases on the same
// calendar day are one purchase (their amounts summed), the first purchase is
// not a repeat purchase, X counts repeat purchases, TX is the time from the
// first to the last purchase, T the time from the first purchase to the end of
// calibration, and MeanValue the mean amount of the repeat purchases only.
package clv
